"""The bundled default dataset: the 1,797 handwritten 8x8 digit scans (scikit-learn's copy,
shipped in core/data/bundled)."""

from __future__ import annotations

from core.entries import Catalogue, Param
from core.errors import BadInput
from core.data.memory import AUGMENT, VAL_SPLIT, InMemoryData, image_batches, stratified_split

DATASETS = Catalogue("dataset")


@DATASETS.register(
    "digits",
    "Handwritten digits (scikit-learn's set, bundled): 1,797 real 8x8 scans, resized to 28x28. "
    "Works offline.",
    (
        VAL_SPLIT,
        Param("classes", "int_list", [], "Keep only these digits (empty: all ten), e.g. [5, 6, 7].",
              minimum=0, maximum=9),
        *AUGMENT,
    ),
    task="classification", gives="image",
)
def digits(params: dict, seed: int) -> InMemoryData:
    import numpy as np
    import torch
    from torch.nn import functional as F

    from core.data.bundled import load_digits

    scans, digit_of = load_digits()
    images = scans.astype(np.float32) / 16.0  # scans hold 0..16 ink levels
    labels = digit_of.astype(np.int64)
    keep = sorted(set(params["classes"])) or list(range(10))
    if len(keep) < 2:
        raise BadInput(f"[data] classes = {params['classes']}: a classifier needs at least two "
                       "classes; list two or more digits, or none for all ten")
    mask = np.isin(labels, keep)
    images, labels = images[mask], labels[mask]
    # Labels become 0..k-1 in the order of `keep`, so a subset trains a k-way classifier.
    labels = np.searchsorted(np.array(keep), labels)

    train_idx, val_idx = stratified_split(labels, params["val_split"], seed)
    x = torch.from_numpy(images).unsqueeze(1)
    x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    mean, std = x[train_idx].mean(), x[train_idx].std()  # from training samples only
    x = (x - mean) / std
    y = torch.from_numpy(labels)
    # Stored normalised; augmentation, when asked for, fills the border with blank paper.
    augment = image_batches(params, [0.0], [1.0], scale=1.0, fill=float(-mean / std),
                            white=float((1 - mean) / std))
    # A new image reaches these inputs as the scans did: averaged down to 8x8 ink levels
    # (light ink on a dark ground, 0..1), enlarged to 28x28, normalised. A hand drawing may
    # first be cut to fill its box and redrawn as a 32x32 bitmap with thick strokes
    # (core.inference.predict: a choice the user sees, taken by itself only for a picture
    # that does not look like a scan).
    preprocessing = {"source_size": [8, 8], "crop_to_ink": True, "scan_size": 32,
                     "mean": [float(mean)], "std": [float(std)], "background": 0.0}
    return InMemoryData(x[train_idx].contiguous(), y[train_idx], x[val_idx].contiguous(),
                        y[val_idx], [str(d) for d in keep], kind="image",
                        batch_transform=augment if augment.augments else None,
                        preprocessing=preprocessing)

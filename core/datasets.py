"""Dataset catalogue. Each builder gets its checked parameters and the run's seed and
returns an InMemoryData: tensors for both splits, batched later by index slicing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.catalog import DATASETS, Param
from core.errors import BadInput

VAL_SPLIT = Param("val_split", "float", 0.2, "Share of samples held out for validation.",
                  minimum=0.05, maximum=0.9)


@dataclass
class InMemoryData:
    """A dataset held whole as tensors: inputs float32 (N, C, H, W), labels int64 (N,)."""

    train_x: Any
    train_y: Any
    val_x: Any
    val_y: Any
    class_names: list[str]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train_x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to(self, device) -> InMemoryData:
        """Move every tensor to `device` (once, so batches are sliced where they are used)."""
        return InMemoryData(self.train_x.to(device), self.train_y.to(device),
                            self.val_x.to(device), self.val_y.to(device), self.class_names)


def stratified_split(labels, val_split: float, seed: int):
    """Indices (train, val) with each class split in the same proportion, shuffled by `seed`."""
    import numpy as np

    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = max(1, round(len(members) * val_split))
        if n_val >= len(members):
            raise BadInput(f"class {label} has only {len(members)} samples; "
                           "lower [data] val_split or add samples")
        val.append(members[:n_val])
        train.append(members[n_val:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))


@DATASETS.register(
    "digits",
    "Handwritten digits bundled with scikit-learn: 1,797 real 8x8 scans, resized to 28x28. "
    "Works offline.",
    (
        VAL_SPLIT,
        Param("classes", "int_list", [], "Keep only these digits (empty: all ten), e.g. [5, 6, 7].",
              minimum=0, maximum=9),
    ),
)
def digits(params: dict, seed: int) -> InMemoryData:
    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from torch.nn import functional as F

    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16.0  # scans hold 0..16 ink levels
    labels = bunch.target.astype(np.int64)
    keep = sorted(set(params["classes"])) or list(range(10))
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
    return InMemoryData(x[train_idx].contiguous(), y[train_idx], x[val_idx].contiguous(),
                        y[val_idx], [str(d) for d in keep])

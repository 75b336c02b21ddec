"""A look at a dataset before training: sample images with their labels, class counts, or
the first rows of a table or a text file. Plain values only (numpy images, strings), so
the GUI can show them without knowing about tensors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.rng import holding_global_rng
from core.catalog import DATASETS

SAMPLE_IMAGES = 32


@dataclass
class DataPreview:
    name: str
    kind: str  # "image" | "table" | "tokens"
    task: str  # "classification" | "regression"
    input_shape: tuple[int, ...]
    train_samples: int
    val_samples: int
    class_names: list[str]
    train_counts: list[int]  # per class (classification)
    val_counts: list[int]
    images: list[Any] = field(default_factory=list)  # uint8 arrays (H, W) or (H, W, 3)
    # audio: the recordings' waveforms (float32, -1..1, shortened for drawing) beside their
    # spectrograms (in `images`, low bands at the bottom), and the one rate and duration
    waveforms: list[Any] = field(default_factory=list)
    sample_rate: int = 0
    duration_s: float = 0.0
    image_labels: list[str] = field(default_factory=list)
    # images whose training batches change: the same samples as one training batch sees
    # them (shifted, flipped, turned, mixed by MixUp or CutMix), labelled with their mix
    augmented_images: list[Any] = field(default_factory=list)
    augmented_labels: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@holding_global_rng
def preview_data(name: str, params: dict, seed: int = 0,
                 max_images: int = SAMPLE_IMAGES) -> DataPreview:
    """Build the dataset `name` with `params` (checked here) and describe it; BadInput as
    training would raise it."""
    import torch
    entry = DATASETS.get(name, "data")
    data = entry.build(entry.check_params(params, "data"), seed)
    classification = data.task == "classification"
    counts = data.class_counts()
    val_counts = (torch.bincount(data.val_y.cpu(), minlength=data.num_classes).tolist()
                  if classification else [])
    preview = DataPreview(name, data.kind, data.task, data.input_shape, len(data.train_y),
                          len(data.val_y), list(data.class_names), counts, val_counts,
                          columns=list(data.preview_columns), rows=list(data.preview_rows),
                          notes=list(data.notes))
    if data.kind == "image":
        indices = _spread_over_classes(data.train_y, max_images) if classification \
            else list(range(min(max_images, len(data.train_y))))
        preview.images = [display_image(data.train_x[i]) for i in indices]
        preview.image_labels = [data.class_names[int(data.train_y[i])] if classification
                                else f"{float(data.train_y[i]) * data.target_scale:.3g}"
                                for i in indices]
        if getattr(data.batch_transform, "augments", False):
            _preview_augmented(preview, data, indices, seed)
    elif data.kind == "audio":
        _preview_audio(preview, data, _spread_over_classes(data.train_y, max_images))
    return preview


def _preview_augmented(preview: DataPreview, data, indices: list[int], seed: int) -> None:
    """The images at `indices` prepared as one training batch, with draws of their own
    (seeded, and the caller's random state left as it was)."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        x, mix = data.prepare_training(data.train_x[indices], data.train_y[indices])
    preview.augmented_images = [display_image(image) for image in x]
    labels = preview.image_labels
    preview.augmented_labels = list(labels) if mix is None else [
        f"{labels[i]} {mix.lam:.0%} + {labels[partner]} {1 - mix.lam:.0%}"
        for i, partner in enumerate(mix.partners.tolist())]


def _preview_audio(preview: DataPreview, data, indices: list[int]) -> None:
    """Spectrograms (as the model hears them, augmentation aside) and waveforms of the
    recordings at `indices`, labelled with their classes."""
    settings = data.preprocessing["audio"]
    preview.sample_rate, preview.duration_s = settings["sample_rate"], settings["duration"]
    chosen = data.train_x[indices]
    features = data.prepare(chosen, False)
    preview.images = ([spectrogram_picture(f) for f in features] if features.dim() == 4
                      else [])
    step = max(1, chosen.shape[1] // 2000)  # enough points for a thumbnail
    preview.waveforms = [(w[::step].float() / 32767).numpy() for w in chosen]
    preview.image_labels = [data.class_names[int(data.train_y[i])] for i in indices]


def spectrogram_picture(features):
    """A spectrogram (1, frames, bands) tensor as a uint8 picture (bands, frames) to show:
    time to the right, low bands at the bottom, stretched to the full grey range."""
    return display_image(features.detach().cpu()[0].T.flip(0)[None])


def _spread_over_classes(labels, count: int) -> list[int]:
    """Up to `count` sample indices taking each class in turn, so every class shows."""
    by_class: dict[int, list[int]] = {}
    for index, label in enumerate(labels[:20000].tolist()):
        by_class.setdefault(label, []).append(index)
    chosen: list[int] = []
    queues = [by_class[label] for label in sorted(by_class)]
    depth = 0
    while len(chosen) < count and any(depth < len(q) for q in queues):
        chosen += [q[depth] for q in queues if depth < len(q)][:count - len(chosen)]
        depth += 1
    return chosen


def display_image(image):
    """A (C, H, W) tensor as a uint8 numpy array to show: (H, W) grey or (H, W, 3) colour.
    Raw pixels are shown as they are; normalised floats are stretched to the full range."""
    import numpy as np

    array = image.detach().cpu().numpy()
    if array.dtype != np.uint8:
        low, high = float(array.min()), float(array.max())
        array = ((array - low) / (high - low or 1.0) * 255).round().astype(np.uint8)
    if array.shape[0] == 1:
        return np.ascontiguousarray(array[0])
    return np.ascontiguousarray(array[:3].transpose(1, 2, 0))

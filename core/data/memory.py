"""What every dataset builder shares: InMemoryData, DataInfo, the splits, the data folder
and the common parameters. The builders themselves live beside this module (digits.py,
images.py, tables.py, text.py) and register with `core.catalog.DATASETS`.

Each builder gets its checked parameters and the run's seed and returns an InMemoryData:
tensors for both splits, batched later by index slicing, except an image folder too large
for memory, whose images are read from disk batch by batch (core/data/streaming.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from core.entries import Param
from core.errors import BadInput
from core.i18n import translatable
from core.files import traindesk_home

VAL_SPLIT = Param("val_split", "float", 0.2, "Share of samples held out for validation.",
                  minimum=0.05, maximum=0.9)

AUGMENT = (
    Param("random_crop", "int", 0, "Augmentation: shift training images by up to this many "
          "pixels at random, as padding and cropping back does (0: off).", minimum=0,
          maximum=256, unit="px"),
    Param("flip", "bool", False, "Augmentation: mirror training images left-right at random "
          "(not for digits or letters, whose mirror image is another shape)."),
    Param("rotation", "float", 0.0, "Augmentation: rotate training images by a random angle "
          "of up to this many degrees either way (0: off).", minimum=0.0, maximum=180.0, unit="°"),
    Param("mixup_alpha", "float", 0.0, "Augmentation: MixUp blends each training batch with "
          "a shuffled copy of itself, by a share drawn from Beta(alpha, alpha); the loss "
          "weighs both labels (0: off; 0.2 to 0.4 is usual).", minimum=0.0, maximum=10.0),
    Param("cutmix_alpha", "float", 0.0, "Augmentation: CutMix pastes a box from another "
          "training image of the batch, its size drawn from Beta(alpha, alpha); the loss "
          "weighs both labels by area (0: off; 1.0 is usual). With MixUp on too, each mixed "
          "batch gets one of the two.", minimum=0.0, maximum=10.0),
    Param("mix_prob", "float", 1.0, "Share of training batches that MixUp or CutMix mixes "
          "(when mixup_alpha or cutmix_alpha is above 0).", minimum=0.0, maximum=1.0),
    Param("crop_scale_min", "float", 0.0, "Augmentation: random resized crop, as "
          "torchvision's RandomResizedCrop: cut from each training image a box of a random "
          "share of its area, from this to crop_scale_max (aspect ratio 3:4 to 4:3), and "
          "enlarge it to the whole image (0: off; 0.08 for photos as on ImageNet, 0.5 or more "
          "for small images).", minimum=0.0, maximum=1.0),
    Param("crop_scale_max", "float", 1.0, "Augmentation: the largest share of the image's "
          "area a random resized crop keeps (when crop_scale_min is above 0).",
          minimum=0.01, maximum=1.0),
    Param("brightness", "float", 0.0, "Augmentation: colour jitter: scale each training "
          "image's brightness by a random factor from 1 - this to 1 + this (0: off; 0.2 to "
          "0.4 is usual).", minimum=0.0, maximum=1.0),
    Param("contrast", "float", 0.0, "Augmentation: colour jitter: scale each training "
          "image's contrast by a random factor from 1 - this to 1 + this (0: off).",
          minimum=0.0, maximum=1.0),
    Param("saturation", "float", 0.0, "Augmentation: colour jitter: scale each colour "
          "training image's saturation by a random factor from 1 - this to 1 + this (0: off; "
          "grey images have none).", minimum=0.0, maximum=1.0),
    Param("hue", "float", 0.0, "Augmentation: colour jitter: turn each colour training "
          "image's hue by a random share of a full turn, up to this either way (0: off; 0.5 "
          "is any hue).", minimum=0.0, maximum=0.5),
    Param("trivial_augment", "bool", False, "Augmentation: TrivialAugment, as torchvision's "
          "TrivialAugmentWide: each training image gets one operation drawn at random "
          "(shear, shift, rotation, brightness, colour, contrast, sharpness, posterize, "
          "solarize, autocontrast, or none) at a random strength. No equalize."),
    Param("erasing", "float", 0.0, "Augmentation: random erasing, as torchvision's "
          "RandomErasing: with this probability a random box of 2% to 33% of each training "
          "image is blanked to the mean (0: off; 0.25 is usual).", minimum=0.0, maximum=1.0),
)


@dataclass
class DataInfo:
    """What a model or loss builder needs to know about the data, without the tensors.

    `num_classes` is the number of model outputs for the task: the classes of a
    classification, the target columns (1) of a regression. Builders may append lines for
    the user to `notes` (how the input was adapted, which weights were loaded).
    """

    input_shape: tuple[int, ...]
    num_classes: int
    kind: str = "image"  # "image" (C, H, W) | "table" (F,) | "tokens" (L,) of ids, 0 = padding
    # | "hf_tokens" (L,) of a pretrained model's token ids, core.data.text.NO_TOKEN past the end
    # | "audio": a spectrogram (1, frames, bands), read frame by frame, or a waveform (1, samples)
    task: str = "classification"  # | "regression"
    vocab_size: int = 0  # tokens only: ids are below this
    class_names: list[str] = field(default_factory=list)
    class_counts: list[int] = field(default_factory=list)  # training samples per class
    notes: list[str] = field(default_factory=list)


@dataclass
class RawTexts:
    """A text dataset's texts as read, in split order, for a model that tokenizes them with
    its own tokenizer (hf_classifier: core.data.text.use_model_tokenizer); `notes` are the
    data's notes without those about TrainDesk's own vocabulary. `encode(data, tokenizer,
    source)` encodes them in place when they are not texts to classify (the instructions
    dataset's chats: core.data.instructions.encode_instructions)."""

    train: list
    val: list
    notes: list[str] = field(default_factory=list)
    encode: Callable[[Any, Any, str], None] | None = None


def kind_of_shape(input_shape: tuple[int, ...]) -> str:
    """The kind a sample shape suggests when nobody said: (C, H, W) image, else table."""
    return "image" if len(input_shape) == 3 else "table"


@dataclass
class InMemoryData:
    """A dataset held whole as tensors, sliced into batches by index.

    Inputs: images (N, C, H, W) float32 or uint8 (raw pixels, turned into normalised
    floats batch by batch by `batch_transform`), tables (N, F) float32, tokens (N, L) int64.
    Targets: classification int64 (N,); regression float32 (N, 1), standardised.
    An image folder larger than the memory budget keeps its targets here and has
    core.data.streaming.ImageFiles for train_x and val_x (`streamed`): read from disk batch
    by batch; `training_batches` and core.inference.outputs.batched_outputs hide which.
    """

    train_x: Any
    train_y: Any
    val_x: Any
    val_y: Any
    class_names: list[str]  # classification: the classes; regression: the target's name
    task: str = "classification"
    kind: str = ""  # "" means: from the sample shape (image or table)
    vocab_size: int = 0
    # (x, train) -> float inputs for the model; runs on the device, batch by batch. Training
    # batches get the augmentation here; None means the inputs are used as they are.
    batch_transform: Callable[[Any, bool], Any] | None = None
    target_scale: float = 1.0  # regression targets were divided by this; MAE is reported in
    # the target's own units by multiplying back
    target_offset: float = 0.0  # and this was subtracted first (the training targets' mean)
    notes: list[str] = field(default_factory=list)  # for the user: skipped files, dropped rows
    feature_names: list[str] = field(default_factory=list)
    # The first rows as read (tables and texts), for the preview: column names and text cells.
    preview_columns: list[str] = field(default_factory=list)
    preview_rows: list[list[str]] = field(default_factory=list)
    # How a raw input becomes a model input, as plain values, where the tensors alone do not
    # say (images stored normalised, table columns, a vocabulary): for predicting on new
    # inputs and for exported models (core.inference.evaluation.preprocessing_of completes it).
    preprocessing: dict = field(default_factory=dict)
    # What one sample is once `batch_transform` made it model-ready, when that differs from
    # the stored tensors (audio: waveforms stored, spectrograms given to the model).
    model_input_shape: tuple[int, ...] = ()
    texts: RawTexts | None = None  # texts as read, for a model with its own tokenizer

    def __post_init__(self) -> None:
        if not self.kind:
            self.kind = kind_of_shape(self.input_shape)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.model_input_shape) or tuple(self.train_x.shape[1:])

    @property
    def num_classes(self) -> int:
        """Model outputs: the classes, or for a regression its one target."""
        return len(self.class_names)

    @property
    def streamed(self) -> bool:
        """Whether the inputs are read from disk batch by batch (core.data.streaming)."""
        return hasattr(self.train_x, "batches")

    def training_batches(self, indices: Iterable) -> Iterator[tuple[Any, Any]]:
        """(inputs, targets) of the training samples at each index tensor in turn: slices
        of the stored tensors, or for a streamed folder images the workers have read ahead,
        its unreadable files left out (a batch may then be smaller, even empty)."""
        if self.streamed:
            return ((x, self.train_y[index]) for x, index in self.train_x.batches(indices))
        return ((self.train_x[index], self.train_y[index]) for index in indices)

    def unreadable_notes(self) -> list[str]:
        """Notes on the files a streamed folder met that could not be read and skipped."""
        if not self.streamed:
            return []
        from core.data.streaming import unreadable_note

        by_root: dict[str, list[str]] = {}
        for source in (self.train_x, self.val_x):
            by_root.setdefault(str(source.root), []).extend(sorted(source.unreadable.values()))
        return [unreadable_note(Path(root), paths) for root, paths in by_root.items() if paths]

    def close(self) -> None:
        """Stop a streamed folder's worker processes (nothing to do for tensors)."""
        if self.streamed:
            self.train_x.close()  # the validation images' too: both splits share them

    def prepare(self, x, train: bool):
        """Model-ready inputs of one batch: normalised floats, augmented when `train`."""
        return x if self.batch_transform is None else self.batch_transform(x, train)

    def prepare_training(self, x, y):
        """A training batch ready for the model: (inputs, mix). `mix` is None, or how MixUp
        or CutMix mixed the batch (core.data.image_batches.Mix), when the image transform
        mixes: the loss then weighs each sample's label and its partner's."""
        x = self.prepare(x, True)
        mixing = getattr(self.batch_transform, "mixes", False)  # ImageBatches with MixUp/CutMix
        return self.batch_transform.mix(x) if mixing else (x, None)

    def class_counts(self) -> list[int]:
        """Training samples per class (classification), for balanced class weights."""
        if self.task != "classification":
            return []
        import torch

        return torch.bincount(self.train_y.cpu(), minlength=self.num_classes).tolist()

    def info(self) -> DataInfo:
        return DataInfo(self.input_shape, self.num_classes, self.kind, self.task,
                        self.vocab_size, list(self.class_names), self.class_counts())

    def to(self, device) -> InMemoryData:
        """Move every tensor to `device` (once, so batches are sliced where they are used)."""
        return replace(self, train_x=self.train_x.to(device), train_y=self.train_y.to(device),
                       val_x=self.val_x.to(device), val_y=self.val_y.to(device))


def readable_targets(x, y):
    """The targets `y` of the inputs `x` that a pass over `x` could read: all of them, but
    for a streamed folder (core.data.streaming.ImageFiles) those of unreadable files."""
    return x.readable(y) if hasattr(x, "readable") else y


CROP_SCALES_CROSSED = translatable(
    "Messages", "[data] crop_scale_min = {low} is above crop_scale_max = {high}; the "
    "smallest share of the area cannot be larger than the largest")


def image_batches(params: dict, mean, std, scale: float = 255.0, fill: float = 0.0,
                  white: float = 1.0):
    """The batch transform for these parameters: normalisation plus chosen augmentation.
    `fill` and `white` are black and white in the stored images divided by `scale`."""
    from core.data.image_batches import ImageBatches

    crop_scale = (params["crop_scale_min"], params["crop_scale_max"])
    if crop_scale[0] > crop_scale[1]:
        raise BadInput(CROP_SCALES_CROSSED.format(low=f"{crop_scale[0]:g}",
                                                  high=f"{crop_scale[1]:g}"))
    return ImageBatches(mean, std, scale, params["random_crop"], params["flip"],
                        params["rotation"], fill, params["mixup_alpha"],
                        params["cutmix_alpha"], params["mix_prob"], white=white,
                        brightness=params["brightness"], contrast=params["contrast"],
                        saturation=params["saturation"], hue=params["hue"],
                        crop_scale=crop_scale, trivial=params["trivial_augment"],
                        erasing=params["erasing"])


def default_data_dir() -> Path:
    """Where datasets are read from and downloaded to by default: TRAINDESK_HOME/data when
    set, else `data` in the platform's user data folder (beside `runs`)."""
    return traindesk_home() / "data"


def data_dir(params: dict) -> Path:
    """The `data_dir` parameter, or the default data folder when it is empty."""
    return Path(params["data_dir"]).expanduser() if params["data_dir"] else default_data_dir()


def stratified_split(labels, val_split: float, seed: int, class_names=None):
    """Indices (train, val) with each class split in the same proportion, shuffled by `seed`."""
    import numpy as np

    rng = np.random.default_rng(seed)
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = max(1, round(len(members) * val_split))
        if n_val >= len(members):
            name = class_names[label] if class_names is not None else label
            raise BadInput(f"class {name} has only {len(members)} samples; "
                           "lower [data] val_split or add samples")
        val.append(members[:n_val])
        train.append(members[n_val:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(val))


def random_split(n: int, val_split: float, seed: int):
    """Indices (train, val) of a shuffled split of n samples (for regression)."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, round(n * val_split))
    if n_val >= n:
        raise BadInput(f"only {n} samples: too few to hold out a validation share; add samples")
    return order[n_val:], order[:n_val]

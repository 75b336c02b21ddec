"""Looking at a trained model: rebuild a run's model and data from its folder, evaluate a
checkpoint on the validation split (confusion matrix, per-class precision and recall, the
mistakes with their confidence; for a regression, predicted against true with MAE, RMSE
and R2), and predict on new inputs (an image file, a table row, a text) prepared exactly as
the training data was, from the run's preprocessing description.

No Qt. Everything runs on the CPU unless asked otherwise: evaluation sets are small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import BadInput

CHECKPOINTS = ("best", "last")
EVAL_BATCH = 512


@dataclass
class LoadedRun:
    """A run's model with a checkpoint's weights (LoRA merged), in eval mode, and its data."""

    run_dir: Path
    config: Any  # RunConfig
    checkpoint: Path
    model: Any  # torch.nn.Module
    data: Any  # InMemoryData, on the CPU
    preprocessing: dict  # see preprocessing_of
    epoch: int | None = None  # the epoch the checkpoint was saved after

    @property
    def task(self) -> str:
        return self.data.task

    @property
    def class_names(self) -> list[str]:
        return list(self.data.class_names)


def load_run(run_dir: Path, checkpoint: str = "best", device: str = "cpu") -> LoadedRun:
    """Rebuild the model and validation data of the run in `run_dir` and load its
    `checkpoint` ("best", "last" or a path to a .pt file). BadInput when the folder, its
    config or the checkpoint cannot be used."""
    import torch

    from core.catalog import DATASETS
    from core.finetune.freezing import prepare_finetune
    from core.finetune.lora import lora_layers, merge_lora
    from core.models.build import build_model
    from core.runs.folder import RunFolder

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise BadInput(f"run folder {run_dir} does not exist; check the path")
    config = RunFolder.open_existing(run_dir).config()
    path = _checkpoint_path(run_dir, checkpoint)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BadInput(f"cannot read checkpoint {path} ({str(exc).splitlines()[0][:160]}); "
                       "pick another checkpoint") from None
    weights = state.get("model", state) if isinstance(state, dict) else None
    if not isinstance(weights, dict):
        raise BadInput(f"checkpoint {path} holds no model weights")
    torch.manual_seed(config.training.seed)
    data = DATASETS.get(config.data.name, "data").build(config.data.params, config.training.seed)
    params = dict(config.model.params)
    if params.get("weights") in ("pretrained", "file"):
        params["weights"] = "none"  # the checkpoint replaces them; nothing to download
    model, _ = build_model(config.model.name, params, data, config.loss.name)
    prepare_finetune(model, config.finetune, config.training.epochs)  # LoRA adapters, if any
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise BadInput(f"checkpoint {path} does not fit the model in {run_dir / 'config.toml'} "
                       f"({str(exc).splitlines()[0][:160]})") from None
    if lora_layers(model):
        model = merge_lora(model)
    model.to(device).eval()
    progress = state.get("progress", {}) if isinstance(state, dict) else {}
    epoch = progress.get("epoch", 1) - (1 if progress.get("batch", 0) == 0 else 0) \
        if isinstance(progress, dict) and "epoch" in progress else None
    return LoadedRun(run_dir, config, path, model, data, preprocessing_of(data, config), epoch)


def _checkpoint_path(run_dir: Path, checkpoint: str) -> Path:
    if checkpoint in CHECKPOINTS:
        path = run_dir / "checkpoints" / f"{checkpoint}.pt"
        if not path.is_file():
            other = "last" if checkpoint == "best" else "best"
            hint = (f"use the {other} checkpoint" if (run_dir / "checkpoints" / f"{other}.pt")
                    .is_file() else "the run ended before its first epoch; train it again")
            raise BadInput(f"{run_dir} has no checkpoints/{checkpoint}.pt; {hint}")
        return path
    path = Path(checkpoint)
    if not path.is_file():
        raise BadInput(f"checkpoint {checkpoint!r}: choose best, last or an existing .pt file")
    return path


def preprocessing_of(data, config) -> dict:
    """How raw inputs become this model's inputs, as plain values (JSON-ready): the input
    shape, the task and class names, and per kind of data: for images the channels, size,
    pixel scale and normalisation mean/std (on the 0..1 scale), for tables each column's
    standardisation or categories, for texts the vocabulary."""
    pre: dict[str, Any] = {
        "task": data.task, "kind": data.kind, "input_shape": list(data.input_shape),
        "class_names": list(data.class_names), "dataset": config.data.name,
        "model": config.model.name,
    }
    described = dict(data.preprocessing)
    if data.kind == "image":
        channels, height, width = data.input_shape
        transform = data.batch_transform
        if "mean" not in described and transform is not None and hasattr(transform, "mean"):
            # stored as 8-bit pixels, normalised batch by batch (core.data.image_batches)
            described.update(mean=list(transform.mean), std=list(transform.std))
        if "background" not in described and channels == 1 and str(data.train_x.dtype) == \
                "torch.uint8":
            described["background"] = _border_brightness(data.train_x[:1000])
        described.setdefault("channels", channels)
        described.setdefault("size", [height, width])
        described["pixels"] = ("8-bit values divided by 255, then (x - mean) / std per "
                               "channel")
    pre.update(described)
    if data.task == "regression":
        pre.setdefault("target_mean", float(getattr(data, "target_offset", 0.0)))
        pre.setdefault("target_std", float(data.target_scale))
    return pre


def _border_brightness(images) -> float:
    """The mean brightness (0..1) of the outermost pixels of uint8 images (N, 1, H, W):
    near 0 for light strokes on a dark ground (MNIST), near 1 for dark on light."""
    x = images[:, 0].float() / 255.0
    border = [x[:, 0, :], x[:, -1, :], x[:, :, 0], x[:, :, -1]]
    return round(sum(b.mean().item() for b in border) / 4, 4)


# ---------------------------------------------------------------- evaluation


@dataclass
class ClassScores:
    name: str
    precision: float | None  # None when the class was never predicted
    recall: float | None  # None when the class has no validation samples
    f1: float | None
    support: int  # validation samples of this class


@dataclass
class Evaluation:
    """A checkpoint's results on the validation split. Classification: `confusion[t][p]`
    counts samples of true class t predicted as p; `confidence` is each sample's probability
    of its predicted class. Regression: `predicted` and `true` in the target's own units."""

    task: str
    class_names: list[str]
    checkpoint: str
    epoch: int | None
    samples: int
    confusion: list[list[int]] = field(default_factory=list)
    per_class: list[ClassScores] = field(default_factory=list)
    accuracy: float | None = None
    targets: list[int] = field(default_factory=list)
    predictions: list[int] = field(default_factory=list)
    confidence: list[float] = field(default_factory=list)
    predicted: list[float] = field(default_factory=list)
    true: list[float] = field(default_factory=list)
    mae: float | None = None
    rmse: float | None = None
    r2: float | None = None

    def samples_in_cell(self, true_class: int, predicted_class: int) -> list[tuple[int, float]]:
        """(validation index, confidence) of the samples in one confusion-matrix cell, the
        most confident first (a confident mistake is the most telling)."""
        found = [(i, c) for i, (t, p, c) in enumerate(zip(self.targets, self.predictions,
                                                         self.confidence))
                 if t == true_class and p == predicted_class]
        return sorted(found, key=lambda pair: -pair[1])

    def mistakes(self) -> list[tuple[int, float]]:
        """Every misclassified sample, the most confident first."""
        found = [(i, c) for i, (t, p, c) in enumerate(zip(self.targets, self.predictions,
                                                         self.confidence)) if t != p]
        return sorted(found, key=lambda pair: -pair[1])


def evaluate_run(loaded: LoadedRun) -> Evaluation:
    """Evaluate the loaded checkpoint on the run's validation split."""
    import torch

    data = loaded.data
    outputs = model_outputs(loaded.model, data.val_x, data.prepare)
    result = Evaluation(loaded.task, loaded.class_names, str(loaded.checkpoint), loaded.epoch,
                        len(data.val_y))
    if loaded.task == "regression":
        scale, offset = data.target_scale, float(getattr(data, "target_offset", 0.0))
        predicted = outputs[:, 0].double() * scale + offset
        true = data.val_y[:, 0].double().cpu() * scale + offset
        error = predicted - true
        spread = (true - true.mean()).square().sum().item()
        result.predicted, result.true = predicted.tolist(), true.tolist()
        result.mae = error.abs().mean().item()
        result.rmse = math.sqrt(error.square().mean().item())
        result.r2 = 1 - error.square().sum().item() / spread if spread > 0 else 0.0
        return result
    probabilities = class_probabilities(outputs)
    confidence, predictions = probabilities.max(1)
    targets = data.val_y.cpu()
    classes = len(loaded.class_names)
    confusion = torch.zeros(classes, classes, dtype=torch.long)
    confusion.index_put_((targets, predictions), torch.ones_like(targets), accumulate=True)
    result.confusion = confusion.tolist()
    result.targets, result.predictions = targets.tolist(), predictions.tolist()
    result.confidence = confidence.tolist()
    result.accuracy = (predictions == targets).double().mean().item() if len(targets) else None
    hits = confusion.diag().tolist()
    predicted_counts = confusion.sum(0).tolist()
    true_counts = confusion.sum(1).tolist()
    for k, name in enumerate(loaded.class_names):
        precision = hits[k] / predicted_counts[k] if predicted_counts[k] else None
        recall = hits[k] / true_counts[k] if true_counts[k] else None
        f1 = (2 * precision * recall / (precision + recall)
              if precision and recall else (0.0 if precision is not None
                                            and recall is not None else None))
        result.per_class.append(ClassScores(name, precision, recall, f1, true_counts[k]))
    return result


def model_outputs(model, x, prepare=None, batch: int = EVAL_BATCH):
    """The model's raw outputs on stored inputs `x`, batched, without gradients, on the
    CPU as float32."""
    import torch

    device = next(model.parameters()).device
    outputs = []
    with torch.no_grad():
        for start in range(0, len(x), batch):
            xb = x[start:start + batch].to(device)
            if prepare is not None:
                xb = prepare(xb, False)
            outputs.append(model(xb).float().cpu())
    return torch.cat(outputs) if outputs else torch.zeros(0, 1)


def class_probabilities(outputs):
    """Class probabilities from outputs: softmax, or for one logit (bce_with_logits) the
    sigmoid as class 1 and its complement as class 0."""
    import torch

    if outputs.shape[1] == 1:
        p = torch.sigmoid(outputs[:, 0])
        return torch.stack([1 - p, p], 1)
    return torch.softmax(outputs, 1)


def sample_image(loaded: LoadedRun, index: int):
    """Validation sample `index` as a uint8 picture to show ((H, W) or (H, W, 3))."""
    from core.data.preview import display_image

    return display_image(loaded.data.val_x[index])


def sample_row(loaded: LoadedRun, index: int) -> list[tuple[str, str]]:
    """Validation sample `index` of a table as (column, value) pairs in the file's units,
    or of a text as its words."""
    pre = loaded.preprocessing
    features = loaded.data.val_x[index].tolist()
    if pre.get("kind") == "tokens":
        words = {i: w for w, i in pre.get("vocabulary", {}).items()}
        return [("text", " ".join(words.get(i, "?") for i in features if i))]
    cells, at = [], 0
    for column in pre.get("columns", []):
        if column["kind"] == "number":
            cells.append((column["name"], f"{features[at] * column['std'] + column['mean']:.6g}"))
            at += 1
        else:
            group = features[at:at + len(column["categories"])]
            cells.append((column["name"], column["categories"][max(range(len(group)),
                                                                   key=group.__getitem__)]))
            at += len(column["categories"])
    return cells


# ---------------------------------------------------------------- prediction


@dataclass
class Prediction:
    """Top classes with their probabilities (classification) or the predicted value
    (regression), and notes on how the input was prepared."""

    task: str
    top: list[tuple[str, float]] = field(default_factory=list)
    value: float | None = None
    notes: list[str] = field(default_factory=list)


def predict_image(loaded: LoadedRun, path: Path, k: int = 5) -> Prediction:
    """Predict on an image file, prepared like the run's training images."""
    from PIL import Image

    if loaded.preprocessing.get("kind") != "image":
        raise BadInput(f"this run learned from {loaded.preprocessing.get('kind')} data, not "
                       "images; paste a row of values instead")
    try:
        with Image.open(path) as image:
            image.load()
            x, notes = prepare_image(image, loaded.preprocessing)
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read {Path(path).name} as an image ({exc})") from None
    return _predict(loaded, x, k, notes)


def predict_values(loaded: LoadedRun, text: str, k: int = 5) -> Prediction:
    """Predict on one table row typed as comma-separated values in the columns' order (see
    `input_columns`), or for a text model on the text itself."""
    pre = loaded.preprocessing
    if pre.get("kind") == "tokens":
        x, notes = prepare_text(text, pre)
    elif pre.get("kind") == "table":
        x, notes = prepare_row(text, pre)
    else:
        raise BadInput("this run learned from images; drop or open an image file instead")
    return _predict(loaded, x, k, notes)


def input_columns(preprocessing: dict) -> list[str]:
    """The columns a pasted table row must give, in order."""
    return [c["name"] for c in preprocessing.get("columns", [])]


def _predict(loaded: LoadedRun, x, k: int, notes: list[str]) -> Prediction:
    import torch

    device = next(loaded.model.parameters()).device
    with torch.no_grad():
        outputs = loaded.model(x.to(device)).float().cpu()
    if loaded.task == "regression":
        pre = loaded.preprocessing
        value = outputs[0, 0].item() * pre["target_std"] + pre["target_mean"]
        return Prediction("regression", value=value, notes=notes)
    probabilities = class_probabilities(outputs)[0]
    order = probabilities.argsort(descending=True)[:k].tolist()
    return Prediction("classification", [(loaded.class_names[i], probabilities[i].item())
                                         for i in order], notes=notes)


def prepare_image(image, pre: dict):
    """A PIL image as a model input batch of one (1, C, H, W), following `pre`: colour
    mode; for a grey image whose background is the opposite of the training images' (dark
    ink on white paper, where the training digits are light on dark) inverted; cropped to
    its ink and centred, and redrawn as a `scan_size` bitmap, when the training images were
    scans like that (`crop_to_ink`, the digits); resized
    (through `source_size` first, as the digits' 8x8 scans were); scaled to 0..1 and
    normalised with the training mean and std. Returns (tensor, notes)."""
    import numpy as np
    import torch
    from PIL import Image
    from torch.nn import functional as F

    notes = []
    channels = int(pre.get("channels", 1))
    pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"),
                        dtype=np.float32) / 255.0  # (H, W) or (H, W, 3), 0..1
    background = pre.get("background")
    if channels == 1 and background is not None:
        border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
        if (border.mean() > 0.5) != (background > 0.5):
            pixels = 1.0 - pixels
            notes.append("the image was inverted to match the training images ("
                         + ("light on dark" if background <= 0.5 else "dark on light") + ")")
        if pre.get("crop_to_ink"):
            pixels = _crop_to_ink(pixels, dark_ground=background <= 0.5)
            if pre.get("scan_size"):
                pixels = _as_scan(pixels, pre["scan_size"], dark_ground=background <= 0.5)
    height, width = pre["size"]
    first = pre.get("source_size") or [height, width]
    picture = Image.fromarray(np.round(pixels * 255).clip(0, 255).astype(np.uint8))
    shrinking = picture.width >= first[1] and picture.height >= first[0]
    picture = picture.resize((first[1], first[0]), Image.Resampling.BOX if shrinking
                             else Image.Resampling.BILINEAR)
    array = np.asarray(picture, dtype=np.float32) / 255.0
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    x = torch.from_numpy(np.ascontiguousarray(array)).unsqueeze(0)
    if list(first) != [height, width]:
        x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False)
    mean = torch.tensor(pre["mean"], dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(pre["std"], dtype=torch.float32).view(1, -1, 1, 1)
    return (x - mean) / std, notes


def _as_scan(pixels, size: int, dark_ground: bool):
    """A grey image (0..1) redrawn as the digits' scanner saw it: a `size` x `size` bitmap
    of ink or paper, strokes at least three bitmap pixels wide (a thin pen or mouse stroke
    would otherwise fade out when the 8x8 blocks are counted, where the scanned digits,
    written with pens, are thick)."""
    import numpy as np
    from PIL import Image, ImageFilter

    ink = pixels if dark_ground else 1.0 - pixels
    small = Image.fromarray(np.round(ink * 255).astype(np.uint8)).resize(
        (size, size), Image.Resampling.BOX)
    bitmap = Image.fromarray(np.where(np.asarray(small) > 64, 255, 0).astype(np.uint8))
    thick = np.asarray(bitmap.filter(ImageFilter.MaxFilter(3)), dtype=np.float32) / 255.0
    return thick if dark_ground else 1.0 - thick


def _crop_to_ink(pixels, dark_ground: bool):
    """A grey image (H, W, 0..1) cut to the box around its strokes and padded to a square
    with the ground's value, so a small digit in a big picture fills the frame as the
    training scans do. An image without strokes is returned as it is."""
    import numpy as np

    ink = pixels > 0.3 if dark_ground else pixels < 0.7
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if not len(rows):
        return pixels
    cropped = pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(cropped.shape)
    square = np.full((side, side), 0.0 if dark_ground else 1.0, dtype=pixels.dtype)
    top, left = (side - cropped.shape[0]) // 2, (side - cropped.shape[1]) // 2
    square[top:top + cropped.shape[0], left:left + cropped.shape[1]] = cropped
    return square


def prepare_row(text: str, pre: dict):
    """One comma-separated table row (in `input_columns` order) as a model input (1, F):
    numbers standardised and categories one-hot as in training; an empty cell takes the
    training mean or most common value (noted). Returns (tensor, notes)."""
    import csv
    import io

    import torch

    columns = pre.get("columns", [])
    try:
        cells = next(csv.reader(io.StringIO(text.strip())), [])
    except csv.Error as exc:
        raise BadInput(f"cannot read the row ({exc})") from None
    cells = [c.strip() for c in cells]
    if len(cells) != len(columns):
        raise BadInput(f"the row has {len(cells)} values but this model reads {len(columns)}: "
                       f"{', '.join(input_columns(pre))}")
    features, notes = [], []
    for column, cell in zip(columns, cells):
        if column["kind"] == "number":
            if cell == "":
                value = column["mean"]
                notes.append(f"{column['name']} was empty; the training mean {value:.4g} was used")
            else:
                try:
                    value = float(cell)
                except ValueError:
                    raise BadInput(f"{column['name']}: {cell!r} is not a number") from None
            features.append((value - column["mean"]) / column["std"])
        else:
            categories = column["categories"]
            if cell == "":
                cell = column["fill"]
                notes.append(f"{column['name']} was empty; the most common value {cell!r} "
                             "was used")
            if cell not in categories:
                raise BadInput(f"{column['name']}: {cell!r} was not seen in training; use one "
                               f"of {', '.join(categories[:10])}")
            features += [1.0 if cell == k else 0.0 for k in categories]
    return torch.tensor([features], dtype=torch.float32), notes


def prepare_text(text: str, pre: dict):
    """A text as token ids (1, L) with the run's vocabulary. Returns (tensor, notes)."""
    import torch

    from core.data.text import encode, tokenize

    tokens = tokenize(text, pre.get("lowercase", True))
    if not tokens:
        raise BadInput("the text is empty; type or paste a text")
    vocabulary = pre.get("vocabulary", {})
    ids = encode(tokens, vocabulary, pre["max_length"])
    unknown = sum(1 for t in tokens[:pre["max_length"]] if t not in vocabulary)
    notes = [f"{unknown} of {min(len(tokens), pre['max_length'])} words are not in the "
             "vocabulary"] if unknown else []
    return torch.tensor([ids], dtype=torch.int64), notes

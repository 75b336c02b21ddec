"""Looking at a trained model: rebuild a run's model and data from its folder, with the
description of how raw inputs become model inputs (`preprocessing_of`), and evaluate a
checkpoint on the validation split (confusion matrix, per-class precision and recall, the
mistakes with their confidence; for a regression, predicted against true with MAE, RMSE
and R2). Predicting on new inputs is core/inference/predict.py.

No Qt. Everything runs on the CPU unless asked otherwise: evaluation sets are small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.rng import holding_global_rng
from core.errors import BadInput
from core.metrics import class_averages, class_scores, r2_from_sums, top_k_hits

CHECKPOINTS = ("best", "last")


@dataclass
class LoadedRun:
    """A run's model with a checkpoint's weights (LoRA merged), in eval mode, and its data."""

    run_dir: Path
    config: Any  # RunConfig
    checkpoint: Path
    model: Any  # torch.nn.Module
    data: Any  # InMemoryData on the CPU, or DescribedData when the training data is gone
    preprocessing: dict  # see preprocessing_of
    epoch: int | None = None  # the epoch the checkpoint was saved after

    @property
    def task(self) -> str:
        return self.data.task

    @property
    def class_names(self) -> list[str]:
        return list(self.data.class_names)


@dataclass
class DescribedData:
    """A run's data as its folder's preprocessing.json describes it (stored_description),
    for predicting and exporting after the training data is gone: what the model was
    fitted to, and a few model-ready inputs of the right shape to check an export with
    (made up: there are no samples). No validation split: evaluation needs the data."""

    info_fields: dict  # DataInfo's fields
    task: str
    class_names: list[str]
    kind: str
    target_scale: float = 1.0
    target_offset: float = 0.0
    batch_transform: Any = None
    val_x: Any = None
    val_y: Any = None
    missing: str = ""  # why the training data could not be read
    preprocessing: dict = field(default_factory=dict)  # as preprocessing_of gave it

    @classmethod
    def from_description(cls, stored: dict, missing: str) -> DescribedData:
        import torch

        info = stored["data_info"]
        shape = tuple(info["input_shape"])
        generator = torch.Generator().manual_seed(0)
        if info["kind"] in ("tokens", "hf_tokens"):
            check = torch.randint(1, max(int(info["vocab_size"]), 2), (4, *shape),
                                  generator=generator)
        else:
            check = torch.randn((4, *shape), generator=generator)
        return cls(info, info["task"], list(info["class_names"]), info["kind"],
                   float(stored.get("target_std", 1.0)), float(stored.get("target_mean", 0.0)),
                   val_x=check, missing=missing,
                   preprocessing={k: v for k, v in stored.items() if k != "data_info"})

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.info_fields["input_shape"])

    def info(self):
        from core.data.memory import DataInfo

        fields = self.info_fields
        return DataInfo(tuple(fields["input_shape"]), int(fields["num_classes"]),
                        fields["kind"], fields["task"], int(fields["vocab_size"]),
                        list(fields["class_names"]), list(fields["class_counts"]))

    def prepare(self, x, train: bool):
        return x  # the check inputs are model-ready already


@holding_global_rng
def load_run(run_dir: Path, checkpoint: str = "best", device: str = "cpu") -> LoadedRun:
    """Rebuild the model and validation data of the run in `run_dir` and load its
    `checkpoint` ("best", "last" or a path to a .pt file). BadInput when the folder, its
    config or the checkpoint cannot be used."""
    import torch

    from core.catalog import DATASETS
    from core.finetune.freezing import prepare_finetune
    from core.finetune.lora import lora_layers, merge_lora
    from core.models.build import build_model, build_model_for
    from core.models.builders import (use_weights_preprocessing, weights_preprocessing,
                                      without_start_weights)
    from core.runs.folder import RunFolder, checkpoint_epoch

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
    try:
        data = DATASETS.get(config.data.name, "data").build(config.data.params,
                                                            config.training.seed)
    except BadInput as exc:  # the training data is gone: the stored description, if any
        data = _described_data(run_dir, str(exc))
    params = without_start_weights(config.model.name, config.model.params)  # the checkpoint's
    if isinstance(data, DescribedData):
        model, _ = build_model_for(config.model.name, params, data.info(), config.loss.name)
    else:
        model, _ = build_model(config.model.name, params, data, config.loss.name)
        # normalised as the run's pretrained weights wanted
        use_weights_preprocessing(data, weights_preprocessing(config.model.name,
                                                              config.model.params))
    prepare_finetune(model, config.finetune, config.training.epochs)  # LoRA adapters, if any
    try:
        if config.finetune.qlora:
            # A QLoRA run's checkpoint holds what trained; the base, built above at full
            # precision from [model] source, takes the adapters when they are merged below.
            # Its outputs differ slightly from training's, whose base was 4-bit.
            from core.finetune.qlora import load_adapters

            load_adapters(model, weights, str(path))
        else:
            model.load_state_dict(weights)
    except RuntimeError as exc:
        raise BadInput(f"checkpoint {path} does not fit the model in {run_dir / 'config.toml'} "
                       f"({str(exc).splitlines()[0][:160]})") from None
    if lora_layers(model):
        model = merge_lora(model)
    model.to(device).eval()
    progress = state.get("progress", {}) if isinstance(state, dict) else {}
    epoch = checkpoint_epoch(progress) if isinstance(progress, dict) and "epoch" in progress \
        else None
    preprocessing = data.preprocessing if isinstance(data, DescribedData) \
        else preprocessing_of(data, config)
    return LoadedRun(run_dir, config, path, model, data, preprocessing, epoch)


def _described_data(run_dir: Path, missing: str) -> DescribedData:
    """The run's data as its preprocessing.json describes it; BadInput(`missing`, why the
    data cannot be read) for a folder written before the file existed, or a run whose
    inputs need the data itself (recordings: the features are made by the run's code)."""
    import json

    from core.runs.folder import PREPROCESSING_FILE

    try:
        stored = json.loads((run_dir / PREPROCESSING_FILE).read_text(encoding="utf-8"))
        usable = isinstance(stored, dict) and isinstance(stored.get("data_info"), dict) \
            and stored.get("kind") != "audio"
    except (OSError, ValueError, RecursionError):
        usable = False
    if not usable:
        raise BadInput(missing)
    return DescribedData.from_description(stored, missing)


def stored_description(data, config) -> dict:
    """What a run folder's preprocessing.json holds, written when the run starts:
    preprocessing_of, plus what the model was fitted to (DataInfo's fields), so the model
    can be rebuilt and fed without the training data."""
    info = data.info()
    return {**preprocessing_of(data, config), "data_info": {
        "input_shape": list(info.input_shape), "num_classes": info.num_classes,
        "kind": info.kind, "task": info.task, "vocab_size": info.vocab_size,
        "class_names": list(info.class_names), "class_counts": list(info.class_counts)}}


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
    # Classification averages (core.metrics.class_averages), and the share of samples whose
    # class is among the model's `top_k` likeliest (None with top_k classes or fewer)
    macro_f1: float | None = None
    weighted_f1: float | None = None
    balanced_accuracy: float | None = None
    top_k: int = 5
    top_k_accuracy: float | None = None

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


def evaluate_run(loaded: LoadedRun, top_k: int = 5) -> Evaluation:
    """Evaluate the loaded checkpoint on the run's validation split; `top_k`: the k of the
    top-k accuracy."""
    import torch

    from core.data.memory import readable_targets
    from core.inference.outputs import batched_outputs, class_probabilities

    data = loaded.data
    if isinstance(data, DescribedData):  # Predict and export can do without; not this
        raise BadInput(f"evaluation scores the run's validation split, and its data cannot be "
                       f"read: {data.missing}")
    if loaded.task == "language_modeling":
        raise BadInput("this run is a language model: its validation loss and perplexity are "
                       "on the run's curves; try its responses on the Predict tab")
    outputs = batched_outputs(loaded.model, data.val_x, data.prepare).cpu()
    data.close()  # a streamed folder's workers: sample_image decodes its few images itself
    val_y = readable_targets(data.val_x, data.val_y)  # a streamed folder's unreadable files
    result = Evaluation(loaded.task, loaded.class_names, str(loaded.checkpoint), loaded.epoch,
                        len(val_y))
    if loaded.task == "regression":
        scale, offset = data.target_scale, float(getattr(data, "target_offset", 0.0))
        # R2 on the standardised targets the model learned (the same as on the target's own
        # units, and better conditioned); MAE and RMSE in the target's own units.
        standard = val_y[:, 0].double().cpu()
        error = outputs[:, 0].double() - standard
        result.predicted = (outputs[:, 0].double() * scale + offset).tolist()
        result.true = (standard * scale + offset).tolist()
        result.mae = error.abs().mean().item() * scale
        result.rmse = math.sqrt(error.square().mean().item()) * scale
        result.r2 = r2_from_sums(error.square().sum().item(), standard.sum().item(),
                                 standard.square().sum().item(), len(standard))
        return result
    probabilities = class_probabilities(outputs)
    confidence, predictions = probabilities.max(1)
    targets = val_y.cpu()
    classes = len(loaded.class_names)
    confusion = torch.zeros(classes, classes, dtype=torch.long)
    confusion.index_put_((targets, predictions), torch.ones_like(targets), accumulate=True)
    result.confusion = confusion.tolist()
    result.targets, result.predictions = targets.tolist(), predictions.tolist()
    result.confidence = confidence.tolist()
    result.accuracy = (predictions == targets).double().mean().item() if len(targets) else None
    for name, scores in zip(loaded.class_names, class_scores(result.confusion)):
        result.per_class.append(ClassScores(name, *scores))
    averages = class_averages(result.confusion)
    result.macro_f1, result.weighted_f1 = averages["macro_f1"], averages["weighted_f1"]
    result.balanced_accuracy = averages["balanced_accuracy"]
    result.top_k = top_k
    hits = top_k_hits(probabilities, targets, top_k)
    if hits is not None and len(targets):
        result.top_k_accuracy = hits.double().mean().item()
    return result


def sample_image(loaded: LoadedRun, index: int):
    """Validation sample `index` as a uint8 picture to show ((H, W) or (H, W, 3)); a
    recording as its spectrogram (what the model heard), a raw waveform as a one-row band."""
    import torch

    from core.data.memory import readable_targets
    from core.data.preview import display_image, spectrogram_picture

    data = loaded.data
    if data.kind == "audio":
        features = data.prepare(data.val_x[index:index + 1], False)[0]
        return spectrogram_picture(features) if features.dim() == 3 else \
            display_image(features[:, None])
    # the index counts the samples evaluated, which leave out a streamed folder's unreadable
    # files
    index = int(readable_targets(data.val_x, torch.arange(len(data.val_y)))[index])
    return display_image(data.val_x[index])


def sample_row(loaded: LoadedRun, index: int) -> list[tuple[str, str]]:
    """Validation sample `index` of a table as (column, value) pairs in the file's units,
    or of a text as its words."""
    pre = loaded.preprocessing
    if pre.get("kind") == "hf_tokens":  # a pretrained model's ids: the text as it was read
        return [("text", loaded.data.texts.val[index])]
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

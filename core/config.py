"""RunConfig: the one complete description of a run, loaded from and saved to TOML.

The GUI edits one, the command line loads one, and every run folder stores the resolved
one (all defaults filled in), so any run can be repeated by either. Saving a resolved
config and loading it back gives the same config, and the same text.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w

from core.catalog import CATALOGUES
from core.entries import Param, shown
from core.errors import BadInput
from core.files import printable, write_text_atomic
from core.finetune.qlora import check_qlora_settings
from core.train.losses import loss_for_task

COMPONENT_SECTIONS = ("model", "data", "optimizer", "scheduler", "loss")
SECTIONS = ("model", "data", "optimizer", "scheduler", "loss", "training", "finetune")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

TRAINING_PARAMS = (
    Param("epochs", "int", 10, "Passes over the training data.", minimum=1, maximum=100000),
    Param("batch_size", "int", 64, "Samples per optimisation step.", minimum=1, maximum=1 << 20),
    Param("device", "str", "auto",
          "auto picks a working GPU, else the CPU; or cpu, cuda, cuda:N, mps."),
    Param("seed", "int", 0, "Seeds data split, initial weights and shuffling.",
          minimum=0, maximum=2**32 - 1),
    Param("threads", "int", 0, "CPU threads for training; 0 (auto) uses every core, or all "
          "but one in the window so that it stays responsive (OMP_NUM_THREADS when set).",
          minimum=0, maximum=1024, zero_means="auto"),
    Param("best_metric", "choice", "val_loss", "What makes an epoch the best (best.pt, early "
          "stopping): the lowest validation loss, or the highest validation metric (accuracy, "
          "or R2 for a regression); for a classification also the highest validation macro "
          "F1, balanced accuracy (the mean recall of the classes: for unbalanced classes) or "
          "top-k accuracy.", choices=("val_loss", "val_metric", "val_macro_f1",
                                     "val_balanced_accuracy", "val_top_k_accuracy")),
    Param("top_k", "int", 5, "Classification: k of the top-k accuracy recorded each epoch "
          "and in summary.json (a sample counts as right when its class is among the model's "
          "k likeliest).", minimum=1, maximum=1000),
    Param("accumulate_steps", "int", 1, "Add up the gradients of this many batches before "
          "each optimisation step: the effective batch is batch_size times this, so a large "
          "batch fits a small device (1: a step per batch).", minimum=1, maximum=4096),
    Param("grad_clip", "float", 0.0, "Clip the gradients' total norm to this before each "
          "update (0: no clipping); tames exploding gradients.", minimum=0.0, maximum=1e6),
    Param("early_stopping_patience", "int", 0, "Stop when best_metric has not improved for "
          "this many epochs and keep the best epoch's weights (0: never stop early).",
          minimum=0, maximum=100000, zero_means="never"),
    Param("early_stopping_min_delta", "float", 0.0, "The least change of best_metric that "
          "counts as an improvement for early stopping.", minimum=0.0, maximum=1e6),
    Param("checkpoint_every_s", "int", 10, "Write last.pt and best.pt at the first epoch end "
          "at least this many seconds after the previous write, and always at the run's end "
          "(0: after every epoch). A crash loses at most about this much training; short "
          "epochs are spared the cost of a write each.", minimum=0, maximum=86400,
          zero_means="every epoch", unit="s"),
    Param("precision", "choice", "fp32", "fp32, or mixed precision on a CUDA GPU: bf16, or "
          "fp16 with loss scaling; faster and lighter on memory where the GPU supports it.",
          choices=("fp32", "bf16", "fp16")),
    Param("fast", "bool", False, "Train faster on an NVIDIA (CUDA) GPU: a memory layout "
          "that suits convolutions (channels_last), mixed precision when precision is fp32, "
          "and torch.compile where it is available (not in the installed app). On the CPU "
          "only the layout. Each run lists what it applied."),
    Param("tensorboard", "bool", True, "Also write TensorBoard event files in the run "
          "folder's tensorboard/ (scalars, hyper-parameters), so `tensorboard --logdir` on "
          "the runs folder shows every run."),
)
FINETUNE_PARAMS = (
    Param("init_from", "path", "", "Checkpoint or state_dict file to start from (empty: fresh)."),
    Param("load_matching_only", "bool", False, "Load only the layers whose names and shapes "
          "match the start weights and keep the rest fresh (listed when the run starts)."),
    Param("freeze", "str_list", [], 'Module-name prefixes to freeze, e.g. ["conv1", "conv2"].'),
    Param("train_only", "str_list", [], "The inverse of freeze: train only these module-name "
          'prefixes, e.g. ["fc2"]; everything else is frozen.'),
    Param("lr_multipliers", "float_map", {}, "Learning-rate multiplier per module-name prefix, "
          "e.g. { conv1 = 0.1, conv2 = 0.1 }; other layers use 1.", minimum=0.0, maximum=100.0),
    Param("unfreeze_every", "int", 0, "Gradual unfreezing: every N epochs unfreeze the frozen "
          "top-level block nearest the output (0: never).", minimum=0, maximum=100000,
          zero_means="never", unit="epochs"),
    Param("lora_targets", "str_list", [], "Linear or Conv2d layers to adapt with low-rank "
          'adapters (LoRA), e.g. ["fc1"]; their base weights are frozen.'),
    Param("lora_rank", "int", 8, "Rank of each LoRA adapter.", minimum=1, maximum=1024),
    Param("lora_alpha", "float", 16.0, "LoRA scaling: the update is multiplied by alpha/rank "
          "(alpha/sqrt(rank) with rsLoRA).", minimum=0.0, maximum=10000.0),
    Param("lora_dropout", "float", 0.0, "Dropout on the LoRA adapter's input.",
          minimum=0.0, maximum=0.95),
    Param("lora_rslora", "bool", False, "rsLoRA: scale the update by alpha/sqrt(rank), so "
          "higher ranks keep learning (Kalajdzievski 2023)."),
    Param("qlora", "bool", False, "QLoRA: load the Hugging Face model's Linear layers in 4 "
          "bits (NF4) and train LoRA adapters over them: about a quarter of the weights' "
          "memory. Needs lora_targets, a CUDA GPU and the bitsandbytes package."),
)


@dataclass
class Component:
    """A catalogue choice and its parameters, e.g. model simple_cnn with its settings."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


def _default(params: tuple[Param, ...], name: str):
    """A settings field whose default is its Param's: each default is declared once."""
    param = next(p for p in params if p.name == name)
    return field(default_factory=param.default_value)


# What a run file that names nothing trains: the article's network on the bundled digits.
DEFAULT_CHOICES = {"model": "simple_cnn", "data": "digits", "optimizer": "adam",
                   "scheduler": "none", "loss": "cross_entropy"}


def _default_component(section: str):
    """A component field that defaults to the section's default choice, all parameters filled."""
    def build() -> Component:
        name = DEFAULT_CHOICES[section]
        return Component(name, CATALOGUES[section].get(name, section).defaults())
    return field(default_factory=build)


@dataclass
class TrainingSettings:
    epochs: int = _default(TRAINING_PARAMS, "epochs")
    batch_size: int = _default(TRAINING_PARAMS, "batch_size")
    device: str = _default(TRAINING_PARAMS, "device")
    seed: int = _default(TRAINING_PARAMS, "seed")
    threads: int = _default(TRAINING_PARAMS, "threads")
    best_metric: str = _default(TRAINING_PARAMS, "best_metric")
    accumulate_steps: int = _default(TRAINING_PARAMS, "accumulate_steps")
    grad_clip: float = _default(TRAINING_PARAMS, "grad_clip")
    early_stopping_patience: int = _default(TRAINING_PARAMS, "early_stopping_patience")
    early_stopping_min_delta: float = _default(TRAINING_PARAMS, "early_stopping_min_delta")
    checkpoint_every_s: int = _default(TRAINING_PARAMS, "checkpoint_every_s")
    precision: str = _default(TRAINING_PARAMS, "precision")
    fast: bool = _default(TRAINING_PARAMS, "fast")
    tensorboard: bool = _default(TRAINING_PARAMS, "tensorboard")
    top_k: int = _default(TRAINING_PARAMS, "top_k")


@dataclass
class FinetuneSettings:
    init_from: str = _default(FINETUNE_PARAMS, "init_from")
    load_matching_only: bool = _default(FINETUNE_PARAMS, "load_matching_only")
    freeze: list[str] = _default(FINETUNE_PARAMS, "freeze")
    train_only: list[str] = _default(FINETUNE_PARAMS, "train_only")
    lr_multipliers: dict[str, float] = _default(FINETUNE_PARAMS, "lr_multipliers")
    unfreeze_every: int = _default(FINETUNE_PARAMS, "unfreeze_every")
    lora_targets: list[str] = _default(FINETUNE_PARAMS, "lora_targets")
    lora_rank: int = _default(FINETUNE_PARAMS, "lora_rank")
    lora_alpha: float = _default(FINETUNE_PARAMS, "lora_alpha")
    lora_dropout: float = _default(FINETUNE_PARAMS, "lora_dropout")
    lora_rslora: bool = _default(FINETUNE_PARAMS, "lora_rslora")
    qlora: bool = _default(FINETUNE_PARAMS, "qlora")


@dataclass
class RunConfig:
    model: Component = _default_component("model")
    data: Component = _default_component("data")
    optimizer: Component = _default_component("optimizer")
    scheduler: Component = _default_component("scheduler")
    loss: Component = _default_component("loss")
    training: TrainingSettings = field(default_factory=TrainingSettings)
    finetune: FinetuneSettings = field(default_factory=FinetuneSettings)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], read_data: bool = False) -> RunConfig:
        """Check `raw` (as parsed from TOML) against the catalogues; fill in every default.

        Without a [loss] name the loss fits the dataset's task; `read_data` lets a dataset
        that tells its task only from its file (a csv table with task = "auto") be read to
        find it (run files do; the window's forms never read data to resolve a config).
        Raises BadInput naming the section and key for any unknown or invalid entry.
        """
        unknown = [key for key in raw if key not in SECTIONS]
        if unknown:
            raise BadInput(f"unknown section [{shown(unknown[0], quote=False)}]; accepted "
                           f"sections: {', '.join(SECTIONS)}")
        resolved: dict[str, Any] = {}
        for section in COMPONENT_SECTIONS:
            if section == "loss" and "name" not in _section(raw, "loss"):
                continue  # chosen below, to fit the dataset's task
            resolved[section] = _component(_section(raw, section), section)
        training = _check_plain(_section(raw, "training"), TRAINING_PARAMS, "training")
        if not DEVICE_PATTERN.match(training["device"]):
            raise BadInput(f"[training] device = {shown(training['device'])}: choose auto, cpu, "
                           "cuda, cuda:N or mps")
        resolved["training"] = TrainingSettings(**training)
        if "loss" not in resolved:
            # A run file that names no loss gets the one that fits its data (mse for a
            # regression), as the window switches it when a dataset is picked.
            task = _data_task(resolved["data"], training["seed"], read_data)
            name = loss_for_task(DEFAULT_CHOICES["loss"], task)
            resolved["loss"] = _component({**_section(raw, "loss"), "name": name}, "loss")
        resolved["finetune"] = FinetuneSettings(
            **_check_plain(_section(raw, "finetune"), FINETUNE_PARAMS, "finetune")
        )
        check_qlora_settings(resolved["model"].name, resolved["finetune"])
        return cls(**resolved)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict in file order: each component's `name` first, then its parameters."""
        out: dict[str, Any] = {}
        for section in COMPONENT_SECTIONS:
            component: Component = getattr(self, section)
            out[section] = {"name": component.name, **component.params}
        for section in ("training", "finetune"):
            settings = getattr(self, section)
            out[section] = {f.name: getattr(settings, f.name) for f in fields(settings)}
        return out

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, text: str, source: str = "run file") -> RunConfig:
        return cls.from_dict(parse_toml(text, source))

    def with_overrides(self, assignments: list[str]) -> RunConfig:
        """Return a copy with `section.key=value` assignments applied (values in TOML syntax)."""
        return RunConfig.from_dict(apply_overrides(self.to_dict(), assignments))

    def with_absolute_paths(self, base: Path) -> RunConfig:
        """A copy whose relative file and folder settings are made absolute against `base`
        (see absolute_paths)."""
        return RunConfig.from_dict(absolute_paths(self.to_dict(), base))


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))  # the BOM Windows Notepad writes
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{source} is not valid TOML ({exc}); fix the line it names") from None
    except RecursionError:
        raise BadInput(f"{source} nests arrays or tables too deeply to be read; a run file "
                       "needs only a few levels") from None


def absolute_paths(raw: dict[str, Any], base: Path) -> dict[str, Any]:
    """`raw` (a config as parsed from TOML) with every relative file or folder setting
    ([data] path, data_dir, folder, val_folder; [finetune] init_from) made absolute against
    `base` and `~` expanded: a run folder's config reads the same files wherever the run is
    resumed or repeated from. Sections or names that are not valid are left for from_dict
    to report."""
    raw = {section: dict(values) if isinstance(values, dict) else values
           for section, values in raw.items()}
    for section, values in raw.items():
        if not isinstance(values, dict):
            continue
        for param in _params_of(section, values):
            value = values.get(param.name)
            if param.kind in ("path", "dir") and isinstance(value, str) and value:
                values[param.name] = os.path.normpath(
                    os.path.join(base, os.path.expanduser(value)))
    return raw


def _params_of(section: str, values: dict[str, Any]) -> tuple[Param, ...]:
    """The parameters a raw section may hold, as far as its name is valid; () when not."""
    if section == "finetune":
        return FINETUNE_PARAMS
    if section == "training":
        return TRAINING_PARAMS
    name = values.get("name", DEFAULT_CHOICES.get(section))
    if section not in COMPONENT_SECTIONS or not isinstance(name, str):
        return ()
    try:
        return CATALOGUES[section].get(name).params
    except BadInput:
        return ()


def apply_overrides(raw: dict[str, Any], assignments: list[str]) -> dict[str, Any]:
    """Apply `section.key=value` strings to a raw config dict; a value that is not TOML is text."""
    # Copy the tables; anything else (a key above every section) is left for from_dict to
    # report, instead of failing here with a TypeError.
    raw = {section: dict(values) if isinstance(values, dict) else values
           for section, values in raw.items()}
    for assignment in assignments:
        target, sep, text = assignment.partition("=")
        section, dot, key = target.strip().partition(".")
        if not sep or not dot or not key:
            raise BadInput(
                f"--set {shown(assignment)}: write section.key=value, e.g. --set "
                "training.epochs=3"
            )
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        except RecursionError:
            raise BadInput(f"--set {shown(target)}: the value nests arrays too deeply to be "
                           "read") from None
        if section in COMPONENT_SECTIONS and key == "name":
            # A new catalogue choice starts from its own defaults, not the old entry's keys.
            raw[section] = {}
        _section(raw, section)  # BadInput when the file holds `section = value`, not a table
        raw.setdefault(section, {})[key.strip()] = value
    return raw


def load_config(path: str | Path, overrides: list[str] | None = None,
                read_data: bool = False) -> RunConfig:
    """Load and check a run file; raises BadInput for a missing, unreadable or invalid file.
    `read_data`: see RunConfig.from_dict (`traindesk train` reads; opening a run file in the
    window does not, so a run file whose data is wrong still opens to be fixed). Relative
    paths in the file are taken from the file's folder, those of `overrides` (--set) from
    the working directory (absolute_paths)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"run file {printable(path)} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read run file {printable(path)}: {exc}") from None
    raw = absolute_paths(parse_toml(text, f"run file {printable(path)}"),
                         path.parent.absolute())
    raw = absolute_paths(apply_overrides(raw, overrides or []), Path.cwd())
    return RunConfig.from_dict(raw, read_data)


def save_config(config: RunConfig, path: str | Path) -> None:
    write_text_atomic(Path(path), config.to_toml())


def _component(values: dict[str, Any], section: str) -> Component:
    """A component section checked against its catalogue, every parameter filled in."""
    values = dict(values)
    name = values.pop("name", DEFAULT_CHOICES[section])
    if not isinstance(name, str):
        raise BadInput(f"[{section}] name = {shown(name)}: expected text, a catalogue name")
    entry = CATALOGUES[section].get(name, section)
    return Component(name, entry.check_params(values, section))


def _data_task(data: Component, seed: int, read_data: bool) -> str | None:
    """The task of the dataset `data` names: as its catalogue entry or its own `task`
    setting says, or, for one that tells from its file (a csv table with task = "auto"),
    as the data says once read when `read_data` (BadInput, as training would give, when it
    cannot be), else None (not known yet)."""
    entry = CATALOGUES["data"].get(data.name, "data")
    task = data.params.get("task", entry.extra.get("task"))
    if task in ("classification", "regression", "language_modeling"):
        return task
    return entry.build(data.params, seed).task if read_data else None


def _section(raw: dict[str, Any], section: str) -> dict[str, Any]:
    values = raw.get(section, {})
    if not isinstance(values, dict):
        raise BadInput(f"[{section}] must be a table of keys, e.g. [{section}] on its own line")
    return values


def _check_plain(values: dict[str, Any], params: tuple[Param, ...], section: str) -> dict:
    known = {p.name: p for p in params}
    for key in values:
        if key not in known:
            raise BadInput(
                f"[{section}] unknown key {shown(key)}; accepted keys: {', '.join(known)}"
            )
    return {
        p.name: p.check(values[p.name], f"[{section}] {p.name}") if p.name in values
        else p.default_value()
        for p in params
    }

"""Exporting a trained model for use outside TrainDesk: a state_dict (.pt, or safetensors),
TorchScript, or ONNX, with a JSON file beside it that says how to prepare inputs (size,
channels, normalisation, class names, task) and what the outputs mean.

Every export is checked at once: the exported file is loaded back the way a user would load
it (a fresh model and the state_dict, torch.jit.load, onnxruntime) and its outputs on
validation samples are compared with the trained model's. A LoRA run exports the merged
model, under the layer names the model has without adapters.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from core.errors import BadInput, ExportFailed
from core.files import write_atomic, write_json_atomic

FORMATS = {  # name: (what it is, file ending)
    "pt": ("PyTorch state_dict", ".pt"),
    "safetensors": ("safetensors state_dict", ".safetensors"),
    "torchscript": ("TorchScript", ".torchscript.pt"),
    "onnx": ("ONNX", ".onnx"),
}
REQUIRES = {"safetensors": ("safetensors",), "onnx": ("onnx", "onnxscript")}
CHECK_SAMPLES = 64
ABS_TOLERANCE = 1e-4
REL_TOLERANCE = 1e-4


class ExportCheckFailed(ExportFailed):
    """The exported model does not reproduce the trained model's outputs (exit code 1)."""


@dataclass
class ExportResult:
    path: Path
    preprocessing_path: Path
    format: str
    checkpoint: str
    epoch: int | None
    samples: int  # validation samples the check ran on
    max_abs_diff: float  # largest difference between the exported and the trained outputs
    tolerance: float  # allowed: ABS_TOLERANCE + REL_TOLERANCE * the largest output
    runtime: str  # what ran the exported file for the check

    @property
    def matches(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def describe(self) -> str:
        verdict = "match" if self.matches else "DO NOT match"
        return (f"checked with {self.runtime} on {self.samples} validation samples: outputs "
                f"{verdict} the trained model (max abs difference {self.max_abs_diff:.3g}, "
                f"tolerance {self.tolerance:.3g})")


def missing_packages(fmt: str) -> list[str]:
    """The optional packages format `fmt` needs that are not installed."""
    return [name for name in REQUIRES.get(fmt, ()) if importlib.util.find_spec(name) is None]


def available_formats() -> dict[str, str]:
    """Each format's name with "" when it can be used, else why not (for the dialog)."""
    return {fmt: (f"needs {' and '.join(missing)}: pip install 'traindesk[export]'"
                  if (missing := missing_packages(fmt)) else "") for fmt in FORMATS}


def default_export_path(run_dir: Path, fmt: str, checkpoint: str = "best") -> Path:
    """`<run>/exports/<run folder>-<checkpoint><ending>`."""
    run_dir = Path(run_dir)
    return run_dir / "exports" / f"{run_dir.name}-{checkpoint}{FORMATS[fmt][1]}"


def preprocessing_path_for(path: Path, fmt: str) -> Path:
    """model.onnx -> model.preprocessing.json (beside the exported file)."""
    ending = FORMATS[fmt][1]
    name = path.name[:-len(ending)] if path.name.endswith(ending) else path.stem
    return path.with_name(f"{name}.preprocessing.json")


def export_model(run_dir: Path, fmt: str, checkpoint: str = "best",
                 out: Path | None = None) -> ExportResult:
    """Export the run's `checkpoint` in format `fmt` to `out` (default: the run's exports
    folder), write the preprocessing JSON beside it, and check the export's outputs against
    the trained model on validation samples. BadInput for a bad run, checkpoint, format or
    missing package; ExportFailed when the exporter cannot handle the model, and its kind
    ExportCheckFailed when the outputs differ (the files are kept, and the JSON says so)."""
    import torch

    from core.inference.evaluation import load_run

    if fmt not in FORMATS:
        raise BadInput(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    missing = missing_packages(fmt)
    if missing:
        raise BadInput(f"{FORMATS[fmt][0]} export needs the {' and '.join(missing)} "
                       f"package{'s' if len(missing) > 1 else ''}; install them with "
                       "pip install 'traindesk[export]'")
    loaded = load_run(run_dir, checkpoint)
    path = Path(out) if out is not None else default_export_path(loaded.run_dir, fmt, checkpoint)
    if path.is_dir():
        raise BadInput(f"--out {path} is a folder; give a file name, e.g. "
                       f"{path / ('model' + FORMATS[fmt][1])}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create {path.parent} ({exc.strerror}); choose another --out") \
            from None
    model = loaded.model.cpu().eval()
    data = loaded.data
    x = data.prepare(data.val_x[:CHECK_SAMPLES], False).cpu()
    with torch.no_grad():
        reference = model(x).float()
    try:
        runtime, exported = EXPORTERS[fmt](loaded, model, x, path)
    except (BadInput, ExportFailed):
        raise
    except OSError as exc:
        raise BadInput(f"cannot write {path} ({exc.strerror or exc}); choose another --out") \
            from None
    except Exception as exc:  # the exporter could not handle this model
        line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ExportFailed(f"{FORMATS[fmt][0]} export of {loaded.config.model.name} failed "
                             f"({type(exc).__name__}: {line}); try another format") from None
    exported = torch.as_tensor(exported).float()
    difference = (exported - reference).abs().max().item() if reference.numel() else 0.0
    if exported.shape != reference.shape:
        difference = float("inf")
    tolerance = ABS_TOLERANCE + REL_TOLERANCE * (reference.abs().max().item()
                                                 if reference.numel() else 0.0)
    result = ExportResult(path, preprocessing_path_for(path, fmt), fmt,
                          str(loaded.checkpoint.name), loaded.epoch, len(x), difference,
                          tolerance, runtime)
    write_json_atomic(result.preprocessing_path,
                      _description(loaded, result, reference.shape[1]))
    if not result.matches:
        raise ExportCheckFailed(f"the exported model at {path} does not reproduce the trained "
                                f"model: {result.describe()}; do not use it, try another "
                                "format")
    return result


def _description(loaded, result: ExportResult, width: int) -> dict:
    """The JSON beside an export; `width` is the number of model outputs."""
    pre = dict(loaded.preprocessing)
    task = pre["task"]
    if task == "regression":
        outputs = "one value per sample: prediction = output * target_std + target_mean"
    elif width == 1:
        outputs = "one logit per sample: sigmoid(output) is the probability of class_names[1]"
    else:
        outputs = "one score (logit) per class in class_names order; softmax gives probabilities"
    return {
        "file": result.path.name,
        "format": result.format,
        "checkpoint": result.checkpoint,
        "epoch": result.epoch,
        "input": "a float32 batch of shape [N, " + ", ".join(map(str, pre["input_shape"]))
                 + "]" + (" (int64 token ids)" if pre["kind"] == "tokens" else ""),
        "outputs": outputs,
        **pre,
        "check": {"samples": result.samples, "max_abs_diff": result.max_abs_diff,
                  "tolerance": result.tolerance, "matches": result.matches,
                  "runtime": result.runtime},
        "run": str(loaded.run_dir),
    }


# ---------------------------------------------------------------- one function a format


def _plain_model(loaded):
    """A fresh model of the run's architecture without adapters (as a user builds it)."""
    from core.models.build import build_model

    config = loaded.config
    params = dict(config.model.params)
    if params.get("weights") in ("pretrained", "file"):
        params["weights"] = "none"
    model, _ = build_model(config.model.name, params, loaded.data, config.loss.name)
    return model.eval()


def _state_dict(model) -> dict:
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}


def _export_pt(loaded, model, x, path: Path):
    import torch

    state = _state_dict(model)
    write_atomic(path, lambda f: torch.save(state, f), binary=True)
    fresh = _plain_model(loaded)
    fresh.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    with torch.no_grad():
        return "torch.load(weights_only=True) into a fresh model", fresh(x)


def _export_safetensors(loaded, model, x, path: Path):
    import torch
    from safetensors.torch import load_file, save_file

    # safetensors refuses tensors that share memory (tied weights): save copies
    state = {k: v.clone() for k, v in _state_dict(model).items()}
    with _replaced_atomically(path) as temporary:
        save_file(state, str(temporary), metadata={"format": "pt"})
    fresh = _plain_model(loaded)
    fresh.load_state_dict(load_file(str(path)))
    with torch.no_grad():
        return "safetensors.torch.load_file into a fresh model", fresh(x)


def _export_torchscript(loaded, model, x, path: Path):
    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation notes; the check decides
        # Traced on two samples, checked on all: a batch size baked in would show.
        traced = torch.jit.trace(model, x[:2], check_trace=False)
        with _replaced_atomically(path) as temporary:
            torch.jit.save(traced, str(temporary))
        reloaded = torch.jit.load(str(path), map_location="cpu")
        return "torch.jit.load", reloaded(x)


def _export_onnx(loaded, model, x, path: Path):
    import torch

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        with _replaced_atomically(path) as temporary:
            torch.onnx.export(model, (x[:2],), str(temporary), input_names=["input"],
                              output_names=["output"], dynamo=True, external_data=False,
                              dynamic_shapes=({0: torch.export.Dim.AUTO},), verbose=False)
    return _run_onnx(path, x.numpy())


def _run_onnx(path: Path, x):
    """Run an ONNX file with onnxruntime, or without it with onnx's reference evaluator."""
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return "onnxruntime", session.run(None, {name: x})[0]
    import onnx
    from onnx.reference import ReferenceEvaluator

    evaluator = ReferenceEvaluator(onnx.load(str(path)))
    name = evaluator.input_names[0]
    return "onnx.reference", evaluator.run(None, {name: x})[0]


# One function a format: (loaded run, model, check inputs, path) -> (what ran the exported
# file, its outputs on the check inputs). A new format is a function here and a FORMATS row.
EXPORTERS = {"pt": _export_pt, "safetensors": _export_safetensors,
              "torchscript": _export_torchscript, "onnx": _export_onnx}


@contextlib.contextmanager
def _replaced_atomically(path: Path):
    """A temporary path beside `path` for a library that writes files by name; renamed over
    `path` when the block succeeds, removed when it fails."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


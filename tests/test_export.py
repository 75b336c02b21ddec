"""Export: each format reproduces the trained model's outputs (checked by core.inference.export and
again here, loading the file as a user would), the preprocessing JSON beside it, LoRA runs
exported merged, and `traindesk export` with its exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from core.cli import main as cli_main
from core.config import RunConfig
from core.errors import BadInput, ExportFailed, TrainingFailed
from core.inference import export as export_module
from core.inference.evaluation import load_run
from core.inference.export import (EXPORTERS, ExportCheckFailed, available_formats,
                                   default_export_path, export_model)
from core.models.build import build_model
from core.train.loop import train
from limits import HANG_S

REPO = Path(__file__).resolve().parents[1]


def _train(runs_dir: Path, *overrides: str) -> Path:
    config = RunConfig().with_overrides(["training.device=cpu", "training.epochs=1",
                                         "training.batch_size=128", *overrides])
    return Path(train(config, runs_dir=runs_dir)["run_dir"])


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("runs"), "model.name=simple_cnn")


@pytest.fixture(scope="module")
def reference(cnn_run):
    """The trained model's outputs on 20 validation inputs, and those inputs."""
    loaded = load_run(cnn_run)
    x = loaded.data.prepare(loaded.data.val_x[-20:], False)
    with torch.no_grad():
        return x, loaded.model(x)


def _fresh_simple_cnn(run_dir: Path):
    loaded = load_run(run_dir)
    model, _ = build_model("simple_cnn", loaded.config.model.params, loaded.data)
    return model.eval()


def _load_back(fmt: str, path: Path, run_dir: Path):
    """The exported file as a user outside TrainDesk would load it: a callable model."""
    if fmt == "pt":
        model = _fresh_simple_cnn(run_dir)
        model.load_state_dict(torch.load(path, weights_only=True))
        return model
    if fmt == "safetensors":
        from safetensors.torch import load_file

        model = _fresh_simple_cnn(run_dir)
        model.load_state_dict(load_file(str(path)))
        return model
    if fmt == "torchscript":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, not gone
            return torch.jit.load(str(path))
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda x: torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


def test_every_format_is_available_here():
    assert available_formats() == {"pt": "", "safetensors": "", "torchscript": "", "onnx": "",
                                   "hf": "", "peft": ""}


@pytest.mark.parametrize("fmt", ["pt", "safetensors", "torchscript", "onnx"])
def test_each_format_reproduces_the_models_outputs(cnn_run, reference, fmt):
    result = export_model(cnn_run, fmt)
    assert result.path == default_export_path(cnn_run, fmt) and result.path.is_file()
    assert result.matches and result.samples == 64
    assert result.max_abs_diff <= result.tolerance < 1e-2
    x, expected = reference
    with torch.no_grad():
        outputs = _load_back(fmt, result.path, cnn_run)(x)  # 20 samples: not the traced 2
    assert torch.allclose(torch.as_tensor(outputs), expected, atol=1e-4)
    description = json.loads(result.preprocessing_path.read_text(encoding="utf-8"))
    assert description["format"] == fmt and description["file"] == result.path.name
    assert description["check"]["matches"] is True
    assert description["input_shape"] == [1, 28, 28] and description["channels"] == 1
    assert description["class_names"] == [str(d) for d in range(10)]
    assert len(description["mean"]) == len(description["std"]) == 1
    assert "softmax" in description["outputs"]
    assert not [p for p in result.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_export_can_go_to_a_chosen_file(cnn_run, tmp_path):
    out = tmp_path / "deploy" / "digits.onnx"
    result = export_model(cnn_run, "onnx", "last", out)
    assert result.path == out and result.preprocessing_path == out.with_name(
        "digits.preprocessing.json")
    assert json.loads(result.preprocessing_path.read_text(encoding="utf-8"))["checkpoint"] \
        == "last.pt"


def test_outputs_that_differ_fail_the_check(cnn_run, tmp_path, monkeypatch):
    original = EXPORTERS["pt"]

    def off_by_a_bit(loaded, model, x, path):
        runtime, outputs = original(loaded, model, x, path)
        return runtime, outputs + 0.01

    monkeypatch.setitem(EXPORTERS, "pt", off_by_a_bit)
    with pytest.raises(ExportCheckFailed, match="does not reproduce"):
        export_model(cnn_run, "pt", out=tmp_path / "bad.pt")
    description = json.loads((tmp_path / "bad.preprocessing.json").read_text(encoding="utf-8"))
    assert description["check"]["matches"] is False


def test_an_exporter_that_breaks_is_an_export_failure(cnn_run, tmp_path, monkeypatch, capsys):
    def unsupported(loaded, model, x, path):
        raise RuntimeError("operator not supported\nmore lines")

    monkeypatch.setitem(EXPORTERS, "pt", unsupported)
    with pytest.raises(ExportFailed, match=r"export of simple_cnn failed \(RuntimeError: "
                                           r"operator not supported\); try another format") as exc:
        export_model(cnn_run, "pt", out=tmp_path / "broken.pt")
    assert not isinstance(exc.value, TrainingFailed)
    code = cli_main(["export", str(cnn_run), "--format", "pt", "--out", str(tmp_path / "b.pt")])
    assert code == 1 and capsys.readouterr().err.startswith("export failed: PyTorch state_dict")


def test_a_missing_optional_package_is_named(cnn_run, monkeypatch):
    monkeypatch.setattr(export_module, "missing_packages",
                        lambda fmt: ["onnx", "onnxscript"] if fmt == "onnx" else [])
    with pytest.raises(BadInput, match=r"needs the onnx and onnxscript packages.*\[export\]"):
        export_model(cnn_run, "onnx")


def test_a_lora_run_exports_the_merged_model(tmp_path):
    run = _train(tmp_path, "model.name=mlp", "model.hidden_sizes=[32]",
                 'finetune.lora_targets=["layers.1"]', "finetune.lora_rank=4")
    result = export_model(run, "safetensors")
    from safetensors.torch import load_file

    names = set(load_file(str(result.path)))
    assert names == {"layers.1.weight", "layers.1.bias", "layers.3.weight", "layers.3.bias"}
    assert result.matches


def test_a_regression_export_says_how_to_scale_its_output(tmp_path):
    run = _train(tmp_path, "model.name=mlp", "model.hidden_sizes=[16]", "data.name=diabetes",
                 "loss.name=mse", "training.batch_size=32")
    result = export_model(run, "torchscript")
    description = json.loads(result.preprocessing_path.read_text(encoding="utf-8"))
    assert description["task"] == "regression"
    assert description["target_std"] > 1 and description["target_mean"] > 50
    assert "target_std" in description["outputs"]
    assert [c["name"] for c in description["columns"]][:2] == ["age", "sex"]


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRAINDESK_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "core", "export", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=HANG_S, env=env)


def test_the_command_line_exports_and_reports_the_check(cnn_run, tmp_path):
    out = tmp_path / "model.torchscript.pt"
    result = _cli(tmp_path, str(cnn_run), "--format", "torchscript", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"exported {out} (TorchScript, best checkpoint, epoch 1)")
    assert lines[1] == f"preprocessing {tmp_path / 'model.preprocessing.json'}"
    assert "outputs match the trained model (max abs difference" in lines[2]
    assert out.is_file()


@pytest.mark.parametrize("args, message", [
    (["{missing}"], "does not exist"),
    (["{run}", "--format", "tflite"], "invalid choice: 'tflite'"),
    (["{tmp}"], "is not a run folder"),
])
def test_the_command_line_refuses_bad_input_with_one_line(cnn_run, tmp_path, args, message):
    args = [a.format(missing=tmp_path / "nowhere", run=cnn_run, tmp=tmp_path) for a in args]
    result = _cli(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.stderr

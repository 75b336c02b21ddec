"""[training] fast: the plan for each device and machine, channels_last on models and batches,
the setting in a run file, real CPU runs, checkpoints with unchanged keys, and the GPU
benchmark script run on the CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

import core.train.fast
import core.train.precision
from core.config import RunConfig
from core.data.memory import InMemoryData
from core.errors import BadInput
from core.events import RunStarted
from core.train.fast import FastPlan, apply_plan, convolves_images, plan_fast
from core.data.image_batches import ImageBatches
from core.models.build import build_model
from core.train.loop import train
from run_control import mlp_config
from limits import HANG_S

REPO = Path(__file__).resolve().parents[1]
CUDA_ALL_THERE = {"bf16_supported": True, "frozen": False, "triton": True, "c_toolchain": True}


def notes_with(plan: FastPlan, text: str) -> list[str]:
    return [n for n in plan.notes if text in n]


# ---------------------------------------------------------------- the plan


def test_on_cuda_everything_applies_with_bf16():
    plan = plan_fast("cuda", "fp32", conv_images=True, **CUDA_ALL_THERE)
    assert (plan.channels_last, plan.precision, plan.compile) == (True, "bf16", True)
    assert notes_with(plan, "channels_last memory layout")
    assert notes_with(plan, "mixed precision bf16 (precision was fp32)")
    assert notes_with(plan, "torch.compile applied")


def test_on_cuda_without_native_bf16_fast_picks_fp16():
    plan = plan_fast("cuda", "fp32", conv_images=True,
                     **{**CUDA_ALL_THERE, "bf16_supported": False})
    assert plan.precision == "fp16"
    assert notes_with(plan, "mixed precision fp16 with loss scaling")


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_an_explicit_precision_is_kept(precision):
    plan = plan_fast("cuda", precision, conv_images=True, **CUDA_ALL_THERE)
    assert plan.precision == precision
    assert notes_with(plan, f"precision {precision} kept as set")


@pytest.mark.parametrize("missing, says", [
    ("frozen", "the installed app cannot compile"),
    ("triton", "pip install triton"),
    ("c_toolchain", "install gcc and python3-dev"),
])
def test_compile_is_skipped_where_it_cannot_work_and_says_why(missing, says):
    facts = {**CUDA_ALL_THERE, missing: missing == "frozen"}
    plan = plan_fast("cuda", "fp32", conv_images=True, **facts)
    assert not plan.compile
    assert plan.channels_last and plan.precision == "bf16"  # the rest still applies
    assert notes_with(plan, "torch.compile skipped") == notes_with(plan, says) != []


def test_on_cuda_a_model_without_convolutions_skips_channels_last():
    plan = plan_fast("cuda", "fp32", conv_images=False, **CUDA_ALL_THERE)
    assert not plan.channels_last and plan.precision == "bf16" and plan.compile
    assert notes_with(plan, "channels_last skipped")


def test_on_the_cpu_only_channels_last_applies_to_convolutions():
    plan = plan_fast("cpu", "fp32", conv_images=True, **CUDA_ALL_THERE)
    assert (plan.channels_last, plan.precision, plan.compile) == (True, "fp32", False)
    assert notes_with(plan, "mixed precision and torch.compile apply on a CUDA GPU only")


def test_on_the_cpu_without_convolutions_fast_changes_nothing_and_says_so():
    plan = plan_fast("cpu", "fp32", conv_images=False)
    assert (plan.channels_last, plan.precision, plan.compile) == (False, "fp32", False)
    assert notes_with(plan, "for this model it changes nothing")


def test_on_apples_gpu_fast_changes_nothing_and_says_so():
    plan = plan_fast("mps", "fp32", conv_images=True, **CUDA_ALL_THERE)
    assert (plan.channels_last, plan.precision, plan.compile) == (False, "fp32", False)
    assert plan.notes == ("fast applies on a CUDA GPU; on Apple's GPU (mps) it changes nothing",)


# ---------------------------------------------------------------- the setting


def test_fast_defaults_to_off_and_round_trips_through_toml():
    assert RunConfig().training.fast is False
    assert "fast = false" in RunConfig().to_toml()
    config = RunConfig.from_dict({"training": {"fast": True}})
    text = config.to_toml()
    assert "fast = true" in text
    again = RunConfig.from_toml(text)
    assert again == config and again.training.fast is True and again.to_toml() == text


def test_fast_that_is_not_true_or_false_names_the_key():
    with pytest.raises(BadInput, match=r"\[training\] fast"):
        RunConfig.from_toml('[training]\nfast = "yes"\n')


# ---------------------------------------------------------------- applying it


def colour_images(transform=None) -> InMemoryData:
    x = torch.randint(0, 256, (8, 3, 6, 6), dtype=torch.uint8)
    y = torch.arange(8) % 2
    return InMemoryData(x, y, x[:4], y[:4], ["a", "b"], kind="image", batch_transform=transform)


def channels_last_plan() -> FastPlan:
    return plan_fast("cpu", "fp32", conv_images=True)


def test_channels_last_converts_the_convolutions_weights():
    data = colour_images()
    model, _ = build_model("simple_cnn", {"dropout": 0.0}, data, "cross_entropy")
    apply_plan(channels_last_plan(), model, data)
    for weight in (model.conv1.weight, model.conv2.weight):
        assert weight.is_contiguous(memory_format=torch.channels_last)
        assert not weight.is_contiguous()


@pytest.mark.parametrize("transform", [None, ImageBatches([0.5] * 3, [0.25] * 3)])
def test_channels_last_batches_keep_the_datas_own_transform(transform):
    data = colour_images(transform)
    model, _ = build_model("simple_cnn", {"dropout": 0.0}, data, "cross_entropy")
    fast_data = apply_plan(channels_last_plan(), model, data)
    for training in (True, False):
        batch = fast_data.prepare(data.train_x[:4], training)
        assert batch.is_contiguous(memory_format=torch.channels_last)
        assert not batch.is_contiguous()
        assert torch.equal(batch, data.prepare(data.train_x[:4], training))
    assert data.batch_transform is transform  # the original data is left as it was


def test_only_image_convolutions_count():
    images = colour_images()
    cnn, _ = build_model("simple_cnn", {"dropout": 0.0}, images, "cross_entropy")
    mlp, _ = build_model("mlp", {"hidden_sizes": [8], "activation": "relu", "dropout": 0.0},
                         images, "cross_entropy")
    assert convolves_images(cnn, images) and not convolves_images(mlp, images)


def test_compiling_in_place_keeps_the_state_dict_keys(monkeypatch):
    """model.compile(), not torch.compile(model), whose keys gain an _orig_mod. prefix;
    and dynamo's shared cache gets room for more than a few models per process."""
    import torch._dynamo

    monkeypatch.setattr(torch._dynamo.config, "recompile_limit", 8)
    data = colour_images()
    model, _ = build_model("simple_cnn", {"dropout": 0.0}, data, "cross_entropy")
    keys = list(model.state_dict())
    apply_plan(FastPlan(False, "fp32", True, ()), model, data)
    assert model._compiled_call_impl is not None
    assert list(model.state_dict()) == keys
    assert torch._dynamo.config.recompile_limit == core.train.fast.COMPILE_CACHE_ENTRIES


# ---------------------------------------------------------------- runs on the CPU


def cnn_config(fast: bool) -> RunConfig:
    return RunConfig().with_overrides([
        "training.epochs=1", "training.batch_size=128", "training.device=cpu",
        f"training.fast={'true' if fast else 'false'}"])


def test_a_fast_cnn_run_on_the_cpu_completes_with_its_notes_and_the_same_checkpoint_keys(
        tmp_path):
    events: list = []
    fast = train(cnn_config(True), runs_dir=tmp_path / "fast", listeners=[events.append])
    plain = train(cnn_config(False), runs_dir=tmp_path / "plain")
    assert fast["status"] == "completed" and fast["final_val_accuracy"] > 0.5
    note = "fast: convolutions use the channels_last memory layout (faster on the CPU too)"
    assert note in fast["data_notes"]
    started = next(e for e in events if isinstance(e, RunStarted))
    assert note in started.data_notes
    assert not any(n.startswith("fast") for n in plain["data_notes"])
    saved, plain_saved = (torch.load(Path(s["run_dir"]) / "checkpoints" / "last.pt",
                                     weights_only=True)["model"] for s in (fast, plain))
    assert list(saved) == list(plain_saved) == ["conv1.weight", "conv1.bias", "conv2.weight",
                                                "conv2.bias", "fc1.weight", "fc1.bias",
                                                "fc2.weight", "fc2.bias"]


def test_a_fast_mlp_run_on_the_cpu_says_it_changes_nothing(tmp_path):
    summary = train(mlp_config("training.epochs=1", "training.fast=true"),
                    runs_dir=tmp_path / "runs")
    assert summary["status"] == "completed"
    assert [n for n in summary["data_notes"] if n.startswith("fast")] == [
        "fast applies on a CUDA GPU, and on the CPU only to convolutions over images; "
        "for this model it changes nothing"]


def test_the_precision_fast_chooses_is_the_one_the_run_trains_in(tmp_path, monkeypatch):
    """The CUDA plan's fp16 on the CPU's own autocast: the run keeps a GradScaler's state."""
    monkeypatch.setattr(core.train.precision, "MIXED_PRECISION_DEVICES", ("cuda", "cpu"))
    monkeypatch.setattr(core.train.fast, "plan_fast", lambda *args, **kwargs: FastPlan(
        False, "fp16", False, ("fast: mixed precision fp16 with loss scaling",)))
    summary = train(mlp_config("training.epochs=1", "training.fast=true"),
                    runs_dir=tmp_path / "runs")
    assert summary["status"] == "completed"
    state = torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    assert state["scaler"]  # fp16 trained with loss scaling, as _mixed_precision sets it up


# ---------------------------------------------------------------- the GPU benchmark


def test_last_epoch_rate_is_the_last_epochs_own_speed():
    from benchmarks.gpu_fast import last_epoch_rate

    # 100 samples an epoch: 1 s for the first, 0.5 s for the second
    ends = [SimpleNamespace(epoch=1, samples_per_s=100.0),
            SimpleNamespace(epoch=2, samples_per_s=200 / 1.5)]
    assert last_epoch_rate(ends, 100) == pytest.approx(200.0)
    assert last_epoch_rate(ends[:1], 100) is None


def test_gpu_benchmark_runs_quickly_on_the_cpu_without_qt(tmp_path):
    """`python -m benchmarks.gpu_fast --device cpu --quick`: every configuration trains on
    the digits written as MNIST and CIFAR-10 files, and no Qt module is loaded."""
    code = ("import sys; from benchmarks.gpu_fast import main; "
            f"rc = main(['--device', 'cpu', '--quick', '--out', {str(tmp_path)!r}]); "
            "print('loaded:', [m for m in sys.modules if m.split('.')[0] in "
            "('PySide6', 'pyqtgraph', 'gui')]); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=HANG_S)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "loaded: []" in done.stdout
    result = json.loads((tmp_path / "gpu_fast.json").read_text())
    assert result["device"] == "cpu" and result["torch"] == torch.__version__
    rows = result["rows"]
    assert [(r["dataset"], r["model"], r["fast"]) for r in rows] == [
        (d, m, f) for d in ("mnist", "cifar10") for m in ("simple_cnn", "resnet18")
        for f in (False, True)]
    assert all(r["samples_per_s"] > 0 and r["warmup_wall_s"] > 0 for r in rows)
    assert all(not r["compiled"] for r in rows)
    assert all(r["fast_notes"] if r["fast"] else not r["fast_notes"] for r in rows)
    assert "speed-up" in done.stdout and "32x32 colour, CIFAR-10 files" in done.stdout

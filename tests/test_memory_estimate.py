"""The memory estimate before a run starts (core/train/memory_estimate.py), checked against
numbers worked out by hand for a known small model, and how a run that does not fit, or
runs out of memory, says so."""

from __future__ import annotations

import json

import pytest
import torch

from core.errors import TrainingFailed
from core.train import memory_estimate
from core.train.failures import describe_failure
from core.train.loop import train
from core.train.memory_estimate import estimate_memory, format_gb
from tests.run_control import mlp_config, run_dirs

# mlp with hidden_sizes [32] on digits (1x28x28 images, 10 classes):
# Linear(784 -> 32) and Linear(32 -> 10): 784*32 + 32 + 32*10 + 10 parameters.
PARAMS = 784 * 32 + 32 + 32 * 10 + 10
# Kept for backward per sample: the normalised input the first Linear saves (784 floats)
# and the ReLU's output (32 floats), which the second Linear saves too (the same tensor);
# then the 10 outputs, twice (themselves and the loss's float copy).
OUTPUTS = 2 * 10 * 4
ACTIVATIONS_PER_SAMPLE = (784 + 32) * 4 + OUTPUTS


def test_an_mlp_needs_its_weights_gradients_two_adam_states_and_measured_activations():
    estimate = estimate_memory(mlp_config("optimizer.name=adam", "training.batch_size=128"))
    assert estimate.weights == PARAMS * 4
    assert estimate.gradients == PARAMS * 4
    assert estimate.optimizer == 2 * PARAMS * 4  # Adam's exp_avg and exp_avg_sq
    assert estimate.activations == ACTIVATIONS_PER_SAMPLE * 128
    # digits: 1,797 float32 images of 28x28 and their int64 labels, split in two
    assert estimate.data == 1797 * 784 * 4 + 1797 * 8
    assert estimate.total == (estimate.data + 4 * PARAMS * 4 + ACTIVATIONS_PER_SAMPLE * 128)
    assert estimate.fits and estimate.available > estimate.total


@pytest.mark.parametrize("optimizer, states", [
    ("sgd", 0), ("optimizer.momentum=0.9", 1), ("rmsprop", 1), ("adagrad", 1)])
def test_optimizer_state_counts_what_each_optimizer_keeps(optimizer, states):
    overrides = (["optimizer.name=sgd", optimizer] if "=" in optimizer
                 else [f"optimizer.name={optimizer}"])
    if optimizer == "sgd":
        overrides.append("optimizer.momentum=0")
    estimate = estimate_memory(mlp_config(*overrides))
    assert estimate.optimizer == states * PARAMS * 4


def test_frozen_layers_have_no_gradients_and_activations_scale_with_the_batch():
    estimate = estimate_memory(mlp_config("finetune.freeze=['layers.1']",
                                          "training.batch_size=64"))
    head = 32 * 10 + 10
    assert estimate.gradients == head * 4 and estimate.optimizer == 2 * head * 4
    # the first Linear trains nothing, so its input is not kept; the ReLU's output is
    assert estimate.activations == (32 * 4 + OUTPUTS) * 64


def test_a_run_that_does_not_fit_says_what_batch_size_would(monkeypatch):
    config = mlp_config("training.batch_size=1024")
    fits = estimate_memory(config)
    fixed = fits.total - fits.activations
    # free memory such that the data and model fit but 1024 samples' activations do not
    room = ACTIVATIONS_PER_SAMPLE * 300
    free = round((fixed + room) / memory_estimate.HEADROOM) - fits.weights - fits.data
    monkeypatch.setattr(memory_estimate, "available_memory", lambda device: free)
    estimate = estimate_memory(config)
    assert not estimate.fits
    batch = int((estimate.available * memory_estimate.HEADROOM - fixed) // ACTIVATIONS_PER_SAMPLE)
    assert batch in (299, 300)
    assert estimate.advice[0] == (f"lower [training] batch_size to {batch} (raise [training] "
                                  "accumulate_steps to keep the samples per step)")
    assert any("LoRA" in line for line in estimate.advice)
    warning = estimate.warning()
    assert warning.startswith(f"memory: this run needs ≈ {format_gb(estimate.total)} of "
                              f"{format_gb(estimate.available)} free (cpu) (data ")
    assert f"to fit: lower [training] batch_size to {batch}" in warning


def test_a_model_too_big_for_the_memory_is_told_to_shrink(monkeypatch):
    monkeypatch.setattr(memory_estimate, "available_memory", lambda device: 0)
    estimate = estimate_memory(mlp_config())
    assert not estimate.fits
    assert estimate.advice[-1].startswith("pick a smaller model or less data: data, weights, "
                                          "gradients and optimizer state alone need")


def test_the_trainer_notes_a_run_that_does_not_fit_and_records_the_estimate(tmp_path,
                                                                           monkeypatch, capsys):
    monkeypatch.setattr(memory_estimate, "available_memory", lambda device: 0)
    events: list = []
    train(mlp_config("training.epochs=1"), runs_dir=tmp_path, listeners=[events.append])
    notes = events[0].data_notes
    assert any(note.startswith("memory: this run needs ≈") for note in notes)
    (run_dir,) = run_dirs(tmp_path)
    recorded = json.loads((run_dir / "summary.json").read_text())["memory_estimate"]
    assert recorded["fits"] is False and recorded["weights"] == PARAMS * 4


def test_an_out_of_memory_while_training_repeats_the_estimate_and_what_to_change(monkeypatch):
    monkeypatch.setattr(memory_estimate, "available_memory", lambda device: 0)
    estimate = estimate_memory(mlp_config())
    message = describe_failure(torch.OutOfMemoryError("CUDA out of memory"), 128, estimate)
    assert message.startswith(f"out of memory with batch_size 128; the run needs "
                              f"{estimate.line()} (data ")
    assert message.endswith("; or ".join(estimate.advice))


def test_an_out_of_memory_while_building_blames_the_model_and_data_not_the_batch(tmp_path,
                                                                                  monkeypatch):
    from core.models.networks import MLP

    def out_of_memory(self, *args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't "
                           "allocate memory: you tried to allocate 80000000000 bytes")

    monkeypatch.setattr(MLP, "__init__", out_of_memory)
    with pytest.raises(TrainingFailed) as info:
        train(mlp_config(), runs_dir=tmp_path)
    assert str(info.value).startswith("out of memory while loading the data and building the "
                                      "model, before any batch: pick a smaller model")
    assert "batch_size" not in str(info.value)
    assert run_dirs(tmp_path) == []


def test_the_probe_pass_changes_neither_the_random_stream_nor_batchnorm_statistics():
    from core.catalog import DATASETS
    from core.models.build import build_model
    from core.train.memory_estimate import activation_bytes_per_sample

    config = mlp_config()
    data = DATASETS.get("digits").build(config.data.params, 0)
    model, _ = build_model("small_cnn", {"channels": [8, 16], "batch_norm": True,
                                         "dropout": 0.5}, data)
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    assert activation_bytes_per_sample(model, data) > 0
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training and all(m.training for m in model.modules())


def test_the_window_shows_the_estimate_before_start_and_warns_when_it_does_not_fit(
        window, qtbot, monkeypatch):
    from gui.memory_line import FITS_STYLE, OVER_STYLE
    from limits import HANG_MS

    line = window.setup_panel.memory_line
    qtbot.waitUntil(lambda: line.isVisible() and not line.busy and line.estimate is not None,
                    timeout=HANG_MS)
    assert line.text().startswith("Memory: ≈ ") and " free (" in line.text()
    assert line.styleSheet() == FITS_STYLE and line.estimate.fits
    monkeypatch.setattr(memory_estimate, "available_memory", lambda device: 0)
    batch = window.setup_panel.training_form.fields["batch_size"]
    batch.setValue(32)  # an edit: estimated again, off the GUI thread
    qtbot.waitUntil(lambda: not line.busy and not line.estimate.fits, timeout=HANG_MS)
    assert line.estimate.batch_size == 32
    assert line.styleSheet() == OVER_STYLE and line.text().endswith("too much: see the tooltip")
    assert "To fit: " in line.toolTip() and "at batch size 32" in line.toolTip()


def test_no_estimate_is_built_while_a_run_trains(window, qtbot):
    """An estimate builds a model under torch.random.fork_rng; restored from a background
    thread, that would rewind the training run's draws from torch's one global generator
    (a run would no longer be reproducible by its seed). So a pending edit waits."""
    from limits import HANG_MS

    line = window.setup_panel.memory_line
    qtbot.waitUntil(lambda: line.estimate is not None and not line.busy, timeout=HANG_MS)
    shown = line.estimate
    window._set_running(True)  # as Start does; the settings are disabled with it
    try:
        window.setup_panel.training_form.fields["batch_size"].setValue(48)
        line.refresh()  # the edit's timer firing after Start was pressed
        assert not line.busy and line.estimate is shown
    finally:
        window._set_running(False)


def test_the_command_line_prints_the_estimate_at_the_start_when_it_does_not_fit(
        tmp_path, monkeypatch, capsys):
    from core.cli import main

    monkeypatch.setattr(memory_estimate, "available_memory", lambda device: 0)
    run_file = tmp_path / "run.toml"
    run_file.write_text(mlp_config("training.epochs=1").to_toml(), encoding="utf-8")
    assert main(["train", str(run_file), "--runs-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "\nnote: memory: this run needs ≈ " in out and "; to fit: " in out

"""A diverged run is no success (issue 13, finding 7): a loss that exploded and an accuracy
that stayed at chance level get a hint saying what to do, and the run history marks such a
run "diverged" though it completed all its epochs."""

from __future__ import annotations

from pathlib import Path

from core.runs.hints import curve_hints, divergence
from core.runs.history import read_run
from core.train.loop import train
from run_control import mlp_config


def test_a_loss_that_exploded_gets_its_hint():
    [hint] = curve_hints([2.3, 40.0, 5e11], [2.4, 60.0, 3e11], initial_loss=2.3)
    assert hint.kind == "exploded" and "Lower the learning rate" in hint.text
    assert divergence([2.3, 300.0], [2.3, 280.0]).kind == "exploded"  # > 100x the start
    assert divergence([0.5, 2e6], [0.5, 1.0], initial_loss=1e5).kind == "exploded"  # bound
    assert divergence([2.3, 1.0, 0.5], [2.3, 1.1, 0.6], initial_loss=2.3) is None
    assert divergence([1e8, 0.5, 0.3], [3.0, 0.4, 0.3], initial_loss=2.3) is None  # recovered


def test_an_accuracy_at_chance_level_gets_its_hint_after_a_few_epochs():
    flat = [2.3, 2.3, 2.3]
    [hint] = curve_hints(flat, flat, 2.3, val_metric=[0.1, 0.11, 0.1], classes=10)
    assert hint.kind == "chance" and "check the data" in hint.text
    assert divergence(flat[:2], flat[:2], 2.3, [0.1, 0.1], 10) is None  # too early to say
    assert divergence(flat, flat, 2.3, [0.1, 0.4, 0.9], 10) is None  # it learned
    assert divergence(flat, flat, 2.3, [0.1, 0.1, 0.1], None) is None  # a regression


def test_a_run_whose_loss_exploded_is_recorded_and_listed_as_diverged(tmp_path):
    summary = train(mlp_config("optimizer.lr=10", "training.epochs=3"), runs_dir=tmp_path)
    assert summary["status"] == "completed"  # it ran all its epochs: the exit code says so
    assert summary["diverged"] == "exploded" and "learning rate" in summary["diverged_hint"]
    record = read_run(Path(summary["run_dir"]))
    assert record.status == "diverged"
    assert record.error == summary["diverged_hint"]


def test_a_healthy_run_is_not_marked(tmp_path):
    summary = train(mlp_config("training.epochs=3"), runs_dir=tmp_path)
    assert "diverged" not in summary
    assert read_run(Path(summary["run_dir"])).status == "completed"

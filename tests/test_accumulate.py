"""Gradient accumulation ([training] accumulate_steps): k batches of b samples make the same
step as one batch of k*b (a model without batch normalisation), and a run stopped while a
step's batches are being added up resumes to exactly the uninterrupted run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.config import RunConfig
from core.errors import BadInput
from core.events import BatchEnd, RunStarted
from core.train.loop import train
from run_control import StopAfter, mlp_config


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]


def test_k_batches_of_b_train_like_one_batch_of_k_times_b(tmp_path):
    # 1438 training samples: 45 batches of 32 (the last 30) in 12 steps of 4, the last
    # step one batch of 30; one batch of 128 makes 12 steps too, the last of 30 samples.
    events: list = []
    accumulated = train(mlp_config("training.batch_size=32", "training.accumulate_steps=4",
                                   "optimizer.name=sgd", "optimizer.momentum=0.9"),
                        runs_dir=tmp_path / "a", listeners=[events.append])
    whole = train(mlp_config("training.batch_size=128", "optimizer.name=sgd",
                             "optimizer.momentum=0.9"), runs_dir=tmp_path / "b")
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.steps_per_epoch == 12
    assert [e.step for e in events if isinstance(e, BatchEnd)] == list(range(1, 25))
    assert accumulated["steps_completed"] == whole["steps_completed"] == 24
    a, b = weights(Path(accumulated["run_dir"])), weights(Path(whole["run_dir"]))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-4, atol=1e-5)
    assert accumulated["final_val_loss"] == pytest.approx(whole["final_val_loss"], rel=1e-4)


def test_an_accumulating_run_stopped_mid_epoch_resumes_exactly(tmp_path):
    # accumulate_steps 3 over 45 batches: 15 steps an epoch. A stop takes effect between
    # steps (never with half-added gradients), here mid-epoch, and the resumed run ends
    # where the uninterrupted one does, to the bit.
    config = mlp_config("training.batch_size=32", "training.accumulate_steps=3",
                        "training.epochs=3", "data.flip=true")  # augmentation: RNG resumes too
    whole = train(config, runs_dir=tmp_path / "whole")
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(15 + 7))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 22
    resumed = train(RunConfig(), resume_dir=Path(stopped["run_dir"]))
    assert resumed["status"] == "completed" and resumed["steps_completed"] == 45
    a, b = weights(Path(whole["run_dir"])), weights(Path(resumed["run_dir"]))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_accumulate_steps_below_one_is_refused():
    with pytest.raises(BadInput, match="accumulate_steps"):
        mlp_config("training.accumulate_steps=0")

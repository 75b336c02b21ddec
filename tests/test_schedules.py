"""Learning-rate schedules (none, step, cosine with warmup, one_cycle, reduce_on_plateau) and
gradient clipping: the lr each step reports is the one the schedule gives, and a run stopped
mid-way and resumed ends with exactly the weights of an uninterrupted one."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

import core.train.validation
from core.catalog import SCHEDULERS
from core.config import RunConfig
from core.events import BatchEnd, EpochEnd
from core.train.build import build_run
from core.train.loop import train
from run_control import StopAfter, read_metrics
STEPS_PER_EPOCH = 12  # ceil(1438 / 128)


def mlp_config(*overrides: str) -> RunConfig:
    return RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[32]", "training.epochs=3",
        "training.batch_size=128", "training.device=cpu", "optimizer.lr=0.01", *overrides])


def lrs_of(events, kind=BatchEnd) -> list[float]:
    return [e.lr for e in events if isinstance(e, kind)]


def schedule_lrs(name: str, params: dict, total: int, per_epoch: int, lr: float = 1.0,
                 groups: int = 1) -> list[list[float]]:
    """The lr of each group at each of `total` steps, stepping the schedule as the trainer
    does for a per-step schedule."""
    model = torch.nn.Linear(2, groups)
    optimizer = torch.optim.SGD([{"params": [model.weight], "lr": lr},
                                 {"params": [model.bias], "lr": lr / 10}][:groups], lr=lr)
    entry = SCHEDULERS.get(name)
    scheduler = entry.build(entry.check_params(params, "scheduler"), optimizer, total, per_epoch)
    seen = []
    for _ in range(total):
        seen.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    return seen


# ---------------------------------------------------------------- the shapes


def test_cosine_warmup_rises_linearly_then_decays_to_min_lr():
    lrs = [g[0] for g in schedule_lrs("cosine", {"warmup_epochs": 1.0, "min_lr": 0.1},
                                      total=40, per_epoch=4)]
    assert lrs[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])  # (step + 1) / (warmup + 1)
    assert lrs[4] == pytest.approx(1.0)  # the optimizer's rate when the warmup ends
    assert all(a > b for a, b in zip(lrs[4:], lrs[5:]))
    halfway = 4 + 18  # half the decay's 36 steps
    assert lrs[halfway] == pytest.approx(0.1 + 0.9 * 0.5)
    assert lrs[-1] == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * 35 / 36)) / 2)


def test_cosine_min_lr_is_a_rate_for_every_parameter_group():
    """lr_multipliers groups decay from their own start to the same min_lr (as eta_min)."""
    lrs = schedule_lrs("cosine", {"min_lr": 0.01}, total=100, per_epoch=10, groups=2)
    assert lrs[0] == pytest.approx([1.0, 0.1])
    assert lrs[99] == pytest.approx([0.01 + 0.99 * (1 + math.cos(math.pi * 0.99)) / 2,
                                      0.01 + 0.09 * (1 + math.cos(math.pi * 0.99)) / 2])


def test_cosine_without_warmup_matches_torchs_cosine_annealing():
    ours = [g[0] for g in schedule_lrs("cosine", {"min_lr": 0.001}, total=50, per_epoch=5)]
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    theirs_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 50, eta_min=0.001)
    theirs = []
    for _ in range(50):
        theirs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        theirs_scheduler.step()
    assert ours == pytest.approx(theirs, rel=1e-9)


@pytest.mark.parametrize("total, pct_start", [(100, 0.3), (10, 0.1), (2, 0.5), (1, 0.3)])
def test_one_cycle_rises_to_the_optimizers_rate_then_falls_far_below(total, pct_start):
    """(10, 0.1) divides by zero in torch's OneCycleLR; ours has no such corner."""
    lrs = [g[0] for g in schedule_lrs("one_cycle", {"pct_start": pct_start}, total=total,
                                      per_epoch=total)]
    assert lrs[0] == pytest.approx(1 / 25)
    if total > 1:
        peak = lrs.index(max(lrs))
        assert max(lrs) == pytest.approx(1.0)
        assert peak == max(1, round(pct_start * total))
        assert all(a <= b for a, b in zip(lrs[:peak], lrs[1:peak + 1]))
        assert all(a >= b for a, b in zip(lrs[peak:], lrs[peak + 1:]))
    if total - 1 > max(1, round(pct_start * total)):  # a run long enough to fall
        assert lrs[-1] == pytest.approx(1 / 25 / 1e4)


def test_one_cycle_leaves_sgd_momentum_as_set():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.0)
    entry = SCHEDULERS.get("one_cycle")
    scheduler = entry.build(entry.check_params({}, "scheduler"), optimizer, 20, 5)
    for _ in range(20):
        optimizer.step()
        scheduler.step()
    assert optimizer.param_groups[0]["momentum"] == 0.0


# ---------------------------------------------------------------- through the trainer


@pytest.mark.parametrize("overrides, expected", [
    (["scheduler.name=none"], lambda step: 0.01),
    (["scheduler.name=cosine", "scheduler.warmup_epochs=0.5", "scheduler.min_lr=0.001"],
     lambda step: 0.01 * (step + 1) / 7 if step < 6 else
     0.001 + 0.009 * (1 + math.cos(math.pi * (step - 6) / 30)) / 2),
    (["scheduler.name=one_cycle", "scheduler.pct_start=0.25"],
     lambda step: (0.01 / 25 + (0.01 - 0.01 / 25) * (1 - math.cos(math.pi * step / 9)) / 2)
     if step < 9 else
     (0.01 / 25e4 + (0.01 - 0.01 / 25e4) * (1 + math.cos(math.pi * (step - 9) / 26)) / 2)),
])
def test_each_steps_reported_lr_is_the_one_it_trained_with(tmp_path, overrides, expected):
    events: list = []
    summary = train(mlp_config(*overrides), runs_dir=tmp_path, listeners=[events.append])
    reported = lrs_of(events)
    assert len(reported) == 3 * STEPS_PER_EPOCH
    assert reported == pytest.approx([expected(step) for step in range(len(reported))],
                                     rel=1e-9)
    rows = read_metrics(Path(summary["run_dir"]))
    assert [r["lr"] for r in rows if r["split"] == "train"] == pytest.approx(reported, rel=1e-5)


def test_step_schedule_reports_each_epochs_rate(tmp_path):
    events: list = []
    train(mlp_config("scheduler.name=step", "scheduler.step_epochs=2", "scheduler.gamma=0.5"),
          runs_dir=tmp_path, listeners=[events.append])
    assert lrs_of(events) == [0.01] * 24 + [0.005] * 12
    assert lrs_of(events, EpochEnd) == [0.01, 0.005, 0.005]  # the rate the next epoch uses


def test_reduce_on_plateau_lowers_the_rate_when_the_validation_loss_stalls(tmp_path,
                                                                           monkeypatch):
    """The trainer passes each epoch's validation loss: here it falls, then stalls."""
    losses = iter([1.0, 0.5, 0.6, 0.55, 0.7])
    monkeypatch.setattr(core.train.validation, "validate",
                        lambda *args, **kwargs: (next(losses), 0.5, None, {}))
    events: list = []
    train(mlp_config("training.epochs=5", "scheduler.name=reduce_on_plateau",
                     "scheduler.factor=0.5", "scheduler.patience=1"),
          runs_dir=tmp_path, listeners=[events.append])
    # epoch 3 is one bad epoch (patience 1 allows it); epoch 4 is the second: halve
    assert lrs_of(events, EpochEnd) == [0.01, 0.01, 0.01, 0.005, 0.005]
    per_epoch = {e.epoch: e.lr for e in events if isinstance(e, BatchEnd)}
    assert per_epoch == {1: 0.01, 2: 0.01, 3: 0.01, 4: 0.01, 5: 0.005}


def test_gradient_clipping_bounds_every_update(tmp_path):
    """Plain sgd moves the weights by lr * gradient; clipped to norm c, each step moves them
    by at most lr * c, so the run's total movement is at most steps * lr * c."""
    clip, lr = 1e-3, 0.1
    config = mlp_config("training.epochs=1", "optimizer.name=sgd", f"optimizer.lr={lr}",
                        "optimizer.momentum=0.0", f"training.grad_clip={clip}")
    clipped = train(config, runs_dir=tmp_path / "clipped")
    free = train(config.with_overrides(["training.grad_clip=0.0"]), runs_dir=tmp_path / "free")
    # the weights a run starts from: built as train() builds them (a run stopped before its
    # first step keeps no folder to read them from)
    start = build_run(config).model.state_dict()

    def moved(summary) -> float:
        end = weights(summary)
        return torch.sqrt(sum(((end[k] - v) ** 2).sum() for k, v in start.items())).item()

    assert moved(clipped) <= STEPS_PER_EPOCH * lr * clip * (1 + 1e-4)
    assert moved(free) > 100 * moved(clipped)


def weights(summary: dict) -> dict:
    return torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.pt",
                      weights_only=True)["model"]


# ---------------------------------------------------------------- stop + resume = whole run


@pytest.mark.parametrize("overrides", [
    ["scheduler.name=one_cycle", "training.grad_clip=0.5"],
    ["scheduler.name=reduce_on_plateau", "scheduler.patience=0", "scheduler.threshold=0.5",
     "training.grad_clip=1.0"],
    ["scheduler.name=cosine", "scheduler.warmup_epochs=1.5", "optimizer.name=sgd",
     "optimizer.momentum=0.9"],
], ids=["one_cycle+grad_clip", "reduce_on_plateau+grad_clip", "cosine_warmup+sgd"])
def test_stopped_and_resumed_run_ends_like_an_uninterrupted_one(tmp_path, overrides):
    config = mlp_config("model.dropout=0.2", *overrides)
    whole_events: list = []
    whole = train(config, runs_dir=tmp_path / "whole", listeners=[whole_events.append])
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(17))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 17
    torch.manual_seed(999)  # the resumed run does not lean on the global random state
    resumed_events: list = []
    resumed = train(None, resume_dir=Path(stopped["run_dir"]),
                    listeners=[resumed_events.append])
    assert resumed["status"] == "completed"
    for key in ("steps_completed", "best_epoch", "best_val_loss", "final_val_loss"):
        assert resumed[key] == whole[key], key
    assert lrs_of(resumed_events) == lrs_of(whole_events)[17:]
    assert lrs_of(resumed_events, EpochEnd) == lrs_of(whole_events, EpochEnd)[1:]
    a, b = (torch.load(Path(s["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
            for s in (whole, resumed))
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert a["scheduler"] == b["scheduler"]
    if "reduce_on_plateau" in overrides[0]:
        assert lrs_of(whole_events, EpochEnd)[-1] < 0.01  # the plateau schedule did act

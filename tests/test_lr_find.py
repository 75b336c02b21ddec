"""The learning-rate range test: the ramp, the suggestion (fastai's valley) on hand-made
curves, a suggestion on digits that trains well, nothing written, and the command line."""

from __future__ import annotations

import json
import math

import pytest
import torch

from core.cli import main
from core.config import save_config
from core.errors import BadInput
from core.train.loop import train
from core.train.lr_find import ascii_plot, find_lr, suggestions
from run_control import mlp_config


def test_valley_picks_a_rate_part_way_down_the_longest_descent():
    lrs = [10 ** (-6 + i / 10) for i in range(60)]
    # flat, then falling from step 20 to step 40, then rising: the descent is 20 steps long
    smoothed = [2.0] * 20 + [2.0 - 0.05 * i for i in range(1, 21)] + [1.0 + 0.2 * i
                                                                       for i in range(20)]
    valley, steepest = suggestions(lrs, smoothed)
    # trimmed to steps 6..54; the longest strictly falling run is 21 points long (a point of
    # the flat, then steps 20..39) and ends at step 39, so fastai's start is 39 - 21 = 18;
    # its pick is a third plus a sixth of the way down: 18 + 7 + 3
    assert valley == pytest.approx(lrs[28])
    assert lrs[20] <= steepest <= lrs[40]
    assert suggestions(lrs[:7], smoothed[:7]) == (None, None)  # too few steps to judge


def test_a_long_creeping_start_does_not_pull_the_suggestion_down():
    """A loss that creeps down by a hair for decades before it really falls (simple_cnn on
    digits): fastai's valley would span the creep and suggest a rate near its start."""
    lrs = [10 ** (-7 + i / 12.5) for i in range(100)]  # 1e-7 .. about 1e1
    creep = [2.3 - 0.0005 * i for i in range(60)]  # to about 3e-3
    fall = [creep[-1] - 0.05 * i for i in range(1, 26)]  # the real descent
    smoothed = creep + fall + [fall[-1] + 0.3 * i for i in range(1, 16)]
    valley, _ = suggestions(lrs, smoothed)
    begun = next(i for i, loss in enumerate(smoothed[10:], 10)
                 if smoothed[10] - loss > 0.05 * (smoothed[10] - min(smoothed[10:95])))
    assert lrs[begun] <= valley <= lrs[84]  # inside the real descent
    assert begun > 55  # the creep is not counted


def test_the_suggestion_trains_digits_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    start = tmp_path / "start.pt"
    torch.save(torch.nn.Linear(64, 32).state_dict(), start)  # not the model: left out
    before = start.read_bytes()
    config = mlp_config("training.batch_size=64")
    finding = find_lr(config, steps=120)
    assert len(finding.lrs) == len(finding.losses) == len(finding.smoothed) > 50
    ratios = [b / a for a, b in zip(finding.lrs, finding.lrs[1:])]
    assert max(ratios) == pytest.approx(min(ratios))  # exponential
    assert 1e-5 < finding.suggested_lr < 1e-1
    assert list(tmp_path.iterdir()) == [start] and start.read_bytes() == before
    summary = train(mlp_config("training.batch_size=64", "training.epochs=10",
                               f"optimizer.lr={finding.suggested_lr}"), runs_dir=tmp_path / "runs")
    assert summary["best_val_metric"] > 0.9
    assert any("<- suggested" in line for line in ascii_plot(finding))


def test_a_diverging_ramp_stops_early():
    finding = find_lr(mlp_config("optimizer.name=sgd"), start_lr=1e-3, end_lr=1e6, steps=100)
    assert finding.diverged and len(finding.lrs) < 100
    assert all(math.isfinite(v) for v in finding.losses)


def test_bad_ranges_are_refused():
    with pytest.raises(BadInput, match="must grow"):
        find_lr(mlp_config(), start_lr=1.0, end_lr=0.1)
    with pytest.raises(BadInput, match="at least 10 steps"):
        find_lr(mlp_config(), steps=3)


def test_the_command_line_prints_a_table_or_json(tmp_path, capsys):
    run_file = tmp_path / "run.toml"
    save_config(mlp_config(), run_file)
    assert main(["lr-find", str(run_file), "--steps", "40", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert set(found) == {"lrs", "losses", "smoothed", "suggested_lr", "steepest_lr",
                          "diverged"}
    assert main(["lr-find", str(run_file), "--steps", "40", "--set",
                 "training.batch_size=32"]) == 0
    assert "suggested lr" in capsys.readouterr().out
    assert main(["lr-find", str(run_file), "--steps", "2"]) == 2
    assert capsys.readouterr().err.startswith("error: the range test needs")

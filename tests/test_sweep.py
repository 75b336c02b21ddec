"""Sweeps (core/sweep.py, `traindesk sweep`): the points of a grid and of random draws, a
sweep of 4 digits runs tagged and tabled, a sweep killed mid-run that resumes with only the
remaining runs, children in parallel, the table sorted by any score the runs recorded in
its direction, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.cli import build_parser, main
from core.config import save_config
from core.errors import BadInput
from core.metrics import RUN_SCORES
from core.runs.curves import read_curves
from core.sweep import PointResult, Sweep, parse_spec, random_points, run_sweep, table
from limits import HANG_S
from run_control import mlp_config

REPO = Path(__file__).resolve().parents[1]


def summary(run_dir) -> dict:
    return json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))


def run_file(tmp_path: Path, *overrides: str) -> Path:
    path = tmp_path / "run.toml"
    save_config(mlp_config("training.epochs=1", *overrides), path)
    return path


def test_a_grid_is_every_combination_and_random_draws_follow_their_ranges(tmp_path):
    sweep = Sweep.create(mlp_config(), ["optimizer.lr=1e-3,1e-2",
                                        "training.batch_size=32,64,128"], tmp_path)
    assert len(sweep.points) == 6
    assert sweep.points[0] == {"optimizer.lr": "1e-3", "training.batch_size": "32"}
    assert sweep.point_config(5).optimizer.params["lr"] == 1e-2
    assert sweep.point_config(5).training.batch_size == 128
    assert Sweep.load(sweep.id, tmp_path).points == sweep.points
    axes = [parse_spec("optimizer.lr=log:1e-4..1e-1", True),
            parse_spec("training.batch_size=16..64", True),
            parse_spec("optimizer.name=sgd,adam", True)]
    points = random_points(axes, 50, seed=3)
    assert points == random_points(axes, 50, seed=3)  # the seed fixes the draws
    lrs = [float(p["optimizer.lr"]) for p in points]
    assert all(1e-4 <= lr <= 1e-1 for lr in lrs) and min(lrs) < 1e-3 < max(lrs)
    assert all(16 <= int(p["training.batch_size"]) <= 64 for p in points)
    assert {p["optimizer.name"] for p in points} == {"sgd", "adam"}


@pytest.mark.parametrize("specs, random_count, message", [
    (["optimizer.lr"], 0, "section.key=value1"),
    (["optimizer.lr=1e-4..1e-1"], 0, "ranges are drawn from with --random"),
    (["optimizer.lr=log:0..1"], 3, "low > 0"),
    (["optimizer.lr=1e-3", "optimizer.lr=1e-2"], 0, "varied twice"),
    (["optimizer.nonsense=1,2"], 0, "nonsense"),
    ([], 0, "give the settings to vary"),
])
def test_bad_sweeps_are_refused_before_anything_is_written(tmp_path, specs, random_count,
                                                           message):
    with pytest.raises(BadInput, match=message):
        Sweep.create(mlp_config(), specs, tmp_path, random_count)
    assert not (tmp_path / "sweeps").exists()


def test_a_sweep_of_four_runs_from_the_command_line(tmp_path, capsys):
    runs = tmp_path / "runs"
    code = main(["sweep", str(run_file(tmp_path)), "--grid", "optimizer.lr=1e-4,3e-3",
                 "--grid", "training.batch_size=32,128", "--runs-dir", str(runs),
                 "--metric", "val_loss"])
    out = capsys.readouterr().out
    assert code == 0
    sweep_files = list((runs / "sweeps").glob("*.json"))
    assert len(sweep_files) == 1
    sweep = Sweep.load(str(sweep_files[0]))
    results = sweep.results()
    assert [r.status for r in results] == ["completed"] * 4
    for r in results:
        assert summary(r.run_dir)["sweep"] == {"id": sweep.id, "point": r.point}
    # the table, sorted by the lowest validation loss
    rows = out[out.index("  #  "):].splitlines()[1:]
    assert len(rows) == 4
    losses = [float(row.split()[5]) for row in rows]
    assert losses == sorted(losses)
    assert main(["sweep", "--resume", sweep.id, "--runs-dir", str(runs)]) == 0
    assert len([p for p in runs.iterdir() if p.name != "sweeps"]) == 4  # nothing ran again
    capsys.readouterr()
    # Sorted again by a class score the runs recorded in metrics.csv: highest first, in a
    # column of its own, each run's best over its epochs.
    assert main(["sweep", "--resume", sweep.id, "--runs-dir", str(runs),
                 "--metric", "val_macro_f1"]) == 0
    out = capsys.readouterr().out
    header, *rows = out[out.index("  #  "):].splitlines()
    assert header.split()[-2:] == ["val_macro_f1", "run"]
    shown = {row.split()[-1]: float(row.split()[-2]) for row in rows}
    best = {Path(r.run_dir).name: float(np.nanmax(read_curves(r.run_dir).val_macro_f1))
            for r in results}
    assert shown == pytest.approx(best, abs=1e-4)
    assert list(shown.values()) == sorted(shown.values(), reverse=True)


def test_a_killed_sweep_resumes_with_the_remaining_runs_only(tmp_path):
    runs = tmp_path / "runs"
    path = run_file(tmp_path, "training.epochs=30", "training.checkpoint_every_s=0")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "core", "sweep", str(path), "--grid",
            "optimizer.lr=1e-3,2e-3,3e-3,4e-3", "--runs-dir", str(runs)]
    child = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + HANG_S

    def second_run_checkpointed() -> bool:
        folders = sorted(p for p in runs.iterdir() if p.name != "sweeps") \
            if runs.exists() else []
        return len(folders) == 2 and (folders[1] / "checkpoints" / "last.pt").exists()

    while not second_run_checkpointed():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    child.kill()
    child.wait()
    sweep = Sweep.load(str(next((runs / "sweeps").glob("*.json"))))
    before = sweep.results()
    assert [r.status for r in before] == ["completed", "interrupted", "pending", "pending"]
    first_duration = summary(before[0].run_dir)["duration_s"]
    resumed = subprocess.run([*args[:4], "--resume", sweep.id, "--runs-dir", str(runs)],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=HANG_S)
    assert resumed.returncode == 0, resumed.stderr
    after = sweep.results()
    assert [r.status for r in after] == ["completed"] * 4
    assert after[0].run_dir == before[0].run_dir  # kept, not trained again
    assert summary(after[0].run_dir)["duration_s"] == first_duration
    assert after[1].run_dir == before[1].run_dir  # the interrupted run resumed in its folder
    assert "resuming after step" in resumed.stdout
    assert len([p for p in runs.iterdir() if p.name != "sweeps"]) == 4


def test_a_parallel_sweep_trains_points_as_child_processes(tmp_path):
    sweep = Sweep.create(mlp_config("training.epochs=1"), ["optimizer.lr=1e-3,1e-2,3e-2"],
                         tmp_path)
    heard = []
    results = run_sweep(sweep, parallel=2, on_point=heard.append)
    assert [r.status for r in results] == ["completed"] * 3
    assert sorted(r.point for r in heard) == [0, 1, 2]
    assert len({r.run_dir for r in results}) == 3


def test_command_line_bad_input_is_one_line(tmp_path, capsys):
    assert main(["sweep", str(run_file(tmp_path)), "--grid", "optimizer.lr"]) == 2
    assert capsys.readouterr().err.startswith("error: --grid optimizer.lr: write")
    assert main(["sweep", "--resume", "nope", "--runs-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith("error: no sweep nope")


def _ranked(results: list[PointResult], by: str) -> list[int]:
    """The points in the order the table lists them."""
    return [int(line.split()[0]) for line in table(results, by)[1:]]


def test_the_table_sorts_by_any_recorded_score_in_its_direction():
    def run(point, metric, value, loss, **class_scores):
        return PointResult(point, {"optimizer.lr": str(point)}, "completed", f"/runs/{point}",
                           value, loss, metric, class_scores)

    classifiers = [run(0, "accuracy", 0.80, 0.50, macro_f1=0.70, top_k_accuracy=0.99),
                   run(1, "accuracy", 0.90, 0.40, macro_f1=0.60),
                   run(2, "accuracy", 0.85, 0.30, macro_f1=0.75)]
    assert _ranked(classifiers, "val_metric") == [1, 2, 0]
    assert _ranked(classifiers, "val_loss") == [2, 1, 0]
    assert _ranked(classifiers, "val_macro_f1") == [2, 0, 1]
    assert _ranked(classifiers, "val_top_k_accuracy") == [0, 1, 2]  # unrecorded ones last
    assert _ranked(classifiers, "perplexity") == [0, 1, 2]  # no run has one: as they were
    language_models = [run(0, "perplexity", 12.0, 2.48), run(1, "perplexity", 3.5, 1.25),
                       run(2, "perplexity", 7.0, 1.95)]
    for by in ("perplexity", "val_metric", "val_loss"):  # lower is better for each
        assert _ranked(language_models, by) == [1, 2, 0]
    regressions = [run(0, "r2", 0.2, 1.0), run(1, "r2", 0.9, 0.3), run(2, "r2", -0.5, 3.0)]
    assert _ranked(regressions, "val_metric") == [1, 0, 2]


def test_every_recorded_score_is_a_choice_and_others_are_refused(tmp_path, capsys):
    assert set(RUN_SCORES) >= {"val_metric", "val_loss", "val_macro_f1",
                               "val_balanced_accuracy", "val_top_k_accuracy", "perplexity"}
    for by in RUN_SCORES:
        assert build_parser().parse_args(["sweep", "run.toml", "--metric", by]).metric == by
        assert Sweep.create(mlp_config(), ["optimizer.lr=1e-3,1e-2"], tmp_path,
                            metric=by).metric == by
    with pytest.raises(BadInput, match="choose one of val_metric, val_loss, val_macro_f1"):
        Sweep.create(mlp_config(), ["optimizer.lr=1e-3"], tmp_path, metric="accuracy")
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(run_file(tmp_path)), "--grid", "optimizer.lr=1e-3",
              "--metric", "f1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "val_balanced_accuracy" in err

"""Test helper shared by the Runs, Evaluation and Predict tests: small finished runs made
once per module by the real trainer, copied into each test's own runs folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.config import RunConfig
from core.train.loop import train

QUICK = ["training.device=cpu", "model.name=mlp", "model.hidden_sizes=[32]"]
RUNS = {  # name: overrides of a quick mlp on digits
    "mlp": ["training.epochs=2"],
    "cnn": ["model.name=simple_cnn", "training.epochs=1", "training.batch_size=256"],
    "iris": ["data.name=iris", "training.epochs=40", "training.batch_size=16",
             "optimizer.lr=0.01"],
    "diabetes": ["data.name=diabetes", "loss.name=mse", "training.epochs=5",
                 "training.batch_size=32", "optimizer.lr=0.01"],
}


def make_runs(runs_dir: Path, names: list[str]) -> dict[str, Path]:
    """Train the named runs into `runs_dir` (in that order, so their folders sort by name)."""
    made = {}
    for name in names:
        config = RunConfig().with_overrides([*QUICK, *RUNS[name]])
        made[name] = Path(train(config, runs_dir=runs_dir)["run_dir"])
    return made


def copy_runs(made: dict[str, Path], runs_dir: Path) -> dict[str, Path]:
    """Copies of the runs in `made` inside `runs_dir` (created), by the same names."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    return {name: Path(shutil.copytree(path, runs_dir / path.name))
            for name, path in made.items()}

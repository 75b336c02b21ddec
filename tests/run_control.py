"""Helpers shared by the trainer tests: a small run config, the run folders made, a
RunControl that stops after N steps, an mlp whose training outputs go non-finite, and
metrics.csv's rows as dicts."""

import csv
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.control import RunControl
from core.metrics import CLASS_SCORES
from core.models.networks import MLP


def mlp_config(*overrides: str) -> RunConfig:
    """A small, fast run on digits; the model does not matter for what these tests check."""
    return RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[32]", "training.epochs=2",
        "training.batch_size=128", "training.device=cpu", *overrides])


def run_dirs(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir() if p.is_dir()) if runs_dir.exists() else []


class StopAfter(RunControl):
    """Asks for a stop once `steps` optimisation steps are done (as a GUI button would)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps, self.calls = steps, 0

    def checkpoint(self, before_pause=None) -> None:
        self.calls += 1
        if self.calls > self.steps:
            self.stop()
        super().checkpoint(before_pause)


def non_finite_from(monkeypatch, step: int, value: float = float("nan")) -> None:
    """The mlp's training outputs become `value` (nan or inf) from its `step`-th training
    forward pass on, as a diverging run's would; evaluation passes are left alone."""
    original = MLP.forward
    calls = {"n": 0}

    def forward(self, x):
        out = original(self, x)
        if self.training:
            calls["n"] += 1
            if calls["n"] >= step:
                out = out * value
        return out

    monkeypatch.setattr(MLP, "forward", forward)


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Rows of a run's metrics.csv with numbers parsed (the file as the tests check it)."""
    rows = []
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                # class scores are recorded on a classification's validation rows only,
                # and not at all in rows written before they were (seven columns)
                rows.append({k: (v if k == "split" else None if k in CLASS_SCORES and not v
                                 else float(v)) for k, v in row.items()})
            except (TypeError, ValueError):  # half a row, written as the process was killed
                continue
    return rows

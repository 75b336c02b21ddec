"""Helpers shared by the trainer tests: a small run config, the run folders made, and a
RunControl that stops after N steps."""

from pathlib import Path

from core.config import RunConfig
from core.control import RunControl


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

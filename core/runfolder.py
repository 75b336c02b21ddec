"""Run folders: each run writes `<runs dir>/<timestamp>-<model>-<data>/` as it goes.

config.toml (the resolved config), metrics.csv (appended and flushed row by row),
summary.json (rewritten atomically) and checkpoints/{last,best}.pt (atomic; a LoRA run
also writes merged.pt at its end), so a crash loses at most the last step and every past
run can be reopened and resumed.
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import Any

from core.config import RunConfig, load_config, save_config
from core.errors import BadInput
from core.events import BatchEnd, EpochEnd
from core.files import write_atomic, write_json_atomic

METRIC_COLUMNS = ("step", "epoch", "split", "loss", "accuracy", "lr", "elapsed_s")


def default_runs_dir() -> Path:
    """TRAINDESK_HOME/runs when set, else the platform's user data folder."""
    home = os.environ.get("TRAINDESK_HOME")
    if home:
        return Path(home).expanduser() / "runs"
    import platformdirs

    return Path(platformdirs.user_data_dir("TrainDesk", appauthor=False)) / "runs"


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._metrics = None
        self._writer = None

    @classmethod
    def create(cls, runs_dir: Path, config: RunConfig) -> RunFolder:
        """Make a new, uniquely named folder and write the resolved config into it."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{config.model.name}-{config.data.name}"
        try:
            runs_dir.mkdir(parents=True, exist_ok=True)
            for attempt in range(1000):
                path = runs_dir / (base if attempt == 0 else f"{base}-{attempt + 1}")
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    continue
            (path / "checkpoints").mkdir()
        except OSError as exc:
            raise BadInput(f"cannot create a run folder in {runs_dir} ({exc.strerror}); "
                           "choose a writable folder with --runs-dir or TRAINDESK_HOME") from None
        folder = cls(path)
        save_config(config, path / "config.toml")
        folder._open_metrics(new=True)
        return folder

    @classmethod
    def open_existing(cls, path: Path) -> RunFolder:
        """Open a run folder to continue it (`--resume`); its metrics are appended to."""
        if not (path / "config.toml").is_file():
            raise BadInput(f"{path} is not a run folder (no config.toml); pass the folder of "
                           "a run, e.g. runs/20260101-120000-simple_cnn-digits")
        folder = cls(path)
        folder._open_metrics(new=False)
        return folder

    def config(self) -> RunConfig:
        return load_config(self.path / "config.toml")

    @property
    def last_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.path / "checkpoints" / "best.pt"

    @property
    def merged_checkpoint(self) -> Path:
        """A LoRA run's final weights with the adapters merged: a plain state_dict."""
        return self.path / "checkpoints" / "merged.pt"

    def _open_metrics(self, new: bool) -> None:
        self._metrics = open(self.path / "metrics.csv", "a", newline="", encoding="utf-8")
        self._writer = csv.writer(self._metrics)
        if new:
            self._writer.writerow(METRIC_COLUMNS)
            self._metrics.flush()

    def record(self, event: Any) -> None:
        """Listener: append training steps and validation epochs to metrics.csv."""
        if isinstance(event, BatchEnd):
            row = (event.step, event.epoch, "train", event.loss, event.accuracy, event.lr,
                   event.elapsed_s)
        elif isinstance(event, EpochEnd):
            row = (event.step, event.epoch, "val", event.val_loss, event.val_accuracy,
                   event.lr, event.elapsed_s)
        else:
            return
        self._writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])
        self._metrics.flush()  # a killed process keeps every logged row

    def write_summary(self, summary: dict) -> None:
        write_json_atomic(self.path / "summary.json", summary)

    def read_summary(self) -> dict:
        try:
            return json.loads((self.path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def save_checkpoint(self, path: Path, state: dict) -> None:
        import torch

        write_atomic(path, lambda f: torch.save(state, f), binary=True)

    def close(self) -> None:
        if self._metrics is not None:
            self._metrics.close()
            self._metrics = None


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """Rows of a run's metrics.csv with numbers parsed (for reopening and comparing runs)."""
    rows = []
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.append({k: (v if k == "split" else float(v)) for k, v in row.items()})
    return rows

"""Run folders: each run writes `<runs dir>/<timestamp>-<model>-<data>/` as it goes.

config.toml (the resolved config), metrics.csv (appended, and flushed after every batch
of logged steps), checkpoints/{last,best}.pt and summary.json (rewritten atomically at an
epoch's end at most every [training] checkpoint_every_s, and at the run's end; a LoRA run
also writes merged.pt at its end), so a crash loses at most that much training and every
past run can be reopened and resumed.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from core.config import RunConfig, load_config, save_config
from core.errors import BadInput
from core.events import BatchEnd, EpochEnd
from core.files import traindesk_home, write_atomic, write_json_atomic

METRIC_COLUMNS = ("step", "epoch", "split", "loss", "accuracy", "lr", "elapsed_s")
# The "split" of a metrics.csv row: a training step, an epoch's training loss and metric
# (the trainer's exact figures, written at the epoch's end; folders written before they
# were recorded have none), and a validated epoch. "accuracy" holds the run's metric.
TRAIN, TRAIN_EPOCH, VAL = "train", "train_epoch", "val"


def default_runs_dir() -> Path:
    """TRAINDESK_HOME/runs when set, else the platform's user data folder."""
    return traindesk_home() / "runs"


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
        """Open a run folder to continue it (`--resume`); `continue_metrics` then opens its
        metrics for appending."""
        if not (path / "config.toml").is_file():
            raise BadInput(f"{path} is not a run folder (no config.toml); pass the folder of "
                           "a run, e.g. runs/20260101-120000-simple_cnn-digits")
        return cls(path)

    def continue_metrics(self, step: int) -> None:
        """Keep the metrics rows up to `step` (the checkpoint a run resumes from) and open
        the file for appending. A killed run may have logged steps after its last checkpoint
        (and half a row); the resumed run trains those steps again and logs them once."""
        path = self.path / "metrics.csv"
        try:
            with open(path, newline="", encoding="utf-8") as f:
                lines = f.read().splitlines(keepends=True)
        except FileNotFoundError:
            lines = []
        kept = [line for line in lines[1:] if _row_step(line) is not None
                and _row_step(line) <= step and line.endswith("\n")]
        if not lines or len(kept) != len(lines) - 1:
            header = ",".join(METRIC_COLUMNS) + "\r\n"  # as csv.writer ends rows
            write_atomic(path, lambda f: f.write("".join([header, *kept])))
        self._open_metrics(new=False)

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
        """Listener: append training steps, and for each epoch its training figures and its
        validation, to metrics.csv."""
        if isinstance(event, BatchEnd):
            self._write_row(event.step, event.epoch, TRAIN, event.loss, event.metric,
                            event.lr, event.elapsed_s)
        elif isinstance(event, EpochEnd):
            self._write_row(event.step, event.epoch, TRAIN_EPOCH, event.train_loss,
                            event.train_metric, event.lr, event.elapsed_s)
            self._write_row(event.step, event.epoch, VAL, event.val_loss, event.val_metric,
                            event.lr, event.elapsed_s)
            self.flush_metrics()

    def _write_row(self, *row) -> None:
        self._writer.writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row])

    def flush_metrics(self) -> None:
        """Hand the rows written so far to the OS, so a killed process keeps them; the
        trainer calls it after each batch of logged steps (one system call, not one a row)."""
        self._metrics.flush()

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


def _row_step(line: str) -> int | None:
    """The step of one metrics.csv line, or None when it is not a whole row."""
    fields = line.rstrip("\r\n").split(",")
    if len(fields) != len(METRIC_COLUMNS):
        return None
    try:
        return int(fields[0])
    except ValueError:
        return None


def checkpoint_epoch(progress: dict) -> int:
    """The epoch a checkpoint with this `progress` was saved in: `epoch` is the epoch being
    trained, so a checkpoint written at an epoch's end (no batch of the next one done yet)
    belongs to the epoch before it; a run stopped mid-epoch saves in that epoch."""
    return progress["epoch"] - (1 if progress.get("batch", 0) == 0 else 0)


def process_alive(summary: dict) -> bool:
    """Whether the process a summary names (pid, host) is still running on this machine.
    A run whose summary says "running" but whose process is gone was killed: it can be
    resumed, and reads as interrupted (`effective_status`)."""
    pid = summary.get("pid")
    if not isinstance(pid, int) or summary.get("host") != socket.gethostname():
        return False
    if pid == os.getpid():
        return False  # this process trains one run at a time; that one has ended
    if os.name == "nt":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def effective_status(summary: dict) -> str:
    """The summary's status, except that a "running" run whose process is gone reads as
    "interrupted" (killed, or the machine went down); it resumes from its last checkpoint."""
    status = summary.get("status", "")
    if status == "running" and not process_alive(summary):
        return "interrupted"
    return status

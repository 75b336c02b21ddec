"""Run folders: each run writes `<runs dir>/<timestamp>-<model>-<data>/` as it goes.

config.toml (the resolved config), metrics.csv (appended, and flushed after every batch
of logged steps), checkpoints/{last,best}.pt and summary.json (rewritten atomically at an
epoch's end at most every [training] checkpoint_every_s, and at the run's end; a LoRA run
also writes merged.pt at its end), so a crash loses at most that much training and every
past run can be reopened and resumed.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import json
import os
import time
from pathlib import Path
from typing import Any

from core.config import RunConfig, load_config, save_config
from core.errors import BadInput
from core.metrics import CLASS_SCORES
from core.events import BatchEnd, EpochEnd
from core.catalog import DATASETS
from core.files import (fingerprint, is_temporary, printable, traindesk_home, write_atomic,
                        write_json_atomic, write_problem, write_remedy, write_text_atomic)

# The last columns hold a classification's class scores (core.metrics.CLASS_SCORES) on its
# validated epochs' rows, empty elsewhere; folders written before they were recorded have
# rows of the first seven columns only (OLD_METRIC_COLUMNS).
METRIC_COLUMNS = ("step", "epoch", "split", "loss", "accuracy", "lr", "elapsed_s",
                  *CLASS_SCORES)
OLD_METRIC_COLUMNS = 7
# The "split" of a metrics.csv row: a training step, an epoch's training loss and metric
# (the trainer's exact figures, written at the epoch's end; folders written before they
# were recorded have none), and a validated epoch. "accuracy" holds the run's metric.
TRAIN, TRAIN_EPOCH, VAL = "train", "train_epoch", "val"
# Held (locked) by the process training the run, for the run's whole life; the OS releases
# it when that process ends, however it ends. Hidden, so the history ignores it.
LOCK_FILE = ".run.lock"
PREPROCESSING_FILE = "preprocessing.json"
ERROR_FILE = "error.txt"  # a failed run's message and full traceback
# The size and fingerprint of each data file the run was started on, checked on resume.
DATA_FILES = "data_files.json"


def default_runs_dir() -> Path:
    """TRAINDESK_HOME/runs when set, else the platform's user data folder."""
    return traindesk_home() / "runs"


class RunFolder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._metrics = None
        self._writer = None
        self._lock: RunLock | None = None

    @classmethod
    def create(cls, runs_dir: Path, config: RunConfig, data_files: dict | None = None) -> RunFolder:
        """Make a new, uniquely named folder, lock it and write the resolved config (and the
        fingerprints of its data files) into it. BadInput, with no folder left behind, when
        the folder cannot be made or written."""
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
        try:
            folder._lock = RunLock.take(path)
            save_config(config, path / "config.toml")
            if data_files:
                write_json_atomic(path / DATA_FILES, data_files)
            folder._open_metrics(new=True)
        except (OSError, BadInput) as exc:
            folder.discard()
            if isinstance(exc, BadInput):
                raise
            raise BadInput(f"cannot write the run folder {printable(path)} "
                           f"({write_problem(exc)}); {write_remedy(exc)}") from None
        return folder

    @classmethod
    def open_existing(cls, path: Path) -> RunFolder:
        """Open a run folder to read it, or to continue it (`--resume`: `lock`, then
        `continue_metrics` opens its metrics for appending)."""
        if not (path / "config.toml").is_file():
            raise BadInput(f"{printable(path)} is not a run folder (no config.toml); pass the "
                           "folder of a run, e.g. runs/20260101-120000-simple_cnn-digits")
        return cls(path)

    def discard(self) -> None:
        """Remove a folder `create` made for a run that could not start (nothing in it yet
        but what create wrote), so a failed start leaves no half-written folder."""
        import shutil

        self.close()
        shutil.rmtree(self.path, ignore_errors=True)

    def lock(self) -> None:
        """Take the run's lock before anything of a resumed run is built (BadInput while
        another process trains it, or when the folder is read-only), then remove temporary
        files a killed write left behind (no one else can be writing them now)."""
        self._lock = RunLock.take(self.path)
        for folder in (self.path, self.path / "checkpoints"):
            try:
                stale = [p for p in folder.iterdir() if is_temporary(p.name)]
            except OSError:
                continue
            for path in stale:
                with contextlib.suppress(OSError):
                    path.unlink()

    def data_files(self) -> dict:
        """The fingerprints of the data files the run was started on ({} when none were
        recorded: a table-free run, or a folder made before they were)."""
        try:
            recorded = json.loads((self.path / DATA_FILES).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return recorded if isinstance(recorded, dict) else {}

    def continue_metrics(self, step: int) -> None:
        """Keep the metrics rows up to `step` (the checkpoint a run resumes from) and open
        the file for appending. A killed run may have logged steps after its last checkpoint
        (and half a row); the resumed run trains those steps again and logs them once."""
        path = self.path / "metrics.csv"
        try:  # bytes that are not UTF-8 make rows that do not parse, which are dropped
            with open(path, newline="", encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines(keepends=True)
        except FileNotFoundError:
            lines = []
        except OSError as exc:
            raise BadInput(f"cannot read {printable(path)} ({exc.strerror or exc}); move it "
                           "aside to resume the run without its earlier metrics") from None
        kept = [line for line in lines[1:] if _row_step(line) is not None
                and _row_step(line) <= step and line.endswith("\n")]
        header = ",".join(METRIC_COLUMNS) + "\r\n"  # as csv.writer ends rows
        if not lines or len(kept) != len(lines) - 1 or lines[0] != header:
            write_atomic(path, lambda f: f.write("".join([header, *kept])), make_folder=False)
        self._open_metrics(new=False)

    def config(self) -> RunConfig:
        return load_config(self.path / "config.toml")

    def holds(self, path: Path) -> bool:
        """Whether `path` is one of the run's own files: any file directly in the folder
        (config, metrics, summary, notes) or under checkpoints/, which a resume, the
        history and evaluation read. Writing over one would break the run."""
        try:
            where = Path(path).resolve().relative_to(self.path.resolve())
        except ValueError:
            return False
        return len(where.parts) == 1 or where.parts[0] == "checkpoints"

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
                            event.lr, event.elapsed_s,
                            *(event.val_scores.get(name) for name in CLASS_SCORES))
            self.flush_metrics()

    def _write_row(self, *row) -> None:
        """One row; the columns it leaves out, and None values, are empty."""
        row = [*row, *[None] * (len(METRIC_COLUMNS) - len(row))]
        self._writer.writerow([f"{v:.6g}" if isinstance(v, float) else "" if v is None else v
                               for v in row])

    def flush_metrics(self) -> None:
        """Hand the rows written so far to the OS, so a killed process keeps them; the
        trainer calls it after each batch of logged steps (one system call, not one a row)."""
        self._metrics.flush()

    def write_summary(self, summary: dict) -> None:
        write_json_atomic(self.path / "summary.json", summary, make_folder=False)

    def write_preprocessing(self, description: dict) -> None:
        """PREPROCESSING_FILE: how raw inputs become the model's inputs and what the model
        was fitted to (core.inference.evaluation.stored_description), so Predict and export
        work after the training data is gone."""
        write_json_atomic(self.path / PREPROCESSING_FILE, description, make_folder=False)

    def write_error(self, error: str, details: str) -> None:
        """ERROR_FILE: why the run failed, the one line and the full traceback under it."""
        write_text_atomic(self.path / ERROR_FILE, error + ("\n\n" + details if details
                                                           else "") + "\n",
                          make_folder=False)

    def read_summary(self) -> dict:
        try:
            summary = json.loads((self.path / "summary.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        return summary if isinstance(summary, dict) else {}

    def save_checkpoint(self, path: Path, state: dict) -> None:
        """Write `state` to `path` atomically. OSError when it cannot be written: torch's
        own error for a write that stopped short (a full disk) becomes ENOSPC."""
        import torch

        try:
            write_atomic(path, lambda f: torch.save(state, f), binary=True, make_folder=False)
        except RuntimeError as exc:
            if "unexpected pos" not in str(exc) and "inline_container" not in str(exc):
                raise
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None

    def close(self) -> None:
        """Close the metrics and release the run's lock."""
        if self._metrics is not None:
            with contextlib.suppress(OSError):  # a full disk: the rows written are kept
                self._metrics.close()
            self._metrics = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _row_step(line: str) -> int | None:
    """The step of one metrics.csv line, or None when it is not a whole row."""
    fields = line.rstrip("\r\n").split(",")
    if len(fields) not in (len(METRIC_COLUMNS), OLD_METRIC_COLUMNS):
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


def effective_status(summary: dict, run_dir: Path | None = None) -> str:
    """The summary's status, except that a "running" run whose folder is not locked reads as
    "interrupted" (killed, or the machine went down); it resumes from its last checkpoint.
    `run_dir`: the folder (default: the one the summary names)."""
    status = summary.get("status", "")
    if not isinstance(status, str):
        return ""
    if status == "running":
        path = run_dir if run_dir is not None else summary.get("run_dir")
        if not isinstance(path, (str, Path)) or not is_locked(Path(path)):
            return "interrupted"
    return status


class RunLock:
    """An exclusive lock on a run folder: fcntl.flock on POSIX, msvcrt.locking on Windows,
    on its LOCK_FILE, which holds the locking process's id. Locks belong to an open file,
    so a second attempt in the same process is refused too (the window training a run
    and resuming it)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @classmethod
    def take(cls, path: Path) -> RunLock:
        """Lock the run folder `path`; BadInput when another process holds it, or when the
        folder cannot be written (read-only, full, gone)."""
        try:
            fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BadInput(f"cannot use the run folder {printable(path)} "
                           f"({write_problem(exc)}); {write_remedy(exc)}") from None
        if not _lock(fd, exclusive=True):
            os.close(fd)
            holder = _holder(path)
            raise BadInput(f"{printable(path)} is still being trained by "
                           f"{f'process {holder}' if holder else 'another process'}; "
                           "stop that run first (or wait for it)")
        with contextlib.suppress(OSError):  # who holds it, for the message above; optional
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        return cls(fd)

    def release(self) -> None:
        if os.name == "nt":
            import msvcrt

            with contextlib.suppress(OSError):
                os.lseek(self.fd, 0, os.SEEK_SET)
                msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)
        os.close(self.fd)  # on POSIX, closing the file releases its lock


def is_locked(path: Path) -> bool:
    """Whether a process (this one included) holds the lock of the run folder `path`."""
    try:
        fd = os.open(path / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return False  # never locked (or a folder from before locks)
    try:
        free = _lock(fd, exclusive=False)
        if free and os.name == "nt":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return not free
    finally:
        os.close(fd)


def _lock(fd: int, exclusive: bool) -> bool:
    """Try to lock the open file `fd` without waiting; False when another holds it."""
    try:
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES, errno.EDEADLK):
            return False
        return True  # a file system without locks: the run goes on unguarded, as before
    return True


def _holder(path: Path) -> int | None:
    """The id of the process holding the lock, as it wrote it (None when unreadable)."""
    try:
        return int((path / LOCK_FILE).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None



def data_fingerprints(config: RunConfig) -> dict:
    """For each [data] file setting naming a file: its path, size and a fingerprint of its
    content (core.files.fingerprint), recorded in the run folder and checked on resume."""
    recorded = {}
    for param in DATASETS.get(config.data.name, "data").params:
        value = config.data.params.get(param.name)
        if param.kind == "path" and value and Path(value).is_file():
            with contextlib.suppress(OSError):  # unreadable: the dataset itself says why
                recorded[param.name] = {"file": value, **fingerprint(Path(value))}
    return recorded


def check_data_files(config: RunConfig, recorded: dict) -> None:
    """BadInput when a data file the run was started on has changed since: a resumed run
    would train on other data than its checkpoint was, and report an exact continuation.
    A file that is gone is left for the dataset to report."""
    for name, then in recorded.items():
        if not isinstance(then, dict) or config.data.params.get(name) != then.get("file"):
            continue
        path = Path(then["file"])
        try:
            now = fingerprint(path)
        except OSError:
            continue
        if now != {key: then.get(key) for key in now}:
            raise BadInput(f"[data] {name} {printable(path)} has changed since the run started "
                           f"({then.get('size')} bytes then, {now['size']} now); put the "
                           "original file back to resume, or start a new run with traindesk "
                           "train on the run's config.toml")

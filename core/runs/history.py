"""The run history: every run folder in a runs directory, read from its own files
(config.toml, summary.json, notes.json), so the list survives restarts and shows runs made
from the command line too. A folder with missing or damaged files is listed as
"unreadable" with the reason, never skipped silently and never a crash.

A run's display name and note live in `notes.json` in its folder (written atomically);
the folder's name, which the run's files and checkpoints refer to, never changes.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import BadInput
from core.files import printable, write_json_atomic

NOTES_FILE = "notes.json"
RUN_FILES = ("config.toml", "summary.json", "metrics.csv")
UNREADABLE = "unreadable"


@dataclass
class RunRecord:
    """One row of the run history. Numbers are None when the run has not produced them."""

    path: Path
    display_name: str  # the user's name for the run, or the folder's name
    note: str = ""
    model: str = ""
    data: str = ""
    # running, completed, diverged (completed, but its loss exploded or its accuracy stayed
    # at chance level), stopped, failed, interrupted, unreadable
    status: str = UNREADABLE
    metric: str = "accuracy"  # or "r2"
    best_val_metric: float | None = None  # the best epoch's validation metric (accuracy or R2)
    best_val_loss: float | None = None
    best_epoch: int | None = None
    # The scores of the epoch best.pt holds ([training] best_metric chose it): what the
    # Runs tab shows, as the checkpoint that Evaluate, Predict and export use.
    best_epoch_val_metric: float | None = None
    best_epoch_val_loss: float | None = None
    epochs_completed: int | None = None
    epochs: int | None = None  # as configured
    duration_s: float | None = None
    started: datetime | None = None
    error: str = ""  # the run's failure, or why the folder is unreadable
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return printable(self.path.name)

    @property
    def readable(self) -> bool:
        return self.status != UNREADABLE

    def checkpoint(self, kind: str = "best") -> Path:
        return self.path / "checkpoints" / f"{kind}.pt"


def list_runs(runs_dir: Path) -> list[RunRecord]:
    """Every run folder directly inside `runs_dir`, newest first. Folders holding none of a
    run's files (and hidden ones) are not runs and are left out; a missing runs_dir is an
    empty history."""
    runs_dir = Path(runs_dir)
    try:
        entries = [p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except OSError:
        return []
    records = [_read_or_unreadable(p) for p in entries
               if any((p / name).exists() for name in RUN_FILES)]
    records.sort(key=lambda r: (r.started or datetime.min, r.folder), reverse=True)
    return records


def _read_or_unreadable(path: Path) -> RunRecord:
    """read_run, with a damage it did not foresee making one unreadable row: one bad folder
    never empties the history."""
    try:
        return read_run(path)
    except Exception as exc:
        return RunRecord(path, printable(path.name), error=f"cannot be read ({_reason(exc)})")


def read_run(path: Path) -> RunRecord:
    """The record of one run folder; problems with its files make it UNREADABLE, with the
    reason in `error`."""
    from core.runs.folder import effective_status

    path = Path(path)
    notes = read_notes(path)
    record = RunRecord(path, notes.get("name") or printable(path.name), notes.get("note", ""),
                       started=_started(path))
    try:
        raw = _read_toml(path / "config.toml")
        record.model = _text(_table(raw, "model").get("name"))
        record.data = _text(_table(raw, "data").get("name"))
        record.epochs = _whole(_table(raw, "training").get("epochs"))
    except (OSError, ValueError, RecursionError) as exc:
        record.error = f"config.toml cannot be read ({_reason(exc)})"
        raw = None
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        if not isinstance(summary, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError, RecursionError) as exc:
        record.error = record.error or f"summary.json cannot be read ({_reason(exc)})"
        return record
    record.summary = summary
    record.model = record.model or _text(summary.get("model"))
    record.data = record.data or _text(summary.get("data"))
    if raw is None:
        return record
    record.status = effective_status(summary, path) or UNREADABLE
    if not record.readable:
        record.error = "summary.json has no status"
        return record
    record.metric = "r2" if summary.get("metric") == "r2" else "accuracy"
    # best_val_accuracy: run folders written before regression support had only that
    record.best_val_metric = _number(summary.get("best_val_metric",
                                                 summary.get("best_val_accuracy")))
    record.best_val_loss = _number(summary.get("best_val_loss"))
    record.best_epoch = _whole(summary.get("best_epoch"))
    record.epochs_completed = _whole(summary.get("epochs_completed"))
    record.best_epoch_val_metric, record.best_epoch_val_loss = _best_epoch_scores(
        summary, record, path)
    record.duration_s = _number(summary.get("duration_s"))
    record.error = _text(summary.get("error"))
    if record.status == "completed" and summary.get("diverged") in ("exploded", "chance"):
        # ran all its epochs but learned nothing: no success (core.runs.hints.divergence)
        record.status, record.error = "diverged", _text(summary.get("diverged_hint"))
    return record


def _best_epoch_scores(summary: dict, record: RunRecord,
                       path: Path) -> tuple[float | None, float | None]:
    """(val metric, val loss) of the best epoch. Folders written before summary.json
    recorded them: the best over all epochs is the best epoch's for the value best_metric
    ranks by; the other comes from the best epoch's row in metrics.csv."""
    if "best_epoch_val_metric" in summary:
        return (_number(summary.get("best_epoch_val_metric")),
                _number(summary.get("best_epoch_val_loss")))
    if record.best_epoch is None:
        return None, None
    row = _val_row(path, record.best_epoch)
    by_metric = summary.get("best_metric") == "val_metric"
    metric = record.best_val_metric if by_metric or row is None else row[1]
    loss = row[0] if by_metric and row is not None else (
        None if by_metric else record.best_val_loss)
    return metric, loss


def _val_row(path: Path, epoch: int) -> tuple[float, float] | None:
    """(loss, metric) of epoch `epoch`'s validation row in metrics.csv, None when absent."""
    import csv

    try:
        with open(path / "metrics.csv", newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                if row.get("split") == "val" and row.get("epoch") == str(epoch):
                    return float(row["loss"]), float(row["accuracy"])
    except (OSError, ValueError, TypeError, KeyError, csv.Error):
        return None
    return None


def epoch_pace(runs_dir: Path, model: str, data: str) -> tuple[float, RunRecord] | None:
    """(seconds per epoch, the run it comes from): the newest run of `model` on `data` that
    completed an epoch, whose pace a new run's length is estimated by; None when there is
    none."""
    for record in list_runs(runs_dir):
        if (record.model, record.data) == (model, data) and record.epochs_completed \
                and record.duration_s:
            return record.duration_s / record.epochs_completed, record
    return None


def read_notes(path: Path) -> dict[str, str]:
    """The run's display name and note ({"name": ..., "note": ...}); {} when none."""
    try:
        notes = json.loads((Path(path) / NOTES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(notes, dict):
        return {}
    return {k: str(v) for k, v in notes.items() if k in ("name", "note") and v is not None}


def set_notes(path: Path, name: str | None = None, note: str | None = None) -> None:
    """Store a display name and/or a note for the run at `path` (None leaves one as it is;
    an empty name goes back to the folder's name). Written atomically to notes.json."""
    path = Path(path)
    if not path.is_dir():
        raise BadInput(f"run folder {path} does not exist; it may have been moved or deleted")
    notes = read_notes(path)
    for key, value in (("name", name), ("note", note)):
        if value is not None:
            value = value.strip()
            if value:
                notes[key] = value
            else:
                notes.pop(key, None)
    try:
        write_json_atomic(path / NOTES_FILE, notes)
    except OSError as exc:
        raise BadInput(f"cannot write {path / NOTES_FILE} ({exc.strerror or exc}); check the "
                       "folder's permissions") from None


def delete_run(path: Path, runs_dir: Path) -> None:
    """Delete the run folder `path` and everything in it. Only a run folder directly inside
    `runs_dir` is deleted; anything else is BadInput, so a wrong path never removes a
    user's other files."""
    path, runs_dir = Path(path), Path(runs_dir)
    if path.resolve().parent != runs_dir.resolve() or not path.is_dir():
        raise BadInput(f"{path} is not a run folder inside {runs_dir}; nothing was deleted")
    if not any((path / name).exists() for name in RUN_FILES):
        raise BadInput(f"{path} holds none of a run's files ({', '.join(RUN_FILES)}); nothing "
                       "was deleted")
    try:
        shutil.rmtree(path)
    except OSError as exc:
        raise BadInput(f"could not delete all of {path} ({exc.strerror or exc}); close "
                       "programs using its files and try again") from None


def command_line(path: Path) -> str:
    """The command that repeats the run: `traindesk train <run>/config.toml`, quoted for
    this platform's shell."""
    config = str(Path(path) / "config.toml")
    quoted = subprocess.list2cmdline([config]) if os.name == "nt" else shlex.quote(config)
    return f"traindesk train {quoted}"


def settings_rows(configs: list[dict[str, Any] | None]) -> list[tuple[str, list[str], bool]]:
    """Settings side by side: (section.key, the value in each config, whether they differ),
    in file order. `configs` are RunConfig.to_dict() results; None (an unreadable run) shows
    as an empty cell and does not count as a difference."""
    keys: list[str] = []
    flat = []
    for config in configs:
        values = {}
        for section, table in (config or {}).items():
            for key, value in (table.items() if isinstance(table, dict) else ()):
                name = f"{section}.{key}"
                values[name] = _show(value)
                if name not in keys:
                    keys.append(name)
        flat.append(values if config is not None else None)
    rows = []
    for key in keys:
        cells = ["" if values is None else values.get(key, "—") for values in flat]
        present = {cell for cell, values in zip(cells, flat) if values is not None}
        rows.append((key, cells, len(present) > 1))
    return rows


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8").removeprefix("\ufeff"))


def _table(raw: dict[str, Any], section: str) -> dict[str, Any]:
    """A section of a config.toml as read; ValueError when it is not a table (a file that
    says `model = "mlp"` or `[[model]]`)."""
    table = raw.get(section, {})
    if not isinstance(table, dict):
        raise ValueError(f"[{section}] is not a table")
    return table


def _text(value: Any) -> str:
    """A summary's or config's text field as one short printable line ("" when absent or
    not text)."""
    if not isinstance(value, str):
        return ""
    line = printable(value).strip().splitlines()
    return line[0][:500] if line else ""


def _started(path: Path) -> datetime | None:
    """When the run started: from the folder's timestamp name, else the folder's time."""
    try:
        return datetime.strptime(path.name[:15], "%Y%m%d-%H%M%S")
    except ValueError:
        pass
    try:
        return datetime.fromtimestamp(path.stat().st_mtime)
    except OSError:
        return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "missing"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    lines = str(exc).splitlines()
    return printable(lines[0][:120]) if lines else type(exc).__name__


def _number(value: Any) -> float | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:  # a whole number too large for a float: not a score a run made
        return None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


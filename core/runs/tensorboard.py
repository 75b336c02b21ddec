"""TensorBoard event files for a run, so `tensorboard --logdir <runs dir>` shows every run.

`<run>/tensorboard/` is laid out as Keras lays out its logs, which TensorBoard's views are
made for: `train/` holds each step's loss, metric and learning rate (`step_*`) and each
epoch's training figures (`epoch_*`), `validation/` each epoch's validation figures under
the same `epoch_*` names (so TensorBoard draws training and validation in one chart), and
the folder itself the hyper-parameters in the HParams plugin's format (the resolved config
flattened to `section.key`) with the best validation values at the end. Every value is
written at the run's step, so one x axis serves steps and epochs.

The writer is a listener (core.events): it cannot break a run, and it stays off the per-step
hot path: a step's values go into the file's buffer (about 10 microseconds), which is handed
to the OS at most every FLUSH_INTERVAL_S and at the end, never synced to disk.

The files are written here, with no dependency: TFRecord framing and the few protocol buffer
messages of tensorflow's event.proto and summary.proto and TensorBoard's HParams plugin
(plugin_data.proto) that a run needs, laid out by hand. tensorboardX was measured for it and
costs too much: its SummaryWriter takes 130 microseconds a step (three scalars through a
multiprocessing queue, a message object each and their CRCs in plain Python), a tenth of an
mlp's step on digits, and importing it (protobuf) 24 ms, more than the rest of the writer's
cost over a whole run (docs/performance.md). The tests read the files back with TensorBoard's
own reader.

A resumed run writes on into the same files: the records after the checkpoint's step are
dropped first (as metrics.csv's rows are), so no step is shown twice, whichever reader
TensorBoard uses.
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import time
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.events import BatchEnd, EpochEnd, RunFailed, RunFinished, RunStarted
from core.files import write_atomic

TENSORBOARD_DIR = "tensorboard"
FLUSH_INTERVAL_S = 2.0
EVENT_FILE_GLOB = "events.out.tfevents.*"
# The HParams plugin's tags, and its session end statuses (tensorboard's api.proto)
SESSION_START_TAG = "_hparams_/session_start_info"
SESSION_END_TAG = "_hparams_/session_end_info"
_STATUS = {"completed": 1, "failed": 2}  # STATUS_SUCCESS, STATUS_FAILURE


class TensorBoardWriter:
    """Listener: writes a run's events as TensorBoard event files under `logdir`."""

    def __init__(self, logdir: Path, config: RunConfig) -> None:
        self.logdir, self.config = Path(logdir), config
        self.files: dict[str, _EventFile] = {}
        self.metric = "accuracy"
        self.step_tags = ("step_loss", "step_accuracy", "step_lr")
        self.wall_base: float | None = None  # wall time at elapsed_s == 0
        self.last_flush = time.monotonic()

    def __repr__(self) -> str:
        return f"TensorBoardWriter({self.logdir})"

    def __call__(self, event: Any) -> None:
        if isinstance(event, BatchEnd):
            self.files["train"].scalars(event.step, self._wall(event.elapsed_s), zip(
                self.step_tags, (event.loss, event.metric, event.lr)))
        elif isinstance(event, EpochEnd):
            self._epoch_end(event)
        elif isinstance(event, RunStarted):
            self._open(event)
        elif isinstance(event, (RunFinished, RunFailed)):
            self._close(event)

    def _open(self, event: RunStarted) -> None:
        self.metric = event.metric_name
        self.step_tags = ("step_loss", f"step_{self.metric}", "step_lr")
        resumed = event.resumed_from_step > 0
        keep_through = event.resumed_from_step if resumed else None
        for name, folder in (("run", self.logdir), ("train", self.logdir / "train"),
                             ("validation", self.logdir / "validation")):
            self.files[name] = _EventFile(folder, keep_through)
        if not resumed:  # a resumed run's session started with its first part
            now = time.time()
            self.files["run"].plugin_record(0, now, SESSION_START_TAG, "hparams",
                                            session_start(hyper_parameters(self.config), now))
        self._flush()

    def _epoch_end(self, event: EpochEnd) -> None:
        wall = self._wall(event.elapsed_s)
        self.files["train"].scalars(event.step, wall, (
            ("epoch_loss", event.train_loss), (f"epoch_{self.metric}", event.train_metric),
            ("epoch_lr", event.lr)))
        figures = [("epoch_loss", event.val_loss), (f"epoch_{self.metric}", event.val_metric)]
        if event.val_mae is not None:
            figures.append(("epoch_mae", event.val_mae))
        # a classification's class scores (macro F1, balanced and top-k accuracy)
        figures += [(f"epoch_{name}", value) for name, value in event.val_scores.items()
                    if value is not None]
        self.files["validation"].scalars(event.step, wall, figures)
        if time.monotonic() - self.last_flush >= FLUSH_INTERVAL_S:
            self._flush()

    def _close(self, event: RunFinished | RunFailed) -> None:
        summary, run = event.summary, self.files.get("run")
        if run is None:
            return
        step, wall = int(summary.get("steps_completed") or 0), time.time()
        best = [(f"best_val_{name}", summary.get(f"best_val_{key}"))
                for name, key in (("loss", "loss"), (self.metric, "metric"))]
        run.scalars(step, wall, [(tag, v) for tag, v in best if isinstance(v, (int, float))])
        status = event.status if isinstance(event, RunFinished) else "failed"
        if status in _STATUS:  # a stopped run goes on when resumed: its session has not ended
            run.plugin_record(step, wall, SESSION_END_TAG, "hparams",
                              session_end(_STATUS[status], wall))
        for file in self.files.values():
            file.close()

    def _flush(self) -> None:
        for file in self.files.values():
            file.flush()
        self.last_flush = time.monotonic()

    def _wall(self, elapsed_s: float) -> float:
        """The wall time of a moment `elapsed_s` into the run (a resumed run's count goes on
        from its first part), for TensorBoard's relative and wall-time axes."""
        if self.wall_base is None:
            self.wall_base = time.time() - elapsed_s
        return self.wall_base + elapsed_s


def hyper_parameters(config: RunConfig) -> dict[str, str | float | bool]:
    """The resolved config flattened to `section.key` names with the values the HParams
    plugin takes: numbers, strings and booleans; a list or table as its JSON text."""
    flat: dict[str, str | float | bool] = {}
    for section, values in config.to_dict().items():
        for key, value in values.items():
            if isinstance(value, (bool, str)):
                flat[f"{section}.{key}"] = value
            elif isinstance(value, (int, float)):
                flat[f"{section}.{key}"] = float(value)
            else:
                flat[f"{section}.{key}"] = json.dumps(value, sort_keys=True)
    return flat


class _EventFile:
    """One folder's event file, appended to. With `keep_through` (a resumed run), the
    records of later steps, and a record cut short by a killed process, are dropped first."""

    def __init__(self, folder: Path, keep_through: int | None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        existing = sorted(folder.glob(EVENT_FILE_GLOB))
        if existing and keep_through is not None:
            path = existing[-1]
            kept = [r for r in read_records(path) if event_step(r) <= keep_through]
            write_atomic(path, lambda f: f.writelines(frame(r) for r in kept), binary=True,
                         make_folder=False)
            self.file = open(path, "ab")
        else:
            path = folder / f"events.out.tfevents.{time.time():.6f}.{socket.gethostname()}"
            self.file = open(path, "xb")
            self.write(_double(1, time.time()) + _bytes(3, b"brain.Event:2"))

    def scalars(self, step: int, wall: float, values) -> None:
        """Scalars at `step`: (tag, value) pairs."""
        self.write(scalar_event(step, wall, values))

    def plugin_record(self, step: int, wall: float, tag: str, plugin: str,
                      content: bytes) -> None:
        """A summary value holding only a plugin's data (HParams' records)."""
        metadata = _bytes(1, _bytes(1, plugin.encode()) + _bytes(2, content))
        value = _bytes(1, tag.encode()) + _bytes(9, metadata)
        self.write(_double(1, wall) + _varint(2, step) + _bytes(5, _bytes(1, value)))

    def write(self, event: bytes) -> None:
        self.file.write(frame(event))

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def session_start(hparams: dict[str, str | float | bool], wall: float) -> bytes:
    """HParamsPluginData with a SessionStartInfo: the hyper-parameters (a map of
    google.protobuf.Value: number_value = 2, string_value = 3, bool_value = 4) and the start
    time. No experiment record is written, so TensorBoard builds one over all the runs it
    shows, whatever their models' settings."""
    entries = []
    for name, value in hparams.items():
        if isinstance(value, bool):
            encoded = _varint(4, int(value))
        elif isinstance(value, str):
            encoded = _bytes(3, value.encode())
        else:
            encoded = _double(2, value)
        entries.append(_bytes(1, _bytes(1, name.encode()) + _bytes(2, encoded)))
    return _bytes(3, b"".join(entries) + _double(5, wall))


def session_end(status: int, wall: float) -> bytes:
    """HParamsPluginData with a SessionEndInfo: `status` (1 success, 2 failure), end time."""
    return _bytes(4, _varint(1, status) + _double(2, wall))


def scalar_event(step: int, wall: float, values) -> bytes:
    """An Event holding scalars (event.proto: wall_time = 1, step = 2, summary = 5;
    summary.proto: value = 1, a value's tag = 1 and simple_value = 2, a float)."""
    summary = b"".join([_value_prefix(tag) + _FLOAT.pack(value) for tag, value in values])
    # the fields' keys written out: (field << 3) | wire type (1: 64 bits, 0: varint, 2: bytes)
    return b"".join((b"\x09", _DOUBLE.pack(wall), b"\x10", varint(step), b"\x2a",
                     varint(len(summary)), summary))


@functools.lru_cache(maxsize=None)
def _value_prefix(tag: str) -> bytes:
    """A scalar summary value's bytes up to its float: the value's field and length, its
    tag, the float's field (fixed 32 bits)."""
    value = _bytes(1, tag.encode()) + bytes([2 << 3 | 5])
    return bytes([1 << 3 | 2]) + varint(len(value) + 4) + value


def event_step(record: bytes) -> int:
    """The step of an Event record (0 when it has none): its fields read in order."""
    at = 0
    while at < len(record):
        key, at = _read_varint(record, at)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _read_varint(record, at)
            if field == 2:
                return value
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            length, at = _read_varint(record, at)
            at += length
        else:
            break
    return 0


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data):
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            break
    return value, at


def varint(n: int) -> bytes:
    """A non-negative integer as a protocol buffer varint: 7 bits a byte, low bits first."""
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varint(field: int, n: int) -> bytes:
    return varint(field << 3) + varint(n)


def _double(field: int, x: float) -> bytes:
    return varint(field << 3 | 1) + _DOUBLE.pack(x)


def _bytes(field: int, payload: bytes) -> bytes:
    """A length-delimited field: a string, bytes or a message."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def frame(record: bytes) -> bytes:
    """A TFRecord: the length, its masked CRC-32C, the record, its masked CRC-32C."""
    return b"".join((_length_header(len(record)), record, _UINT32.pack(masked_crc32c(record))))


@functools.lru_cache(maxsize=64)
def _length_header(length: int) -> bytes:
    """A record's length and its masked CRC-32C (the same for every step's record, mostly)."""
    header = _UINT64.pack(length)
    return header + _UINT32.pack(masked_crc32c(header))


def read_records(path: Path) -> list[bytes]:
    """The whole records of a TFRecord file, in order; a record cut short ends the list."""
    data, records, at = path.read_bytes(), [], 0
    while at + 12 <= len(data):
        (length,) = _UINT64.unpack_from(data, at)
        end = at + 12 + length + 4
        if end > len(data):
            break
        records.append(data[at + 12:end - 4])
        at = end
    return records


def masked_crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of `data`, masked as TFRecord files store it. Eight bytes a
    turn over eight tables ("slicing by 8"): twice as fast in Python as a byte a turn."""
    t0, t1, t2, t3, t4, t5, t6, t7 = _crc_tables()
    crc, whole = 0xFFFFFFFF, len(data) & ~7
    for low, high in _TWO_UINT32.iter_unpack(data[:whole]):
        low ^= crc
        crc = (t7[low & 0xFF] ^ t6[(low >> 8) & 0xFF] ^ t5[(low >> 16) & 0xFF] ^ t4[low >> 24]
               ^ t3[high & 0xFF] ^ t2[(high >> 8) & 0xFF] ^ t1[(high >> 16) & 0xFF]
               ^ t0[high >> 24])
    for byte in data[whole:]:
        crc = t0[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    crc ^= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


@functools.lru_cache(maxsize=1)
def _crc_tables() -> tuple[list[int], ...]:
    """Table k: the CRC of a byte followed by k zero bytes (polynomial 0x82F63B78, reflected)."""
    first = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        first.append(crc)
    tables = [first]
    for _ in range(7):
        tables.append([(c >> 8) ^ first[c & 0xFF] for c in tables[-1]])
    return tuple(tables)


_FLOAT, _DOUBLE = struct.Struct("<f"), struct.Struct("<d")
_UINT32, _UINT64, _TWO_UINT32 = struct.Struct("<I"), struct.Struct("<Q"), struct.Struct("<II")

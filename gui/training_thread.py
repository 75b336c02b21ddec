"""TrainingThread: runs core.trainer.train off the GUI thread and turns its events into
Qt signals. Steps are batched into at most MAX_BATCH_SIGNALS_PER_S signals a second;
every other event is sent at once. Stop is a RunControl flag that the training loop
checks between batches: a thread busy training has no event loop for a queued slot."""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from core.config import RunConfig
from core.control import RunControl
from core.errors import BadInput, TrainingFailed
from core.events import BatchEnd, EpochEnd, RunFailed, RunFinished, RunStarted
from core.trainer import train  # imports torch only when a run starts

MAX_BATCH_SIGNALS_PER_S = 30


class TrainingThread(QThread):
    run_started = Signal(object)  # RunStarted
    batches_ended = Signal(object)  # list[BatchEnd], oldest first
    epoch_ended = Signal(object)  # EpochEnd
    run_finished = Signal(object)  # summary dict of a completed, stopped or interrupted run
    run_failed = Signal(str, str)  # one readable line; details (a traceback) or ""

    def __init__(self, config: RunConfig, runs_dir: Path) -> None:
        super().__init__()
        self.config = config
        self.runs_dir = runs_dir
        self.control = RunControl()
        self._pending_batches: list[BatchEnd] = []
        self._last_batch_signal = 0.0
        self._failure_reported = False

    def stop(self) -> None:
        """Ask the run to stop after the current batch; it saves a checkpoint first. Any thread."""
        self.control.stop()

    def run(self) -> None:
        try:
            train(self.config, self.runs_dir, listeners=[self.relay], control=self.control)
        except BadInput as exc:  # the run could not start; nothing was written
            self.run_failed.emit(str(exc), "")
        except TrainingFailed as exc:
            if not self._failure_reported:
                self.run_failed.emit(str(exc), "")
        except Exception as exc:  # a bug, not a user error: report it, keep the window alive
            self.run_failed.emit(f"unexpected error: {type(exc).__name__}: {exc}",
                                 traceback.format_exc())

    def relay(self, event) -> None:
        """Listener: turn one trainer event into signals (called on the training thread)."""
        if isinstance(event, BatchEnd):
            self._pending_batches.append(event)
            if time.monotonic() - self._last_batch_signal >= 1 / MAX_BATCH_SIGNALS_PER_S:
                self._send_batches()
            return
        self._send_batches()  # the steps before an epoch's end or the run's end come first
        if isinstance(event, RunStarted):
            self.run_started.emit(event)
        elif isinstance(event, EpochEnd):
            self.epoch_ended.emit(event)
        elif isinstance(event, RunFinished):
            self.run_finished.emit(event.summary)
        elif isinstance(event, RunFailed):
            self._failure_reported = True
            self.run_failed.emit(event.error, event.details)

    def _send_batches(self) -> None:
        if self._pending_batches:
            self.batches_ended.emit(self._pending_batches)
            self._pending_batches = []
            self._last_batch_signal = time.monotonic()

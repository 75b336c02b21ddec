"""TrainingThread: runs core.train.loop.train off the GUI thread and turns its events into
Qt signals. Steps are batched into at most MAX_BATCH_SIGNALS_PER_S signals a second;
every other event is sent at once. Stop, pause and resume are RunControl flags that the
training loop checks between batches: a thread busy training has no event loop for a
queued slot. A paused loop first reports its pending steps, and they are sent at once, so
the plot shows every step taken before the pause."""

from __future__ import annotations

import math
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QThread, Signal

from core.config import RunConfig
from core.control import RunControl
from core.errors import BadInput, TrainingFailed
from core.events import BatchEnd, EpochEnd, RunFailed, RunFinished, RunStarted
from core.runs.curves import RunCurves, read_curves
from core.runs.folder import RunFolder
from core.train.loop import train  # imports torch only when a run starts

MAX_BATCH_SIGNALS_PER_S = 30


class TrainingThread(QThread):
    run_started = Signal(object)  # RunStarted
    batches_ended = Signal(object)  # list[BatchEnd], oldest first
    epoch_ended = Signal(object)  # EpochEnd
    run_finished = Signal(object)  # summary dict of a completed, stopped or interrupted run
    run_failed = Signal(str, str)  # one readable line; details (a traceback) or ""
    run_refused = Signal(str)  # bad input: the run did not start and wrote nothing
    # A resumed run's earlier points, read from its metrics.csv (list[BatchEnd],
    # list[EpochEnd], whose samples_per_s is NaN: not recorded); sent right after
    # run_started, before any new step.
    history_loaded = Signal(object, object)

    def __init__(self, config: RunConfig | None, runs_dir: Path,
                 resume_dir: Path | None = None) -> None:
        """Train `config` in a new run folder under `runs_dir`, or with `resume_dir` (and
        config None) continue that run from its last checkpoint."""
        super().__init__()
        self.config = config
        self.runs_dir = runs_dir
        self.resume_dir = resume_dir
        self.control = RunControl()
        self._pending_batches: list[BatchEnd] = []
        self._last_batch_signal = 0.0
        self._failure_reported = False

    def stop(self) -> None:
        """Ask the run to stop after the current batch; it saves a checkpoint first. Any thread."""
        self.control.stop()

    def pause(self) -> None:
        """Hold the run after the current batch (the thread waits, using no CPU). Any thread."""
        self.control.pause()

    def resume(self) -> None:
        """Continue a paused run. Any thread."""
        self.control.resume()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def run(self) -> None:
        try:
            train(self.config, self.runs_dir, listeners=[self.relay], control=self.control,
                  resume_dir=self.resume_dir)
        except BadInput as exc:  # the run could not start; nothing was written
            self.run_refused.emit(str(exc))
        except TrainingFailed as exc:  # before the run folder existed, or reported below
            if not self._failure_reported:
                self.run_failed.emit(str(exc), exc.details)
        except Exception as exc:  # a bug, not a user error: report it, keep the window alive
            self.run_failed.emit(f"unexpected error: {type(exc).__name__}: {exc}",
                                 traceback.format_exc())

    def relay(self, event) -> None:
        """Listener: turn one trainer event into signals (called on the training thread)."""
        if isinstance(event, BatchEnd):
            self._pending_batches.append(event)
            if (self.control.paused  # the loop is about to wait: show where it stands
                    or time.monotonic() - self._last_batch_signal >= 1 / MAX_BATCH_SIGNALS_PER_S):
                self._send_batches()
            return
        self._send_batches()  # the steps before an epoch's end or the run's end come first
        if isinstance(event, RunStarted):
            self.run_started.emit(event)
            if event.resumed_from_step:
                self._send_history(event)
        elif isinstance(event, EpochEnd):
            self.epoch_ended.emit(event)
        elif isinstance(event, RunFinished):
            self.run_finished.emit(event.summary)
        elif isinstance(event, RunFailed):
            self._failure_reported = True
            self.run_failed.emit(event.error, event.details)

    def _send_history(self, event: RunStarted) -> None:
        run_dir = Path(event.run_dir)
        try:
            training = RunFolder.open_existing(run_dir).config().training
            curves = read_curves(run_dir, training.batch_size, event.train_samples)
        except (OSError, ValueError, BadInput):  # the plot starts empty; training goes on
            return
        self.history_loaded.emit(*history_events(curves.up_to_step(event.resumed_from_step),
                                                 event, training.best_metric))

    def _send_batches(self) -> None:
        if self._pending_batches:
            self.batches_ended.emit(self._pending_batches)
            self._pending_batches = []
            self._last_batch_signal = time.monotonic()


def history_events(curves: RunCurves, started: RunStarted, best_metric: str
                   ) -> tuple[list[BatchEnd], list[EpochEnd]]:
    """A resumed run's earlier curves as the events the plots take. Throughput is not in
    metrics.csv: samples_per_s is NaN, not a number that was never measured."""
    total_steps = started.epochs * started.steps_per_epoch
    batches = [BatchEnd(int(step), int(epoch), total_steps, loss, metric, lr, elapsed, math.nan)
               for step, epoch, loss, metric, lr, elapsed in zip(
                   curves.step.tolist(), curves.epoch.tolist(), curves.loss.tolist(),
                   curves.metric.tolist(), curves.lr.tolist(), curves.elapsed_s.tolist())]
    epochs = [EpochEnd(int(epoch), started.epochs, int(step), train_loss, train_metric, loss,
                       metric, lr, elapsed, math.nan, bool(best))
              for epoch, step, train_loss, train_metric, loss, metric, lr, elapsed, best in zip(
                  curves.val_epoch.tolist(), curves.val_step.tolist(),
                  curves.epoch_train_loss.tolist(), curves.epoch_train_metric.tolist(),
                  curves.val_loss.tolist(), curves.val_metric.tolist(), curves.val_lr.tolist(),
                  curves.val_elapsed_s.tolist(), curves.best_epochs(best_metric).tolist())]
    return batches, epochs

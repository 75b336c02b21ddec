"""TrainingThread: runs core.train.loop.train off the GUI thread and turns its events into
Qt signals. Steps are batched into at most MAX_BATCH_SIGNALS_PER_S signals a second;
every other event is sent at once. Stop, pause and resume are RunControl flags that the
training loop checks between batches: a thread busy training has no event loop for a
queued slot. A paused loop first reports its pending steps, and they are sent at once, so
the plot shows every step taken before the pause.

With several processes the thread starts torchrun as a child process group instead
(core.launch.Launch) and relays rank 0's events, read from its output, the same way: stop
is SIGINT to torchrun (every rank stops at the same step and saves), pause SIGSTOP to the
workers and resume SIGCONT."""

from __future__ import annotations

import math
import tempfile
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QThread, Signal

from core.config import RunConfig
from core.control import RunControl
from core.errors import BadInput, TrainingFailed
from core.events import BatchEnd, EpochEnd, RunFailed, RunFinished, RunStarted
from core.metrics import CLASS_SCORES
from core.runs.folder import RunFolder

if TYPE_CHECKING:
    from core.runs.curves import RunCurves

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
                 resume_dir: Path | None = None, processes: int = 1) -> None:
        """Train `config` in a new run folder under `runs_dir`, or with `resume_dir` (and
        config None) continue that run from its last checkpoint; on `processes` processes
        of this machine through torchrun when more than one."""
        super().__init__()
        self.config = config if config is None or processes > 1 else window_threads(config)
        self.runs_dir = runs_dir
        self.resume_dir = resume_dir
        self.processes = processes
        self.output: list[str] = []  # torchrun's and the workers' own lines, the last ones
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
        from core.train.loop import train  # the engine's modules: not at the window's start-up

        try:
            if self.processes > 1:
                self._launch()
            else:
                train(self.config, self.runs_dir, listeners=[self.relay],
                      control=self.control, resume_dir=self.resume_dir)
        except BadInput as exc:  # the run could not start; nothing was written
            self.run_refused.emit(str(exc))
        except TrainingFailed as exc:  # before the run folder existed, or reported below
            if not self._failure_reported:
                self.run_failed.emit(str(exc), exc.details)
        except Exception as exc:  # a bug, not a user error: report it, keep the window alive
            self.run_failed.emit(f"unexpected error: {type(exc).__name__}: {exc}",
                                 traceback.format_exc())

    def _launch(self) -> None:
        """The run on `processes` local processes: torchrun as a child process group,
        followed through rank 0's events; the config goes to it as a run file."""
        from core.config import save_config
        from core.launch import Launch, Nodes

        with tempfile.TemporaryDirectory(prefix="traindesk-launch-") as folder:
            if self.resume_dir is not None:
                args = ["--resume", str(Path(self.resume_dir).resolve())]
            else:
                run_file = Path(folder) / "run.toml"
                save_config(self.config, run_file)
                args = [str(run_file)]
            args += ["--runs-dir", str(Path(self.runs_dir).resolve())]
            Launch(Nodes(self.processes), args, self.relay, self.control, self._keep_output,
                   resume_dir=self.resume_dir).run()

    def _keep_output(self, line: str) -> None:
        self.output = (self.output + [line])[-200:]

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
        from core.runs.curves import read_curves  # numpy: not at the window's start-up

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


def window_threads(config: RunConfig) -> RunConfig:
    """`config` with an auto thread count made the window's (all cores but one: the spare
    core keeps the event loop within its latency target, core.train.build.cpu_threads). It
    is written into the run's config.toml, so that the run repeated or resumed from the
    command line uses the same count and gives the same numbers. A resumed run keeps the
    count it started with; torchrun's ranks take OMP_NUM_THREADS."""
    from core.train.build import cpu_threads

    if config.training.threads:
        return config
    return config.with_overrides([f"training.threads={cpu_threads(0, window=True)}"])


def history_events(curves: RunCurves, started: RunStarted, best_metric: str
                   ) -> tuple[list[BatchEnd], list[EpochEnd]]:
    """A resumed run's earlier curves as the events the plots take. Throughput is not in
    metrics.csv: samples_per_s is NaN, not a number that was never measured."""
    total_steps = started.epochs * started.steps_per_epoch
    batches = [BatchEnd(int(step), int(epoch), total_steps, loss, metric, lr, elapsed, math.nan)
               for step, epoch, loss, metric, lr, elapsed in zip(
                   curves.step.tolist(), curves.epoch.tolist(), curves.loss.tolist(),
                   curves.metric.tolist(), curves.lr.tolist(), curves.elapsed_s.tolist())]
    scores = [dict(zip(CLASS_SCORES, values)) for values in zip(
        *(getattr(curves, f"val_{name}").tolist() for name in CLASS_SCORES))]
    epochs = [EpochEnd(int(epoch), started.epochs, int(step), train_loss, train_metric, loss,
                       metric, lr, elapsed, math.nan, bool(best), val_scores=scored)
              for epoch, step, train_loss, train_metric, loss, metric, lr, elapsed, best, scored
              in zip(curves.val_epoch.tolist(), curves.val_step.tolist(),
                     curves.epoch_train_loss.tolist(), curves.epoch_train_metric.tolist(),
                     curves.val_loss.tolist(), curves.val_metric.tolist(),
                     curves.val_lr.tolist(), curves.val_elapsed_s.tolist(),
                     curves.best_epochs(best_metric, started.metric_name).tolist(), scores)]
    return batches, epochs

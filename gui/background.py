"""The window's one runner of background jobs: every call of core work that must not run on
the GUI thread (import torch and list the devices, preview a dataset, build a model's layer
summary, load a run, evaluate, predict, export), except training, which has its own thread
with pause and stop (gui/training_thread.py).

The shape of superqt's WorkerBase and Orange's concurrent.py: a view submits a callable with
a result slot and an error slot, under its own key (the view, and a name when it runs more
than one kind of job). Per key one job runs at a time; a job submitted while another runs
waits its turn, and the running job is superseded: its result is dropped, so no view has to
filter stale results itself. Only the newest waiting job is kept (an older one was overtaken
before it started). A result for a view that has since been deleted is dropped too.

Every job is referenced here until its thread has finished (a QThread destroyed while
running aborts the process), and `wait_all` is the one place that waits for them all before
the window closes.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QApplication

from core.errors import TrainDeskError
from core.rng import held_elsewhere

ResultSlot = Callable[[Any], None]
ErrorSlot = Callable[[str, str], None]  # one readable line, details (a traceback, or "")


class Job(QThread):
    """One call of `work` on its own thread. Its outcome goes back to the runner as one
    queued signal; the runner decides whether anyone still wants it."""

    outcome = Signal(object)  # (job, ok, result or message, details)

    def __init__(self, owner: QObject, name: str, work: Callable[[], Any],
                 on_result: ResultSlot, on_error: ErrorSlot | None) -> None:
        super().__init__()
        # The owner's wrapper is held, so the key's id() cannot be reused while this lives.
        self.owner, self.name, self.work = owner, name, work
        self.on_result, self.on_error = on_result, on_error
        self.superseded = False

    @property
    def key(self) -> tuple[int, str]:
        return id(self.owner), self.name

    def run(self) -> None:
        try:
            result = self.work()
        except TrainDeskError as exc:  # explained to the user: the message says what to do
            self.outcome.emit((self, False, str(exc), getattr(exc, "details", "") or ""))
        except Exception as exc:  # a bug or a model that breaks: say so, keep the window
            self.outcome.emit((self, False, describe_error(exc), traceback.format_exc()))
        else:
            self.outcome.emit((self, True, result, ""))


def after_the_run(text: str) -> str:
    """`text`, saying that the work waits for the run training now to end, when one is:
    loading a run and generating draw from torch's one global generator (core/rng.py)."""
    if not held_elsewhere():
        return text
    return QCoreApplication.translate(
        "Background", "{0} (waiting for the training run to end, so that its random numbers "
        "stay its own)").format(text)


def describe_error(exc: BaseException) -> str:
    """"TypeError: the first line of its message": one readable line, no traceback."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {line}".rstrip(": ")


class BackgroundRunner(QObject):
    """Runs callables off the GUI thread and calls their slots back on it.

    `submit(owner, work, on_result, on_error, name)` starts `work()` (or queues it behind
    the owner's running job of that name, which it supersedes) and returns its Job.
    `on_result(value)` or `on_error(message, details)` is called on the GUI thread unless
    the job was superseded or its owner deleted. `is_busy(owner)` says whether the owner
    has a job running or waiting; `wait_all()` waits for every running job (at shutdown)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: dict[tuple[int, str], Job] = {}  # the key's started job, until delivered
        self._waiting: dict[tuple[int, str], Job] = {}  # the key's next job
        self._threads: set[Job] = set()  # started and not yet finished

    def submit(self, owner: QObject, work: Callable[[], Any], on_result: ResultSlot,
               on_error: ErrorSlot | None = None, name: str = "") -> Job:
        job = Job(owner, name, work, on_result, on_error)
        current = self._current.get(job.key)
        if current is None:
            self._start(job)
        else:
            current.superseded = True
            self._waiting[job.key] = job  # replaces an older waiting job, which never runs
        return job

    def is_busy(self, owner: QObject, name: str | None = None) -> bool:
        """Whether `owner` has a job (of this name, or of any) running or waiting."""
        keys = [*self._current, *self._waiting]
        return any(k[0] == id(owner) and (name is None or k[1] == name) for k in keys)

    def wait_all(self) -> None:
        """Drop the waiting jobs and block until every running job has returned. Their
        results are still delivered (to owners that are still alive) by the event loop."""
        self._waiting.clear()
        for job in list(self._threads):
            job.wait()

    def _start(self, job: Job) -> None:
        self._current[job.key] = job
        self._threads.add(job)
        job.outcome.connect(self._on_outcome, Qt.ConnectionType.QueuedConnection)
        job.finished.connect(lambda: self._on_finished(job),
                             Qt.ConnectionType.QueuedConnection)
        job.start()

    @Slot(object)
    def _on_outcome(self, outcome: tuple) -> None:
        job, ok, value, details = outcome
        if self._current.get(job.key) is job:
            del self._current[job.key]
        wanted = not job.superseded and shiboken6.isValid(job.owner)
        waiting = self._waiting.pop(job.key, None)
        if waiting is not None and shiboken6.isValid(waiting.owner):
            self._start(waiting)
        if not wanted:
            return
        if ok:
            job.on_result(value)
        elif job.on_error is not None:
            job.on_error(value, details)

    def _on_finished(self, job: Job) -> None:
        job.wait()  # `finished` is sent just before the thread ends: let it end
        self._threads.discard(job)


_runner: BackgroundRunner | None = None


def runner() -> BackgroundRunner:
    """The application's runner, made on first use and waited for before the app quits."""
    global _runner
    if _runner is None or not shiboken6.isValid(_runner):
        app = QApplication.instance()
        _runner = BackgroundRunner(app)
        if app is not None:
            app.aboutToQuit.connect(_runner.wait_all)
    return _runner

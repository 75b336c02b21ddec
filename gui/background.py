"""BackgroundTask: one call of core work (load a run's model, evaluate, export) off the GUI
thread, its result or one readable line of failure sent back as a signal.

Whoever starts one keeps the reference until `finished` and waits for it before closing: a
QThread destroyed while running aborts the process."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QThread, Signal

from core.errors import BadInput, TrainingFailed


class BackgroundTask(QThread):
    succeeded = Signal(object)  # what `work` returned
    failed = Signal(str)  # one readable line

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work

    def run(self) -> None:
        try:
            result = self.work()
        except (BadInput, TrainingFailed) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug or a model that breaks: say so, keep the window
            line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            self.failed.emit(f"{type(exc).__name__}: {line}".rstrip(": "))
        else:
            self.succeeded.emit(result)


class TaskRunner:
    """Runs a view's BackgroundTasks one at a time, never blocking the GUI thread: work asked
    for while a task runs waits its turn (only the latest request waits; an older one it
    replaces was overtaken anyway). Keeps each task referenced until it has finished."""

    def __init__(self) -> None:
        self.task: BackgroundTask | None = None
        self._next: tuple | None = None

    def start(self, work: Callable[[], Any], on_success: Callable[[Any], None],
              on_failure: Callable[[str], None]) -> None:
        self._next = (work, on_success, on_failure)
        if self.task is None:
            self._start_next()

    def _start_next(self) -> None:
        work, on_success, on_failure = self._next
        self._next = None
        task = BackgroundTask(work)
        task.succeeded.connect(on_success)
        task.failed.connect(on_failure)
        task.finished.connect(lambda: self._finished(task))
        self.task = task
        task.start()

    def _finished(self, task: BackgroundTask) -> None:
        if self.task is task:
            self.task = None
        task.deleteLater()
        if self.task is None and self._next is not None:
            self._start_next()

    def wait(self) -> None:
        """Drop the waiting request and wait for the running task (before closing)."""
        self._next = None
        if self.task is not None:
            self.task.wait()

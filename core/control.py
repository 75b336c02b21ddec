"""Run control shared between the trainer and whoever drives it (GUI, command line).

The trainer calls `checkpoint()` between batches; another thread calls `stop()`,
`pause()` and `resume()`. Flags, not queued calls: a thread busy training has no event
loop to deliver a queued slot, so it must look for itself.
"""

from __future__ import annotations

import threading
from typing import Callable


class StopRequested(Exception):
    """Raised inside the training loop when a stop was asked for; the trainer saves first."""


class RunControl:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()  # set while not paused
        self._running.set()
        self._interrupted = False  # a plain flag: set from a signal handler, so no lock

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused run must wake up to stop

    def interrupt(self) -> None:
        """Stop between batches as after Ctrl-C (status "interrupted"). Safe to call from a
        signal handler: unlike a KeyboardInterrupt raised wherever the loop happens to be,
        it never leaves a step half done (weights updated, progress not)."""
        self._interrupted = True

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def interrupted(self) -> bool:
        return self._interrupted

    @property
    def stop_requested(self) -> bool:
        """Stop or interrupt was asked for (a launch passes it on to its processes)."""
        return self._stop.is_set() or self._interrupted

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def checkpoint(self, before_pause: Callable[[], None] | None = None) -> None:
        """Block while paused (a real wait that releases the GIL, no spinning); raise
        StopRequested if asked to stop. `before_pause` runs once before the wait begins
        (the trainer reports its pending steps), never when the run is not paused."""
        if not self._running.is_set():
            if before_pause is not None:
                before_pause()
            self._running.wait()
        if self._stop.is_set() or self._interrupted:
            raise StopRequested

"""One lock for torch's default CPU generator, which is one per process and shared by every
thread: a draw or a reseed in one thread changes the numbers of a run training in another
(and torch.random.fork_rng's restore rewinds them), so the same seed would no longer give
the same run.

A run holds GLOBAL_RNG from its seed to its end (core.train.loop.train, find_lr). Work that
seeds or draws from the generator and may run beside a run, in the window's background
threads, holds it too: the model summary, the leftover fine-tune check, the memory
estimate, the data preview, loading a run for Predict or Evaluation, generating text. So
such work waits while a run trains, and a run about to start waits for it to finish. It
is re-entrant, so these may call each other. The window's own thread never takes it (it
would freeze while a run trains).
"""

from __future__ import annotations

import functools
import threading
from typing import Callable, TypeVar

GLOBAL_RNG = threading.RLock()

Function = TypeVar("Function", bound=Callable)


def held_elsewhere() -> bool:
    """Whether another thread holds GLOBAL_RNG (a run is training), so that work needing it
    would wait: the window asks before it starts such work, to say so."""
    if GLOBAL_RNG.acquire(blocking=False):
        GLOBAL_RNG.release()
        return False
    return True


def holding_global_rng(function: Function) -> Function:
    """`function`, run with GLOBAL_RNG held."""
    @functools.wraps(function)
    def held(*args, **kwargs):
        with GLOBAL_RNG:
            return function(*args, **kwargs)
    return held  # type: ignore[return-value]

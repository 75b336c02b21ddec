"""How a run's failures read: one line that says what broke and what to do."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from core.errors import TrainingFailed
from core.files import write_problem, write_remedy

if TYPE_CHECKING:
    from core.train.memory_estimate import MemoryEstimate

WRITE_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EACCES,
                errno.EPERM, errno.EROFS}


class NonFiniteLoss(Exception):
    """The loss stopped being a number; the message says where and what to lower."""


def describe_failure(exc: Exception, batch_size: int, memory: MemoryEstimate | None = None,
                     building: bool = False) -> str:
    """One readable line for an exception that broke a run (trained with `batch_size`).
    Out of memory reads by when it happened: `building` the data and model (their size is
    to blame, not the batch), or training, with the run's memory estimate when it has one."""
    if is_out_of_memory(exc):
        if building:
            return ("out of memory while loading the data and building the model, before "
                    "any batch: pick a smaller model, or use less data ([data] max_length, "
                    "image_size or fewer samples)")
        if memory is not None and memory.advice:
            return (f"out of memory with batch_size {batch_size}; the run needs "
                    f"{memory.line()} ({memory.parts()}); to fit: {'; or '.join(memory.advice)}")
        return (f"out of memory with batch_size {batch_size}; lower "
                "[training] batch_size or pick a smaller model")
    if isinstance(exc, TrainingFailed):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:  # metrics or summary
        where = f" {exc.filename}" if exc.filename else ""
        return (f"could not write{where} ({write_problem(exc)}); the last checkpoint is "
                f"intact; {write_remedy(exc)}, then resume the run")
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}".rstrip(": ")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is the device or the host running out of memory."""
    import torch

    text = str(exc).lower()
    return (isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in text
            or "can't allocate memory" in text or "not enough memory" in text)

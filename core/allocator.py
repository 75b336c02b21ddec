"""glibc's malloc, set up for training loops.

By default glibc hands freed memory back to the OS once a few hundred kilobytes are free at
the top of the heap, and serves large blocks with fresh mmaps; the threshold for both moves
with the program's history. A training step frees and allocates the same large blocks
(a batch, activations, gradients) every time, so depending on what else the process
allocated, each step could map and unmap them again: measured, up to 75 page faults a step
and several percent of an mlp's training speed on digits, where a bare loop had none
(docs/performance.md). Fixed thresholds keep freed blocks of up to 32 MiB for reuse;
`release_free_memory` gives them back when a run ends.

Linux with glibc only; elsewhere (and with another C library) these do nothing.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD = -1  # from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest glibc accepts; larger blocks are mapped
TRIM_THRESHOLD = 256 * 1024 * 1024  # free memory kept at the heap's top while training


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")  # by name: find_library would start a subprocess
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()


def keep_freed_memory() -> bool:
    """Fix malloc's thresholds so that blocks freed by one step are reused by the next.
    Best called when the process starts (the entry points do), before the heap takes shape;
    idempotent. True when the C library took the settings."""
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and _LIBC.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def release_free_memory() -> None:
    """Give the OS back the memory the heaps hold free, e.g. after a run ends."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)

"""Shared helpers for the benchmarks: repeats, statistics and a description of the machine."""

from __future__ import annotations

import os
import platform
import statistics
import time


def summarize(values: list[float]) -> dict:
    """Min, median and max of repeated measurements (and the values themselves)."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "values": list(values)}


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"{platform.system()} {platform.release()}")


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start

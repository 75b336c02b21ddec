"""Benchmark 6: process memory (RSS) during a long run: at start, after the first epoch,
at the end, and the peak, read from /proc at every epoch end. Flat means the steady
state does not grow with the number of steps (no per-step leak in events or metrics)."""

from __future__ import annotations

import resource
import tempfile
from pathlib import Path


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(model: str, epochs: int) -> dict:
    from core.config import RunConfig
    from core.events import EpochEnd
    from core.train.loop import train

    samples: list[tuple[int, float]] = []

    def record(event) -> None:
        if isinstance(event, EpochEnd):
            samples.append((event.step, rss_mb()))

    config = RunConfig.from_dict({"model": {"name": model},
                                  "training": {"epochs": epochs, "device": "cpu"}})
    import torch  # noqa: F401  (so "before" counts the libraries every run needs)

    before = rss_mb()
    with tempfile.TemporaryDirectory() as runs:
        summary = train(config, runs_dir=Path(runs), listeners=[record])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "benchmark": f"memory, {model} on digits, {summary['steps_completed']:,} steps",
        "RSS with torch loaded MB": before,
        "RSS after epoch 1 MB": samples[0][1],
        "RSS at end MB": samples[-1][1],
        "growth after epoch 1 MB": samples[-1][1] - samples[0][1],
        "peak RSS MB": peak,
    }


def run(repeats: int = 1) -> list[dict]:
    # 900 epochs of 23 steps: over 20,000 steps, the soak length the reliability issue asks.
    return [measure("mlp", 900)]


if __name__ == "__main__":
    for row in run():
        print(row)

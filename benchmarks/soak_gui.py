"""Benchmark 8: a soak through the window. The mlp trains on digits for 900 epochs (20,700
steps) started with the window's own Start button, through its TrainingThread and live
plots. A 5 ms timer on the GUI thread records how late each tick arrives (as benchmark 3
does), and the process memory (RSS) is read once a second. The plot is still responsive
when the event-loop latency over the last tenth of the steps is no worse than over the
first tenth, with 20,000 points on the step plot instead of 2,000; memory is flat when it
does not grow with the steps after the first epoch."""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from benchmarks.common import window_set_for
from benchmarks.memory import rss_mb

TICK_MS = 5
EPOCHS = 900  # 23 steps each at batch 64: 20,700 steps


def _latency(ticks: list[tuple[int, float, float]]) -> dict:
    """p50, p99 and max lateness (ms) of (points, lateness ms, time s) ticks, how many there
    were and over how many seconds (a busy event loop ticks less often)."""
    values = sorted(ms for _, ms, _ in ticks)
    return {"p50": statistics.median(values), "p99": values[int(0.99 * (len(values) - 1))],
            "max": values[-1], "ticks": len(values), "s": ticks[-1][2] - ticks[0][2]}


def measure(epochs: int = EPOCHS) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer

    with tempfile.TemporaryDirectory() as runs:
        app, window = window_set_for(runs, "mlp", epochs)
        ticks: list[tuple[int, float, float]] = []  # (plotted steps, lateness ms, time s)
        memory: list[tuple[int, float]] = []  # (plotted steps, RSS MB)
        last = [None]

        def tick() -> None:
            now = time.perf_counter()
            points = window.plots.train_point_count
            if last[0] is not None and points > 0:
                ticks.append((points, max(0.0, (now - last[0]) * 1000 - TICK_MS), now))
            last[0] = now

        timer = QTimer()
        timer.setInterval(TICK_MS)
        timer.timeout.connect(tick)
        sampler = QTimer()
        sampler.setInterval(1000)
        sampler.timeout.connect(lambda: memory.append((window.plots.train_point_count,
                                                       rss_mb())))
        loop = QEventLoop()
        window.run_ended.connect(loop.quit)
        timer.start()
        sampler.start()
        started = time.perf_counter()
        window.start_button.click()
        QTimer.singleShot(3_600_000, loop.quit)
        loop.exec()
        seconds = time.perf_counter() - started
        timer.stop()
        sampler.stop()
        end_rss = rss_mb()
        summary = window.last_summary or {}
        window.close()
        app.processEvents()
    steps = summary.get("steps_completed", 0)
    steps_per_epoch = steps // max(summary.get("epochs_completed", 1), 1)
    after_first_epoch = [mb for points, mb in memory if points >= steps_per_epoch]
    return {
        "benchmark": f"soak in the window: mlp on digits, {steps:,} steps "
                     f"({os.environ['QT_QPA_PLATFORM']})",
        "status": summary.get("status"),
        "run seconds": seconds,
        "latency first tenth of steps ms": _latency([t for t in ticks if t[0] <= steps / 10]),
        "latency last tenth of steps ms": _latency([t for t in ticks if t[0] >= steps * 9 / 10]),
        "RSS after epoch 1 MB": after_first_epoch[0],
        "RSS at end MB": end_rss,
        "RSS growth after epoch 1 MB": end_rss - after_first_epoch[0],
        "RSS peak of samples MB": max(mb for _, mb in memory),
    }


def run(repeats: int = 1) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY")
                          else "xcb")
    row = measure()
    for key in ("latency first tenth of steps ms", "latency last tenth of steps ms"):
        values = row[key]
        row[key] = (f"p50 {values['p50']:.1f}, p99 {values['p99']:.1f}, max {values['max']:.1f}"
                    f" ({values['ticks']} ticks in {values['s']:.1f} s)")
    return [row]


if __name__ == "__main__":
    for result in run():
        print(result)

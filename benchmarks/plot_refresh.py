"""Benchmark 5: time to redraw the live training-loss plot holding 10k, 100k, 500k and 1M points
(setData from the stored arrays plus a full repaint), with the plot's downsampling and
clip-to-view as the window uses them."""

from __future__ import annotations

import os
import time

from benchmarks.common import summarize

SIZES = (10_000, 100_000, 500_000, 1_000_000)


def measure(points: int, repeats: int) -> list[float]:
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from core.events import BatchEnd
    from gui.plots import LivePlots

    app = QApplication.instance() or QApplication([])
    plots = LivePlots()
    plots.resize(1000, 700)
    plots.show()
    steps = np.arange(1, points + 1)
    losses = 2.3 * np.exp(-steps / (points / 5)) + 0.05 * np.random.default_rng(0).random(points)
    plots.add_steps([BatchEnd(int(s), 1, points, float(v), 0.5, 0.001, 0.0, 0.0)
                     for s, v in zip(steps, losses)])
    times = []
    for i in range(repeats + 1):
        plots.add_steps([BatchEnd(points + i + 1, 1, points, 0.05, 0.5, 0.001, 0.0, 0.0)])
        start = time.perf_counter()
        plots.refresh()
        plots.loss_plot.grab()  # forces the paint that the event loop would do
        if i:  # the first redraw builds caches; report the steady ones
            times.append((time.perf_counter() - start) * 1000)
    plots.close()
    app.processEvents()
    return times


def run(repeats: int = 3) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_LOGGING_RULES", "default.warning=false")
    return [{"benchmark": f"loss plot redraw with {points:,} points",
             "redraw ms": summarize(measure(points, repeats))} for points in SIZES]


if __name__ == "__main__":
    for row in run():
        print(row)

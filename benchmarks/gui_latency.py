"""Benchmark 3: GUI responsiveness while a run trains in the window.

A 5 ms timer on the GUI thread records how late each tick arrives (the event-loop
latency a user feels as stutter). The run is started with the window's own Start button
and uses the GUI's own TrainingThread and live plots; ticks are counted from the first
plotted step to the run's end. Runs off screen unless DISPLAY is set (Xvfb or a desktop).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from benchmarks.common import summarize, window_set_for

TICK_MS = 5


def measure_once(model: str, epochs: int) -> dict:
    from PySide6.QtCore import QEventLoop, QTimer

    with tempfile.TemporaryDirectory() as runs:
        app, window = window_set_for(runs, model, epochs)
        lateness: list[float] = []
        last = [None]

        def tick() -> None:
            now = time.perf_counter()
            if last[0] is not None and window.plots.train_point_count > 0:
                lateness.append(max(0.0, (now - last[0]) * 1000 - TICK_MS))
            last[0] = now

        timer = QTimer()
        timer.setInterval(TICK_MS)
        timer.timeout.connect(tick)
        loop = QEventLoop()
        window.run_ended.connect(loop.quit)
        timer.start()
        window.start_button.click()
        QTimer.singleShot(600_000, loop.quit)
        loop.exec()
        timer.stop()
        summary = window.last_summary or {}
        window.close()
        app.processEvents()
    lateness.sort()
    return {
        "p50_ms": statistics.median(lateness),
        "p99_ms": lateness[int(0.99 * (len(lateness) - 1))],
        "max_ms": lateness[-1],
        "ticks": len(lateness),
        "status": summary.get("status"),
    }


# Epochs per model so each run lasts a few seconds: enough ticks for a 99th percentile.
EPOCHS = {"simple_cnn": 3, "mlp": 40}


def run(repeats: int = 3) -> list[dict]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY")
                          else "xcb")
    rows = []
    for model in ("simple_cnn", "mlp"):
        results = [measure_once(model, EPOCHS[model]) for _ in range(repeats)]
        assert all(r["status"] == "completed" for r in results), results

        def stat(key):
            return summarize([r[key] for r in results])

        rows.append({
            "benchmark": f"GUI event-loop latency while training {model} on digits "
                         f"({os.environ['QT_QPA_PLATFORM']})",
            "p50 ms": stat("p50_ms"), "p99 ms": stat("p99_ms"), "max ms": stat("max_ms"),
            "ticks per run": stat("ticks"),
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

"""Benchmark 3: GUI responsiveness while a run trains in the window, and what the window's
default thread count costs it.

A 5 ms timer on the GUI thread records how late each tick arrives (the event-loop
latency a user feels as stutter). The run is started with the window's own Start button
and uses the GUI's own TrainingThread and live plots; ticks are counted from the first
plotted step to the run's end. Runs off screen unless DISPLAY is set (Xvfb or a desktop).

Each measurement is a fresh process pinned with `taskset` to the first n cores, which is
how a machine with n cores is emulated, training with every core (n threads) or every core
but one (n - 1) for the window; the two take turns. Target: p99 < 16 ms, max < 100 ms.

    python -m benchmarks.gui_latency [--repeats 3] [--cores 2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.common import summarize, window_set_for

TICK_MS = 5
# Epochs per model so each run lasts a few seconds: enough ticks for a 99th percentile.
EPOCHS = {"simple_cnn": 3, "mlp": 40}


def measure_once(model: str, epochs: int, threads: int) -> dict:
    """One run in the window, training with `threads` (0: the window's default)."""
    from PySide6.QtCore import QEventLoop, QTimer

    from core.config import RunConfig

    with tempfile.TemporaryDirectory() as runs:
        app, window = window_set_for(runs, model, epochs)
        raw = window.setup_panel.raw_config()
        raw["training"]["threads"] = threads
        window.setup_panel.set_config(RunConfig.from_dict(raw))
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
        "threads": summary.get("threads"),
        "samples_per_s": summary.get("samples_per_s"),
    }


def measure_pinned(model: str, cores: int, threads: int) -> dict:
    """measure_once in a fresh process that may run on the first `cores` cores only."""
    command = ["taskset", "-c", f"0-{cores - 1}", sys.executable, "-m",
               "benchmarks.gui_latency", "--one", model, str(threads)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "QT_LOGGING_RULES": "default.warning=false"})
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def core_counts() -> list[int]:
    """The machine sizes to emulate: 2, 4 and 8 cores, and all of this machine's."""
    available = len(os.sched_getaffinity(0))
    return sorted({n for n in (2, 4, 8) if n <= available} | {available})


def run(repeats: int = 3, cores: list[int] | None = None) -> list[dict]:
    platform = "offscreen" if not os.environ.get("DISPLAY") else "xcb"
    rows = []
    for n in cores or core_counts():
        for model in EPOCHS:
            contenders = {"all cores": n, "all cores but one": max(1, n - 1)}
            results: dict[str, list[dict]] = {name: [] for name in contenders}
            for repeat in range(repeats):  # turns, reversed every other repeat
                order = list(contenders) if repeat % 2 == 0 else list(reversed(contenders))
                for name in order:
                    results[name].append(measure_pinned(model, n, contenders[name]))
                    print(f"{model}, {n} cores, {name}: {results[name][-1]}", file=sys.stderr,
                          flush=True)
            for name, threads in contenders.items():
                found = results[name]
                assert all(r["status"] == "completed" and r["threads"] == threads
                           for r in found), found

                def stat(key):
                    return summarize([r[key] for r in found])

                p99, worst = stat("p99_ms"), stat("max_ms")
                rows.append({
                    "benchmark": f"GUI event-loop latency while training {model} on digits, "
                                 f"{n} cores, {name}: {threads} threads ({platform})",
                    "p50 ms": stat("p50_ms"), "p99 ms": p99, "max ms": worst,
                    "ticks per run": stat("ticks"), "samples/s": stat("samples_per_s"),
                    "target met": p99["median"] < 16 and worst["median"] < 100,
                })
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", help="core counts to emulate, comma-separated "
                                        "(default: 2, 4, 8 and all, up to this machine's)")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "THREADS"),
                        help=argparse.SUPPRESS)  # one measurement, in a pinned child
    args = parser.parse_args()
    if args.one:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY")
                              else "xcb")
        model, threads = args.one[0], int(args.one[1])
        print(json.dumps(measure_once(model, EPOCHS[model], threads)))
    else:
        chosen = [int(n) for n in args.cores.split(",")] if args.cores else None
        for row in run(args.repeats, chosen):
            print(json.dumps(row))

"""Benchmark 4: start-up. Seconds from launching a fresh Python process to the main window
on screen, and to ready-to-train (torch loaded off the GUI thread, device list filled).
Off screen unless DISPLAY is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import summarize

CHILD = r"""
import json, sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui.main_window import MainWindow
app = QApplication([])
window = MainWindow(runs_dir=sys.argv[2])
times = {}
def shown():
    times["window_s"] = time.time() - t0
def ready(*_):
    times["ready_s"] = time.time() - t0
    app.quit()
window.show()
QTimer.singleShot(0, shown)  # runs once the first show and paint are through
window.device_probe.outcome.connect(ready)  # the probe job reports found or failed
QTimer.singleShot(120_000, app.quit)
app.exec()
print(json.dumps(times))
"""


def measure_once() -> dict:
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["QT_LOGGING_RULES"] = "default.warning=false"
    with tempfile.TemporaryDirectory() as runs:
        start = time.time()
        out = subprocess.run([sys.executable, "-c", CHILD, str(start), runs], env=env,
                             capture_output=True, text=True, timeout=180, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(repeats: int = 3) -> list[dict]:
    measure_once()  # the first launch after a build pays for a cold disk cache; not counted
    results = [measure_once() for _ in range(repeats)]
    platform = "xcb" if os.environ.get("DISPLAY") else "offscreen"
    return [{
        "benchmark": f"start-up, fresh process ({platform})",
        "to window on screen s": summarize([r["window_s"] for r in results]),
        "to ready-to-train s": summarize([r["ready_s"] for r in results]),
    }]


if __name__ == "__main__":
    for row in run():
        print(row)

"""`traindesk self-test`: open the main window off screen, train briefly on the bundled
digits through the GUI's own Start button and training thread, and return 0 on success.
Installers run this to check that Qt, pyqtgraph and torch all work in the installed app."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

TIMEOUT_S = 120
SELF_TEST_RUN = {
    "model": {"name": "simple_cnn"},
    "data": {"name": "digits"},
    "training": {"epochs": 1, "device": "cpu"},
}


def run_self_test() -> int:
    """Print one line of result; 0 when a short run completed and its curve was drawn."""
    # Set before Qt starts, for this process only: installers often run without a display.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QLoggingCategory
    from PySide6.QtWidgets import QApplication

    # The offscreen platform warns that it cannot pass on window size hints: noise in an
    # installer's log. A rule, not qInstallMessageHandler: PySide6 6.12's Python message
    # handler releases a reference to None per message and crashes the interpreter.
    QLoggingCategory.setFilterRules("default.warning=false")
    app = QApplication.instance() or QApplication([])  # noqa: F841  (must outlive the window)
    with tempfile.TemporaryDirectory(prefix="traindesk-self-test-") as runs_dir:
        try:
            message = _train_through_window(Path(runs_dir))
        except SelfTestFailed as exc:
            print(f"error: self-test failed: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # a broken install: the traceback is what its log needs
            traceback.print_exc()
            print(f"error: self-test failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(message)
    return 0


class SelfTestFailed(Exception):
    pass


def _train_through_window(runs_dir: Path) -> str:
    from PySide6.QtCore import QEventLoop, QTimer

    from gui.app import delete_window

    from core.config import RunConfig
    from core.metrics import format_metric, metric_label
    from gui.main_window import MainWindow

    window = MainWindow(runs_dir=runs_dir)
    try:
        window.setup_panel.set_config(RunConfig.from_dict(SELF_TEST_RUN))
        window.show()
        loop = QEventLoop()
        window.run_ended.connect(loop.quit)
        timeout = QTimer()
        timeout.setSingleShot(True)
        timeout.timeout.connect(loop.quit)
        started = time.perf_counter()
        window.start_button.click()
        if window.training_thread is None:
            raise SelfTestFailed(f"the run did not start: {window.message_bar.text()}")
        timeout.start(TIMEOUT_S * 1000)
        loop.exec()
        if window.training_thread is not None:
            raise SelfTestFailed(f"the run did not finish within {TIMEOUT_S} s")
        summary = window.last_summary
        if summary is None or summary.get("status") != "completed":
            reason = window.message_bar.text() or f"status {summary and summary.get('status')}"
            raise SelfTestFailed(f"the run did not complete: {reason}")
        points = window.plots.train_point_count
        metric = summary.get("metric", "accuracy")
        if points == 0:
            raise SelfTestFailed("the run completed but the loss plot got no points")
        return (f"self-test passed: trained {summary['model']} on {summary['data']} "
                f"({summary['device']}) through the window in "
                f"{time.perf_counter() - started:.1f} s, validation {metric_label(metric)} "
                f"{format_metric(metric, summary.get('final_val_metric'))}, {points} loss points "
                "plotted")
    finally:
        window.ask_before_closing = False  # nobody to answer
        window.close()  # stops a run still going and waits for its thread
        delete_window(window)


"""`traindesk` with no arguments: the application and its main window."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from resources import resource_path


def run_app() -> int:
    """Open the main window and run until it closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("TrainDesk")
    app.setWindowIcon(QIcon(str(resource_path("traindesk.svg"))))
    window = MainWindow()
    # Quitting by other means than closing the window (a logout) still stops and joins a run.
    app.aboutToQuit.connect(window.close)
    window.show()
    return app.exec()

"""`traindesk` with no arguments: the application and its main window."""

from __future__ import annotations

import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gui.i18n import install_translators
from gui.main_window import MainWindow
from resources import resource_path


def run_app() -> int:
    """Open the main window and run until it closes; returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("TrainDesk")
    app.setWindowIcon(QIcon(str(resource_path("traindesk.svg"))))
    install_translators(app)
    window = MainWindow()
    # Quitting by other means than closing the window (a logout) still stops and joins a run.
    app.aboutToQuit.connect(window.close)
    window.show()
    code = app.exec()
    delete_window(window)
    return code


def delete_window(window) -> None:
    """Delete the window now, while Python is whole. Left to PySide's clean-up at exit, the
    plots' legends (anchored to their view boxes by Python slots) are called back while their
    parents are half destroyed, and now and then that crashes the interpreter (exit -11)."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QGraphicsObject, QGraphicsView

    for view in window.findChildren(QGraphicsView):
        for item in view.items():
            if isinstance(item, QGraphicsObject):
                item.blockSignals(True)  # no geometry callbacks into a scene being torn down
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

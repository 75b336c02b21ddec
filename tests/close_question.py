"""Test helper: answer the question the main window asks when it is closed during a run."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


def answer_close_question(button_text: str = "Stop and close") -> None:
    """Click `button_text` in the question once it is open (call before window.close())."""
    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        QTimer.singleShot(20, lambda: answer_close_question(button_text))
        return
    next(b for b in box.buttons() if b.text() == button_text).click()


def close_during_run(window) -> bool:
    """Close `window` while it trains, answering "Stop and close"."""
    QTimer.singleShot(0, answer_close_question)
    return window.close()

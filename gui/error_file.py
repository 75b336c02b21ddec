"""A failed run's error.txt (the one line the window shows, then the full traceback),
opened from the failure message and from the Runs tab (issue 13)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from core.runs.folder import ERROR_FILE


def has_error_file(run_dir: Path | None) -> bool:
    return run_dir is not None and (Path(run_dir) / ERROR_FILE).is_file()


def open_error_file(run_dir: Path, parent: QWidget) -> None:
    """Open `run_dir`'s error.txt in the system's text viewer; where none opens it, show it
    in a box of its own."""
    path = Path(run_dir) / ERROR_FILE
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        return
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        text = str(exc)
    box = QMessageBox(QMessageBox.Icon.Warning, QCoreApplication.translate(
        "ErrorFile", "TrainDesk"), text.split("\n", 1)[0], QMessageBox.StandardButton.Close,
        parent)
    box.setDetailedText(text)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()

"""MessageBar: a readable error inside the window, with technical details one click away.

Errors stay visible in the window rather than in a modal box, so the user can read
the message while fixing the setting it names.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton


class MessageBar(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("messageBar")
        self.setStyleSheet("#messageBar { background: #fdecea; border: 1px solid #f1aeb5;"
                           " border-radius: 4px; } #messageBar QLabel { color: #58151c; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QPushButton(QCoreApplication.translate("MessageBar", "Details…"))
        self.details_button.clicked.connect(self._show_details)
        dismiss = QPushButton(QCoreApplication.translate("MessageBar", "Dismiss"))
        dismiss.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(dismiss)
        self._details = ""
        self.hide()

    def show_error(self, message: str, details: str = "") -> None:
        self.label.setText(message)
        self._details = details
        self.details_button.setVisible(bool(details))
        self.show()

    def clear(self) -> None:
        self.label.clear()
        self._details = ""
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def _show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "TrainDesk", self.label.text(),
                          QMessageBox.StandardButton.Close, self.window())
        box.setDetailedText(self._details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

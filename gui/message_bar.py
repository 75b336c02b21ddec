"""MessageBar: a readable error (or a note on the data) inside the window, with technical
details one click away.

Errors stay visible in the window rather than in a modal box, so the user can read
the message while fixing the setting it names. The window lays its bars out below the
tabs, and a bar asks for no height of its own (minimumSizeHint): showing one moves no tab
bar and never makes the window's minimum size larger than the screen (issue 13).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton


from gui.param_form import speak_form_labels

STYLES = {  # background, border, text
    "error": ("#fdecea", "#f1aeb5", "#58151c"),
    "note": ("#fff4ce", "#e8c35a", "#4d3800"),  # what the run left out of the data
}


class MessageBar(QFrame):
    def __init__(self, kind: str = "error") -> None:
        super().__init__()
        self.setObjectName("messageBar")
        background, border, text = STYLES[kind]
        self.setStyleSheet(f"#messageBar {{ background: {background}; border: 1px solid "
                           f"{border}; border-radius: 4px; }} #messageBar QLabel "
                           f"{{ color: {text}; }}")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QPushButton(QCoreApplication.translate("MessageBar", "Details…"))
        self.details_button.clicked.connect(self._show_details)
        # A file that tells more (a failed run's error.txt), shown by set_file
        self.file_button = QPushButton()
        self.file_button.clicked.connect(lambda: self._open_file())
        self.file_button.hide()
        self._open_file = lambda: None
        dismiss = QPushButton(QCoreApplication.translate("MessageBar", "Dismiss"))
        dismiss.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.file_button)
        layout.addWidget(dismiss)
        self._details = ""
        self.hide()

    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), 0)

    def show_error(self, message: str, details: str = "", form_labels: bool = True) -> None:
        """Show `message`, its run-file names ("[finetune] load_matching_only") said as the
        form's labels; `form_labels=False` keeps them, for what is wrong in a run file."""
        self.label.setText(speak_form_labels(message) if form_labels else message)
        self._details = details
        self.details_button.setVisible(bool(details))
        self.file_button.hide()  # set_file shows it again for this message
        self.show()

    show_note = show_error

    def set_file(self, text: str, open_file) -> None:
        """Beside the message, a button `text` that calls `open_file` (until cleared)."""
        self._open_file = open_file
        self.file_button.setText(text)
        self.file_button.show()

    def clear(self) -> None:
        self.label.clear()
        self._details = ""
        self.file_button.hide()
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def _show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "TrainDesk", self.label.text(),
                          QMessageBox.StandardButton.Close, self.window())
        box.setDetailedText(self._details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

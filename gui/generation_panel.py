"""The Predict tab's panel for a language-model run (hf_causal_lm): a prompt, the
generation settings (max new tokens, temperature, top-p), Generate and Stop, and the
response, which grows piece by piece as the model writes it.

The panel only shows and collects: the Predict tab runs core.inference.generation.generate
on the background runner, and the generating thread hands each piece to `text_arrived`,
a signal, so the piece is appended on the GUI thread (a queued connection) and the window
never waits for the model. Stop sets a flag the generation checks after every token.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel,
                               QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)


class GenerationPanel(QWidget):
    """Prompt, settings and the streamed response of a language-model run."""

    text_arrived = Signal(str)  # a piece of the response, emitted by the generating thread
    generate_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        from core.inference.generation import GenerationSettings, MAX_NEW_TOKENS_LIMIT

        defaults = GenerationSettings()
        self._stop = threading.Event()
        self._stop.set()  # nothing is being generated
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setPlaceholderText(QCoreApplication.translate(
            "GenerationPanel", "a prompt for the model to answer"))
        self.max_new_tokens = QSpinBox()
        self.max_new_tokens.setRange(1, MAX_NEW_TOKENS_LIMIT)
        self.max_new_tokens.setValue(defaults.max_new_tokens)
        self.max_new_tokens.setToolTip(QCoreApplication.translate(
            "GenerationPanel", "The longest response, in tokens."))
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 5.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(defaults.temperature)
        self.temperature.setToolTip(QCoreApplication.translate(
            "GenerationPanel", "0 takes the likeliest token each time (the same response "
            "every time); higher values write more freely."))
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.01, 1.0)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(defaults.top_p)
        self.top_p.setToolTip(QCoreApplication.translate(
            "GenerationPanel", "Sample only among the likeliest tokens whose probabilities "
            "add up to this."))
        self.generate_button = QPushButton(QCoreApplication.translate(
            "GenerationPanel", "Generate"))
        self.generate_button.clicked.connect(self.generate_requested)
        self.stop_button = QPushButton(QCoreApplication.translate("GenerationPanel", "Stop"))
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(lambda: self._stop.set())  # the current response's
        self.response_view = QPlainTextEdit()
        self.response_view.setReadOnly(True)
        self.response_view.setPlaceholderText(QCoreApplication.translate(
            "GenerationPanel", "The response appears here as it is written."))
        self.text_arrived.connect(self._append)

        settings = QFormLayout()
        settings.addRow(QCoreApplication.translate("GenerationPanel", "Max new tokens:"),
                        self.max_new_tokens)
        settings.addRow(QCoreApplication.translate("GenerationPanel", "Temperature:"),
                        self.temperature)
        settings.addRow(QCoreApplication.translate("GenerationPanel", "Top-p:"), self.top_p)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.prompt_edit, 1)
        top.addLayout(settings)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(QCoreApplication.translate("GenerationPanel", "Prompt:")))
        layout.addLayout(top, 1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(QCoreApplication.translate("GenerationPanel", "Response:")))
        layout.addWidget(self.response_view, 2)

    def settings(self):
        """The generation settings as set (core.inference.generation.GenerationSettings)."""
        from core.inference.generation import GenerationSettings

        return GenerationSettings(self.max_new_tokens.value(), self.temperature.value(),
                                  self.top_p.value())

    def begin(self):
        """A new response: the previous one (if still being written) is stopped and
        cleared. Returns (on_text, should_stop) for the generation: pieces of a stopped or
        superseded response are dropped."""
        self._stop.set()
        stop = self._stop = threading.Event()
        self.response_view.clear()
        self.generate_button.setEnabled(False)
        self.stop_button.setEnabled(True)

        def on_text(piece: str) -> None:
            if not stop.is_set():
                self.text_arrived.emit(piece)

        return on_text, stop.is_set

    def end(self) -> None:
        """The response is complete, stopped or failed: Generate can be pressed again."""
        self._stop.set()
        self.generate_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _append(self, piece: str) -> None:
        cursor = self.response_view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.response_view.setTextCursor(cursor)

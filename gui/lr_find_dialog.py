"""LrFindDialog: the learning-rate range test (core.train.lr_find) of the settings on screen,
run on the background runner, its smoothed loss drawn against the rate (log scale), and the
suggested rate put into the optimizer's lr field with one click.

The test trains a copy of the run built from the form's settings and writes nothing; closing
the dialog stops it at its next step.
"""

from __future__ import annotations

import math
import threading
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from core.config import RunConfig
from gui.background import runner
from gui.i18n import translate_message
from gui.plots.style import BEST_COLOR, TRAINING_COLOR


class LrFindDialog(QDialog):
    """Opens at once, runs the range test, and offers its suggestion."""

    def __init__(self, config: RunConfig, use_lr: Callable[[float], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(QCoreApplication.translate("LrFindDialog", "Find learning rate"))
        self.resize(620, 440)
        self.use_lr = use_lr
        self.suggested_lr: float | None = None
        self.finding = None
        self.stop_requested = threading.Event()
        self.status_label = QLabel(QCoreApplication.translate(
            "LrFindDialog", "Training a copy of the model while the learning rate grows "
            "from 1e-7 to 10; nothing is saved…"))
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.setLogMode(x=True, y=False)
        item.setLabel("bottom", QCoreApplication.translate("LrFindDialog", "learning rate"))
        item.setLabel("left", QCoreApplication.translate("LrFindDialog", "smoothed loss"))
        item.showGrid(x=True, y=True, alpha=0.2)
        self.curve = self.plot.plot(pen=pg.mkPen(TRAINING_COLOR, width=2))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(BEST_COLOR, width=1,
                                                             style=Qt.PenStyle.DashLine))
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.use_button = QPushButton(QCoreApplication.translate(
            "LrFindDialog", "Use suggested lr"))
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.accept_suggestion)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.plot, 1)
        layout.addWidget(buttons)

        def work():
            from core.train.lr_find import find_lr

            return find_lr(config, should_stop=self.stop_requested.is_set)

        runner().submit(self, work, self.show_finding, self.show_failure, "lr_find")

    def is_running(self) -> bool:
        return runner().is_busy(self, "lr_find")

    def show_finding(self, finding) -> None:
        """Draw the smoothed loss against the rate and offer the suggestion."""
        self.finding = finding
        if finding.lrs:
            self.curve.setData(np.asarray(finding.lrs), np.asarray(finding.smoothed))
        self.suggested_lr = finding.suggested_lr
        if self.suggested_lr is None:
            self.status_label.setText(QCoreApplication.translate(
                "LrFindDialog", "The loss diverged too early to suggest a learning rate; "
                "check the data and the model."))
            return
        self.marker.setValue(math.log10(self.suggested_lr))
        self.marker.show()
        self.status_label.setText(QCoreApplication.translate(
            "LrFindDialog", "Suggested learning rate: {0} (where the smoothed loss falls "
            "longest; steepest at {1}).").format(f"{self.suggested_lr:.3g}",
                                                 f"{finding.steepest_lr:.3g}"))
        self.use_button.setEnabled(True)

    def show_failure(self, message: str, details: str) -> None:
        self.status_label.setText(translate_message(message))

    def accept_suggestion(self) -> None:
        """Put the suggested rate into the lr field and close."""
        if self.suggested_lr is not None:
            self.use_lr(float(f"{self.suggested_lr:.3g}"))
        self.close()

    def closeEvent(self, event) -> None:
        self.stop_requested.set()  # the test ends at its next step
        super().closeEvent(event)

"""SweepDialog: a sweep (core.sweep) of the settings on screen. Tick the numeric and choice
fields to vary and give their values comma-separated; the runs fill a table and a scatter
plot of the first varied setting against the validation score as each ends; any run opens
in the Runs tab; Stop ends the running run resumably (`traindesk sweep --resume ID`).

The sweep trains on a QThread of its own, like a run (gui/training_thread.py): its loop is
busy in training, so Stop is a flag on its RunControl, and closing waits for the thread.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt, QThread, Signal
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHBoxLayout, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.catalog import CATALOGUES
from core.config import COMPONENT_SECTIONS, TRAINING_PARAMS, RunConfig
from core.control import RunControl
from core.errors import BadInput
from core.sweep import PointResult, Sweep, run_sweep
from gui.i18n import translate_message
from gui.plots.style import TRAINING_COLOR

VARIED_KINDS = ("int", "float", "choice")


class SweepThread(QThread):
    """Trains a sweep's remaining points, one after another."""

    point_done = Signal(object)  # a PointResult

    def __init__(self, sweep: Sweep) -> None:
        super().__init__()
        self.sweep, self.control = sweep, RunControl()

    def run(self) -> None:
        run_sweep(self.sweep, self.control, on_point=self.point_done.emit)


class SweepDialog(QDialog):
    """Pick the fields to vary, run the sweep, watch and open its runs."""

    def __init__(self, config: RunConfig, fields: list[tuple[str, object]], runs_dir: Path,
                 open_run: Callable[[Path], None], parent: QWidget | None = None) -> None:
        """`fields`: ("section.key", current value) of the form's numeric and choice fields."""
        super().__init__(parent)
        self.setWindowTitle(QCoreApplication.translate("SweepDialog", "Sweep"))
        self.resize(820, 640)
        self.config, self.runs_dir, self.open_run = config, runs_dir, open_run
        self.sweep: Sweep | None = None
        self.thread: SweepThread | None = None
        self.fields_table = QTableWidget(len(fields), 2)
        self.fields_table.setHorizontalHeaderLabels([
            QCoreApplication.translate("SweepDialog", "Setting"),
            QCoreApplication.translate("SweepDialog", "Values (comma-separated)")])
        for row, (key, value) in enumerate(fields):
            item = QTableWidgetItem(key)
            item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.fields_table.setItem(row, 0, item)
            self.fields_table.setItem(row, 1, QTableWidgetItem(_shown(value)))
        self.fields_table.horizontalHeader().setStretchLastSection(True)
        self.status_label = QLabel(QCoreApplication.translate(
            "SweepDialog", "Tick the settings to vary and list their values; every "
            "combination is one run."))
        self.status_label.setWordWrap(True)
        self.results_table = QTableWidget(0, 0)
        self.results_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results_table.doubleClicked.connect(self.open_selected)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(160)
        self.plot.getPlotItem().showGrid(x=True, y=True, alpha=0.2)
        self.scatter = pg.ScatterPlotItem(size=9, brush=pg.mkBrush(TRAINING_COLOR))
        self.plot.addItem(self.scatter)
        self.start_button = QPushButton(QCoreApplication.translate("SweepDialog", "Start"))
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton(QCoreApplication.translate("SweepDialog", "Stop"))
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.open_button = QPushButton(QCoreApplication.translate("SweepDialog", "Open run"))
        self.open_button.clicked.connect(self.open_selected)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.open_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields_table, 2)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        layout.addWidget(self.results_table, 2)
        layout.addWidget(self.plot, 2)

    def specs(self) -> list[str]:
        """The ticked settings as --grid specs."""
        table = self.fields_table
        return [f"{table.item(row, 0).text()}={table.item(row, 1).text()}"
                for row in range(table.rowCount())
                if table.item(row, 0).checkState() == Qt.CheckState.Checked]

    def start(self) -> None:
        try:
            self.sweep = Sweep.create(self.config, self.specs(), self.runs_dir)
        except BadInput as exc:
            self.status_label.setText(translate_message(str(exc)))
            return
        self.status_label.setText(QCoreApplication.translate(
            "SweepDialog", "Sweep {0}: {1} runs. Stopped, it continues with traindesk sweep "
            "--resume {0}.").format(self.sweep.id, len(self.sweep.points)))
        self.show_results(self.sweep.results())
        self.thread = SweepThread(self.sweep)
        self.thread.point_done.connect(lambda result: self.show_results(self.sweep.results()))
        self.thread.finished.connect(self.sweep_ended)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.control.stop()
            self.stop_button.setEnabled(False)

    def sweep_ended(self) -> None:
        self.stop_button.setEnabled(False)
        self.start_button.setEnabled(True)
        if self.sweep is not None:
            self.show_results(self.sweep.results())

    def is_running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def stop_and_wait(self) -> None:
        """Stop the sweep (its run saves, resumable) and wait for the thread."""
        if self.thread is not None:
            self.thread.control.stop()
            self.thread.wait()

    def show_results(self, results: list[PointResult]) -> None:
        """Fill the table (one row a point) and the plot (setting against score)."""
        keys = list(results[0].settings) if results else []
        headers = [*keys, QCoreApplication.translate("SweepDialog", "status"),
                   QCoreApplication.translate("SweepDialog", "val metric"),
                   QCoreApplication.translate("SweepDialog", "val loss")]
        table = self.results_table
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(results))
        for row, result in enumerate(results):
            values = [*(result.settings[k] for k in keys), result.status,
                      _score(result.best_val_metric), _score(result.best_val_loss)]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, result.run_dir)
                table.setItem(row, column, item)
        self.plot_results(keys[0] if keys else "", results)

    def plot_results(self, key: str, results: list[PointResult]) -> None:
        scored = [(r.settings[key], r.best_val_metric) for r in results
                  if r.best_val_metric is not None]
        item = self.plot.getPlotItem()
        item.setLabel("bottom", key)
        item.setLabel("left", QCoreApplication.translate("SweepDialog", "best val metric"))
        numbers = [_number(x) for x, _ in scored]
        if scored and all(n is not None and n > 0 for n in numbers) \
                and max(numbers) / min(numbers) >= 10:
            item.setLabel("bottom", f"log10 {key}")  # learning rates and the like
            xs = np.log10(numbers)
        elif scored and all(n is not None for n in numbers):
            xs = np.asarray(numbers, dtype=float)
        else:  # a choice: its values in order along the axis
            names = list(dict.fromkeys(x for x, _ in scored))
            xs = np.asarray([names.index(x) for x, _ in scored], dtype=float)
        self.scatter.setData(xs, np.asarray([y for _, y in scored], dtype=float))

    def open_selected(self) -> None:
        """Show the selected run in the Runs tab."""
        items = self.results_table.selectedItems()
        path = items[0].data(Qt.ItemDataRole.UserRole) if items else None
        if path:
            self.open_run(Path(path))

    def closeEvent(self, event) -> None:
        self.stop_and_wait()
        super().closeEvent(event)


def varied_fields(config: RunConfig) -> list[tuple[str, object]]:
    """("section.key", value) of the config's numeric and choice settings: the chosen
    model's, optimizer's, schedule's and loss's parameters and [training]'s."""
    fields = []
    for section in COMPONENT_SECTIONS:
        component = getattr(config, section)
        for param in CATALOGUES[section].get(component.name).params:
            if param.kind in VARIED_KINDS:
                fields.append((f"{section}.{param.name}", component.params[param.name]))
    fields += [(f"training.{p.name}", getattr(config.training, p.name))
               for p in TRAINING_PARAMS if p.kind in VARIED_KINDS]
    return fields


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None

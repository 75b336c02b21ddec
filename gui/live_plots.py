"""Live training curves: loss per step, validation loss and the run's metric per epoch
(accuracy in percent for a classification, R2 as it is for a regression).

Points are stored as they arrive and drawn from a timer, never once per step, so the
GUI thread stays within its frame budget however fast training goes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGridLayout, QWidget

from core.events import BatchEnd, EpochEnd

REFRESH_INTERVAL_MS = 66  # about 15 redraws a second
TRAINING_COLOR = "#1f77b4"
VALIDATION_COLOR = "#d62728"

pg.setConfigOptions(antialias=True, background="w", foreground="#333")


class GrowingSeries:
    """x/y points in numpy arrays that double in capacity, so appending is cheap and
    drawing takes views of the arrays rather than converting Python lists each time."""

    def __init__(self) -> None:
        self._x = np.empty(1024)
        self._y = np.empty(1024)
        self.size = 0

    def extend(self, xs: list[float], ys: list[float]) -> None:
        end = self.size + len(xs)
        if end > len(self._x):
            capacity = max(end, 2 * len(self._x))
            self._x = np.resize(self._x, capacity)
            self._y = np.resize(self._y, capacity)
        self._x[self.size:end] = xs
        self._y[self.size:end] = ys
        self.size = end

    def clear(self) -> None:
        self.size = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[:self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[:self.size]


class LivePlots(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.loss_plot = _plot("Training loss", "step", "loss")
        self.val_loss_plot = _plot("Loss per epoch", "epoch", "loss")
        self.accuracy_plot = _plot("Accuracy per epoch", "epoch", "accuracy (%)")
        # Legends sit where the curves head away from: losses fall, accuracies rise.
        self.val_loss_plot.addLegend(offset=(-10, 10))
        self.accuracy_plot.addLegend(offset=(-10, -10))
        self.step_loss = GrowingSeries()
        self.epoch_series = {name: GrowingSeries() for name in
                             ("val_loss", "train_loss", "val_accuracy", "train_accuracy")}
        self._curves = {
            "step_loss": self.loss_plot.plot(pen=pg.mkPen(TRAINING_COLOR, width=1)),
            "val_loss": _epoch_curve(self.val_loss_plot, "validation", VALIDATION_COLOR),
            "train_loss": _epoch_curve(self.val_loss_plot, "training", TRAINING_COLOR),
            "val_accuracy": _epoch_curve(self.accuracy_plot, "validation", VALIDATION_COLOR),
            "train_accuracy": _epoch_curve(self.accuracy_plot, "training", TRAINING_COLOR),
        }
        self._steps_changed = self._epochs_changed = False
        self._metric_scale = 100  # accuracy is drawn in percent, R2 as it is
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 0, 0, 1, 2)
        layout.addWidget(self.val_loss_plot, 1, 0)
        layout.addWidget(self.accuracy_plot, 1, 1)
        layout.setRowStretch(0, 1)
        layout.setRowStretch(1, 1)

    @property
    def train_point_count(self) -> int:
        """Training-loss points received so far (drawn at the next refresh)."""
        return self.step_loss.size

    def clear(self) -> None:
        self.step_loss.clear()
        for series in self.epoch_series.values():
            series.clear()
        self._steps_changed = self._epochs_changed = True
        self.refresh()

    def start_live(self) -> None:
        self._timer.start()

    def stop_live(self) -> None:
        self._timer.stop()
        self.refresh()

    def add_steps(self, batches: list[BatchEnd]) -> None:
        self.step_loss.extend([b.step for b in batches], [b.loss for b in batches])
        self._steps_changed = True

    def set_metric(self, name: str) -> None:
        """Title and scale the metric plot for RunStarted.metric_name ("accuracy" or "r2")."""
        self._metric_scale = 100 if name == "accuracy" else 1
        label = "R2" if name == "r2" else name
        item = self.accuracy_plot.getPlotItem()
        item.setTitle(f"{label.capitalize() if name == 'accuracy' else label} per epoch")
        item.setLabel("left", "accuracy (%)" if name == "accuracy" else label)

    def add_epoch(self, event: EpochEnd) -> None:
        scale = self._metric_scale
        values = {"val_loss": event.val_loss, "train_loss": event.train_loss,
                  "val_accuracy": scale * event.val_accuracy,
                  "train_accuracy": scale * event.train_accuracy}
        for name, value in values.items():
            self.epoch_series[name].extend([event.epoch], [value])
        self._epochs_changed = True

    def refresh(self) -> None:
        """Draw what arrived since the last refresh; a plot with nothing new is left alone."""
        if self._steps_changed:
            self._curves["step_loss"].setData(self.step_loss.x, self.step_loss.y)
            self._steps_changed = False
        if self._epochs_changed:
            for name, series in self.epoch_series.items():
                self._curves[name].setData(series.x, series.y)
            self._epochs_changed = False


class WholeNumberAxis(pg.AxisItem):
    """An axis of steps or epochs, which are whole numbers: no tick at epoch 1.5."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        seen: set[float] = set()
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            whole = [v for v in values if float(v).is_integer() and v not in seen]
            seen.update(whole)
            levels.append((max(spacing, 1), whole))
        return levels


def _plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(title=title, axisItems={"bottom": WholeNumberAxis("bottom")})
    item = widget.getPlotItem()
    item.setLabel("bottom", x_label)
    item.setLabel("left", y_label)
    item.showGrid(x=True, y=True, alpha=0.2)
    # Grid lines at the finest tick level cost ~15 ms a redraw (measured, offscreen and
    # Xvfb alike); two levels look the same to a reader at a quarter of the cost.
    for axis in ("left", "bottom"):
        item.getAxis(axis).setStyle(maxTickLevel=1)
    # Long runs have millions of steps: draw only what is visible, reduced to screen pixels.
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    widget.setMinimumHeight(160)
    return widget


def _epoch_curve(plot: pg.PlotWidget, name: str, color: str) -> pg.PlotDataItem:
    return plot.plot(name=name, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                     symbolBrush=color, symbolPen=None)

"""Training curves: the live plots of the run in progress (LivePlots) and the overlay of
several finished runs (ComparePlots), with the same controls: smoothing of the training
loss (TensorBoard's debiased moving average, the raw curve faint behind), log scale, an x
axis by step or by epoch, a readout of the point under the mouse, and export of each plot
as PNG, SVG or CSV.

Points are stored as they arrive and drawn from a timer, never once per step. Each timer
tick redraws at most one plot: the training-loss plot first, the per-epoch plots in turn
on the following ticks. At an epoch's end every plot changes at once, and redrawing all of
them in one tick took ~25 ms, over the 16 ms frame budget (docs/performance.md).
"""

from __future__ import annotations

import csv
import io
import math
import time
import zlib
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QMenu, QSlider, QToolButton, QVBoxLayout, QWidget)

from core.runs.hints import curve_hints
from core.runs.curves import RunCurves, Smoother, epoch_positions, smooth
from core.events import BatchEnd, EpochEnd, RunStarted
from core.files import write_atomic, write_text_atomic

REFRESH_INTERVAL_MS = 66  # about 15 redraws a second, one plot each
LR_REDRAW_S = 0.5  # the learning rate changes slowly; its plot need not keep pace
TRAINING_COLOR = "#1f77b4"
VALIDATION_COLOR = "#d62728"
BEST_COLOR = "#2ca02c"
DEFAULT_SMOOTHING = 0.6  # TensorBoard's default
# Epoch curves show a dot per epoch up to this many epochs; past it the dots cost more
# than they tell (900 dotted epochs took 16.6 ms a redraw, docs/performance.md, soak).
MAX_EPOCH_SYMBOLS = 200
PLOT_KEYS = ("steps", "epoch_loss", "epoch_metric", "lr")
EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg);;CSV data (*.csv)"

pg.setConfigOptions(antialias=True, background="w", foreground="#333")


class GrowingSeries:
    """x/y points in numpy arrays that double in capacity, so appending is cheap and
    drawing takes views of the arrays rather than converting Python lists each time."""

    def __init__(self) -> None:
        self._x = np.empty(1024)
        self._y = np.empty(1024)
        self.size = 0

    def extend(self, xs, ys) -> None:
        end = self.size + len(xs)
        if end > len(self._x):
            capacity = max(end, 2 * len(self._x))
            self._x = np.resize(self._x, capacity)
            self._y = np.resize(self._y, capacity)
        self._x[self.size:end] = xs
        self._y[self.size:end] = ys
        self.size = end

    def set(self, xs, ys) -> None:
        self.clear()
        self.extend(xs, ys)

    def clear(self) -> None:
        self.size = 0

    @property
    def x(self) -> np.ndarray:
        return self._x[:self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[:self.size]


# Ten colours that tell apart on white (matplotlib's tab10 without its grey, plus a navy).
RUN_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#bcbd22", "#17becf", "#1a237e")


def run_colors(names: list[str]) -> dict[str, str]:
    """A colour for each run shown together. Each run's colour comes from a hash of its
    folder name, so it is the same from session to session and from one comparison to the
    next; only when two shown runs hash to the same colour does the later folder (by name)
    take the next free one, so no two curves look alike."""
    taken: dict[str, str] = {}
    for name in sorted(set(names)):
        slot = zlib.crc32(name.encode("utf-8")) % len(RUN_PALETTE)
        for offset in range(len(RUN_PALETTE)):
            color = RUN_PALETTE[(slot + offset) % len(RUN_PALETTE)]
            if color not in taken.values() or len(taken) >= len(RUN_PALETTE):
                break
        taken[name] = color
    return {name: taken[name] for name in names}


def metric_label(name: str) -> tuple[str, float]:
    """(axis label, scale) for a run's metric: accuracy in percent, R2 as it is."""
    return ("accuracy (%)", 100.0) if name == "accuracy" else (name.replace("r2", "R2"), 1.0)


class CurvePlots(QWidget):
    """The four plots and their controls; LivePlots and ComparePlots fill in the curves."""

    hover_changed = Signal(str)  # the readout of the point under the mouse

    def __init__(self) -> None:
        super().__init__()
        self.smoothing = DEFAULT_SMOOTHING
        self.log_scale = False
        self.x_by = "step"  # or "epoch"
        self.loss_plot = _plot("Training loss", "step", "loss")
        self.val_loss_plot = _plot("Loss per epoch", "epoch", "loss")
        self.accuracy_plot = _plot("Accuracy per epoch", "epoch", "accuracy (%)")
        self.lr_plot = _plot("Learning rate", "step", "learning rate")
        self.plots = {"steps": self.loss_plot, "epoch_loss": self.val_loss_plot,
                      "epoch_metric": self.accuracy_plot, "lr": self.lr_plot}
        self.plot_titles = {"steps": "Training loss", "epoch_loss": "Loss per epoch",
                            "epoch_metric": "Metric per epoch", "lr": "Learning rate"}
        self._markers = {key: _hover_marker(plot) for key, plot in self.plots.items()}
        self._hover_proxies = [
            pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=30,
                           slot=lambda args, key=key: self._on_mouse_moved(key, args[0]))
            for key, plot in self.plots.items()]

        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.smoothing_slider.setFixedWidth(140)
        self.smoothing_slider.setToolTip("Smooth the training loss with a moving average, as "
                                         "TensorBoard does (0: raw). The raw curve stays faint "
                                         "behind.")
        self.smoothing_value = QLabel(f"{DEFAULT_SMOOTHING:.2f}")
        self.smoothing_slider.valueChanged.connect(
            lambda value: self.set_smoothing(value / 100))
        self.log_checkbox = QCheckBox("Log scale")
        self.log_checkbox.setToolTip("Show losses and the learning rate on a logarithmic axis.")
        self.log_checkbox.toggled.connect(self.set_log_scale)
        self.x_axis_combo = QComboBox()
        self.x_axis_combo.addItems(["step", "epoch"])
        self.x_axis_combo.setToolTip("Draw every plot against optimisation steps or epochs.")
        self.x_axis_combo.currentTextChanged.connect(self.set_x_axis)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save a plot as an image (PNG, SVG) or its data (CSV).")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for key in PLOT_KEYS:
            menu.addAction(f"{self.plot_titles[key]}…",
                           lambda key=key: self._ask_export(key))
        self.export_button.setMenu(menu)
        self.readout = QLabel()
        self.readout.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The hint floats over the training-loss plot (top right, where a falling loss
        # leaves room): appearing and going, it moves no plot, so no plot is redrawn for it.
        self.hint_label = QLabel(self.loss_plot)
        self.hint_label.setWordWrap(True)
        self.hint_label.setObjectName("curveHint")
        self.hint_label.setStyleSheet("#curveHint { background: #fff4ce; border: 1px solid "
                                      "#e8c35a; border-radius: 4px; padding: 4px 8px; "
                                      "color: #4d3800; }")
        self.hint_label.hide()

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing_slider)
        controls.addWidget(self.smoothing_value)
        controls.addSpacing(12)
        controls.addWidget(self.log_checkbox)
        controls.addSpacing(12)
        controls.addWidget(QLabel("X axis"))
        controls.addWidget(self.x_axis_combo)
        controls.addSpacing(12)
        controls.addWidget(self.export_button)
        controls.addStretch(1)
        controls.addWidget(self.readout)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.loss_plot, 0, 0, 1, 3)
        grid.addWidget(self.val_loss_plot, 1, 0)
        grid.addWidget(self.accuracy_plot, 1, 1)
        grid.addWidget(self.lr_plot, 1, 2)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        self.loss_plot.installEventFilter(self)
        self._label_x_axes()

    # Controls

    def set_smoothing(self, weight: float) -> None:
        """Smooth the training loss with this weight (0: raw, up to 0.99)."""
        weight = min(max(weight, 0.0), 0.99)
        self.smoothing = weight
        self.smoothing_value.setText(f"{weight:.2f}")
        if self.smoothing_slider.value() != round(weight * 100):
            self.smoothing_slider.setValue(round(weight * 100))
        self._smoothing_changed()
        self.redraw_all()

    def set_log_scale(self, on: bool) -> None:
        self.log_scale = bool(on)
        if self.log_checkbox.isChecked() != self.log_scale:
            self.log_checkbox.setChecked(self.log_scale)
        for key in ("steps", "epoch_loss", "lr"):
            self.plots[key].getPlotItem().setLogMode(x=False, y=self.log_scale)
        self.redraw_all()  # the learning-rate axis is fitted by hand, for either scale

    def set_x_axis(self, by: str) -> None:
        """Draw every plot against "step" or "epoch"."""
        if by not in ("step", "epoch"):
            raise ValueError(f"x axis by {by!r}: choose step or epoch")
        self.x_by = by
        if self.x_axis_combo.currentText() != by:
            self.x_axis_combo.setCurrentText(by)
        self._label_x_axes()
        for plot in self.plots.values():
            plot.getPlotItem().enableAutoRange()
        self.redraw_all()

    def _label_x_axes(self) -> None:
        for plot in self.plots.values():
            plot.getPlotItem().setLabel("bottom", self.x_by)

    def show_hints(self, hints: list) -> None:
        text = "<br>".join(f"<b>{h.title}.</b> {h.text}" for h in hints)
        if text != self.hint_label.text():
            self.hint_label.setText(text)
            self._place_hint()
        self.hint_label.setVisible(bool(hints))

    def eventFilter(self, watched, event) -> bool:
        if watched is self.loss_plot and event.type() == QEvent.Type.Resize:
            self._place_hint()
        return False

    def _place_hint(self) -> None:
        width = max(200, min(560, self.loss_plot.width() - 140))
        self.hint_label.setFixedWidth(width)
        if self.hint_label.text():
            self.hint_label.setFixedHeight(self.hint_label.heightForWidth(width))
        self.hint_label.move(self.loss_plot.width() - width - 20, 34)

    def hint_text(self) -> str:
        return self.hint_label.text() if self.hint_label.isVisibleTo(self) else ""

    # Export

    def _ask_export(self, key: str) -> None:
        name = self.plot_titles[key].lower().replace(" ", "-")
        path, chosen = QFileDialog.getSaveFileName(self, f"Export {self.plot_titles[key]}",
                                                   str(Path.home() / f"{name}.png"),
                                                   EXPORT_FILTER)
        if not path:
            return
        if not Path(path).suffix:
            path += "." + chosen.split("*.")[1].rstrip(")")
        try:
            self.export_plot(key, Path(path))
        except (OSError, ValueError) as exc:
            self.readout.setText(f"Could not export: {exc}")

    def export_plot(self, key: str, path: Path) -> None:
        """Save plot `key` as an image (.png, .svg) or its full data (.csv) to `path`."""
        import pyqtgraph.exporters as exporters

        path = Path(path)
        suffix = path.suffix.lower()
        self.redraw_all()
        item = self.plots[key].getPlotItem()
        if suffix == ".png":
            exporter = exporters.ImageExporter(item)
            exporter.parameters()["width"] = max(1200, int(item.sceneBoundingRect().width()))
            exporter.export(str(path))
        elif suffix == ".svg":
            _save_svg(self.plots[key], path, self.plot_titles[key])
        elif suffix == ".csv":
            header, rows = self.plot_data(key)
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([_csv_cell(v) for v in row] for row in rows)
            write_text_atomic(path, text.getvalue())
        else:
            raise ValueError(f"{path.name}: choose a .png, .svg or .csv file")

    def plot_data(self, key: str) -> tuple[list[str], list[list]]:
        """The full data behind plot `key` (not the downsampled view): header and rows."""
        raise NotImplementedError

    # Drawing

    def redraw_all(self) -> None:
        raise NotImplementedError

    def _smoothing_changed(self) -> None:
        raise NotImplementedError

    def hover_series(self, key: str) -> list[tuple[str, np.ndarray, np.ndarray, list]]:
        """What the readout can name in plot `key`: (label, x, y, [(extra name, values)])."""
        raise NotImplementedError

    # Hover readout

    def _on_mouse_moved(self, key: str, position) -> None:
        item = self.plots[key].getPlotItem()
        box = item.vb
        if not box.sceneBoundingRect().contains(position):
            return
        point = box.mapSceneToView(position)
        found = None
        for label, xs, ys, extras in self.hover_series(key):
            if len(xs) == 0:
                continue
            i = int(np.clip(np.searchsorted(xs, point.x()), 1, len(xs) - 1)) if len(xs) > 1 else 0
            if i and abs(xs[i - 1] - point.x()) <= abs(xs[i] - point.x()):
                i -= 1
            y_view = math.log10(ys[i]) if self.log_scale and key != "epoch_metric" and ys[i] > 0 \
                else ys[i]
            distance = abs(y_view - point.y())
            if found is None or distance < found[0]:
                found = (distance, label, xs[i], ys[i], [(n, v[i]) for n, v in extras])
        if found is None:
            return
        _, label, x, y, extras = found
        named = [f"{n} {_number(v)}" for n, v in extras]  # the other axis first, then more
        parts = [f"{self.x_by} {_number(x)}", *named[:1], f"{label} {_number(y)}", *named[1:]]
        text = " · ".join(parts)
        self._markers[key].setData([x], [y])
        self.readout.setText(text)
        self.hover_changed.emit(text)


class LivePlots(CurvePlots):
    """The run in progress: training loss per step, training and validation loss and metric
    per epoch, learning rate per step, and a marker at the best epoch (lowest validation
    loss, the one best.pt holds). A hint appears when the curves show over- or
    underfitting, or a loss that is not a number."""

    def __init__(self) -> None:
        super().__init__()
        legends = [self.val_loss_plot.addLegend(offset=(-10, 10)),  # losses fall: top right
                   self.accuracy_plot.addLegend(offset=(-10, -10))]  # metrics rise: bottom
        for legend in legends:  # readable where a curve runs behind it (overfitting)
            legend.setBrush(pg.mkBrush(255, 255, 255, 210))
        self.step_loss = GrowingSeries()  # x: step
        self.step_smoothed = GrowingSeries()
        self.step_epoch = GrowingSeries()  # x: step, y: the step's epoch
        self.step_lr = GrowingSeries()
        self.epoch_series = {name: GrowingSeries() for name in
                             ("val_loss", "train_loss", "val_accuracy", "train_accuracy")}
        self.epoch_steps = GrowingSeries()  # x: epoch, y: the step at its end
        self.best_epoch: int | None = None
        self.metric_name = "accuracy"
        self._metric_scale = 100.0
        self._steps_per_epoch = 0
        self._smoother = Smoother(self.smoothing)
        self._error: str | None = None
        self._curves = {
            # Per-step curves are drawn 1 px wide: a 2 px antialiased line over thousands of
            # points costs ~20 ms a redraw, 1 px ~4 ms (measured, offscreen).
            "step_raw": self.loss_plot.plot(pen=pg.mkPen(_faint(TRAINING_COLOR), width=1)),
            "step_loss": self.loss_plot.plot(pen=pg.mkPen(TRAINING_COLOR, width=1)),
            "val_loss": _epoch_curve(self.val_loss_plot, "validation", VALIDATION_COLOR),
            "train_loss": _epoch_curve(self.val_loss_plot, "training", TRAINING_COLOR),
            "val_accuracy": _epoch_curve(self.accuracy_plot, "validation", VALIDATION_COLOR),
            "train_accuracy": _epoch_curve(self.accuracy_plot, "training", TRAINING_COLOR),
            "lr": self.lr_plot.plot(pen=pg.mkPen("#7f7f7f", width=1)),
        }
        # The best epoch: a dashed line in both epoch plots, named in their legends.
        self._best_lines = [_best_line(plot) for plot in (self.val_loss_plot, self.accuracy_plot)]
        self._best_sample = pg.PlotDataItem(pen=self._best_lines[0].pen)
        self._best_labels = []
        for legend in legends:
            legend.addItem(self._best_sample, "best epoch")
            self._best_labels.append(legend.items[-1][1])
        self._dirty: set[str] = set()
        self._last_drawn: str | None = None
        self._turn = 0  # round robin over the plots other than the training loss
        self._lr_drawn_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh)

    @property
    def train_point_count(self) -> int:
        """Training-loss points received so far (drawn at the next refresh)."""
        return self.step_loss.size

    def clear(self) -> None:
        for series in (self.step_loss, self.step_smoothed, self.step_epoch, self.step_lr,
                       self.epoch_steps, *self.epoch_series.values()):
            series.clear()
        self._smoother = Smoother(self.smoothing)
        self.best_epoch = None
        self._error = None
        self._steps_per_epoch = 0
        self.show_hints([])
        self.readout.clear()
        for marker in self._markers.values():
            marker.setData([], [])
        self.redraw_all()

    def start_live(self) -> None:
        self._timer.start()

    def stop_live(self) -> None:
        self._timer.stop()
        self.redraw_all()

    def start_run(self, event: RunStarted) -> None:
        """Take the run's metric and steps per epoch (for the epoch axis)."""
        self._steps_per_epoch = event.steps_per_epoch
        self.set_metric(event.metric_name)

    def set_metric(self, name: str) -> None:
        """Title and scale the metric plot for RunStarted.metric_name ("accuracy" or "r2")."""
        self.metric_name = name
        label, self._metric_scale = metric_label(name)
        title = "Accuracy per epoch" if name == "accuracy" else f"{label} per epoch"
        item = self.accuracy_plot.getPlotItem()
        item.setTitle(title)
        item.setLabel("left", label)

    def show_failure(self, error: str) -> None:
        """The run failed with this message; a loss that became nan or inf gets its hint."""
        self._error = error
        self._update_hints()

    def add_steps(self, batches: list[BatchEnd]) -> None:
        losses = np.fromiter((b.loss for b in batches), float, len(batches))
        steps = np.fromiter((b.step for b in batches), float, len(batches))
        self.step_loss.extend(steps, losses)
        self.step_smoothed.extend(steps, self._smoother.feed(losses))
        self.step_epoch.extend(steps, [b.epoch for b in batches])
        self.step_lr.extend(steps, [b.lr for b in batches])
        self._dirty.update(("steps", "lr"))

    def add_epoch(self, event: EpochEnd) -> None:
        scale = self._metric_scale
        values = {"val_loss": event.val_loss, "train_loss": event.train_loss,
                  "val_accuracy": scale * event.val_metric,
                  "train_accuracy": scale * event.train_metric}
        for name, value in values.items():
            self.epoch_series[name].extend([event.epoch], [value])
        self.epoch_steps.extend([event.epoch], [event.step])
        if event.is_best:
            self.best_epoch = event.epoch
        self._dirty.update(("epoch_loss", "epoch_metric"))
        self._update_hints()

    def _update_hints(self) -> None:
        initial = float(self.step_loss.y[0]) if self.step_loss.size else None
        self.show_hints(curve_hints(self.epoch_series["train_loss"].y.tolist(),
                                    self.epoch_series["val_loss"].y.tolist(), initial,
                                    self._error))

    # Drawing

    def refresh(self) -> None:
        """Redraw at most one plot that has news: the training loss, unless it was the one
        drawn last tick and another plot waits; the others take turns."""
        key = self._next_plot()
        if key is not None:
            self._draw(key)

    def _next_plot(self) -> str | None:
        waiting = [k for k in PLOT_KEYS[1:] if k in self._dirty
                   and (k != "lr" or time.monotonic() - self._lr_drawn_at >= LR_REDRAW_S)]
        if "steps" in self._dirty and (self._last_drawn != "steps" or not waiting):
            return "steps"
        if not waiting:
            return None
        for offset in range(len(PLOT_KEYS) - 1):
            key = PLOT_KEYS[1 + (self._turn + offset) % (len(PLOT_KEYS) - 1)]
            if key in waiting:
                self._turn = (PLOT_KEYS.index(key)) % (len(PLOT_KEYS) - 1)
                return key
        return None

    def redraw_all(self) -> None:
        for key in PLOT_KEYS:
            self._draw(key)

    def _draw(self, key: str) -> None:
        self._dirty.discard(key)
        self._last_drawn = key
        self._set_curves(key)
        # Fit the view to the new data now: left to the paint, the range change it makes
        # asks for a second paint of the whole plot (measured: two paints per redraw).
        self.plots[key].getPlotItem().vb.prepareForPaint()

    def _set_curves(self, key: str) -> None:
        if key == "steps":
            x = self._step_x()
            if self.smoothing > 0:
                self._curves["step_raw"].setData(x, self.step_loss.y)
                self._curves["step_loss"].setData(x, self.step_smoothed.y)
            else:
                self._curves["step_raw"].setData([], [])
                self._curves["step_loss"].setData(x, self.step_loss.y)
        elif key == "lr":
            self._lr_drawn_at = time.monotonic()
            self._curves["lr"].setData(self._step_x(), self.step_lr.y)
            _fit_rate_axis(self.lr_plot, self.step_lr.y, self.log_scale)
        else:
            names = ("val_loss", "train_loss") if key == "epoch_loss" \
                else ("val_accuracy", "train_accuracy")
            x = self.epoch_series["val_loss"].x if self.x_by == "epoch" else self.epoch_steps.y
            for name in names:
                curve = self._curves[name]
                _show_symbols(curve, len(x) <= MAX_EPOCH_SYMBOLS)
                curve.setData(x, self.epoch_series[name].y)
            # a resumed run's events start at a later epoch: find the best one by number
            best = np.flatnonzero(self.epoch_series["val_loss"].x == self.best_epoch)
            for line in self._best_lines:
                line.setVisible(bool(len(best)))
                if len(best):
                    line.setValue(x[best[0]])
            for label in self._best_labels:
                label.setText(f"best: epoch {self.best_epoch}" if len(best) else "best epoch")

    def _step_x(self) -> np.ndarray:
        if self.x_by == "step":
            return self.step_loss.x
        if self._steps_per_epoch:
            return self.step_loss.x / self._steps_per_epoch
        return epoch_positions(self.step_loss.x, self.step_epoch.y)

    def _smoothing_changed(self) -> None:
        self._smoother = Smoother(self.smoothing)
        self.step_smoothed.set(self.step_loss.x, self._smoother.feed(self.step_loss.y))

    # Readout and export

    def hover_series(self, key: str) -> list:
        if key in ("steps", "lr"):
            x = self._step_x()
            other = ("epoch", self.step_epoch.y) if self.x_by == "step" \
                else ("step", self.step_loss.x)
            if key == "lr":
                return [("lr", x, self.step_lr.y, [other])]
            extras = [other] + ([("raw", self.step_loss.y)] if self.smoothing > 0 else [])
            label = "smoothed loss" if self.smoothing > 0 else "loss"
            y = self.step_smoothed.y if self.smoothing > 0 else self.step_loss.y
            return [(label, x, y, extras)]
        x = self.epoch_series["val_loss"].x if self.x_by == "epoch" else self.epoch_steps.y
        other = ("step", self.epoch_steps.y) if self.x_by == "epoch" \
            else ("epoch", self.epoch_series["val_loss"].x)
        metric = metric_label(self.metric_name)[0]
        names = {"val_loss": "validation loss", "train_loss": "training loss",
                 "val_accuracy": f"validation {metric}", "train_accuracy": f"training {metric}"}
        chosen = ("val_loss", "train_loss") if key == "epoch_loss" \
            else ("val_accuracy", "train_accuracy")
        return [(names[n], x, self.epoch_series[n].y, [other]) for n in chosen]

    def plot_data(self, key: str) -> tuple[list[str], list[list]]:
        if key == "steps":
            return (["step", "epoch", "loss", f"smoothed_loss ({self.smoothing:.2f})"],
                    list(zip(self.step_loss.x, self.step_epoch.y, self.step_loss.y,
                             self.step_smoothed.y)))
        if key == "lr":
            return ["step", "epoch", "lr"], list(zip(self.step_lr.x, self.step_epoch.y,
                                                     self.step_lr.y))
        metric = "loss" if key == "epoch_loss" else self.metric_name
        names = ("train_loss", "val_loss") if key == "epoch_loss" \
            else ("train_accuracy", "val_accuracy")
        scale = 1.0 if key == "epoch_loss" else self._metric_scale
        return (["epoch", "step", f"train_{metric}", f"val_{metric}"],
                [[e, s, *(self.epoch_series[n].y[i] / scale for n in names)]
                 for i, (e, s) in enumerate(zip(self.epoch_steps.x, self.epoch_steps.y))])


class ComparePlots(CurvePlots):
    """Several runs overlaid: smoothed training loss, validation loss and metric per epoch
    and the learning rate, one colour per run (from its name, so it stays the same), with a
    legend naming the runs."""

    def __init__(self) -> None:
        super().__init__()
        self.loss_plot.getPlotItem().setTitle("Training loss (smoothed)")
        self.val_loss_plot.getPlotItem().setTitle("Validation loss per epoch")
        self.accuracy_plot.getPlotItem().setTitle("Validation metric per epoch")
        self.legend = self.loss_plot.addLegend(offset=(-10, 10))
        self.legend.setBrush(pg.mkBrush(255, 255, 255, 210))
        self.runs: list[tuple[str, str, RunCurves, str]] = []  # (key, label, curves, metric)
        self._items: list = []

    def set_runs(self, runs: list[tuple[str, str, RunCurves, str]]) -> None:
        """Show these runs: (folder name, label for the legend, curves, metric name)."""
        self.runs = list(runs)
        metrics = {metric for *_, metric in self.runs}
        label = metric_label(metrics.pop())[0] if len(metrics) == 1 else "metric (% or R2)"
        self.accuracy_plot.getPlotItem().setLabel("left", label)
        self.readout.clear()
        self.redraw_all()

    def run_colors(self) -> dict[str, str]:
        return run_colors([key for key, *_ in self.runs])

    def legend_labels(self) -> list[str]:
        return [label.text for _, label in self.legend.items]

    def _smoothing_changed(self) -> None:
        pass  # smoothed at each redraw: the runs are finished, so this is rare

    def redraw_all(self) -> None:
        for plot, item in self._items:
            plot.removeItem(item)
        self._items = []
        self.legend.clear()
        colors = self.run_colors()
        for key, label, curves, metric in self.runs:
            color = colors[key]
            _, scale = metric_label(metric)
            step_x = curves.step if self.x_by == "step" else curves.epoch_position
            epoch_x = curves.val_epoch if self.x_by == "epoch" else curves.val_step
            loss = smooth(curves.loss, self.smoothing) if self.smoothing else curves.loss
            if self.smoothing:
                self._add(self.loss_plot, pg.PlotDataItem(step_x, curves.loss,
                                                          pen=pg.mkPen(_faint(color), width=1)))
            self._add(self.loss_plot, pg.PlotDataItem(step_x, loss, pen=pg.mkPen(color, width=1),
                                                      name=label))
            for plot, values in ((self.val_loss_plot, curves.val_loss),
                                 (self.accuracy_plot, curves.val_metric * scale)):
                self._add(plot, pg.PlotDataItem(
                    epoch_x, values, pen=pg.mkPen(color, width=2), symbolSize=5,
                    symbol="o" if len(epoch_x) <= MAX_EPOCH_SYMBOLS else None,
                    symbolBrush=color, symbolPen=None))
            self._add(self.lr_plot, pg.PlotDataItem(step_x, curves.lr,
                                                    pen=pg.mkPen(color, width=1)))
        for plot in self.plots.values():
            plot.getPlotItem().enableAutoRange()
        rates = [curves.lr for _, _, curves, _ in self.runs]
        _fit_rate_axis(self.lr_plot, np.concatenate(rates) if rates else np.empty(0),
                       self.log_scale)

    def _add(self, plot: pg.PlotWidget, item) -> None:
        plot.addItem(item)
        self._items.append((plot, item))

    def hover_series(self, key: str) -> list:
        found = []
        for _, label, curves, metric in self.runs:
            _, scale = metric_label(metric)
            if key in ("steps", "lr"):
                x = curves.step if self.x_by == "step" else curves.epoch_position
                other = ("epoch", curves.epoch) if self.x_by == "step" else ("step", curves.step)
                if key == "lr":
                    found.append((f"{label}: lr", x, curves.lr, [other]))
                else:
                    found.append((f"{label}: loss", x, smooth(curves.loss, self.smoothing),
                                  [other]))
            else:
                x = curves.val_epoch if self.x_by == "epoch" else curves.val_step
                other = ("step", curves.val_step) if self.x_by == "epoch" \
                    else ("epoch", curves.val_epoch)
                y = curves.val_loss if key == "epoch_loss" else curves.val_metric * scale
                name = "validation loss" if key == "epoch_loss" else \
                    f"validation {metric_label(metric)[0]}"
                found.append((f"{label}: {name}", x, y, [other]))
        return found

    def plot_data(self, key: str) -> tuple[list[str], list[list]]:
        rows = []
        for run_key, _, curves, _ in self.runs:
            if key in ("steps", "lr"):
                values = curves.loss if key == "steps" else curves.lr
                rows += [[run_key, s, e, v] for s, e, v in zip(curves.step, curves.epoch, values)]
            else:
                values = curves.val_loss if key == "epoch_loss" else curves.val_metric
                rows += [[run_key, s, e, v] for s, e, v in
                         zip(curves.val_step, curves.val_epoch, values)]
        value = {"steps": "loss", "lr": "lr", "epoch_loss": "val_loss",
                 "epoch_metric": "val_metric"}[key]
        return ["run", "step", "epoch", value], rows


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
        # "loss (x0.001)" with ticks at 300 reads worse than ticks at 0.3
        item.getAxis(axis).enableAutoSIPrefix(False)
    # Long runs have millions of steps: draw only what is visible, reduced to screen pixels.
    item.setDownsampling(auto=True, mode="peak")
    item.setClipToView(True)
    widget.setMinimumHeight(160)
    return widget


def _epoch_curve(plot: pg.PlotWidget, name: str, color: str) -> pg.PlotDataItem:
    return plot.plot(name=name, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                     symbolBrush=color, symbolPen=None)


def _show_symbols(curve: pg.PlotDataItem, show: bool) -> None:
    if (curve.opts["symbol"] is not None) != show:
        curve.setSymbol("o" if show else None)


def _best_line(plot: pg.PlotWidget) -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=90, movable=False,
                           pen=pg.mkPen(BEST_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
    plot.addItem(line, ignoreBounds=True)
    line.hide()
    return line


def _fit_rate_axis(plot: pg.PlotWidget, rates: np.ndarray, log_scale: bool) -> None:
    """Learning rates from 0 (or, on a log axis, a little below the lowest) to a little
    above the highest: a constant rate would otherwise fill the plot as noise around it."""
    item = plot.getPlotItem()
    finite = rates[np.isfinite(rates) & (rates > 0)] if len(rates) else rates
    if not len(finite):
        item.enableAutoRange(axis="y")
        return
    low, high = float(finite.min()), float(finite.max())
    if log_scale:
        item.setYRange(math.log10(low) - 0.3, math.log10(high) + 0.3, padding=0)
    else:
        item.setYRange(0, high * 1.15, padding=0)


def _hover_marker(plot: pg.PlotWidget) -> pg.PlotDataItem:
    marker = pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=9, symbolBrush=None,
                             symbolPen=pg.mkPen("#333", width=1.5))
    plot.addItem(marker, ignoreBounds=True)
    return marker


def _save_svg(widget: pg.PlotWidget, path: Path, title: str) -> None:
    """The plot as vector graphics, painted by Qt's own SVG generator. (pyqtgraph 0.14's
    SVGExporter fails on the closed paths Qt 6.11 draws: pyqtgraph issue 3495.)"""
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    size = widget.size()
    generator = QSvgGenerator()
    buffer = QBuffer()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(size.width(), size.height()))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()
    data = bytes(buffer.data())
    write_atomic(path, lambda f: f.write(data), binary=True)


def _faint(color: str) -> QColor:
    faint = QColor(color)
    faint.setAlpha(70)
    return faint


def _number(value: float) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"


def _csv_cell(value) -> str:
    if isinstance(value, str):
        return value
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.6g}"

"""LivePlots: the curves of the run in progress, drawn from one growing CurveModel.

Points are stored as they arrive and drawn from a timer, never once per step. Each timer
tick redraws at most one plot: the training-loss plot first, the per-epoch plots in turn
on the following ticks. At an epoch's end every plot changes at once, and redrawing all of
them in one tick took ~25 ms, over the 16 ms frame budget (docs/performance.md).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, Qt, QTimer

from core.events import BatchEnd, EpochEnd, RunStarted
from core.metrics import SCORE_LABELS, metric_axis_label, metric_label, score_of
from core.runs.hints import curve_hints
from gui.plots.curve_model import EPOCH_PLOT_COLUMNS, PLOT_KEYS, CurveModel
from gui.plots.curve_plots import CurvePlots
from gui.plots.style import (MAX_EPOCH_SYMBOLS, TRAINING_COLOR, VALIDATION_COLOR, best_line,
                             epoch_curve, faint, fit_rate_axis, show_symbols)

REFRESH_INTERVAL_MS = 66  # about 15 redraws a second, one plot each
LR_REDRAW_S = 0.5  # the learning rate changes slowly; its plot need not keep pace


class LivePlots(CurvePlots):
    """The run in progress: training loss per step, training and validation loss and metric
    per epoch, learning rate per step, and a marker at the best epoch (the one best.pt
    holds). A hint appears when the curves show over- or underfitting, or a loss that is
    not a number."""

    def __init__(self) -> None:
        super().__init__()
        legends = [self.val_loss_plot.addLegend(offset=(-10, 10)),  # losses fall: top right
                   self.metric_plot.addLegend(offset=(-10, -10))]  # metrics rise: bottom
        self.legends = legends  # coloured with the plots (apply_theme)
        self.model = CurveModel()
        self._error: str | None = None
        self._classes: int | None = None  # a classifier's class count (chance level)
        validation = QCoreApplication.translate("LivePlots", "validation")
        training = QCoreApplication.translate("LivePlots", "training")
        self._curves = {
            # Per-step curves are drawn 1 px wide: a 2 px antialiased line over thousands of
            # points costs ~20 ms a redraw, 1 px ~4 ms (measured, offscreen).
            "step_raw": self.loss_plot.plot(pen=pg.mkPen(faint(TRAINING_COLOR), width=1)),
            "step_loss": self.loss_plot.plot(pen=pg.mkPen(TRAINING_COLOR, width=1)),
            "val_loss": epoch_curve(self.val_loss_plot, validation, VALIDATION_COLOR),
            "train_loss": epoch_curve(self.val_loss_plot, training, TRAINING_COLOR),
            "val_metric": epoch_curve(self.metric_plot, validation, VALIDATION_COLOR),
            "train_metric": epoch_curve(self.metric_plot, training, TRAINING_COLOR),
            "lr": self.lr_plot.plot(pen=pg.mkPen("#7f7f7f", width=1)),
            # the class score best_metric ranks by, when it is one: dashed, in the legend
            # only while shown (set_metric)
            "val_score": self.metric_plot.plot(
                pen=pg.mkPen(VALIDATION_COLOR, width=2, style=Qt.PenStyle.DashLine),
                symbol="o", symbolSize=6, symbolBrush=VALIDATION_COLOR, symbolPen=None),
        }
        self._score_in_legend = False
        # The best epoch: a dashed line in both epoch plots, named in their legends.
        self._best_lines = [best_line(plot) for plot in (self.val_loss_plot, self.metric_plot)]
        self._best_sample = pg.PlotDataItem(pen=self._best_lines[0].pen)
        self._best_labels = []
        for legend in legends:
            legend.addItem(self._best_sample,
                           QCoreApplication.translate("LivePlots", "best epoch"))
            self._best_labels.append(legend.items[-1][1])
        self.apply_theme()
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
        return len(self.model.steps)

    @property
    def best_epoch(self) -> int | None:
        return self.model.best_epoch

    def curve_models(self) -> list[tuple[str, CurveModel]]:
        return [("", self.model)]

    def clear(self) -> None:
        self.model.clear()
        self._error = None
        self._classes = None
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
        """Take the run's name, metric and steps per epoch (for the epoch axis)."""
        self.model.name = Path(event.run_dir).name
        self.model.steps_per_epoch = event.steps_per_epoch
        self.set_metric(event.metric_name, score_of(event.best_metric), event.top_k)
        # a classifier's class count: an accuracy at chance level gets its hint
        self._classes = len(event.class_names) if event.metric_name == "accuracy" else None

    def set_metric(self, name: str, score: str | None = None, top_k: int = 5) -> None:
        """Title and scale the metric plot for RunStarted.metric_name ("accuracy" or "r2"),
        and draw the validation class score `score` ranks epochs by (RunStarted.best_metric
        "val_macro_f1": "macro_f1") beside it, named on the axis and in the legend."""
        self.model.metric_name, self.model.score_name = name, score
        item = self.metric_plot.getPlotItem()
        label = QCoreApplication.translate("Metrics", metric_label(name))
        item.setTitle(QCoreApplication.translate("LivePlots", "{0} per epoch").format(
            label[:1].upper() + label[1:]))
        axis = QCoreApplication.translate("Metrics", metric_axis_label(name))
        style = {}
        legend, curve = self.legends[1], self._curves["val_score"]
        if self._score_in_legend:
            legend.removeItem(curve)
            self._score_in_legend = False
        if score:
            words = QCoreApplication.translate("Metrics", SCORE_LABELS[score]).format(k=top_k)
            axis = QCoreApplication.translate("LivePlots", "accuracy, {0} (%)").format(words)
            style = {"font-size": "8pt"}  # two names in the height of a small plot
            legend.addItem(curve, QCoreApplication.translate(
                "LivePlots", "validation {0}").format(words))
            self._score_in_legend = True
        item.getAxis("left").labelStyle = style
        item.setLabel("left", axis)
        self._dirty.add("epoch_metric")

    def show_failure(self, error: str) -> None:
        """The run failed with this message; a loss that became nan or inf gets its hint."""
        self._error = error
        self._update_hints()

    def add_steps(self, batches: list[BatchEnd]) -> None:
        self.model.add_steps(batches)
        self._dirty.update(("steps", "lr"))

    def add_epoch(self, event: EpochEnd) -> None:
        self.model.add_epoch(event)
        self._dirty.update(("epoch_loss", "epoch_metric"))
        self._update_hints()

    def _update_hints(self) -> None:
        epochs = self.model.epochs
        self.show_hints(curve_hints(epochs["train_loss"].tolist(), epochs["val_loss"].tolist(),
                                    self.model.initial_loss(), self._error,
                                    epochs["val_metric"].tolist(), self._classes))

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
        model = self.model
        if key == "steps":
            x, loss = model.step_x(self.x_by), model.steps["loss"]
            if self.smoothing > 0:
                self._curves["step_raw"].setData(x, loss)
                self._curves["step_loss"].setData(x, model.smoothed_loss(self.smoothing))
            else:
                self._curves["step_raw"].setData([], [])
                self._curves["step_loss"].setData(x, loss)
        elif key == "lr":
            self._lr_drawn_at = time.monotonic()
            self._curves["lr"].setData(model.step_x(self.x_by), model.steps["lr"])
            fit_rate_axis(self.lr_plot, model.steps["lr"], self.log_scale)
        else:
            x = model.epoch_x(self.x_by)
            for column in EPOCH_PLOT_COLUMNS[key]:
                curve = self._curves[column]
                if column == "val_score" and not model.score_name:
                    curve.setData([], [])
                    continue
                show_symbols(curve, len(x) <= MAX_EPOCH_SYMBOLS)
                curve.setData(x, model.shown(column))
            # a resumed run's events start at a later epoch: find the best one by number
            best = np.flatnonzero(model.epochs["epoch"] == model.best_epoch)
            for line in self._best_lines:
                line.setVisible(bool(len(best)))
                if len(best):
                    line.setValue(x[best[0]])
            for label in self._best_labels:
                label.setText(QCoreApplication.translate("LivePlots", "best: epoch {0}").format(
                    model.best_epoch) if len(best)
                    else QCoreApplication.translate("LivePlots", "best epoch"))

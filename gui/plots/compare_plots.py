"""ComparePlots: several finished runs overlaid, one CurveModel per run read from its
metrics.csv. Redrawn whole on each change: the runs are finished, so this is rare."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication

from core.metrics import metric_axis_label
from core.runs.curves import RunCurves
from gui.plots.curve_model import CurveModel
from gui.plots.curve_plots import CurvePlots
from gui.plots.style import MAX_EPOCH_SYMBOLS, faint, fit_rate_axis, run_colors


class ComparePlots(CurvePlots):
    """Several runs overlaid: smoothed training loss, validation loss and metric per epoch
    and the learning rate, one colour per run (from its name, so it stays the same), with a
    legend naming the runs."""

    epoch_columns = ("val",)

    def __init__(self) -> None:
        super().__init__()
        self.loss_plot.getPlotItem().setTitle(QCoreApplication.translate(
            "ComparePlots", "Training loss (smoothed)"))
        self.val_loss_plot.getPlotItem().setTitle(QCoreApplication.translate(
            "ComparePlots", "Validation loss per epoch"))
        self.metric_plot.getPlotItem().setTitle(QCoreApplication.translate(
            "ComparePlots", "Validation metric per epoch"))
        self.legend = self.loss_plot.addLegend(offset=(-10, 10))
        self.legends = [self.legend]
        self.apply_theme()
        self.models: list[tuple[str, CurveModel]] = []  # (legend label, the run's curves)
        self._items: list = []

    def set_runs(self, runs: list[tuple[str, str, RunCurves, str]]) -> None:
        """Show these runs: (folder name, label for the legend, curves, metric name)."""
        self.models = [(label, CurveModel.from_run_curves(curves, key, metric))
                       for key, label, curves, metric in runs]
        metrics = {model.metric_name for _, model in self.models}
        self.metric_plot.getPlotItem().setLabel(
            "left", QCoreApplication.translate("Metrics", metric_axis_label(metrics.pop()))
            if len(metrics) == 1 else QCoreApplication.translate("CurvePlots", "metric (% or R2)"))
        self.readout.clear()
        self.redraw_all()

    def curve_models(self) -> list[tuple[str, CurveModel]]:
        return self.models

    def run_colors(self) -> dict[str, str]:
        return run_colors([model.name for _, model in self.models])

    def legend_labels(self) -> list[str]:
        return [label.text for _, label in self.legend.items]

    def redraw_all(self) -> None:
        for plot, item in self._items:
            plot.removeItem(item)
        self._items = []
        self.legend.clear()
        colors = self.run_colors()
        for label, model in self.models:
            color = colors[model.name]
            step_x, epoch_x = model.step_x(self.x_by), model.epoch_x(self.x_by)
            if self.smoothing:
                self._add(self.loss_plot, pg.PlotDataItem(step_x, model.steps["loss"],
                                                          pen=pg.mkPen(faint(color), width=1)))
            self._add(self.loss_plot, pg.PlotDataItem(
                step_x, model.smoothed_loss(self.smoothing), pen=pg.mkPen(color, width=1),
                name=label))
            for plot, column in ((self.val_loss_plot, "val_loss"),
                                 (self.metric_plot, "val_metric")):
                self._add(plot, pg.PlotDataItem(
                    epoch_x, model.shown(column), pen=pg.mkPen(color, width=2), symbolSize=5,
                    symbol="o" if len(epoch_x) <= MAX_EPOCH_SYMBOLS else None,
                    symbolBrush=color, symbolPen=None))
            self._add(self.lr_plot, pg.PlotDataItem(step_x, model.steps["lr"],
                                                    pen=pg.mkPen(color, width=1)))
        for plot in self.plots.values():
            plot.getPlotItem().enableAutoRange()
        rates = [model.steps["lr"] for _, model in self.models]
        fit_rate_axis(self.lr_plot, np.concatenate(rates) if rates else np.empty(0),
                      self.log_scale)

    def _add(self, plot: pg.PlotWidget, item) -> None:
        plot.addItem(item)
        self._items.append((plot, item))

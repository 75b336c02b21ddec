"""The four curve plots and their controls, shared by the live plots of the run in progress
and the compared plots of finished runs: smoothing of the training loss (TensorBoard's
debiased moving average, the raw curve faint behind), log scale, an x axis by step, by
epoch or by time (seconds), a readout of the point under the mouse, and export of each
plot as PNG, SVG or CSV.
The readout and the CSV come from the runs' CurveModels (gui.plots.curve_model), the same
code for one run or several."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QMenu, QSizePolicy, QSlider, QToolButton, QVBoxLayout,
                               QWidget)

from gui.i18n import translate_message
from gui.plots.curve_model import PLOT_KEYS, X_AXES, CurveModel, hover_series, plot_table
from gui.plots.export import EXPORT_FILTER, export_image, save_csv
from gui.plots.style import apply_theme, hover_marker, make_plot

DEFAULT_SMOOTHING = 0.6  # TensorBoard's default


class CurvePlots(QWidget):
    """The four plots and their controls; LivePlots and ComparePlots draw the curves of
    the models that `curve_models` returns."""

    # The epoch curves drawn (and named by the readout): validation, then training.
    epoch_columns: tuple[str, ...] = ("val", "train")

    hover_changed = Signal(str)  # the readout of the point under the mouse

    def __init__(self) -> None:
        super().__init__()
        self.smoothing = DEFAULT_SMOOTHING
        self.log_scale = False
        self.x_by = "step"  # or "epoch", or "time" (seconds since the run began)
        step = QCoreApplication.translate("CurvePlots", "step")
        epoch = QCoreApplication.translate("CurvePlots", "epoch")
        loss = QCoreApplication.translate("CurvePlots", "loss")
        self.loss_plot = make_plot(QCoreApplication.translate("CurvePlots", "Training loss"),
                                   step, loss)
        self.val_loss_plot = make_plot(
            QCoreApplication.translate("CurvePlots", "Loss per epoch"), epoch, loss)
        self.metric_plot = make_plot(
            QCoreApplication.translate("CurvePlots", "Accuracy per epoch"), epoch,
            QCoreApplication.translate("Metrics", "accuracy (%)"))
        self.lr_plot = make_plot(QCoreApplication.translate("CurvePlots", "Learning rate"), step,
                                 QCoreApplication.translate("CurvePlots", "learning rate"))
        self.plots = {"steps": self.loss_plot, "epoch_loss": self.val_loss_plot,
                      "epoch_metric": self.metric_plot, "lr": self.lr_plot}
        # English: they name exported files too; shown through tr()
        self.plot_titles = {"steps": QT_TRANSLATE_NOOP("CurvePlots", "Training loss"),
                            "epoch_loss": QT_TRANSLATE_NOOP("CurvePlots", "Loss per epoch"),
                            "epoch_metric": QT_TRANSLATE_NOOP("CurvePlots", "Metric per epoch"),
                            "lr": QT_TRANSLATE_NOOP("CurvePlots", "Learning rate")}
        self._markers = {key: hover_marker(plot) for key, plot in self.plots.items()}
        self._hover_proxies = [
            pg.SignalProxy(plot.scene().sigMouseMoved, rateLimit=30,
                           slot=lambda args, key=key: self._on_mouse_moved(key, args[0]))
            for key, plot in self.plots.items()]

        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(round(DEFAULT_SMOOTHING * 100))
        self.smoothing_slider.setFixedWidth(140)
        self.smoothing_slider.setToolTip(QCoreApplication.translate(
            "CurvePlots", "Smooth the training loss with a moving average, as TensorBoard does "
            "(0: raw). The raw curve stays faint behind."))
        self.smoothing_value = QLabel(f"{DEFAULT_SMOOTHING:.2f}")
        self.smoothing_slider.valueChanged.connect(
            lambda value: self.set_smoothing(value / 100))
        self.log_checkbox = QCheckBox(QCoreApplication.translate("CurvePlots", "Log scale"))
        self.log_checkbox.setToolTip(QCoreApplication.translate(
            "CurvePlots", "Show losses and the learning rate on a logarithmic axis."))
        self.log_checkbox.toggled.connect(self.set_log_scale)
        self.x_axis_combo = QComboBox()
        # shown translated; the item data is the value set_x_axis takes
        self.x_axis_combo.addItem(step, "step")
        self.x_axis_combo.addItem(epoch, "epoch")
        self.x_axis_combo.addItem(QCoreApplication.translate("CurvePlots", "time (s)"), "time")
        self.x_axis_combo.setToolTip(QCoreApplication.translate(
            "CurvePlots", "Draw every plot against optimisation steps, epochs or the time "
            "since the run began (seconds, as TensorBoard's wall-clock axis)."))
        self.x_axis_combo.currentIndexChanged.connect(
            lambda index: self.set_x_axis(self.x_axis_combo.itemData(index)))
        self.export_button = QToolButton()
        self.export_button.setText(QCoreApplication.translate("CurvePlots", "Export"))
        self.export_button.setToolTip(QCoreApplication.translate(
            "CurvePlots", "Save a plot as an image (PNG, SVG) or its data (CSV)."))
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for key in PLOT_KEYS:
            title = QCoreApplication.translate("CurvePlots", self.plot_titles[key])
            menu.addAction(f"{title}…", lambda key=key: self._ask_export(key))
        self.export_button.setMenu(menu)
        self.readout = QLabel()
        # A long readout is cut at the right, never widening the window (issue 13: hovering
        # made the window 300 px wider than it could then be made).
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setMinimumWidth(0)
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
        controls.addWidget(QLabel(QCoreApplication.translate("CurvePlots", "Smoothing")))
        controls.addWidget(self.smoothing_slider)
        controls.addWidget(self.smoothing_value)
        controls.addSpacing(12)
        controls.addWidget(self.log_checkbox)
        controls.addSpacing(12)
        controls.addWidget(QLabel(QCoreApplication.translate("CurvePlots", "X axis")))
        controls.addWidget(self.x_axis_combo)
        controls.addSpacing(12)
        controls.addWidget(self.export_button)
        controls.addWidget(self.readout, 1)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.loss_plot, 0, 0, 1, 3)
        grid.addWidget(self.val_loss_plot, 1, 0)
        grid.addWidget(self.metric_plot, 1, 1)
        grid.addWidget(self.lr_plot, 1, 2)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        self.loss_plot.installEventFilter(self)
        self._label_x_axes()
        self.legends: list = []  # the subclass's legends, coloured with the plots
        self.apply_theme()

    def apply_theme(self) -> None:
        """Light or dark plots, as the application's palette is (style.plot_theme)."""
        for key, plot in self.plots.items():
            legends = [legend for legend in self.legends if legend.parentItem() is not None
                       and legend.scene() is plot.scene()]
            apply_theme(plot, legends, [self._markers[key]])

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.apply_theme()

    # Controls

    def set_smoothing(self, weight: float) -> None:
        """Smooth the training loss with this weight (0: raw, up to 0.99)."""
        weight = min(max(weight, 0.0), 0.99)
        self.smoothing = weight
        self.smoothing_value.setText(f"{weight:.2f}")
        if self.smoothing_slider.value() != round(weight * 100):
            self.smoothing_slider.setValue(round(weight * 100))
        self.redraw_all()

    def set_log_scale(self, on: bool) -> None:
        self.log_scale = bool(on)
        if self.log_checkbox.isChecked() != self.log_scale:
            self.log_checkbox.setChecked(self.log_scale)
        for key in ("steps", "epoch_loss", "lr"):
            self.plots[key].getPlotItem().setLogMode(x=False, y=self.log_scale)
        self.redraw_all()  # the learning-rate axis is fitted by hand, for either scale

    def set_x_axis(self, by: str) -> None:
        """Draw every plot against "step", "epoch" or "time" (seconds since the run began)."""
        if by not in X_AXES:
            raise ValueError(f"x axis by {by!r}: choose one of {', '.join(X_AXES)}")
        self.x_by = by
        if self.x_axis_combo.currentData() != by:
            self.x_axis_combo.setCurrentIndex(self.x_axis_combo.findData(by))
        self._label_x_axes()
        for plot in self.plots.values():
            plot.getPlotItem().enableAutoRange()
        self.redraw_all()

    def _label_x_axes(self) -> None:
        """By epoch every plot's x is the epoch; by step the per-epoch plots put each epoch's
        point at the step that ended it, and say so."""
        for key, plot in self.plots.items():
            # seconds are not whole numbers: a run of a few seconds needs ticks at 0.5
            plot.getPlotItem().getAxis("bottom").whole_numbers = self.x_by != "time"
            if self.x_by == "epoch":
                label = QCoreApplication.translate("CurvePlots", "epoch")
            elif self.x_by == "time":
                label = QCoreApplication.translate("CurvePlots", "time (s)")
            elif key in ("epoch_loss", "epoch_metric"):
                label = QCoreApplication.translate("CurvePlots", "step (end of each epoch)")
            else:
                label = QCoreApplication.translate("CurvePlots", "step")
            plot.getPlotItem().setLabel("bottom", label)

    def show_hints(self, hints: list) -> None:
        # core writes the hints in English (core.i18n marks them); shown in the window's language
        text = "<br>".join(QCoreApplication.translate("CurvePlots", "<b>{0}.</b> {1}").format(
            translate_message(h.title), translate_message(h.text)) for h in hints)
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
        path, chosen = QFileDialog.getSaveFileName(self, QCoreApplication.translate(
            "CurvePlots", "Export {0}").format(
            QCoreApplication.translate("CurvePlots", self.plot_titles[key])),
                                                   str(Path.home() / f"{name}.png"),
                                                   EXPORT_FILTER)
        if not path:
            return
        if not Path(path).suffix:
            path += "." + chosen.split("*.")[1].rstrip(")")
        try:
            self.export_plot(key, Path(path))
        except (OSError, ValueError) as exc:
            self.readout.setText(QCoreApplication.translate(
                "CurvePlots", "Could not export: {0}").format(exc))

    def export_plot(self, key: str, path: Path) -> None:
        """Save plot `key` as an image (.png, .svg) or its full data (.csv) to `path`."""
        path = Path(path)
        self.redraw_all()
        if path.suffix.lower() == ".csv":
            save_csv(path, *self.plot_data(key))
        else:
            export_image(self.plots[key], path,
                         QCoreApplication.translate("CurvePlots", self.plot_titles[key]))

    def plot_data(self, key: str) -> tuple[list[str], list[list]]:
        """The full data behind plot `key` (not the downsampled view): header and rows."""
        return plot_table(key, [model for _, model in self.curve_models()], self.smoothing)

    # Drawing

    def redraw_all(self) -> None:
        raise NotImplementedError

    def curve_models(self) -> list[tuple[str, CurveModel]]:
        """The runs drawn, each with its legend label ("" for the one live run)."""
        raise NotImplementedError

    def hover_series(self, key: str) -> list[tuple[str, np.ndarray, np.ndarray, list]]:
        """What the readout can name in plot `key`: (label, x, y, [(extra name, values)])."""
        return hover_series(key, self.curve_models(), self.x_by, self.smoothing,
                            self.epoch_columns)

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
        x_name = {"step": QCoreApplication.translate("CurvePlots", "step"),
                  "epoch": QCoreApplication.translate("CurvePlots", "epoch"),
                  "time": QCoreApplication.translate("CurvePlots", "time (s)")}[self.x_by]
        parts = [f"{x_name} {_number(x)}", *named[:1], f"{label} {_number(y)}", *named[1:]]
        text = " · ".join(parts)
        self._markers[key].setData([x], [y])
        self.readout.setText(text)
        self.readout.setToolTip(text)
        self.hover_changed.emit(text)


def _number(value: float) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"

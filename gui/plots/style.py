"""How the curve plots look, shared by the live and the compared plots: the plot widget
(drawing only what is visible, reduced to screen pixels), whole-number step and epoch
axes, run colours, the best-epoch line, the hover marker, the learning-rate range, and
light or dark colours following the application's palette."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

TRAINING_COLOR = "#1f77b4"
VALIDATION_COLOR = "#d62728"
BEST_COLOR = "#2ca02c"
# Epoch curves show a dot per epoch up to this many epochs; past it the dots cost more
# than they tell (900 dotted epochs took 16.6 ms a redraw, docs/performance.md, soak).
MAX_EPOCH_SYMBOLS = 200
# Okabe and Ito's colour-blind-safe set, its yellow (too pale on white) made grey: purple
# beside pink was hard to tell apart (issue 13).
RUN_PALETTE = ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9", "#cc79a7", "#000000",
               "#999999")

pg.setConfigOptions(antialias=True, background="w", foreground="#333")
LIGHT_THEME = ("#ffffff", "#333333")  # background, foreground (axes, titles, legends)


def plot_theme() -> tuple[str, str]:
    """(background, foreground) of the plots: white and dark grey, or with a dark
    application palette its own base and text colours (issue 13: plots stayed white)."""
    app = QGuiApplication.instance()
    if app is None:
        return LIGHT_THEME
    palette = app.palette()
    if palette.color(QPalette.ColorRole.Window).lightness() >= 128:
        return LIGHT_THEME
    return (palette.color(QPalette.ColorRole.Base).name(),
            palette.color(QPalette.ColorRole.Text).name())


def apply_theme(widget: pg.PlotWidget, legends: list, markers: list) -> None:
    """Colour a plot, its legends and hover markers by plot_theme()."""
    background, foreground = plot_theme()
    widget.setBackground(background)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(foreground)
        axis.setTextPen(foreground)
    item.titleLabel.setText(item.titleLabel.text, color=foreground)
    for legend in legends:
        fill = QColor(background)
        fill.setAlpha(210)  # readable where a curve runs behind it (overfitting)
        legend.setBrush(pg.mkBrush(fill))
        legend.setLabelTextColor(foreground)  # for entries added later
        for _, label in legend.items:
            label.setText(label.text, color=foreground)
    for marker in markers:
        marker.setSymbolPen(pg.mkPen(foreground, width=1.5))


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


class WholeNumberAxis(pg.AxisItem):
    """An axis of steps or epochs, which are whole numbers: no tick at epoch 1.5. With
    `whole_numbers` off (an axis of seconds) it ticks as any axis."""

    whole_numbers = True

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        if not self.whole_numbers:
            return super().tickValues(minVal, maxVal, size)
        seen: set[float] = set()
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            whole = [v for v in values if float(v).is_integer() and v not in seen]
            seen.update(whole)
            levels.append((max(spacing, 1), whole))
        return levels


def make_plot(title: str, x_label: str, y_label: str) -> pg.PlotWidget:
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
    widget.setMinimumHeight(120)  # two rows of plots fit a 720-pixel-high window
    return widget


def epoch_curve(plot: pg.PlotWidget, name: str, color: str) -> pg.PlotDataItem:
    return plot.plot(name=name, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=6,
                     symbolBrush=color, symbolPen=None)


def show_symbols(curve: pg.PlotDataItem, show: bool) -> None:
    if (curve.opts["symbol"] is not None) != show:
        curve.setSymbol("o" if show else None)


def best_line(plot: pg.PlotWidget) -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=90, movable=False,
                           pen=pg.mkPen(BEST_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
    plot.addItem(line, ignoreBounds=True)
    line.hide()
    return line


def fit_rate_axis(plot: pg.PlotWidget, rates: np.ndarray, log_scale: bool) -> None:
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


def hover_marker(plot: pg.PlotWidget) -> pg.PlotDataItem:
    marker = pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=9, symbolBrush=None,
                             symbolPen=pg.mkPen("#333", width=1.5))
    plot.addItem(marker, ignoreBounds=True)
    return marker


def faint(color: str) -> QColor:
    faded = QColor(color)
    faded.setAlpha(70)
    return faded

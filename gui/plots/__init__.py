"""The training curves, split by what each part draws: curve_model (the runs' data, the
hover readout and CSV rows, no Qt), curve_plots (the four plots and their controls),
live_plots (the run in progress), compare_plots (finished runs overlaid), export (PNG, SVG,
CSV) and style (how the plots look)."""

from gui.plots.compare_plots import ComparePlots
from gui.plots.curve_model import CurveModel
from gui.plots.live_plots import LivePlots
from gui.plots.style import run_colors

__all__ = ["ComparePlots", "CurveModel", "LivePlots", "run_colors"]

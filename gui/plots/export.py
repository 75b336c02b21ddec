"""A plot saved to a file: PNG (pyqtgraph's image exporter), SVG (Qt's own generator) or
CSV (the full data behind the plot, from gui.plots.curve_model.plot_table)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QBuffer

from core.files import write_atomic, write_text_atomic

EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg);;CSV data (*.csv)"


def export_image(widget: pg.PlotWidget, path: Path, title: str) -> None:
    """The plot as a .png or .svg file; ValueError for any other ending."""
    import pyqtgraph.exporters as exporters

    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        item = widget.getPlotItem()
        exporter = exporters.ImageExporter(item)
        exporter.parameters()["width"] = max(1200, int(item.sceneBoundingRect().width()))
        exporter.export(str(path))
    elif suffix == ".svg":
        save_svg(widget, Path(path), title)
    else:
        raise ValueError(f"{Path(path).name}: choose a .png, .svg or .csv file")


def save_csv(path: Path, header: list[str], rows: list[list]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_csv_cell(v) for v in row] for row in rows)
    write_text_atomic(Path(path), text.getvalue())


def save_svg(widget: pg.PlotWidget, path: Path, title: str) -> None:
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


def _csv_cell(value) -> str:
    if isinstance(value, str):
        return value
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.6g}"

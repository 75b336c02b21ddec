"""DataPreviewDialog: what a dataset holds before training on it: a grid of sample images
with their labels, the samples per class, or the first rows of a table or text file.

The data is loaded off the GUI thread (a folder of images or CIFAR takes seconds), by
core.data.preview, the same builders the trainer uses, so the preview shows exactly what
training will see, notes included (skipped files, dropped rows).
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QLabel,
                               QScrollArea, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from gui.background import runner
from gui.i18n import translate_message
from gui.thumbnails import pixmap_of

GRID_COLUMNS = 8
WAVEFORM_PX = 96  # width of a recording's waveform and spectrogram


class DataPreviewDialog(QDialog):
    """Opens at once and fills in when the data has loaded (on the background runner;
    closed before that, the load's result is dropped)."""

    def __init__(self, name: str, params: dict, seed: int = 0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(QCoreApplication.translate(
            "DataPreviewDialog", "Data preview: {0}").format(name))
        self.resize(760, 560)
        self.summary_label = QLabel(QCoreApplication.translate(
            "DataPreviewDialog", "Loading {0}…").format(name))
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.tabs.hide()
        self.image_grid: QWidget | None = None
        self.augmented_grid: QWidget | None = None
        self.images_shown = 0
        self.counts_table: QTableWidget | None = None
        self.rows_table: QTableWidget | None = None
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)

        def load():
            from core.data.preview import preview_data

            return preview_data(name, params, seed)

        runner().submit(self, load, self.show_preview, self.show_failure)

    def is_loading(self) -> bool:
        return runner().is_busy(self)

    def show_failure(self, message: str, details: str = "") -> None:
        self.summary_label.setText(QCoreApplication.translate(
            "DataPreviewDialog", "Cannot load this data: {0}").format(message))
        self.summary_label.setStyleSheet("QLabel { color: #58151c; }")

    def show_preview(self, preview) -> None:
        shape = "x".join(str(n) for n in preview.input_shape)
        kind = {"image": QCoreApplication.translate("DataPreviewDialog", "images of {0}"),
                "table": QCoreApplication.translate("DataPreviewDialog", "tables of {0} columns"),
                "tokens": QCoreApplication.translate("DataPreviewDialog", "texts of {0} tokens"),
                "audio": QCoreApplication.translate("DataPreviewDialog", "recordings heard as "
                                                    "{0} (frames x bands, or samples)"),
                }[preview.kind].format(shape)
        task = (QCoreApplication.translate("DataPreviewDialog", "classification with {0} classes")
                .format(len(preview.class_names)) if preview.task == "classification"
                else QCoreApplication.translate("DataPreviewDialog", "regression"))
        lines = [QCoreApplication.translate(
            "DataPreviewDialog", "<b>{0}</b>: {1:,} training and {2:,} validation samples, {3}, "
            "{4}").format(preview.name, preview.train_samples, preview.val_samples, kind, task)]
        if preview.kind == "audio":
            lines.append(QCoreApplication.translate(
                "DataPreviewDialog", "Each recording: {0:g} s at {1:,} Hz (longer ones cut, "
                "shorter ones padded with silence).").format(preview.duration_s,
                                                              preview.sample_rate))
        lines += [QCoreApplication.translate("DataPreviewDialog", "Note: {0}").format(
            translate_message(note)) for note in preview.notes]
        self.summary_label.setText("<br>".join(lines))
        if preview.images or preview.waveforms:
            self.image_grid = _image_grid(preview.images, preview.image_labels,
                                          preview.waveforms)
            self.images_shown = len(preview.image_labels)
            self.tabs.addTab(_scrolled(self.image_grid), QCoreApplication.translate(
                "DataPreviewDialog", "Samples"))
        if preview.augmented_images:
            self.augmented_grid = _image_grid(preview.augmented_images, preview.augmented_labels)
            self.tabs.addTab(_scrolled(self.augmented_grid), QCoreApplication.translate(
                "DataPreviewDialog", "Augmented"))
            self.tabs.setTabToolTip(self.tabs.count() - 1, QCoreApplication.translate(
                "DataPreviewDialog", "The same samples as one training batch sees them, with "
                "the augmentation chosen (validation samples are never augmented)."))
        if preview.rows:
            self.rows_table = _table(preview.columns, preview.rows)
            self.tabs.addTab(self.rows_table, QCoreApplication.translate(
                "DataPreviewDialog", "First rows"))
        if preview.task == "classification":
            rows = [[name, str(train), str(val)] for name, train, val in
                    zip(preview.class_names, preview.train_counts, preview.val_counts)]
            self.counts_table = _table([
                QCoreApplication.translate("DataPreviewDialog", "class"),
                QCoreApplication.translate("DataPreviewDialog", "training samples"),
                QCoreApplication.translate("DataPreviewDialog", "validation samples")], rows)
            self.tabs.addTab(self.counts_table, QCoreApplication.translate(
                "DataPreviewDialog", "Classes"))
        self.tabs.show()


def _image_grid(images: list, labels: list[str], waveforms: list = ()) -> QWidget:
    """Sample pictures with their labels; recordings show their waveform above their
    spectrogram (a waveform alone for a run on raw samples)."""
    grid = QWidget()
    layout = QGridLayout(grid)
    for index, label in enumerate(labels):
        cell = QWidget()
        cell_layout = QVBoxLayout(cell)
        cell_layout.setContentsMargins(2, 2, 2, 2)
        if index < len(waveforms):
            wave = QLabel()
            wave.setPixmap(_waveform_pixmap(waveforms[index]))
            cell_layout.addWidget(wave)
        picture = QLabel()
        if index < len(images):  # a spectrogram as wide as its waveform
            picture.setPixmap(pixmap_of(images[index], WAVEFORM_PX) if waveforms
                              else pixmap_of(images[index]))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption = QLabel(label)
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cell_layout.addWidget(picture)
        cell_layout.addWidget(caption)
        layout.addWidget(cell, index // GRID_COLUMNS, index % GRID_COLUMNS)
    return grid


def _waveform_pixmap(samples, width: int = WAVEFORM_PX, height: int = 40) -> QPixmap:
    """A waveform (-1..1) drawn as its envelope: per pixel column the lowest and highest
    sample, as audio editors draw it."""
    import numpy as np

    pixmap = QPixmap(width, height)
    pixmap.fill(QColor("white"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#1f5fa6"))
    columns = np.array_split(np.asarray(samples, dtype=np.float32), width)
    middle = height / 2
    for x, column in enumerate(columns):
        if len(column):
            top = middle - float(column.max()) * middle
            bottom = middle - float(column.min()) * middle
            painter.drawLine(x, round(top), x, round(bottom))
    painter.end()
    return pixmap


def _table(columns: list[str], rows: list[list[str]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(cell))
    table.resizeColumnsToContents()
    return table


def _scrolled(widget: QWidget) -> QScrollArea:
    scroll = QScrollArea()
    scroll.setWidget(widget)
    scroll.setWidgetResizable(True)
    return scroll

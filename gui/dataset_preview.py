"""DataPreviewDialog: what a dataset holds before training on it: a grid of sample images
with their labels, the samples per class, or the first rows of a table or text file.

The data is loaded off the GUI thread (a folder of images or CIFAR takes seconds), by
core.data.preview, the same builders the trainer uses, so the preview shows exactly what
training will see, notes included (skipped files, dropped rows).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QGridLayout, QLabel,
                               QScrollArea, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from gui.background import runner
from gui.thumbnails import pixmap_of

GRID_COLUMNS = 8


class DataPreviewDialog(QDialog):
    """Opens at once and fills in when the data has loaded (on the background runner;
    closed before that, the load's result is dropped)."""

    def __init__(self, name: str, params: dict, seed: int = 0,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Data preview: {name}")
        self.resize(760, 560)
        self.summary_label = QLabel(f"Loading {name}…")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tabs = QTabWidget()
        self.tabs.hide()
        self.image_grid: QWidget | None = None
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
        self.summary_label.setText(f"Cannot load this data: {message}")
        self.summary_label.setStyleSheet("QLabel { color: #58151c; }")

    def show_preview(self, preview) -> None:
        shape = "x".join(str(n) for n in preview.input_shape)
        kind = {"image": f"images of {shape}", "table": f"tables of {shape} columns",
                "tokens": f"texts of {shape} tokens"}[preview.kind]
        lines = [f"<b>{preview.name}</b>: {preview.train_samples:,} training and "
                 f"{preview.val_samples:,} validation samples, {kind}, {preview.task}"
                 + (f" with {len(preview.class_names)} classes"
                    if preview.task == "classification" else "")]
        lines += [f"Note: {note}" for note in preview.notes]
        self.summary_label.setText("<br>".join(lines))
        if preview.images:
            self.image_grid = _image_grid(preview.images, preview.image_labels)
            self.images_shown = len(preview.images)
            self.tabs.addTab(_scrolled(self.image_grid), "Samples")
        if preview.rows:
            self.rows_table = _table(preview.columns, preview.rows)
            self.tabs.addTab(self.rows_table, "First rows")
        if preview.task == "classification":
            rows = [[name, str(train), str(val)] for name, train, val in
                    zip(preview.class_names, preview.train_counts, preview.val_counts)]
            self.counts_table = _table(["class", "training samples", "validation samples"],
                                       rows)
            self.tabs.addTab(self.counts_table, "Classes")
        self.tabs.show()


def _image_grid(images: list, labels: list[str]) -> QWidget:
    grid = QWidget()
    layout = QGridLayout(grid)
    for index, (image, label) in enumerate(zip(images, labels)):
        cell = QWidget()
        cell_layout = QVBoxLayout(cell)
        cell_layout.setContentsMargins(2, 2, 2, 2)
        picture = QLabel()
        picture.setPixmap(pixmap_of(image))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        caption = QLabel(label)
        caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        cell_layout.addWidget(picture)
        cell_layout.addWidget(caption)
        layout.addWidget(cell, index // GRID_COLUMNS, index % GRID_COLUMNS)
    return grid


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

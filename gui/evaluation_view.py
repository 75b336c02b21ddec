"""The Evaluation tab: a run's checkpoint on its validation split. For a classification, a
confusion matrix (click a cell to see its samples, the most confident mistakes first, as
images or table rows) and each class's precision and recall; for a regression, predicted
against true values with MAE, RMSE and R2.

core.inference.evaluation does the work, in a background thread (it loads torch, the data and the
model); this view only shows the result.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPalette, QShowEvent
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QPushButton, QSpinBox,
                               QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from gui.background import after_the_run, runner
from gui.run_picker import RunPicker
from gui.thumbnails import THUMBNAIL_PX, pixmap_of

MAX_SAMPLES_SHOWN = 200
CORRECT = QColor(44, 160, 44)
WRONG = QColor(214, 39, 40)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


class EvaluationView(QWidget):
    """The Evaluation tab: a checkpoint's scores on its validation split, computed on the
    background runner."""

    evaluated = Signal()  # a result is on screen (or its failure)

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.picker = RunPicker(runs_dir)
        self.evaluate_button = QPushButton(QCoreApplication.translate(
            "EvaluationView", "Evaluate"))
        self.evaluate_button.setToolTip(QCoreApplication.translate(
            "EvaluationView", "Run the checkpoint on the validation samples."))
        self.evaluate_button.clicked.connect(self.evaluate)
        self.top_k_box = QSpinBox()
        self.top_k_box.setRange(1, 1000)
        self.top_k_box.setValue(5)
        self.top_k_box.setPrefix(QCoreApplication.translate("EvaluationView", "top-k: "))
        self.top_k_box.setToolTip(QCoreApplication.translate(
            "EvaluationView", "k of the top-k accuracy: a sample counts as right when its "
            "class is among the model's k likeliest."))
        self.status = QLabel(QCoreApplication.translate(
            "EvaluationView", "Choose a run and press Evaluate."))
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loaded = None  # core.inference.evaluation.LoadedRun of the result shown
        self.result = None  # core.inference.evaluation.Evaluation

        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.matrix.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.matrix.cellClicked.connect(self.show_cell)
        # The chosen cell keeps its colour, a shade darker, rather than turning selection blue.
        palette = self.matrix.palette()
        palette.setColor(QPalette.ColorRole.Highlight, QColor(0, 0, 0, 70))
        palette.setColor(QPalette.ColorRole.HighlightedText, QColor("black"))
        self.matrix.setPalette(palette)
        self.matrix.setToolTip(QCoreApplication.translate(
            "EvaluationView", "Rows: the true class; columns: the predicted class. Click a "
            "cell to see its samples."))
        self.class_table = QTableWidget()
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.verticalHeader().hide()
        self.averages = QLabel()  # macro and weighted F1, balanced and top-k accuracy
        self.averages.setWordWrap(True)
        self.averages.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.samples_title = QLabel(QCoreApplication.translate(
            "EvaluationView", "Click a cell of the matrix to see its samples; the mistakes are "
            "off the diagonal."))
        self.samples_title.setWordWrap(True)
        self.sample_list = QListWidget()
        self.sample_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.sample_list.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.sample_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.sample_list.setMovement(QListWidget.Movement.Static)
        self.sample_list.setSpacing(4)
        self.sample_rows = QTableWidget()
        self.sample_rows.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sample_stack = QStackedWidget()
        self.sample_stack.addWidget(self.sample_list)
        self.sample_stack.addWidget(self.sample_rows)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel(QCoreApplication.translate(
            "EvaluationView", "<b>Confusion matrix</b> (rows: true class, columns: predicted)")))
        left_layout.addWidget(self.matrix, 3)
        left_layout.addWidget(QLabel(QCoreApplication.translate(
            "EvaluationView", "<b>Per class</b>")))
        left_layout.addWidget(self.averages)
        left_layout.addWidget(self.class_table, 2)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.samples_title)
        right_layout.addWidget(self.sample_stack, 1)
        classification = QSplitter()
        classification.addWidget(left)
        classification.addWidget(right)
        classification.setStretchFactor(0, 3)
        classification.setStretchFactor(1, 2)

        self.scatter_plot = pg.PlotWidget(title=QCoreApplication.translate(
            "EvaluationView", "Predicted against true (validation)"))
        item = self.scatter_plot.getPlotItem()
        item.setLabel("bottom", QCoreApplication.translate("EvaluationView", "true value"))
        item.setLabel("left", QCoreApplication.translate("EvaluationView", "predicted value"))
        item.showGrid(x=True, y=True, alpha=0.2)
        self.scatter = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(31, 119, 180, 150))
        self.diagonal = pg.PlotDataItem(pen=pg.mkPen("#888", width=1,
                                                     style=Qt.PenStyle.DashLine))
        self.scatter_plot.addItem(self.diagonal)
        self.scatter_plot.addItem(self.scatter)

        self.pages = QStackedWidget()
        self.empty_page = QLabel()
        self.pages.addWidget(self.empty_page)
        self.pages.addWidget(classification)
        self.pages.addWidget(self.scatter_plot)

        top = QHBoxLayout()
        top.addWidget(self.picker, 1)
        top.addWidget(self.top_k_box)
        top.addWidget(self.evaluate_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.pages, 1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.picker.refresh()

    def show_run(self, path: Path) -> None:
        """Choose the run in `path` and evaluate its best checkpoint."""
        self.picker.refresh()
        if not self.picker.set_run(path):
            self.status.setText(QCoreApplication.translate(
                "EvaluationView", "{0} has no checkpoint to evaluate.").format(path))
            return
        self.picker.checkpoint_combo.setCurrentIndex(0)
        self.evaluate()

    def evaluate(self) -> None:
        path = self.picker.current_path()
        if path is None:
            self.status.setText(QCoreApplication.translate(
                "EvaluationView", "There is no finished run to evaluate yet: train one first."))
            return
        checkpoint = self.picker.checkpoint()
        top_k = self.top_k_box.value()
        self.evaluate_button.setEnabled(False)
        self.status.setText(after_the_run(QCoreApplication.translate(
            "EvaluationView", "Evaluating the {0} checkpoint of {1}…").format(checkpoint,
                                                                               path.name)))

        def work():
            from core.inference.evaluation import evaluate_run, load_run

            loaded = load_run(path, checkpoint)
            return loaded, evaluate_run(loaded, top_k)

        runner().submit(self, work, self._show_result, self._show_failure)

    def _show_failure(self, message: str, details: str = "") -> None:
        self.evaluate_button.setEnabled(True)
        self.status.setText(QCoreApplication.translate(
            "EvaluationView", "Cannot evaluate: {0}").format(message))
        self.evaluated.emit()

    def _show_result(self, outcome) -> None:
        self.loaded, self.result = outcome
        result = self.result
        self.evaluate_button.setEnabled(True)
        where = (QCoreApplication.translate(
            "EvaluationView", "{0}, epoch {1}, {2:,} validation samples") if result.epoch else
            QCoreApplication.translate("EvaluationView", "{0}, {2:,} validation samples")).format(
            Path(result.checkpoint).name, result.epoch, result.samples)
        if result.task == "regression":
            self.status.setText(QCoreApplication.translate(
                "EvaluationView", "Mean absolute error {0:.4g} · RMSE {1:.4g} · R2 {2:.3f} "
                "({3})").format(result.mae, result.rmse, result.r2, where))
            self._show_regression(result)
        else:
            mistakes = sum(1 for t, p in zip(result.targets, result.predictions) if t != p)
            self.status.setText(QCoreApplication.translate(
                "EvaluationView", "Validation accuracy {0}: {1:,} of {2:,} samples "
                "misclassified ({3})").format(_percent(result.accuracy), mistakes,
                                              result.samples, where))
            self._show_classification(result)
            self.averages.setText(self.averages_text(result))
        self.evaluated.emit()

    @staticmethod
    def averages_text(result) -> str:
        """One line of the classification's averages; a top-k accuracy that would count every
        sample (k classes or fewer) is left out."""
        text = QCoreApplication.translate(
            "EvaluationView", "Macro F1 {0} · weighted F1 {1} · balanced accuracy {2}").format(
            *(f"{f1:.3f}" if f1 is not None else "-"
              for f1 in (result.macro_f1, result.weighted_f1)),
            _percent(result.balanced_accuracy) or "-")
        if result.top_k_accuracy is not None:
            text += QCoreApplication.translate(
                "EvaluationView", " · top-{0} accuracy {1}").format(
                result.top_k, _percent(result.top_k_accuracy))
        return text

    # Classification

    def _show_classification(self, result) -> None:
        names = result.class_names
        matrix = self.matrix
        matrix.clear()
        matrix.setRowCount(len(names))
        matrix.setColumnCount(len(names))
        matrix.setHorizontalHeaderLabels(names)
        matrix.setVerticalHeaderLabels(names)
        for t, row in enumerate(result.confusion):
            total = max(sum(row), 1)
            for p, count in enumerate(row):
                cell = QTableWidgetItem(str(count) if count else "")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / total
                base = CORRECT if t == p else WRONG
                color = QColor(base)
                color.setAlpha(int(30 + 200 * share) if count else 0)
                cell.setBackground(QBrush(color))
                if share > 0.6:
                    cell.setForeground(QBrush(QColor("white")))
                cell.setToolTip(QCoreApplication.translate(
                    "EvaluationView", "true {0}, predicted {1}: {2} ({3:.0%} of {0})").format(
                    names[t], names[p], count, share))
                matrix.setItem(t, p, cell)
        # Up to 30 classes fill the view; more scroll, at a size that keeps counts legible.
        for header in (matrix.horizontalHeader(), matrix.verticalHeader()):
            header.setMinimumSectionSize(18)
            header.setDefaultSectionSize(28)
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch if len(names) <= 30
                                        else QHeaderView.ResizeMode.Fixed)
        self.class_table.clear()
        self.class_table.setColumnCount(5)
        self.class_table.setRowCount(len(result.per_class))
        self.class_table.setHorizontalHeaderLabels([
            QCoreApplication.translate("EvaluationView", "class"),
            QCoreApplication.translate("EvaluationView", "precision"),
            QCoreApplication.translate("EvaluationView", "recall"), "F1",
            QCoreApplication.translate("EvaluationView", "samples")])
        for r, scores in enumerate(result.per_class):
            values = [scores.name, _percent(scores.precision), _percent(scores.recall),
                      _percent(scores.f1), str(scores.support)]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.class_table.setItem(r, c, item)
        self.class_table.resizeColumnsToContents()
        self.pages.setCurrentIndex(1)
        worst = self._most_confused(result)
        if worst is not None:
            self.show_cell(*worst)
        else:
            self.sample_list.clear()
            self.samples_title.setText(QCoreApplication.translate(
                "EvaluationView", "No mistakes on the validation samples."))

    @staticmethod
    def _most_confused(result) -> tuple[int, int] | None:
        cells = [(count, t, p) for t, row in enumerate(result.confusion)
                 for p, count in enumerate(row) if t != p and count]
        if not cells:
            return None
        _, t, p = max(cells)
        return t, p

    def show_cell(self, true_class: int, predicted_class: int) -> None:
        """Show the samples of one confusion-matrix cell, the most confident first."""
        result, loaded = self.result, self.loaded
        if result is None or result.task != "classification":
            return
        from core.inference.evaluation import sample_image, sample_row

        self.matrix.setCurrentCell(true_class, predicted_class)
        names = result.class_names
        samples = result.samples_in_cell(true_class, predicted_class)
        verdict = (QCoreApplication.translate("EvaluationView", "correct")
                   if true_class == predicted_class
                   else QCoreApplication.translate("EvaluationView", "mistakes"))
        self.samples_title.setText(QCoreApplication.translate(
            "EvaluationView", "<b>True {0}, predicted {1}</b>: {2} sample(s) ({3}), most "
            "confident first").format(names[true_class], names[predicted_class], len(samples),
                                      verdict)
            + (QCoreApplication.translate("EvaluationView", "; the first {0} shown").format(
                MAX_SAMPLES_SHOWN) if len(samples) > MAX_SAMPLES_SHOWN else ""))
        samples = samples[:MAX_SAMPLES_SHOWN]
        if loaded.data.kind in ("image", "audio"):  # a recording shows its spectrogram
            self.sample_list.clear()
            for index, confidence in samples:
                item = QListWidgetItem(QIcon(pixmap_of(sample_image(loaded, index))),
                                       QCoreApplication.translate(
                                           "EvaluationView", "{0:.0%} sure").format(confidence))
                item.setToolTip(QCoreApplication.translate(
                    "EvaluationView", "validation sample {0}: the model gave {1} a probability "
                    "of {2:.1%}").format(index, names[predicted_class], confidence))
                item.setData(Qt.ItemDataRole.UserRole, index)
                self.sample_list.addItem(item)
            self.sample_stack.setCurrentWidget(self.sample_list)
            return
        rows = [sample_row(loaded, index) for index, _ in samples]
        columns = [name for name, _ in rows[0]] if rows else []
        table = self.sample_rows
        table.clear()
        table.setColumnCount(2 + len(columns))
        table.setRowCount(len(rows))
        table.setHorizontalHeaderLabels([
            QCoreApplication.translate("EvaluationView", "sample"),
            QCoreApplication.translate("EvaluationView", "confidence"), *columns])
        for r, ((index, confidence), row) in enumerate(zip(samples, rows)):
            cells = [str(index), f"{confidence:.1%}", *(value for _, value in row)]
            for c, value in enumerate(cells):
                table.setItem(r, c, QTableWidgetItem(value))
        table.resizeColumnsToContents()
        self.sample_stack.setCurrentWidget(self.sample_rows)

    def shown_sample_count(self) -> int:
        widget = self.sample_stack.currentWidget()
        return widget.count() if widget is self.sample_list else widget.rowCount()

    # Regression

    def _show_regression(self, result) -> None:
        true = np.asarray(result.true)
        predicted = np.asarray(result.predicted)
        self.scatter.setData(true, predicted)
        if len(true):
            low = float(min(true.min(), predicted.min()))
            high = float(max(true.max(), predicted.max()))
            self.diagonal.setData([low, high], [low, high])
        self.scatter_plot.getPlotItem().setTitle(
            QCoreApplication.translate(
                "EvaluationView", "Predicted against true: MAE {0:.4g}, RMSE {1:.4g}, R2 "
                "{2:.3f} (dashed: perfect)").format(result.mae, result.rmse, result.r2))
        self.pages.setCurrentIndex(2)

"""The Evaluation and Predict tabs and the export dialog: a confusion matrix whose cells
open their samples, a regression scatter, a prediction on a dropped image and on a typed
row, and an export checked against the trained model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from finished_runs import copy_runs, make_runs
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from gui.evaluation_view import EvaluationView
from gui.export_dialog import ExportDialog
from gui.predict_view import PredictView
from limits import HANG_MS



@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("trained"), ["mlp", "iris", "diabetes"])


@pytest.fixture
def runs(trained, tmp_path):
    return copy_runs(trained, tmp_path / "runs")


def _shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(1100, 750)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_clicking_a_confusion_matrix_cell_shows_its_samples(qtbot, runs, tmp_path):
    view = _shown(qtbot, EvaluationView(tmp_path / "runs"))
    with qtbot.waitSignal(view.evaluated, timeout=HANG_MS):
        view.show_run(runs["mlp"])
    result = view.result
    assert view.matrix.rowCount() == view.matrix.columnCount() == 10
    assert view.matrix.horizontalHeaderItem(3).text() == "3"
    assert view.class_table.rowCount() == 10
    assert view.status.text().startswith(f"Validation accuracy {result.accuracy:.1%}")
    # the most confused pair is opened at once; now click a cell on the diagonal
    item = view.matrix.item(4, 4)
    assert item.text() == str(result.confusion[4][4])
    qtbot.mouseClick(view.matrix.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.matrix.visualItemRect(item).center())
    assert view.shown_sample_count() == result.confusion[4][4]
    assert view.samples_title.text().startswith("<b>True 4, predicted 4</b>")
    first = view.sample_list.item(0)
    assert first.text().endswith("% sure") and not first.icon().isNull()
    t, p = next((t, p) for t in range(10) for p in range(10)
                if t != p and result.confusion[t][p])
    qtbot.mouseClick(view.matrix.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.matrix.visualItemRect(view.matrix.item(t, p)).center())
    assert view.shown_sample_count() == result.confusion[t][p]
    assert "(mistakes)" in view.samples_title.text()


def test_table_mistakes_are_shown_as_rows(qtbot, runs, tmp_path):
    view = _shown(qtbot, EvaluationView(tmp_path / "runs"))
    with qtbot.waitSignal(view.evaluated, timeout=HANG_MS):
        view.show_run(runs["iris"])
    view.show_cell(0, 0)
    table = view.sample_rows
    assert view.sample_stack.currentWidget() is table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == [
        "sample", "confidence", "sepal length (cm)", "sepal width (cm)", "petal length (cm)",
        "petal width (cm)"]
    assert table.rowCount() == view.result.confusion[0][0] > 0
    assert 4.0 <= float(table.item(0, 2).text()) <= 8.0  # centimetres, not standardised


def test_a_regression_shows_predicted_against_true(qtbot, runs, tmp_path):
    view = _shown(qtbot, EvaluationView(tmp_path / "runs"))
    with qtbot.waitSignal(view.evaluated, timeout=HANG_MS):
        view.show_run(runs["diabetes"])
    assert view.pages.currentWidget() is view.scatter_plot
    assert len(view.scatter.data) == view.result.samples == 88
    assert view.status.text().startswith("Mean absolute error")


def test_a_run_without_checkpoints_says_so(qtbot, runs, tmp_path):
    view = _shown(qtbot, EvaluationView(tmp_path / "runs"))
    empty = tmp_path / "runs" / "20250101-000000-mlp-digits"
    empty.mkdir()
    view.show_run(empty)
    assert "has no checkpoint" in view.status.text()


def _drop(widget, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    # Qt delivers a drop only inside a drag it started itself; the handler takes the event
    widget.dropEvent(event)
    assert event.isAccepted()


def test_a_dropped_image_gets_the_top_classes(qtbot, runs, tmp_path):
    from sklearn.datasets import load_digits

    view = _shown(qtbot, PredictView(tmp_path / "runs"))
    assert view.picker.set_run(runs["mlp"])
    scan = load_digits().images[0]  # a 0, drawn as dark ink on white paper, 10x larger
    paper = np.kron(255 - np.round(scan / 16 * 255).astype(np.uint8),
                    np.ones((10, 10), dtype=np.uint8))
    image = tmp_path / "digit.png"
    Image.fromarray(paper).save(image)
    with qtbot.waitSignal(view.predicted, timeout=HANG_MS):
        _drop(view, image)
    top = view.top_classes()
    assert len(top) == 5 and {name for name, _ in top} <= {str(d) for d in range(10)}
    assert top[0][0] == "0"
    assert "inverted" in view.status.text()
    assert view.drop_area.pixmap() is not None and not view.drop_area.pixmap().isNull()


def test_a_typed_row_is_predicted(qtbot, runs, tmp_path):
    view = _shown(qtbot, PredictView(tmp_path / "runs"))
    assert view.picker.set_run(runs["iris"])
    qtbot.waitUntil(lambda: view.shown_run == runs["iris"], timeout=HANG_MS)
    assert view.row_box.isVisible() and not view.image_box.isVisible()
    assert "sepal length (cm)" in view.columns_label.text()
    qtbot.keyClicks(view.row_edit, "6.7, 3.0, 5.2, 2.3")
    with qtbot.waitSignal(view.predicted, timeout=HANG_MS):
        qtbot.mouseClick(view.row_button, Qt.MouseButton.LeftButton)
    assert view.top_classes()[0][0] == "virginica"


def test_the_export_dialog_exports_and_reports_the_check(qtbot, runs):
    dialog = ExportDialog(runs["mlp"])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("torchscript"))
    assert dialog.path_edit.text().endswith("-best.torchscript.pt")
    with qtbot.waitSignal(dialog.finished_export, timeout=HANG_MS):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.result is not None and dialog.result.matches
    assert "outputs match the trained model" in dialog.status.text()
    assert dialog.result.path.is_file()
    description = json.loads(dialog.result.preprocessing_path.read_text(encoding="utf-8"))
    assert description["format"] == "torchscript"


def test_loading_a_run_while_another_trains_waits_and_says_so(qtbot, runs, tmp_path):
    """Loading a run draws from torch's global generator, so it waits while a run trains
    (core/rng.py holds it) and the tab says why; it loads once the run ends."""
    import threading

    from core.rng import GLOBAL_RNG

    holding, release = threading.Event(), threading.Event()

    def training():  # a run holds the generator from its seed to its end
        with GLOBAL_RNG:
            holding.set()
            release.wait(HANG_MS / 1000)

    run = threading.Thread(target=training)
    run.start()
    try:
        assert holding.wait(HANG_MS / 1000)
        view = _shown(qtbot, PredictView(tmp_path / "runs"))
        assert view.picker.set_run(runs["iris"])
        assert "waiting for the training run to end" in view.status.text()
        qtbot.wait(300)
        assert view.shown_run != runs["iris"]  # not loaded while the run holds it
    finally:
        release.set()
        run.join()
    qtbot.waitUntil(lambda: view.shown_run == runs["iris"], timeout=HANG_MS)
    assert "waiting" not in view.status.text()

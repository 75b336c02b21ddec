"""The data side of the window: a preview of the chosen dataset (sample images, class
counts, first rows), file and folder pickers for paths, the loss following the data's
task, and curves titled by the run's metric."""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QFileDialog, QTableWidget

from core.catalog import CATALOGUES
from core.config import RunConfig
from core.events import EpochEnd, RunStarted
from gui.plots import LivePlots
from gui.param_form import PathField
from gui.run_progress import RunProgress
from gui.run_setup import RunSetupPanel
from limits import HANG_MS


def open_preview(qtbot, panel: RunSetupPanel, dataset: str):
    picker = panel.pickers["data"]
    picker.combo.setCurrentText(dataset)
    panel.preview_button.click()
    dialog = panel.preview_dialog
    qtbot.waitUntil(lambda: not dialog.is_loading() and dialog.tabs.isVisibleTo(dialog)
                    or "Cannot load" in dialog.summary_label.text(), timeout=HANG_MS)
    return dialog


def table_rows(table: QTableWidget) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def test_preview_of_digits_shows_sample_images_with_labels_and_class_counts(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    dialog = open_preview(qtbot, panel, "digits")
    assert dialog.windowTitle() == "Data preview: digits"
    assert "1,438 training and 359 validation samples, images of 1x28x28" in \
        dialog.summary_label.text()
    assert dialog.images_shown == 32
    captions = [label.text() for label in dialog.image_grid.findChildren(type(
        dialog.summary_label)) if label.pixmap().isNull()]
    assert captions[:10] == [str(d) for d in range(10)]  # every class shows, in turn
    pictures = [label.pixmap() for label in dialog.image_grid.findChildren(type(
        dialog.summary_label)) if not label.pixmap().isNull()]
    assert len(pictures) == 32 and pictures[0].width() == 72
    image = pictures[0].toImage()
    assert len({image.pixelColor(x, y).lightness() for x in range(0, 72, 6)
                for y in range(0, 72, 6)}) > 3  # a real scan, not a blank square
    counts = table_rows(dialog.counts_table)
    assert len(counts) == 10 and counts[0][0] == "0"
    assert sum(int(row[1]) for row in counts) == 1438
    assert sum(int(row[2]) for row in counts) == 359
    assert dialog.rows_table is None
    dialog.close()


def test_preview_of_iris_shows_its_first_rows(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    dialog = open_preview(qtbot, panel, "iris")
    assert dialog.images_shown == 0 and dialog.image_grid is None
    table = dialog.rows_table
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == [
        "sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)",
        "class"]
    assert table_rows(table)[0] == ["5.1", "3.5", "1.4", "0.2", "setosa"]
    assert table.rowCount() == 50
    assert [row[0] for row in table_rows(dialog.counts_table)] == [
        "setosa", "versicolor", "virginica"]
    dialog.close()


def test_preview_says_why_data_cannot_load(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    dialog = open_preview(qtbot, panel, "csv")
    assert dialog.summary_label.text() == \
        "Cannot load this data: [data] path is empty: choose a CSV file"
    dialog.close()


def test_a_second_preview_replaces_the_first(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    first = open_preview(qtbot, panel, "wine")
    second = open_preview(qtbot, panel, "iris")
    assert panel.preview_dialog is second
    qtbot.waitUntil(lambda: not shiboken6.isValid(first))  # closed and deleted
    panel.close_data_preview()
    assert panel.preview_dialog is None


def test_data_paths_have_file_and_folder_pickers(qtbot, tmp_path, monkeypatch):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    forms = panel.pickers["data"].forms
    for dataset, name in [("mnist", "data_dir"), ("cifar10", "data_dir"),
                          ("image_folder", "folder"), ("image_folder", "val_folder")]:
        field = forms[dataset].fields[name]
        assert isinstance(field, PathField) and field.folder, (dataset, name)
    for dataset in ("csv", "text_csv"):
        field = forms[dataset].fields["path"]
        assert isinstance(field, PathField) and not field.folder
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda *args, **kwargs: str(tmp_path / "pets"))
    panel.pickers["data"].combo.setCurrentText("image_folder")
    forms["image_folder"].fields["folder"].findChild(type(panel.preview_button)).click()
    assert panel.config().data.params["folder"] == str(tmp_path / "pets")


def test_every_dataset_but_the_users_own_files_needs_no_path():
    datasets = CATALOGUES["data"]
    own_files = {"csv", "text_csv", "image_folder"}
    for entry in datasets.entries():
        paths = [p for p in entry.params if p.kind in ("path", "dir")]
        if entry.name not in own_files:
            assert all(p.default == "" for p in paths)  # empty: the default data folder
            RunConfig.from_dict({"data": {"name": entry.name}})


def test_choosing_a_regression_dataset_picks_a_regression_loss(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    data, loss = panel.pickers["data"].combo, panel.pickers["loss"].combo
    data.setCurrentText("diabetes")
    assert loss.currentText() == "mse"
    loss.setCurrentText("l1")
    data.setCurrentText("csv")  # its task is decided by its file: the loss is left alone
    assert loss.currentText() == "l1"
    data.setCurrentText("iris")
    assert loss.currentText() == "cross_entropy"
    loss.setCurrentText("bce_with_logits")
    data.setCurrentText("breast_cancer")
    assert loss.currentText() == "bce_with_logits"


def _epoch(val: float, train: float) -> EpochEnd:
    return EpochEnd(1, 3, 10, 0.5, train, 0.4, val, 0.001, 1.0, 100.0, True)


def _drawn_metric(plots) -> list[list[float]]:
    return [list(item.getOriginalDataset()[1]) for item in
            plots.metric_plot.getPlotItem().listDataItems()
            if item.getOriginalDataset()[1] is not None and len(item.getOriginalDataset()[1])]


def test_metric_plot_follows_the_runs_metric(qtbot):
    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.add_epoch(_epoch(0.9, 0.8))
    plots.stop_live()
    assert _drawn_metric(plots) == [[90.0], [80.0]]  # validation, training; in percent
    item = plots.metric_plot.getPlotItem()
    assert item.titleLabel.text == "Accuracy per epoch"
    assert item.getAxis("left").labelText == "accuracy (%)"
    plots.clear()
    plots.set_metric("r2")
    plots.add_epoch(_epoch(-0.25, 0.4))
    plots.stop_live()
    assert _drawn_metric(plots) == [[-0.25], [0.4]]  # R2 unscaled
    assert item.titleLabel.text == "R2 per epoch"
    assert item.getAxis("left").labelText == "R2"
    plots.set_metric("accuracy")
    assert item.titleLabel.text == "Accuracy per epoch"


def test_progress_shows_r2_and_the_data_notes(qtbot):
    progress = RunProgress()
    qtbot.addWidget(progress)
    progress.show_preparing()
    progress.show_started(RunStarted("/runs/x", "cpu", 3, 10, 300, 100, 1000, 1000,
                                     metric_name="r2",
                                     data_notes=["2 row(s) with empty cells dropped"]))
    assert progress.notes_label.text() == "Note: 2 row(s) with empty cells dropped"
    assert not progress.notes_label.isHidden()
    progress.show_finished({"status": "completed", "epochs_completed": 3, "duration_s": 4,
                            "metric": "r2", "final_val_metric": 0.4567,
                            "final_val_loss": 0.5})
    assert "validation R2 0.457 · validation loss 0.5" in progress.text()
    progress.show_preparing()
    assert progress.notes_label.isHidden()

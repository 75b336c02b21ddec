"""Issue 13 in the window, part C: units in the form's labels, the CSV target chosen from
the file's columns, rows dropped for empty cells said when the run starts (finding 11);
models that cannot read the chosen data greyed in the model list (finding 5); Stop before
the first step leaves no run folder, a warning for an absurd number of epochs, curves
against time, plots that follow a dark palette, Help beyond About, the Runs tab's best
metric is the best checkpoint's (finding 12); a failed run's error.txt opens from the window
(finding 14)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from finished_runs import copy_runs, make_runs
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from core.config import RunConfig
from core.control import RunControl
from core.events import BatchEnd, EpochEnd, RunStarted
from core.train.loop import train
from gui.param_form import ColumnField, speak_form_labels
from gui.run_setup import RunSetupPanel
from gui.runs_panel import METRIC, LOSS, RunsPanel
from limits import HANG_MS
from test_gui_training import choose_quick_run, click


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("trained"), ["mlp"])


class OpenedUrls(QObject):
    """Takes the file URLs the window opens (QDesktopServices), instead of a file manager."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened():
    handler = OpenedUrls()
    QDesktopServices.setUrlHandler("file", handler, "open")
    yield handler
    QDesktopServices.unsetUrlHandler("file")


def _panel(qtbot, runs_dir: Path | None = None) -> RunSetupPanel:
    panel = RunSetupPanel(runs_dir)
    qtbot.addWidget(panel)
    return panel


def _choose(combo, text: str) -> None:
    combo.setCurrentIndex(combo.findText(text))
    assert combo.currentText() == text


# 11. Units, the CSV's columns, dropped rows

def test_labels_say_the_units_and_messages_say_them_as_labelled(qtbot):
    panel = _panel(qtbot)
    labels = {label.text() for label in panel.training_form.labels}
    assert "checkpoint every (s)" in labels and "checkpoint every s" not in labels
    assert "unfreeze every (epochs)" in {label.text() for label in panel.finetune_form.labels}
    image_folder = {label.text() for label in panel.pickers["data"].forms["image_folder"].labels}
    assert "image size (px)" in image_folder
    audio = {label.text() for label in panel.pickers["data"].forms["audio_folder"].labels}
    assert {"sample rate (Hz)", "duration (s)", "window (ms)", "gain (dB)"} <= audio
    assert speak_form_labels("[training] checkpoint_every_s = 5 is too short") == \
        "Training › checkpoint every (s) = 5 is too short"


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_csv_target_is_chosen_from_the_files_columns(qtbot, tmp_path):
    table = _write_csv(tmp_path / "houses.csv", ["rooms", "größe", "price"],
                       [[i % 4 + 1, 50 + i, 100 + 3 * i] for i in range(40)])
    panel = _panel(qtbot)
    _choose(panel.pickers["data"].combo, "csv")
    form = panel.pickers["data"].forms["csv"]
    target = form.fields["target"]
    assert isinstance(target, ColumnField) and target.isEditable()  # no file yet: typed
    form.fields["path"].line_edit.setText(str(table))
    qtbot.waitUntil(lambda: target.columns == ["rooms", "größe", "price"], timeout=HANG_MS)
    assert not target.isEditable()
    assert target.itemText(0) == "(the last column)" and target.config_value() == ""
    target.setCurrentIndex(target.findText("größe"))
    assert panel.config().data.params["target"] == "größe"
    # a file that cannot be read: the name is typed, and the tooltip says why
    form.fields["path"].line_edit.setText(str(tmp_path / "gone.csv"))
    qtbot.waitUntil(lambda: target.columns is None, timeout=HANG_MS)
    assert target.isEditable() and target.config_value() == "größe"  # kept, not replaced
    assert "Data › path" in target.toolTip() and "does not exist" in target.toolTip()
    target.setEditText("price")
    assert panel.config().data.params["target"] == "price"


def test_rows_dropped_for_empty_cells_are_said_when_the_run_starts(window, qtbot, tmp_path):
    rows = [[i, (i * 7) % 5, "" if i % 3 == 0 else i % 2, i % 2] for i in range(30)]
    table = _write_csv(tmp_path / "gaps.csv", ["a", "b", "c", "y"], rows)
    choose_quick_run(window, qtbot, epochs=1, batch_size=4)
    panel = window.setup_panel
    _choose(panel.pickers["data"].combo, "csv")
    panel.pickers["data"].forms["csv"].fields["path"].line_edit.setText(str(table))
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    notes = window.progress.notes_label
    assert notes.isVisible(), window.message_bar.text()
    assert "10 of 30 row(s) with empty cells dropped" in notes.text()


# 5. Models that cannot read the data

def test_models_that_cannot_read_the_data_are_greyed_with_the_reason(qtbot):
    from core.catalog import DATASETS
    from core.data.memory import DataInfo
    from core.errors import BadInput
    from core.models.build import build_model_for

    panel = _panel(qtbot)
    combo = panel.pickers["model"].combo
    assert panel.model_fits_data("simple_cnn") and panel.model_fits_data("mlp")
    assert not panel.model_fits_data("hf_classifier")  # texts only
    _choose(panel.pickers["data"].combo, "iris")
    assert panel.model_fits_data("mlp")
    assert not panel.model_fits_data("simple_cnn") and not panel.model_fits_data("lstm")
    tip = combo.itemData(combo.findText("simple_cnn"), Qt.ItemDataRole.ToolTipRole)
    assert tip == "simple_cnn cannot read tables, which iris gives; it takes images or audio."
    _choose(panel.pickers["data"].combo, "text_csv")
    assert panel.model_fits_data("lstm") and panel.model_fits_data("hf_classifier")
    assert not panel.model_fits_data("mlp") and not panel.model_fits_data("resnet18")
    # the trainer refuses by the same rule, for every model the list greys
    kind = DATASETS.get("iris").extra["gives"]
    with pytest.raises(BadInput, match="simple_cnn needs images or audio; this dataset gives a "
                                       "table of 4 columns; pick mlp"):
        build_model_for("simple_cnn", {"dropout": 0.0},
                        DataInfo(kind=kind, input_shape=(4,), num_classes=3))


# 12. Stop before the first step, absurd epochs, time axis, dark plots, Help, best column

def test_stop_before_the_first_step_leaves_no_run_folder(tmp_path):
    control = RunControl()
    control.stop()  # Stop pressed while the run was being prepared
    config = RunConfig().with_overrides(["training.device=cpu", "model.name=mlp",
                                         "training.epochs=1"])
    summary = train(config, tmp_path / "runs", control=control)
    assert summary["status"] == "stopped" and summary["run_dir"] is None
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_start_stopped_at_once_leaves_no_run_folder_in_the_window(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=1)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        window.start_run()
        window.stop_run()  # before the data is even loaded
    assert list((tmp_path / "runs").glob("*")) == []
    assert window.progress.text() == "Stopped before training began; no run folder was kept."
    assert "Run folder:" not in window.folder_label.text()


def test_an_absurd_number_of_epochs_is_warned_with_an_estimate(qtbot, trained, tmp_path):
    runs = copy_runs(trained, tmp_path / "runs")
    panel = _panel(qtbot, tmp_path / "runs")
    _choose(panel.pickers["model"].combo, "mlp")
    epochs = panel.training_form.fields["epochs"]
    epochs.setValue(99999)
    qtbot.waitUntil(lambda: panel.training_form.notice_text("epochs") != "", timeout=HANG_MS)
    warning = panel.training_form.notice_text("epochs")
    assert warning.startswith("99,999 epochs would take about ")
    assert f"at the pace of {runs['mlp'].name}" in warning
    epochs.setValue(10)
    qtbot.waitUntil(lambda: panel.training_form.notice_text("epochs") == "", timeout=HANG_MS)
    # without a run to go by, the count alone is warned of
    _choose(panel.pickers["data"].combo, "iris")
    epochs.setValue(20000)
    qtbot.waitUntil(lambda: "20,000 epochs is a very long run"
                    in panel.training_form.notice_text("epochs"), timeout=HANG_MS)


def test_the_curves_can_be_drawn_against_time(qtbot):
    from gui.plots import LivePlots

    plots = LivePlots()
    qtbot.addWidget(plots)
    plots.start_run(RunStarted("/runs/x", "cpu", 2, 3, 90, 10, 100, 100, ["a", "b"]))
    plots.add_steps([BatchEnd(step, 1 + (step - 1) // 3, 6, 1.0 / step, 0.5, 0.01, 0.25 * step,
                              100.0) for step in range(1, 7)])
    for epoch in (1, 2):
        plots.add_epoch(EpochEnd(epoch, 2, 3 * epoch, 0.5, 0.6, 0.4, 0.7, 0.01, 1.6 * epoch,
                                 100.0, epoch == 2))
    combo = plots.x_axis_combo
    assert combo.itemText(2) == "time (s)"
    combo.setCurrentIndex(2)
    assert plots.x_by == "time"
    x, _ = plots._curves["step_loss"].getData()
    assert np.allclose(x, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5])
    x, _ = plots._curves["val_loss"].getData()
    assert np.allclose(x, [1.6, 3.2])
    assert plots.loss_plot.getPlotItem().getAxis("bottom").labelText == "time (s)"


def test_the_plots_follow_a_dark_palette(qtbot):
    from gui.plots import LivePlots

    app = QApplication.instance()
    light = app.palette()
    dark = QPalette(light)
    roles = QPalette.ColorRole
    for role, color in ((roles.Window, "#202124"), (roles.Base, "#17181a"),
                        (roles.Text, "#e8eaed"), (roles.WindowText, "#e8eaed")):
        dark.setColor(role, QColor(color))
    plots = LivePlots()
    qtbot.addWidget(plots)
    assert plots.loss_plot.backgroundBrush().color() == QColor("#ffffff")
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: plots.loss_plot.backgroundBrush().color() == QColor("#17181a"),
                        timeout=HANG_MS)
        axis = plots.metric_plot.getPlotItem().getAxis("left")
        assert axis.textPen().color() == QColor("#e8eaed")
        legend_label = plots.legends[0].items[0][1]
        assert "#e8eaed" in legend_label.item.toHtml().lower() or \
            legend_label.item.defaultTextColor() == QColor("#e8eaed")
        fresh = LivePlots()  # made under the dark palette
        qtbot.addWidget(fresh)
        assert fresh.val_loss_plot.backgroundBrush().color() == QColor("#17181a")
    finally:
        app.setPalette(light)
    qtbot.waitUntil(lambda: plots.loss_plot.backgroundBrush().color() == QColor("#ffffff"),
                    timeout=HANG_MS)


def test_help_has_a_guide_the_shortcuts_and_the_runs_folder(qtbot, tmp_path, opened):
    from gui.help_menu import shortcut_rows
    from gui.main_window import MainWindow

    win = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(win)
    help_menu = next(action.menu() for action in win.menuBar().actions()
                     if action.text() == "&Help")
    actions = {a.text(): a for a in help_menu.actions() if not a.isSeparator()}
    assert set(actions) == {"&Getting started", "&Keyboard shortcuts", "Open &runs folder",
                            "&About TrainDesk"}
    actions["&Getting started"].trigger()
    guide = win.findChild(QMessageBox, "gettingStarted")
    assert guide is not None and "Start" in guide.text()
    guide.close()
    rows = dict(shortcut_rows(win))
    assert rows["Ctrl+Return"] == "Start" and rows["Ctrl+3"] == "Runs tab"
    actions["&Keyboard shortcuts"].trigger()
    keys = win.findChild(QMessageBox, "keyboardShortcuts")
    assert "Ctrl+Space" in keys.text() and "Open run file" in keys.text()
    keys.close()
    actions["Open &runs folder"].trigger()
    assert [url.toLocalFile() for url in opened.urls] == [str(tmp_path / "runs")]
    assert (tmp_path / "runs").is_dir()  # made for a new user, so the file manager opens it


def _old_run_folder(runs_dir: Path) -> Path:
    """A run folder as written before summary.json held the best epoch's own scores: best
    by the loss at epoch 2 (val accuracy 0.93), while epoch 3 reached 0.95."""
    folder = runs_dir / "20260101-120000-mlp-digits"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text(
        '[model]\nname = "mlp"\n\n[data]\nname = "digits"\n\n[training]\nepochs = 3\n',
        encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({
        "status": "completed", "metric": "accuracy", "best_metric": "val_loss",
        "best_epoch": 2, "best_val_loss": 0.20, "best_val_metric": 0.95,
        "best_val_accuracy": 0.95, "epochs_completed": 3, "duration_s": 4.0}), encoding="utf-8")
    lines = ["step,epoch,split,loss,accuracy,lr,elapsed_s"]
    lines += [f"{3 * e},{e},val,{loss},{acc},0.001,{e}.0"
              for e, loss, acc in ((1, 0.5, 0.8), (2, 0.2, 0.93), (3, 0.25, 0.95))]
    (folder / "metrics.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_the_runs_best_metric_is_the_best_checkpoints(qtbot, trained, tmp_path):
    runs = copy_runs(trained, tmp_path / "runs")
    _old_run_folder(tmp_path / "runs")
    panel = RunsPanel(tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.reload()
    cells = {panel.model.item(row, 0).text(): (panel.model.item(row, METRIC).text(),
                                               panel.model.item(row, LOSS).text())
             for row in range(panel.model.rowCount())}
    assert cells["20260101-120000-mlp-digits"] == ("93.0%", "0.2")
    summary = json.loads((runs["mlp"] / "summary.json").read_text(encoding="utf-8"))
    with open(runs["mlp"] / "metrics.csv", newline="", encoding="utf-8") as f:
        best = next(row for row in csv.DictReader(f) if row["split"] == "val"
                    and int(row["epoch"]) == summary["best_epoch"])
    assert summary["best_epoch_val_metric"] == pytest.approx(float(best["accuracy"]), abs=1e-5)
    assert summary["best_epoch_val_loss"] == pytest.approx(float(best["loss"]), rel=1e-5)
    assert cells[runs["mlp"].name][0] == f"{100 * summary['best_epoch_val_metric']:.1f}%"


# 14. A failed run's error.txt

def test_a_failed_runs_error_txt_opens_from_the_window_and_the_runs_tab(window, qtbot, tmp_path,
                                                                       opened):
    choose_quick_run(window, qtbot, epochs=3)
    optimizer = window.setup_panel.pickers["optimizer"]
    _choose(optimizer.combo, "sgd")
    optimizer.forms["sgd"].fields["lr"].setValue(10.0)  # the loss becomes nan: the run fails
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    (run_dir,) = (tmp_path / "runs").iterdir()
    error_file = run_dir / "error.txt"
    assert error_file.read_text(encoding="utf-8").startswith("the loss became nan")
    button = window.message_bar.file_button
    assert button.isVisible() and button.text() == "Open error.txt"
    click(qtbot, button)
    assert [url.toLocalFile() for url in opened.urls] == [str(error_file)]
    panel = window.runs_panel
    panel.reload()
    panel.select_runs([run_dir])
    menu = panel.context_menu()
    entries = {action.objectName(): action for action in menu.actions()}
    assert entries["error"].text() == "Open error.txt"
    assert entries["evaluate"].isEnabled() == panel.buttons["evaluate"].isEnabled()
    entries["error"].trigger()
    assert [url.toLocalFile() for url in opened.urls] == [str(error_file)] * 2
    window.message_bar.clear()
    assert not button.isVisible()

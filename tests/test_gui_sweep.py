"""The window's sweep: File > Sweep… offers the form's numeric and choice fields, runs a
sweep of 4 digits runs into a table and a scatter plot, opens a run in the Runs tab, and
stops resumably."""

from pathlib import Path

from PySide6.QtCore import Qt

from core.sweep import Sweep
from gui.main_window import MainWindow
from limits import HANG_MS


def tick(dialog, key: str, values: str) -> None:
    table = dialog.fields_table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == key)
    table.item(row, 0).setCheckState(Qt.CheckState.Checked)
    table.item(row, 1).setText(values)


def small_window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(window)
    window.setup_panel.set_config(window.setup_panel.config().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[32]", "training.device=cpu",
        "training.epochs=1"]))
    return window


def test_a_sweep_of_four_runs_fills_its_table_and_plot_and_opens_a_run(qtbot, tmp_path):
    window = small_window(qtbot, tmp_path)
    window.sweep_action.trigger()
    dialog = window.sweep_dialog
    keys = [dialog.fields_table.item(r, 0).text() for r in range(dialog.fields_table.rowCount())]
    assert {"optimizer.lr", "training.batch_size", "model.activation"} <= set(keys)
    assert "training.device" not in keys  # text, not a number or a choice
    tick(dialog, "optimizer.lr", "1e-4, 1e-2")
    tick(dialog, "training.batch_size", "32,128")
    dialog.start_button.click()
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=HANG_MS)  # the sweep has ended
    assert dialog.results_table.rowCount() == 4
    status = dialog.results_table.columnCount() - 3
    assert [dialog.results_table.item(r, status).text() for r in range(4)] == ["completed"] * 4
    x, y = dialog.scatter.getData()
    assert len(x) == 4 and all(0 < v <= 1 for v in y)
    dialog.results_table.selectRow(2)
    dialog.open_button.click()
    assert window.tabs.currentWidget() is window.runs_panel
    run_dir = dialog.sweep.results()[2].run_dir
    assert [str(r.path) for r in window.runs_panel.selected_runs()] == [run_dir]
    dialog.close()


def test_stopping_a_sweep_leaves_it_resumable(qtbot, tmp_path):
    window = small_window(qtbot, tmp_path)
    window.setup_panel.set_config(window.setup_panel.config().with_overrides([
        "training.epochs=200"]))
    window.sweep_action.trigger()
    dialog = window.sweep_dialog
    tick(dialog, "optimizer.lr", "1e-3,2e-3,3e-3")
    dialog.start_button.click()
    runs = tmp_path / "runs"
    qtbot.waitUntil(lambda: any((p / "metrics.csv").exists() for p in runs.iterdir()
                                if p.name != "sweeps"), timeout=HANG_MS)
    dialog.stop_button.click()
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=HANG_MS)  # the sweep has ended
    statuses = [r.status for r in Sweep.load(dialog.sweep.id, runs).results()]
    assert statuses == ["stopped", "pending", "pending"]

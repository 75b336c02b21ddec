"""The Runs tab: the list read from the runs folder (damaged folders included), sorting
and filtering, rename and note kept across restarts, delete with confirmation, comparing
runs (curves overlaid, settings side by side), and the actions wired into the window."""

from __future__ import annotations

import json

import pytest
from finished_runs import copy_runs, make_runs
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from core.runs.history import read_run
from gui.plots import run_colors
from gui.runs_panel import METRIC, NAME, STATUS, RunsPanel
from limits import HANG_MS


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("trained"), ["mlp", "cnn"])


@pytest.fixture
def runs(trained, tmp_path):
    """The two runs, and a damaged folder, in this test's own runs folder."""
    copies = copy_runs(trained, tmp_path / "runs")
    damaged = tmp_path / "runs" / "20250101-000000-mlp-digits"
    damaged.mkdir()
    (damaged / "summary.json").write_text("{cut short", encoding="utf-8")
    copies["damaged"] = damaged
    return copies


@pytest.fixture
def panel(qtbot, runs, tmp_path):
    widget = RunsPanel(tmp_path / "runs")
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _cell(panel, folder: str, column: int) -> str:
    for row in range(panel.proxy.rowCount()):
        if panel.proxy.index(row, NAME).data(Qt.ItemDataRole.UserRole).endswith(folder):
            return panel.proxy.index(row, column).data()
    raise KeyError(folder)


def test_every_run_is_listed_the_damaged_one_as_unreadable(panel, runs):
    assert sorted(panel.visible_folders()) == sorted(p.name for p in runs.values())
    assert panel.count_label.text() == "3 runs"
    assert _cell(panel, runs["mlp"].name, STATUS) == "completed"
    assert _cell(panel, runs["damaged"].name, STATUS) == "unreadable"
    summary = json.loads((runs["mlp"] / "summary.json").read_text(encoding="utf-8"))
    assert _cell(panel, runs["mlp"].name, METRIC) == f"{summary['best_val_accuracy']:.1%}"


def test_runs_sort_by_a_column_and_filter_by_text(panel, runs):
    panel.table.sortByColumn(METRIC, Qt.SortOrder.DescendingOrder)
    scores = {name: read_run(path).best_val_metric for name, path in runs.items()}
    best_first = sorted(("mlp", "cnn"), key=lambda n: -scores[n])
    assert panel.visible_folders()[:2] == [runs[n].name for n in best_first]
    assert panel.visible_folders()[2] == runs["damaged"].name  # no metric: last
    panel.filter_edit.setText("SIMPLE_cnn")
    assert panel.visible_folders() == [runs["cnn"].name]
    assert panel.count_label.text() == "1 of 3 runs"
    panel.filter_edit.clear()
    assert len(panel.visible_folders()) == 3


def test_a_name_and_a_note_survive_a_restart(panel, runs, qtbot, tmp_path, monkeypatch):
    panel.select_runs([runs["mlp"]])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("baseline mlp", True))
    qtbot.mouseClick(panel.buttons["rename"], Qt.MouseButton.LeftButton)
    monkeypatch.setattr(QInputDialog, "getMultiLineText",
                        lambda *a, **k: ("first try\nlr was fine", True))
    qtbot.mouseClick(panel.buttons["note"], Qt.MouseButton.LeftButton)
    assert _cell(panel, runs["mlp"].name, NAME) == "baseline mlp"
    assert [r.folder for r in panel.selected_runs()] == [runs["mlp"].name]  # kept selected

    again = RunsPanel(tmp_path / "runs")  # as after restarting the app
    qtbot.addWidget(again)
    again.reload()
    assert _cell(again, runs["mlp"].name, NAME) == "baseline mlp"
    assert read_run(runs["mlp"]).note == "first try\nlr was fine"
    assert runs["mlp"].is_dir()  # the folder keeps its name


def test_delete_asks_first_and_names_the_folder(panel, runs, qtbot, monkeypatch):
    panel.select_runs([runs["cnn"]])
    asked = []

    def answer(reply):
        def question(parent, title, text, *args):
            asked.append(text)
            return reply
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    qtbot.mouseClick(panel.buttons["delete"], Qt.MouseButton.LeftButton)
    assert runs["cnn"].is_dir() and str(runs["cnn"]) in asked[0]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(panel.buttons["delete"], Qt.MouseButton.LeftButton)
    assert not runs["cnn"].exists()
    assert runs["cnn"].name not in panel.visible_folders()
    assert panel.count_label.text() == "2 runs"


def test_two_selected_runs_are_compared(panel, runs):
    panel.select_runs([runs["mlp"], runs["cnn"]])
    compare = panel.compare_plots
    assert sorted(compare.legend_labels()) == sorted([runs["mlp"].name, runs["cnn"].name])
    assert compare.run_colors() == run_colors([runs["mlp"].name, runs["cnn"].name])
    assert len(set(compare.run_colors().values())) == 2
    assert "model.name" in panel.differing_settings()
    assert "training.epochs" in panel.differing_settings()
    assert "optimizer.lr" not in panel.differing_settings()  # the same in both
    panel.only_differences.setChecked(False)
    assert panel.settings_table.rowCount() > len(panel.differing_settings())
    assert panel.settings_table.columnCount() == 3
    assert panel.compare_hint.isHidden()
    panel.select_runs([runs["damaged"]])  # nothing to draw for an unreadable run
    assert compare.legend_labels() == []
    assert not panel.buttons["evaluate"].isEnabled() and not panel.buttons["copy"].isEnabled()


def test_copy_command_and_resume(panel, runs, qtbot):
    panel.select_runs([runs["mlp"]])
    assert not panel.buttons["resume"].isEnabled()  # completed: nothing to resume
    qtbot.mouseClick(panel.buttons["copy"], Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == \
        f"traindesk train {runs['mlp'] / 'config.toml'}"
    summary_path = runs["mlp"] / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    summary_path.write_text(json.dumps({**summary, "status": "stopped"}), encoding="utf-8")
    panel.reload()
    assert panel.buttons["resume"].isEnabled()
    with qtbot.waitSignal(panel.resume_requested) as signal:
        qtbot.mouseClick(panel.buttons["resume"], Qt.MouseButton.LeftButton)
    assert signal.args == [runs["mlp"]]
    panel.set_running(True)
    assert not panel.buttons["resume"].isEnabled() and not panel.buttons["rerun"].isEnabled()


def test_the_window_loads_settings_evaluates_and_runs_again(window, qtbot, trained, tmp_path):
    copies = copy_runs(trained, tmp_path / "runs")
    runs_tab = window.runs_panel
    window.tabs.setCurrentWidget(runs_tab)
    runs_tab.select_runs([copies["cnn"]])
    qtbot.mouseClick(runs_tab.buttons["load"], Qt.MouseButton.LeftButton)
    config = window.setup_panel.config()
    assert (config.model.name, config.training.epochs) == ("simple_cnn", 1)

    runs_tab.select_runs([copies["mlp"]])
    with qtbot.waitSignal(window.evaluation_view.evaluated, timeout=HANG_MS):
        qtbot.mouseClick(runs_tab.buttons["evaluate"], Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.evaluation_view
    assert window.evaluation_view.status.text().startswith("Validation accuracy")

    window.tabs.setCurrentWidget(runs_tab)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        qtbot.mouseClick(runs_tab.buttons["rerun"], Qt.MouseButton.LeftButton)
    assert window.last_summary["status"] == "completed"
    assert window.last_summary["model"] == "mlp"
    assert len(runs_tab.visible_folders()) == 3  # the new run is listed at once

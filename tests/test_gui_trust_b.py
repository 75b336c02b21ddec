"""Issue 13 in the window, part B: Predict shows the model's input and lets the user
switch the drawing cleanup (finding 2); the Runs tab calls a live run "running", also
after Refresh during a resume (finding 4); a run whose loss exploded (lr 10) shows its
hint and is listed as diverged (finding 7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from finished_runs import copy_runs, make_runs
from PIL import Image
from PySide6.QtWidgets import QFileDialog

from gui.predict_view import PredictView
from limits import HANG_MS
from test_gui_control import wait_for_points
from test_gui_training import click, run_summaries
from test_reliability_round2_gui import _status


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("trained"), ["mlp"])


def choose_quick_run(window, epochs: int, batch_size: int) -> None:
    """mlp on digits on the CPU, set in the panel's own widgets."""
    panel = window.setup_panel
    model = panel.pickers["model"].combo
    model.setCurrentIndex(model.findText("mlp"))
    panel.training_form.fields["epochs"].setValue(epochs)
    panel.training_form.fields["batch_size"].setValue(batch_size)
    panel.device_field.setCurrentIndex(panel.device_field.findText("cpu"))
    config = panel.config()
    assert (config.model.name, config.training.epochs, config.training.batch_size) == (
        "mlp", epochs, batch_size)


def _predicted(qtbot, view, action) -> None:
    with qtbot.waitSignal(view.predicted, timeout=HANG_MS):
        action()


def test_predict_shows_the_models_input_and_the_drawing_choice(qtbot, trained, tmp_path):
    from sklearn.datasets import load_digits

    runs = copy_runs(trained, tmp_path / "runs")
    view = PredictView(tmp_path / "runs")
    qtbot.addWidget(view)
    view.show()
    assert view.picker.set_run(runs["mlp"])
    qtbot.waitUntil(lambda: view.shown_run == runs["mlp"], timeout=HANG_MS)
    drawing = np.full((280, 280), 255, dtype=np.uint8)  # a thin "1", small, on white paper
    drawing[100:180, 139:142] = 0
    Image.fromarray(drawing).save(tmp_path / "drawing.png")
    _predicted(qtbot, view, lambda: view.predict_image(tmp_path / "drawing.png"))
    assert view.drawing_box.isVisible() and view.drawing_box.isChecked()
    assert view.input_view.isVisible() and not view.input_view.pixmap().isNull()
    assert view.input_caption.text() == "The model's input (28x28)"
    cleaned = view.prediction.model_input.copy()
    _predicted(qtbot, view, lambda: click(qtbot, view.drawing_box))  # the user's choice
    assert not view.drawing_box.isChecked() and view.prediction.drawing is False
    assert not np.array_equal(view.prediction.model_input, cleaned)
    # a saved scan is taken as it is: the box is left unticked
    scan = np.round(load_digits().images[0] / 16 * 255).astype(np.uint8)
    Image.fromarray(scan).save(tmp_path / "scan.png")
    _predicted(qtbot, view, lambda: view.predict_image(tmp_path / "scan.png"))
    assert view.drawing_box.isVisible() and not view.drawing_box.isChecked()
    assert "drawing" not in view.status.text()


def _paused(window, qtbot) -> None:
    wait_for_points(window, qtbot)
    click(qtbot, window.pause_button)
    qtbot.waitUntil(lambda: window.training_thread.control.paused, timeout=HANG_MS)


def test_the_runs_tab_calls_a_live_run_running_also_when_resumed(window, qtbot, tmp_path,
                                                                  monkeypatch):
    panel = window.runs_panel
    choose_quick_run(window, epochs=30, batch_size=8)
    click(qtbot, window.start_button)
    _paused(window, qtbot)
    panel.reload()
    [run_dir] = [Path(s["run_dir"]) for s in run_summaries(tmp_path)]
    assert _status(panel, run_dir.name)[0] == "running"  # not "interrupted" (0/30)
    click(qtbot, window.pause_button)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.stop_button)
    click(qtbot, panel.refresh_button)
    assert _status(panel, run_dir.name)[0] == "stopped"

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(run_dir))
    window.resume_action.trigger()
    _paused(window, qtbot)
    click(qtbot, panel.refresh_button)  # Refresh during the resume
    assert _status(panel, run_dir.name)[0] == "running"
    click(qtbot, window.pause_button)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.stop_button)


def test_a_run_whose_loss_exploded_shows_its_hint_and_is_listed_as_diverged(window, qtbot,
                                                                           tmp_path):
    choose_quick_run(window, epochs=3, batch_size=128)
    window.setup_panel.pickers["optimizer"].forms["adam"].fields["lr"].setValue(10.0)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "completed" and summary["diverged"] == "exploded"
    assert "The loss exploded" in window.plots.hint_text()
    assert "Lower the learning rate" in window.plots.hint_text()
    window.runs_panel.reload()
    status, tip = _status(window.runs_panel, Path(summary["run_dir"]).name)
    assert status == "diverged" and "learning rate" in tip

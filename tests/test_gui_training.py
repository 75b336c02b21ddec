"""Click paths through the main window: start, watch, stop, finish, fail, close."""

import json
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from core.device import available_devices
from close_question import close_during_run
from limits import HANG_MS



def choose_quick_run(window, qtbot, epochs: int, batch_size: int = 64) -> None:
    """mlp on digits on the CPU, picked and typed in the panel's own widgets."""
    panel = window.setup_panel
    model = panel.pickers["model"].combo
    model.setCurrentIndex(model.findText("mlp"))
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        field = panel.training_form.fields[name]
        field.lineEdit().selectAll()
        qtbot.keyClicks(field, str(value))
    panel.device_field.setCurrentIndex(panel.device_field.findText("cpu"))
    config = panel.config()
    assert (config.model.name, config.training.epochs, config.training.batch_size,
            config.training.device) == ("mlp", epochs, batch_size, "cpu")


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def run_summaries(tmp_path) -> list[dict]:
    return [json.loads(path.read_text(encoding="utf-8"))
            for path in (tmp_path / "runs").glob("*/summary.json")]


def test_device_list_is_filled_once_torch_is_loaded(window):
    devices = window.setup_panel.device_field
    assert [devices.itemText(i) for i in range(devices.count())] == available_devices()


def test_stop_ends_the_run_quickly_and_the_run_folder_says_stopped(window, qtbot, tmp_path,
                                                                   record_property):
    choose_quick_run(window, qtbot, epochs=500, batch_size=8)
    click(qtbot, window.start_button)
    assert not window.start_button.isEnabled()  # no second run while this one goes
    assert not window.setup_panel.isEnabled()
    qtbot.waitUntil(lambda: window.plots.train_point_count > 0, timeout=HANG_MS)
    clicked = time.perf_counter()
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.stop_button)
    stop_seconds = time.perf_counter() - clicked
    record_property("stop_seconds", round(stop_seconds, 3))
    print(f"stop took {stop_seconds:.3f} s from click to thread finished")  # a figure, not a limit

    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "stopped"
    assert window.last_summary["status"] == "stopped"
    assert window.progress.text().startswith("Stopped")
    assert window.training_thread is None
    assert window.start_button.isEnabled() and not window.stop_button.isEnabled()


def test_a_short_run_completes_and_shows_its_final_accuracy(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=5)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "completed"
    accuracy = summary["final_val_accuracy"]
    assert accuracy > 0.9
    assert f"validation accuracy {accuracy:.1%}" in window.progress.text()
    assert window.plots.train_point_count == summary["steps_completed"]
    assert len(window.plots.model.epochs) == 5
    assert str(tmp_path / "runs") in window.folder_label.text()
    assert window.message_bar.isHidden()


def test_an_unreadable_list_is_reported_and_the_window_stays_usable(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=1)
    sizes = window.setup_panel.pickers["model"].forms["mlp"].fields["hidden_sizes"]
    sizes.clear()
    qtbot.keyClicks(sizes, "abc")
    click(qtbot, window.start_button)
    assert window.training_thread is None
    assert window.message_bar.isVisible()
    assert "Model › hidden sizes" in window.message_bar.text()  # the form's own label
    assert "'abc'" in window.message_bar.text()
    assert not (tmp_path / "runs").exists()

    sizes.clear()
    qtbot.keyClicks(sizes, "32")
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert window.message_bar.isHidden()
    assert [s["status"] for s in run_summaries(tmp_path)] == ["completed"]


def test_a_batch_larger_than_the_data_is_reported_by_the_trainer(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=1, batch_size=5000)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert window.message_bar.isVisible()
    assert "batch size = 5000" in window.message_bar.text()
    assert window.start_button.isEnabled() and window.setup_panel.isEnabled()
    assert run_summaries(tmp_path) == []  # refused before anything was written


def test_a_diverging_run_shows_why_it_failed(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=3)
    optimizer = window.setup_panel.pickers["optimizer"]
    optimizer.combo.setCurrentIndex(optimizer.combo.findText("sgd"))
    optimizer.forms["sgd"].fields["lr"].setValue(10.0)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert "the loss became nan" in window.message_bar.text()
    assert "Lower Optimizer › lr" in window.message_bar.text()
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "failed"
    assert window.start_button.isEnabled()


def test_failure_details_open_in_an_expandable_box(window, qtbot):
    window.message_bar.show_error("The run failed: RuntimeError: shapes do not match",
                                  "Traceback (most recent call last): ...")
    click(qtbot, window.message_bar.details_button)
    box = window.findChild(QMessageBox)
    assert box is not None and box.isVisible()
    assert box.detailedText().startswith("Traceback")
    box.close()


def test_closing_the_window_during_a_run_stops_and_joins_the_thread(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=500, batch_size=8)
    click(qtbot, window.start_button)
    qtbot.waitUntil(lambda: window.plots.train_point_count > 0, timeout=HANG_MS)
    thread = window.training_thread
    close_during_run(window)  # answers the question closing during a run asks
    assert thread.isFinished()
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "stopped"

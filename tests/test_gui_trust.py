"""Issue 13, part A: a window a non-programmer can trust. The wheel scrolls and edits
nothing, messages never grow the window past a laptop screen, typed numbers are never
replaced silently, views follow the chosen run, closing during a run asks and the next start
offers to resume it, messages speak the form's labels, the form has an Advanced part, and
the smaller items (palette, shortcuts, short durations, Open folder)."""

from __future__ import annotations

import pytest
from close_question import answer_close_question
from finished_runs import copy_runs, make_runs
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from core.config import RunConfig
from gui.export_dialog import ExportDialog
from gui.main_window import MainWindow
from gui.predict_view import PredictView
from gui.run_progress import format_duration
from gui.run_setup import RunSetupPanel
from limits import HANG_MS

LAPTOP = (1280, 720)  # the window must fit this whatever it shows


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("trained"), ["mlp", "iris"])


@pytest.fixture
def runs(trained, tmp_path):
    return copy_runs(trained, tmp_path / "runs")


def _wheel(widget, notches: int = -3) -> None:
    """Turn the mouse wheel over `widget` (negative: towards the user, scrolling down)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def _small_window(qtbot, tmp_path) -> MainWindow:
    win = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(win)
    win.resize(1280, 700)
    with qtbot.waitExposed(win):  # exposed: painted, and the plot views built after it
        win.show()
    return win


# 1. The wheel

def test_the_wheel_scrolls_the_settings_and_changes_no_field(qtbot, tmp_path):
    win = _small_window(qtbot, tmp_path)
    panel = win.setup_panel
    scroll = win.findChild(QScrollArea)
    optimizer = panel.pickers["optimizer"].combo
    lr = panel.pickers["optimizer"].forms["adam"].fields["lr"]
    epochs = panel.training_form.fields["epochs"]
    before = (optimizer.currentText(), lr.value(), epochs.value())
    for field in (optimizer, lr, epochs):
        assert not field.hasFocus()
        start = scroll.verticalScrollBar().value()
        _wheel(field)
        assert scroll.verticalScrollBar().value() > start or \
            scroll.verticalScrollBar().value() == scroll.verticalScrollBar().maximum()
    assert (optimizer.currentText(), lr.value(), epochs.value()) == before
    # once the user has clicked into a field, the wheel is theirs to use there
    epochs.setFocus()
    qtbot.waitUntil(epochs.hasFocus, timeout=HANG_MS)
    _wheel(epochs, notches=1)
    assert epochs.value() == before[2] + 1


# 3. The window's size

def test_messages_notes_and_readouts_never_grow_the_window(qtbot, tmp_path):
    win = _small_window(qtbot, tmp_path)
    QApplication.processEvents()
    minimum = win.minimumSizeHint()
    tab_bar_y = win.tabs.tabBar().mapTo(win, QPoint(0, 0)).y()
    assert minimum.width() <= LAPTOP[0] and minimum.height() <= LAPTOP[1]
    win.message_bar.show_error("Cannot start: " + "a long explanation of what went wrong " * 8)
    win.progress.notes_label.show_note("Note: 101 of 300 row(s) with empty cells dropped\n"
                                       "Note: 3 columns read as text")
    win.plots.readout.setText("step 123,456 · epoch 12 · loss 0.1234 · smoothed 0.1202 · "
                              * 4)
    QApplication.processEvents()
    assert win.minimumSizeHint() == minimum
    assert win.tabs.tabBar().mapTo(win, QPoint(0, 0)).y() == tab_bar_y
    win.resize(*LAPTOP)
    QApplication.processEvents()
    assert (win.width(), win.height()) == LAPTOP


# 6. Typed numbers

@pytest.mark.parametrize("section, name, typed, kept", [
    ("optimizer", "lr", "1e9", "0.001"),
    ("training", "epochs", "0", "10"),
    ("training", "batch_size", "0", "64"),
    ("training", "epochs", "-5", "10"),
])
def test_a_typed_number_that_cannot_be_used_is_reported_at_its_field(qtbot, section, name,
                                                                       typed, kept):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    panel.show()
    form = panel.pickers["optimizer"].forms["adam"] if section == "optimizer" \
        else panel.training_form
    field = form.fields[name]
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, typed)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.text() == kept
    notice = form.notices[name]
    assert notice.isVisible()
    assert f"“{typed}”" in notice.text() and notice.text().endswith(f"Kept {kept}.")
    field.selectAll()
    qtbot.keyClicks(field, "3")  # a good value clears the notice
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.text() == "3" and not notice.isVisible()


def test_twenty_epochs_can_be_typed(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    field = panel.training_form.fields["epochs"]
    field.selectAll()
    qtbot.keyClicks(field, "20")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.value() == 20


# 8. Views follow the chosen run

def test_predict_clears_the_previous_runs_result_when_the_run_changes(qtbot, runs, tmp_path):
    view = PredictView(tmp_path / "runs")
    qtbot.addWidget(view)
    view.show()
    assert view.picker.set_run(runs["iris"])
    qtbot.waitUntil(lambda: view.shown_run == runs["iris"], timeout=HANG_MS)
    qtbot.keyClicks(view.row_edit, "5.1, 3.5, 1.4, 0.2")
    with qtbot.waitSignal(view.predicted, timeout=HANG_MS):
        qtbot.mouseClick(view.row_button, Qt.MouseButton.LeftButton)
    assert view.top_classes()[0][0] == "setosa"
    assert view.picker.set_run(runs["mlp"])
    assert view.top_classes() == [] and view.prediction is None
    assert "setosa" not in view.status.text()
    qtbot.waitUntil(lambda: view.shown_run == runs["mlp"], timeout=HANG_MS)
    assert view.top_classes() == []


def test_the_export_dialog_forgets_its_result_when_the_format_changes(qtbot, runs):
    dialog = ExportDialog(runs["mlp"])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("pt"))
    assert dialog.open_folder_button.isHidden()
    with qtbot.waitSignal(dialog.finished_export, timeout=HANG_MS):
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "✓ Saved" in dialog.status.text()
    assert not dialog.open_folder_button.isHidden()  # 12: the folder is one click away
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("safetensors"))
    assert "Saved" not in dialog.status.text() and dialog.result is None
    assert dialog.open_folder_button.isHidden()


# 9. Closing during a run, and the next start

def test_closing_during_a_run_asks_and_the_next_start_offers_to_resume(qtbot, tmp_path):
    win = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.device_probe.isFinished(), timeout=HANG_MS)
    win.setup_panel.set_config(RunConfig().with_overrides(
        ["training.device=cpu", "model.name=mlp", "training.epochs=50"]))
    qtbot.mouseClick(win.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.progress.bar.value() > 0, timeout=HANG_MS)
    QTimer.singleShot(0, lambda: answer_close_question("Keep training"))
    assert not win.close()
    assert win.isVisible() and win.training_thread is not None
    QTimer.singleShot(0, lambda: answer_close_question("Stop and close"))
    with qtbot.waitSignal(win.run_ended, timeout=HANG_MS):
        assert win.close()

    again = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: again.resume_bar.isVisible(), timeout=HANG_MS)
    assert "was stopped after" in again.resume_bar.text()
    qtbot.waitUntil(lambda: again.device_probe.isFinished(), timeout=HANG_MS)
    with qtbot.waitSignal(again.run_ended, timeout=HANG_MS):
        qtbot.mouseClick(again.resume_bar.details_button, Qt.MouseButton.LeftButton)
        assert not again.resume_bar.isVisible()
        again.stop_run()
    assert again.last_summary["status"] == "stopped"


# 10. The form's own words

def test_messages_name_settings_as_the_form_labels_them(qtbot, tmp_path):
    win = _small_window(qtbot, tmp_path)
    win.message_bar.show_error("Cannot start: weights do not fit; set [finetune] "
                               "load_matching_only = true, or change `[model] hidden_sizes`")
    text = win.message_bar.text()
    assert "[finetune]" not in text and "load_matching_only" not in text
    assert "Fine-tuning › load matching only = true" in text
    assert "Model › hidden sizes" in text
    assert win.setup_panel.finetune_form.labels[1].text() == "load matching only"


# 11. Basic and Advanced

def test_rarely_changed_settings_wait_behind_the_advanced_box(qtbot):
    panel = RunSetupPanel()
    qtbot.addWidget(panel)
    panel.show()
    precision = panel.training_form.fields["precision"]
    lora_rank = panel.finetune_form.fields["lora_rank"]
    assert not precision.isVisible() and not lora_rank.isVisible()
    assert panel.training_form.fields["epochs"].isVisible()
    panel.advanced_box.click()
    assert precision.isVisible() and lora_rank.isVisible()
    panel.advanced_box.click()
    # a run file's setting out of the default is never hidden
    panel.set_config(RunConfig().with_overrides(["finetune.lora_rank=4"]))
    assert lora_rank.isVisible() and not precision.isVisible()


def test_the_data_notes_are_said_in_a_bar_not_a_grey_line(qtbot, tmp_path):
    win = _small_window(qtbot, tmp_path)
    from core.events import RunStarted

    win.progress.show_started(RunStarted("/runs/x", "cpu", 3, 10, 199, 50, 1000, 1000,
                                         data_notes=["101 row(s) with empty cells dropped"]))
    notes = win.progress.notes_label
    assert notes.isVisible() and "101 row(s) with empty cells dropped" in notes.text()
    assert "fff4ce" in notes.styleSheet()


# 12. Smaller items

def test_run_colours_are_colour_blind_safe():
    from gui.plots.style import RUN_PALETTE

    okabe_ito = {"#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9", "#cc79a7", "#000000"}
    assert okabe_ito <= set(RUN_PALETTE)
    assert "#9467bd" not in RUN_PALETTE and "#e377c2" not in RUN_PALETTE  # purple and pink


def test_start_and_the_tabs_have_keyboard_shortcuts(qtbot, tmp_path):
    win = _small_window(qtbot, tmp_path)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=HANG_MS)
    qtbot.keyClick(win, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert win.tabs.currentWidget() is win.runs_panel
    assert "Ctrl+Return" in win.start_button.toolTip()
    qtbot.waitUntil(lambda: win.device_probe.isFinished(), timeout=HANG_MS)
    win.setup_panel.set_config(RunConfig().with_overrides(
        ["training.device=cpu", "model.name=mlp", "training.epochs=1"]))
    with qtbot.waitSignal(win.run_ended, timeout=HANG_MS):
        qtbot.keyClick(win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert win.last_summary["status"] == "completed"


def test_a_short_run_is_not_said_to_take_no_time():
    assert format_duration(0.4) == "0.4 s"
    assert format_duration(7.25) == "7.2 s"
    assert format_duration(75) == "1:15"

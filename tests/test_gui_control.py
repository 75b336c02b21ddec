"""Run control and faults through the window: Pause / Continue, File > Resume run… with the
earlier points redrawn, early stopping shown, and failing runs (an error in the model, out
of memory, a full disk) that show their message while the window stays usable and the next
run starts and completes."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import torch
from PySide6.QtWidgets import QFileDialog, QMessageBox

from core.models.networks import MLP
from test_gui_training import choose_quick_run, click, run_summaries
from close_question import close_during_run
from limits import HANG_MS


def wait_for_points(window, qtbot, count: int = 1) -> None:
    qtbot.waitUntil(lambda: window.plots.train_point_count >= count, timeout=HANG_MS)


def test_pause_holds_the_run_and_continue_goes_on(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=30, batch_size=8)
    assert not window.pause_button.isEnabled()
    click(qtbot, window.start_button)
    assert window.pause_button.isEnabled() and not window.resume_action.isEnabled()
    wait_for_points(window, qtbot)

    click(qtbot, window.pause_button)
    assert window.pause_button.text() == "Continue"
    assert window.progress.text().startswith("Paused after")
    qtbot.waitUntil(lambda: window.training_thread.control.paused, timeout=HANG_MS)
    qtbot.wait(300)  # the batch under way ends and its step is shown, then nothing moves
    held = window.plots.train_point_count
    qtbot.wait(400)
    assert window.plots.train_point_count == held
    assert window.progress.bar.value() == held  # the plot shows every step taken
    last = window.plots.model.steps["step"][-1]
    assert window.progress.text().startswith(f"Paused after step {int(last):,}/")
    assert window.training_thread.isRunning() and not window.start_button.isEnabled()

    click(qtbot, window.pause_button)
    assert window.pause_button.text() == "Pause"
    wait_for_points(window, qtbot, held + 50)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.stop_button)
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "stopped"
    assert window.plots.train_point_count == summary["steps_completed"]
    assert "File > Resume run… continues it" in window.progress.text()
    assert window.resume_action.isEnabled() and not window.pause_button.isEnabled()


def test_closing_the_window_while_paused_stops_the_run(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=30, batch_size=8)
    click(qtbot, window.start_button)
    wait_for_points(window, qtbot)
    click(qtbot, window.pause_button)
    thread = window.training_thread
    close_during_run(window)  # answers the question closing during a run asks
    assert thread.isFinished()
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "stopped"


def test_resume_run_redraws_the_earlier_points_then_continues(window, qtbot, tmp_path,
                                                              monkeypatch):
    epochs, steps_per_epoch = 12, 23  # ceil(1438 / 64)
    choose_quick_run(window, qtbot, epochs=epochs)
    click(qtbot, window.start_button)
    wait_for_points(window, qtbot)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.stop_button)
    [stopped] = run_summaries(tmp_path)
    assert stopped["status"] == "stopped" and stopped["steps_completed"] < epochs * 23
    run_dir = Path(stopped["run_dir"])

    window.setup_panel.training_form.fields["epochs"].setValue(3)  # the run keeps its own
    added: list[list[int]] = []
    original_add = window.plots.add_steps
    monkeypatch.setattr(window.plots, "add_steps",
                        lambda batches: (added.append([b.step for b in batches]),
                                         original_add(batches)))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(run_dir))
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        window.resume_action.trigger()
    assert window.setup_panel.config().training.epochs == epochs
    assert added[0] == list(range(1, stopped["steps_completed"] + 1))  # the past, first
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "completed"
    assert summary["steps_completed"] == epochs * steps_per_epoch
    assert window.plots.train_point_count == epochs * steps_per_epoch  # no step twice
    assert window.plots.model.steps["step"].tolist() == list(range(1, epochs * steps_per_epoch + 1))
    assert len(window.plots.model.epochs) == epochs
    assert window.progress.text().startswith(f"Completed after {epochs} of {epochs} epochs")
    assert window.message_bar.isHidden()


def test_resuming_a_folder_that_is_not_a_run_says_so(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(tmp_path))
    window.resume_action.trigger()
    assert window.training_thread is None
    assert window.message_bar.text().startswith(f"Cannot resume: {tmp_path} is not a run "
                                                "folder (no config.toml)")


def test_early_stopping_is_shown_when_the_run_ends(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=6)
    form = window.setup_panel.training_form.fields
    form["early_stopping_patience"].setValue(1)
    form["early_stopping_min_delta"].setValue(1e6)  # nothing counts as better
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    [summary] = run_summaries(tmp_path)
    assert summary["stopped_early"] and summary["epochs_completed"] == 2
    assert ("Completed after 2 of 6 epochs" in window.progress.text()
            and "stopped early" in window.progress.text()
            and f"the weights of epoch {summary['best_epoch']} kept" in window.progress.text())


def _break_forward(monkeypatch, error: BaseException) -> None:
    original = MLP.forward
    calls = {"n": 0}

    def forward(self, x):
        calls["n"] += 1
        if calls["n"] == 3:
            raise error
        return original(self, x)

    monkeypatch.setattr(MLP, "forward", forward)


@pytest.mark.parametrize("error, message", [
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied (64x10 and 12x3)"),
     "The run failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied (64x10 and 12x3)"),
    (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
     "The run failed: out of memory with batch_size 64; lower Training › batch size or pick "
     "a smaller model"),  # the window names the setting as its form labels it
], ids=["model error", "out of memory"])
def test_a_failing_run_shows_why_and_the_next_run_completes(window, qtbot, tmp_path,
                                                            monkeypatch, error, message):
    _break_forward(monkeypatch, error)
    choose_quick_run(window, qtbot, epochs=2)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert window.message_bar.text() == message
    assert window.progress.text() == "The run did not finish; see the message below."
    assert window.message_bar.details_button.isVisible()
    click(qtbot, window.message_bar.details_button)
    box = window.findChild(QMessageBox)
    assert "Traceback" in box.detailedText() and "forward" in box.detailedText()
    box.close()
    assert window.start_button.isEnabled() and window.setup_panel.isEnabled()

    monkeypatch.undo()
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert window.message_bar.isHidden()
    assert sorted(s["status"] for s in run_summaries(tmp_path)) == ["completed", "failed"]


def test_a_full_disk_while_saving_is_reported_and_the_last_checkpoint_kept(window, qtbot,
                                                                         tmp_path,
                                                                         monkeypatch):
    real_replace = os.replace
    saves = {"n": 0}

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == "last.pt":
            saves["n"] += 1
            if saves["n"] == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    choose_quick_run(window, qtbot, epochs=3)
    every = window.setup_panel.training_form.fields["checkpoint_every_s"]
    every.setValue(0)  # a last.pt after every epoch
    assert every.text() == "every epoch"
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    [summary] = run_summaries(tmp_path)
    last = Path(summary["run_dir"]) / "checkpoints" / "last.pt"
    assert window.message_bar.text() == (
        f"The run failed: could not save the last checkpoint to {last} (the disk is full); "
        "the previous checkpoint is intact; free disk space")
    assert summary["status"] == "failed"
    assert torch.load(last, weights_only=True)["progress"]["epoch"] == 2
    assert json.loads((last.parents[1] / "summary.json").read_text())["error"] in \
        window.message_bar.text()
    assert window.start_button.isEnabled()


def test_the_stop_button_ends_a_run_mid_epoch(window, qtbot, tmp_path):
    choose_quick_run(window, qtbot, epochs=500, batch_size=8)
    click(qtbot, window.start_button)
    wait_for_points(window, qtbot, 100)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.stop_button)
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "stopped"
    state = torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    assert state["progress"]["step"] == summary["steps_completed"] > 0
    assert summary["epochs_completed"] < 500  # stopped long before the end, not run out

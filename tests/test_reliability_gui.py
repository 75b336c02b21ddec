"""Every bad input of tests/bad_inputs.py met in the window: a run file with a mistyped key
or an out-of-range value is refused by File > Open; bad data, start weights or settings are
refused when Start is pressed. Each shows its message in the message bar, writes no run
folder, and leaves the window ready for the next run."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from bad_inputs import make_cases
from core.config import load_config
from gui.param_form import speak_form_labels
from test_gui_training import click, run_summaries
from limits import HANG_MS

CASES = [
    "mistyped key", "invalid toml", "unknown section", "out of range", "not a choice",
    "batch larger than the data", "missing csv", "unreadable csv (a folder)", "zero-byte csv",
    "non-numeric csv column", "constant csv columns", "csv with a missing cell in every row",
    "missing image folder", "empty class folder", "class of corrupt or zero-byte images",
    "zero-byte start weights", "start weights that need unpickling code",
    "start weights of another architecture",
]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return make_cases(tmp_path_factory.mktemp("bad"))


def open_run_file(window, monkeypatch, path) -> None:
    """File > Open run file… with `path` chosen in the dialog."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(path), ""))
    window.open_action.trigger()


@pytest.mark.parametrize("name", CASES)
def test_bad_input_shows_its_message_and_writes_nothing(window, qtbot, tmp_path, monkeypatch,
                                                        cases, name):
    case = cases[name]
    if case.stage == "config":
        open_run_file(window, monkeypatch, case.run_file)
        message = window.message_bar.text()
        assert message.startswith("Cannot open the run file: ")
    else:
        # what File > Open puts in the form: the run file is valid, its contents are not
        window.setup_panel.set_config(load_config(case.run_file))
        with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
            click(qtbot, window.start_button)
        message = window.message_bar.text()
        assert message.startswith("Cannot start: ")
        assert window.progress.text() == "The run did not start; see the message below."
    for part in case.parts:  # a run file's errors keep its names; the form's use its labels
        part = part if case.stage == "config" else speak_form_labels(part)
        assert part in message, (part, message)
    assert "\n" not in message and "Traceback" not in message
    assert not window.message_bar.details_button.isVisible()
    assert window.training_thread is None and window.start_button.isEnabled()
    assert not (tmp_path / "runs").exists() or run_summaries(tmp_path) == []


def test_mixed_precision_chosen_in_the_form_is_refused_on_the_cpu(window, qtbot, tmp_path):
    panel = window.setup_panel
    model = panel.pickers["model"].combo
    model.setCurrentIndex(model.findText("mlp"))
    panel.device_field.setCurrentIndex(panel.device_field.findText("cpu"))
    precision = panel.training_form.fields["precision"]
    precision.setCurrentIndex(precision.findText("fp16"))
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert window.message_bar.text() == (
        "Cannot start: Training › precision = 'fp16' needs a CUDA GPU, and this run trains on "
        'cpu; use precision = "fp32" (or device = "cuda" on a machine with an NVIDIA GPU)')
    assert run_summaries(tmp_path) == []

    precision.setCurrentIndex(precision.findText("fp32"))
    panel.training_form.fields["epochs"].setValue(1)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert window.message_bar.isHidden()
    assert [s["status"] for s in run_summaries(tmp_path)] == ["completed"]


def test_skipped_files_are_noted_and_the_run_goes_on(window, qtbot, tmp_path, cases):
    case = cases["corrupt, truncated and non-image files among good ones"]
    window.setup_panel.set_config(load_config(case.run_file))
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert [s["status"] for s in run_summaries(tmp_path)] == ["completed"]
    assert window.message_bar.isHidden()
    notes = window.progress.notes_label.text().splitlines()
    assert notes == [f"Note: {note}" for note in case.notes]

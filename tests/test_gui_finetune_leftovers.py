"""Fine-tuning settings left from another model are flagged as soon as the model changes,
not at Start, and one click resets exactly them (issue 13, finding 5)."""

from __future__ import annotations

import json

import torch
from PySide6.QtCore import Qt

from core.catalog import DATASETS
from core.config import RunConfig
from core.models.build import build_model
from gui.background import runner
from limits import HANG_MS


def digits_cnn_checkpoint(folder) -> str:
    """best.pt as a digits simple_cnn run saves it: the model's state_dict under "model"."""
    config = RunConfig()
    data = DATASETS.get("digits").build(config.data.params, config.training.seed)
    model, _ = build_model("simple_cnn", config.model.params, data, config.loss.name)
    path = folder / "checkpoints" / "best.pt"
    path.parent.mkdir(parents=True)
    torch.save({"model": model.state_dict()}, path)
    return str(path)


def wait_for_check(qtbot, window) -> None:
    check = window.leftover_check
    qtbot.waitUntil(lambda: not check._timer.isActive() and not runner().is_busy(check),
                    timeout=HANG_MS)


def test_leftover_settings_are_flagged_at_once_and_one_click_clears_them(window, qtbot,
                                                                         tmp_path):
    panel = window.setup_panel
    assert (panel.config().model.name, panel.config().data.name) == ("simple_cnn", "digits")
    qtbot.keyClicks(panel.init_from_field.line_edit, digits_cnn_checkpoint(tmp_path / "old"))
    panel.set_frozen_layers(["conv1"])  # as the Layers tab writes it
    wait_for_check(qtbot, window)
    assert window.leftover_bar.isHidden(), window.leftover_bar.text()  # they fit simple_cnn

    panel.pickers["model"].combo.setCurrentText("mlp")
    qtbot.waitUntil(lambda: window.leftover_bar.isVisible(), timeout=HANG_MS)
    assert set(window.leftover_check.problems) == {"init_from", "freeze"}
    text = window.leftover_bar.text()
    assert "do not fit this model" in text and "'conv1'" in text, text
    assert window.message_bar.isHidden()  # flagged before Start, not by it

    fix = window.leftover_bar.details_button
    assert fix.text() == "Fix"
    qtbot.mouseClick(fix, Qt.MouseButton.LeftButton)
    assert window.leftover_bar.isHidden()
    finetune = panel.config().finetune
    assert (finetune.init_from, finetune.freeze) == ("", [])
    wait_for_check(qtbot, window)
    assert window.leftover_bar.isHidden(), window.leftover_bar.text()

    epochs = panel.training_form.fields["epochs"]
    epochs.lineEdit().selectAll()
    qtbot.keyClicks(epochs, "1")
    panel.device_field.setCurrentIndex(panel.device_field.findText("cpu"))
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    assert window.message_bar.isHidden(), window.message_bar.text()
    run_dir = next((tmp_path / "runs").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "completed"

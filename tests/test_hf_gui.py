"""The Predict tab on a fine-tuned language model: a typed text gets its class
probabilities through the model's own tokenizer, off the GUI thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.train.loop import train
from hf_models import hf_config, hub_offline, save_tiny_bert
from limits import HANG_MS


@pytest.fixture
def hf_run(monkeypatch, tmp_path) -> Path:
    hub_offline(monkeypatch, tmp_path / "hf-cache")
    folder = save_tiny_bert(tmp_path / "tiny-bert")
    return Path(train(hf_config(folder), runs_dir=tmp_path / "runs")["run_dir"])


def test_a_typed_text_is_classified_by_a_fine_tuned_language_model(qtbot, hf_run,
                                                                   predict_tab):
    view = predict_tab(hf_run)
    assert view.row_box.isVisible() and not view.image_box.isVisible()
    assert view.columns_label.text() == "Type or paste a text:"
    qtbot.keyClicks(view.row_edit, "A warm and funny film.")
    with qtbot.waitSignal(view.predicted, timeout=HANG_MS):
        qtbot.mouseClick(view.row_button, Qt.MouseButton.LeftButton)
    top = view.top_classes()
    assert {name for name, _ in top} == {"negative", "positive"}
    assert all(shown.endswith("%") for _, shown in top)

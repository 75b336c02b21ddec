"""Audio in the window: the preview shows waveforms and spectrograms per class with the
counts and the recordings' duration; Evaluation opens misheard recordings as their
spectrograms; Predict takes a dropped WAV and shows its spectrogram beside the classes."""

from __future__ import annotations

import shutil

import pytest
from audio_files import tone, tone_folder, train_tone_run, write_wav
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QLabel

from gui.dataset_preview import DataPreviewDialog
from gui.evaluation_view import EvaluationView
from gui.predict_view import PredictView
from limits import HANG_MS


@pytest.fixture(scope="module")
def tone_run(tmp_path_factory):
    return train_tone_run(tmp_path_factory.mktemp("audio_gui"))


def _shown(qtbot, widget):
    qtbot.addWidget(widget)
    widget.resize(1100, 750)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_preview_shows_waveforms_spectrograms_counts_and_duration(qtbot, tmp_path):
    folder = tone_folder(tmp_path / "tones")
    dialog = DataPreviewDialog("audio_folder", {"folder": str(folder), "sample_rate": 8000,
                                                "duration": 0.5})
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.is_loading(), timeout=HANG_MS)
    summary = dialog.summary_label.text()
    assert "recordings heard as 1x51x40" in summary
    assert "Each recording: 0.5 s at 8,000 Hz" in summary
    labels = dialog.image_grid.findChildren(QLabel)
    pictures = [label.pixmap() for label in labels if not label.pixmap().isNull()]
    assert dialog.images_shown == 28 and len(pictures) == 56  # a waveform and a spectrogram each
    waveform = next(p for p in pictures if p.height() == 40).toImage()
    assert len({waveform.pixelColor(x, 3).name() for x in range(96)}) == 2  # loud, then silence
    captions = [label.text() for label in labels if label.pixmap().isNull()]
    assert captions[:2] == ["high", "low"]
    counts = [[dialog.counts_table.item(r, c).text() for c in range(3)] for r in range(2)]
    assert counts == [["high", "14", "4"], ["low", "14", "4"]]


def test_evaluation_opens_recordings_as_spectrograms(qtbot, tone_run, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    shutil.copytree(tone_run, runs / tone_run.name)
    view = _shown(qtbot, EvaluationView(runs))
    with qtbot.waitSignal(view.evaluated, timeout=HANG_MS):
        view.show_run(runs / tone_run.name)
    view.show_cell(0, 0)
    assert view.shown_sample_count() == view.result.confusion[0][0] > 0
    assert not view.sample_list.item(0).icon().isNull()


def test_a_dropped_recording_shows_its_spectrogram_and_classes(qtbot, tone_run, tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    shutil.copytree(tone_run, runs / tone_run.name)
    view = _shown(qtbot, PredictView(runs))
    assert view.picker.set_run(runs / tone_run.name)
    qtbot.waitUntil(lambda: view.shown_run == runs / tone_run.name, timeout=HANG_MS)
    assert view.image_box.isVisible() and view.open_button.text() == "Open recording…"
    assert "recording" in view.drop_area.text()
    recording = write_wav(tmp_path / "said.wav", tone(1200.0, 16000, 0.4), 16000)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(recording))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(view.predicted, timeout=HANG_MS):
        view.dropEvent(event)
    assert event.isAccepted()
    assert view.top_classes()[0][0] == "high"
    spectrogram = view.drop_area.pixmap()
    assert not spectrogram.isNull() and spectrogram.width() > spectrogram.height()

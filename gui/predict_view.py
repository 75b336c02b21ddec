"""The Predict tab: try a trained model on a new input. Drop an image on the tab (or open
one), or for a table paste a row of comma-separated values (a text for a text model), and
see the most likely classes with their probabilities, or the predicted value.

The image is prepared exactly as the run's training images were (core.inference.predict.
prepare_image: grey or colour, averaged down and resized like the scans, inverted when its
background is the opposite, normalised with the training statistics); for the digits a
hand drawing may also be cleaned up (cut to its ink, strokes thickened), a box the user
sees, ticked by itself only for a picture that does not look like a scan. The model's input
(what the network got) is shown beside the probabilities. Loading the run and predicting
run in a background thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap, QShowEvent
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFrame, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from gui.background import after_the_run, runner
from gui.generation_panel import GenerationPanel
from gui.i18n import translate_message
from gui.run_picker import RunPicker
from gui.thumbnails import pixmap_of

IMAGE_FILTER = QT_TRANSLATE_NOOP(
    "PredictView", "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
AUDIO_FILTER = QT_TRANSLATE_NOOP(
    "PredictView", "Recordings (*.wav *.wave *.flac *.ogg);;All files (*)")
AUDIO_SUFFIXES = {".wav", ".wave", ".flac", ".ogg"}
TOP_K = 5
PREVIEW_PX = 160


class PredictView(QWidget):
    """The Predict tab: a trained model on a dropped image or a typed row; the model loads
    and predicts on the background runner."""

    predicted = Signal()  # a prediction (or its failure) is on screen

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.setAcceptDrops(True)
        self.picker = RunPicker(runs_dir)
        self.picker.changed.connect(self._run_changed)
        self.loaded = None  # core.inference.evaluation.LoadedRun for (path, checkpoint) in _loaded_key
        self._loaded_key: tuple | None = None
        self.prediction = None  # core.inference.evaluation.Prediction shown
        self._image: Path | None = None  # the image file predicted on last

        self.drop_area = QLabel(QCoreApplication.translate(
            "PredictView", "Drop an image here\nor open one"))
        self.drop_area.setObjectName("dropArea")
        self.drop_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_area.setMinimumSize(PREVIEW_PX + 40, PREVIEW_PX + 40)
        self.drop_area.setStyleSheet("#dropArea { border: 2px dashed palette(mid); "
                                     "border-radius: 8px; color: palette(placeholder-text); }")
        self.open_button = QPushButton(QCoreApplication.translate("PredictView", "Open image…"))
        self.open_button.clicked.connect(self.open_image)
        self.drawing_box = QCheckBox(QCoreApplication.translate(
            "PredictView", "Clean up as a drawing"))
        self.drawing_box.setToolTip(QCoreApplication.translate(
            "PredictView", "Cut the picture to its ink and thicken the strokes before the "
            "usual preparation, for a thin-pen drawing on a big canvas. Ticked by itself "
            "only when the picture does not look like the training scans."))
        self.drawing_box.toggled.connect(self._drawing_toggled)
        self.drawing_box.hide()
        self.input_view = QLabel()  # the model's input, what the network got
        self.input_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.input_caption = QLabel()
        self.input_caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.input_view.hide()
        self.input_caption.hide()
        self.row_edit = QLineEdit()
        self.row_edit.returnPressed.connect(self.predict_row)
        self.row_button = QPushButton(QCoreApplication.translate("PredictView", "Predict"))
        self.row_button.clicked.connect(self.predict_row)
        self.columns_label = QLabel()
        self.columns_label.setWordWrap(True)
        self.columns_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel(QCoreApplication.translate(
            "PredictView", "Choose a run, then drop an image or type a row of values."))
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.results = QTableWidget(0, 3)
        self.results.setHorizontalHeaderLabels([QCoreApplication.translate(
            "PredictView", "class"), QCoreApplication.translate(
            "PredictView", "probability"), ""])
        self.results.verticalHeader().hide()
        self.results.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.results.horizontalHeader().setStretchLastSection(True)
        self.value_label = QLabel()
        font = self.value_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.value_label.setFont(font)
        self.value_label.hide()

        image_box = QFrame()
        image_layout = QVBoxLayout(image_box)
        image_layout.setContentsMargins(0, 0, 0, 0)
        image_layout.addWidget(self.drop_area, 1)
        image_layout.addWidget(self.open_button)
        image_layout.addWidget(self.drawing_box)
        self.image_box = image_box
        row_box = QWidget()
        row_layout = QVBoxLayout(row_box)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_line = QHBoxLayout()
        row_line.addWidget(self.row_edit, 1)
        row_line.addWidget(self.row_button)
        row_layout.addWidget(self.columns_label)
        row_layout.addLayout(row_line)
        row_layout.addStretch(1)
        self.row_box = row_box
        self.row_box.hide()
        # A language model's run: a prompt and the response it writes, instead of classes.
        self.generation = GenerationPanel()
        self.generation.generate_requested.connect(self.generate_response)
        self.generation.hide()
        inputs = QHBoxLayout()
        inputs.addWidget(self.image_box)
        inputs.addWidget(self.row_box, 1)
        inputs.addWidget(self.generation, 3)
        seen = QVBoxLayout()
        seen.addWidget(self.input_view)
        seen.addWidget(self.input_caption)
        seen.addStretch(1)
        inputs.addLayout(seen)
        output = QVBoxLayout()
        output.addWidget(self.value_label)
        output.addWidget(self.results, 1)
        inputs.addLayout(output, 2)
        self._inputs, self._output = inputs, output  # a language model's run gives it no room
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.status)
        layout.addLayout(inputs, 1)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.picker.refresh()
        if self._loaded_key is None:
            self._run_changed()

    # Drops

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _image_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _image_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.predict_image(paths[0])

    def open_image(self) -> None:
        title = (QCoreApplication.translate("PredictView", "Open a recording") if self._hears()
                 else QCoreApplication.translate("PredictView", "Open an image"))
        path, _ = QFileDialog.getOpenFileName(self, title, str(Path.home()),
                                              QCoreApplication.translate(
                                                  "PredictView", AUDIO_FILTER if self._hears()
                                                  else IMAGE_FILTER))
        if path:
            self.predict_image(Path(path))

    def _hears(self) -> bool:
        """Whether the loaded run takes recordings (an audio run) rather than images."""
        return self.loaded is not None and self.loaded.preprocessing.get("kind") == "audio"

    # Predicting

    def predict_image(self, path: Path, drawing: bool | None = None) -> None:
        """Show `path` and predict on it with the chosen run (a recording's spectrogram is
        shown once the prediction comes back); `drawing`: clean it up as a drawing (None:
        only if it does not look like a scan)."""
        self._image = Path(path)
        pixmap = QPixmap() if Path(path).suffix.lower() in AUDIO_SUFFIXES else QPixmap(str(path))
        if not pixmap.isNull():
            self.drop_area.setPixmap(pixmap.scaled(
                PREVIEW_PX, PREVIEW_PX, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))

        def predict(loaded):
            from core.inference.predict import predict_file

            return predict_file(loaded, Path(path), TOP_K, drawing)

        self._predict(predict, Path(path).name)

    def _drawing_toggled(self, checked: bool) -> None:
        """The user's choice: predict on the same image again with or without the cleanup."""
        if self._image is not None:
            self.predict_image(self._image, checked)

    def predict_row(self) -> None:
        text = self.row_edit.text()

        def predict(loaded):
            from core.inference.predict import predict_values

            return predict_values(loaded, text, TOP_K)

        self._predict(predict, QCoreApplication.translate("PredictView", "the row"))

    def generate_response(self) -> None:
        """The language model's response to the typed prompt, streamed into the panel as
        the model writes it (core.inference.generation.generate, on the runner)."""
        prompt, settings = self.generation.prompt_edit.toPlainText(), self.generation.settings()
        on_text, should_stop = self.generation.begin()

        def predict(loaded):
            from core.inference.generation import generate

            return generate(loaded, prompt, settings, on_text, should_stop)

        self._predict(predict, QCoreApplication.translate("PredictView", "the prompt"),
                      self._show_generated)

    def _predict(self, predict, what: str, shown=None) -> None:
        """Load the chosen run (unless loaded) and call `predict(loaded)` on the runner;
        its outcome goes to `shown` (by default _show_prediction)."""
        path = self.picker.current_path()
        if path is None:
            self._show_failure(QCoreApplication.translate(
                "PredictView", "there is no trained run yet: train one first"))
            return
        key = (path, self.picker.checkpoint())
        cached = self.loaded if self._loaded_key == key else None
        self.status.setText(
            QCoreApplication.translate("PredictView", "Predicting on {0}…").format(what)
            if cached else after_the_run(QCoreApplication.translate(
                "PredictView", "Loading {0} and predicting on {1}…").format(path.name, what)))

        def work():
            from core.inference.evaluation import load_run

            loaded = cached or load_run(*key)
            return loaded, key, predict(loaded)

        runner().submit(self, work, shown or self._show_prediction, self._show_failure)

    def _run_changed(self) -> None:
        """Show the inputs the chosen run takes: an image, or a row of named values. What
        the previous run predicted goes at once: its classes are not this run's."""
        self._clear_prediction()
        path = self.picker.current_path()
        if path is None:
            return
        key = (path, self.picker.checkpoint())

        def work():
            from core.inference.evaluation import load_run

            return load_run(*key), key

        runner().submit(self, work, self._show_loaded, self._show_failure)

    def _clear_prediction(self) -> None:
        self.prediction = None
        self.results.setRowCount(0)
        self.value_label.clear()
        self.value_label.hide()
        self.status.setText(after_the_run(
            QCoreApplication.translate("PredictView", "Loading the model…")))

    @property
    def shown_run(self) -> Path | None:
        """The run whose inputs the tab shows (its model is loaded)."""
        return self._loaded_key[0] if self._loaded_key else None

    def _show_loaded(self, outcome) -> None:
        loaded, key = outcome
        self.loaded, self._loaded_key = loaded, key
        self._show_inputs()
        if self._writes():
            self.status.setText(QCoreApplication.translate(
                "PredictView", "{0}: writes a response to a prompt; type one and press "
                "Generate.").format(key[0].name))
            return
        task = (QCoreApplication.translate("PredictView", "a value")
                if self.loaded.task == "regression"
                else QCoreApplication.translate("PredictView", "classes"))
        images = self.loaded.preprocessing.get("kind") == "image"
        source = (QCoreApplication.translate("PredictView", "an image; drop one here.")
                  if images else QCoreApplication.translate(
                      "PredictView", "a recording; drop one here.") if self._hears()
                  else QCoreApplication.translate("PredictView", "a row of values."))
        self.status.setText(QCoreApplication.translate(
            "PredictView", "{0}: predicts {1} from {2}").format(key[0].name, task, source))

    def _show_inputs(self) -> None:
        """An image to drop, or a row of named values to type, as the loaded run takes."""
        pre = self.loaded.preprocessing
        images = pre.get("kind") in ("image", "audio")
        self.generation.setVisible(self._writes())
        self.results.setVisible(not self._writes())  # a language model has no classes
        self._inputs.setStretchFactor(self._output, 0 if self._writes() else 2)
        self.image_box.setVisible(images)
        self.row_box.setVisible(not images and not self._writes())
        self.open_button.setText(
            QCoreApplication.translate("PredictView", "Open recording…") if self._hears()
            else QCoreApplication.translate("PredictView", "Open image…"))
        if self._hears() and self.drop_area.pixmap().isNull():
            self.drop_area.setText(QCoreApplication.translate(
                "PredictView", "Drop a recording here\nor open one"))
        if pre.get("kind") in ("tokens", "hf_tokens"):  # hf: a pretrained model's tokenizer
            self.columns_label.setText(QCoreApplication.translate(
                "PredictView", "Type or paste a text:"))
            self.row_edit.setPlaceholderText(QCoreApplication.translate(
                "PredictView", "a text to classify"))
        elif not images:
            from core.inference.predict import input_columns

            columns = input_columns(pre)
            self.columns_label.setText(QCoreApplication.translate(
                "PredictView", "Type one row of values, separated by commas, in this "
                "order:<br><b>{0}</b>").format(', '.join(columns)))
            self.row_edit.setPlaceholderText(", ".join(columns))

    def _writes(self) -> bool:
        """Whether the loaded run is a language model, which writes responses."""
        return self.loaded is not None and \
            self.loaded.preprocessing.get("task") == "language_modeling"

    def _show_failure(self, message: str, details: str = "") -> None:
        self.generation.end()
        self.status.setText(QCoreApplication.translate(
            "PredictView", "Cannot predict: {0}").format(message))
        self.predicted.emit()

    def _show_generated(self, outcome) -> None:
        """A response written to the end (its pieces are in the panel already)."""
        self.loaded, self._loaded_key, generated = outcome
        self._show_inputs()
        self.generation.end()
        ending = {"end": QCoreApplication.translate("PredictView", "the model ended it"),
                  "length": QCoreApplication.translate("PredictView", "max new tokens reached"),
                  "stopped": QCoreApplication.translate("PredictView", "stopped")}
        notes = "".join(QCoreApplication.translate("PredictView", "<br>Note: {0}").format(
            translate_message(note)) for note in generated.notes)
        self.status.setText(QCoreApplication.translate(
            "PredictView", "Response of {0} tokens ({1}).").format(
            generated.tokens, ending[generated.finish]) + notes)
        self.predicted.emit()

    def _show_prediction(self, outcome) -> None:
        self.loaded, self._loaded_key, prediction = outcome
        self.prediction = prediction
        self._show_inputs()
        if prediction.spectrogram is not None:  # what the model heard, low bands at the bottom
            self.drop_area.setPixmap(pixmap_of(prediction.spectrogram, PREVIEW_PX * 2))
        self._show_model_input(prediction)
        notes = "".join(QCoreApplication.translate("PredictView", "<br>Note: {0}").format(
            translate_message(note)) for note in prediction.notes)
        if prediction.task == "regression":
            self.results.hide()
            self.value_label.setText(QCoreApplication.translate(
                "PredictView", "Predicted: <b>{0:.4g}</b>").format(prediction.value))
            self.value_label.show()
            self.status.setText(QCoreApplication.translate("PredictView", "Prediction done.")
                                + notes)
        else:
            self.value_label.hide()
            self.results.show()
            self.results.setRowCount(len(prediction.top))
            for row, (name, probability) in enumerate(prediction.top):
                self.results.setItem(row, 0, QTableWidgetItem(name))
                cell = QTableWidgetItem(f"{probability:.1%}")
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.results.setItem(row, 1, cell)
                bar = QProgressBar()
                bar.setRange(0, 1000)
                bar.setValue(round(probability * 1000))
                bar.setTextVisible(False)
                self.results.setCellWidget(row, 2, bar)
            self.results.resizeColumnsToContents()
            name, probability = prediction.top[0]
            self.status.setText(QCoreApplication.translate(
                "PredictView", "Most likely <b>{0}</b> ({1:.1%}).").format(name, probability)
                + notes)
        self.predicted.emit()

    def _show_model_input(self, prediction) -> None:
        """The picture the network got, and the drawing cleanup box as it was applied."""
        picture = prediction.model_input
        self.input_view.setVisible(picture is not None)
        self.input_caption.setVisible(picture is not None)
        if picture is not None:
            self.input_view.setPixmap(pixmap_of(picture, PREVIEW_PX))
            self.input_caption.setText(QCoreApplication.translate(
                "PredictView", "The model's input ({0}x{1})").format(picture.shape[1],
                                                                     picture.shape[0]))
        self.drawing_box.setVisible(prediction.drawing is not None)
        if prediction.drawing is not None:
            self.drawing_box.blockSignals(True)  # showing the outcome is not a new choice
            self.drawing_box.setChecked(prediction.drawing)
            self.drawing_box.blockSignals(False)

    def top_classes(self) -> list[tuple[str, str]]:
        """The result table as shown: (class, probability text)."""
        return [(self.results.item(r, 0).text(), self.results.item(r, 1).text())
                for r in range(self.results.rowCount())]


def _image_paths(mime) -> list[Path]:
    """Dropped image or audio files (the run decides which it reads)."""
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls()
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower()
            in IMAGE_SUFFIXES | AUDIO_SUFFIXES]


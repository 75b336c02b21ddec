"""ExportDialog: save a run's trained model as TorchScript, ONNX, safetensors or a
state_dict, with its preprocessing JSON beside it. core.inference.export writes the file and checks
at once that the exported model reproduces the trained one; the dialog says how close."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from core.inference.export import FORMATS, available_formats, default_export_path
from gui.background import runner

FORMAT_ORDER = ("torchscript", "onnx", "safetensors", "pt")
FORMAT_HELP = {  # translated where shown
    "torchscript": QT_TRANSLATE_NOOP("ExportDialog",
                                     "runs without TrainDesk's code: torch.jit.load(path)"),
    "onnx": QT_TRANSLATE_NOOP("ExportDialog",
                              "for onnxruntime, OpenCV, TensorRT and other runtimes"),
    "safetensors": QT_TRANSLATE_NOOP("ExportDialog",
                                     "the weights only, in the safe safetensors format"),
    "pt": QT_TRANSLATE_NOOP("ExportDialog", "the weights only, as a PyTorch state_dict"),
}


class ExportDialog(QDialog):
    """Export a run's model to a file and check it, on the background runner."""

    exported = Signal(object)  # core.inference.export.ExportResult (also when the check failed)
    finished_export = Signal()  # an export ended, whatever the outcome

    def __init__(self, run_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_dir = Path(run_dir)
        self.result = None
        self.setWindowTitle(QCoreApplication.translate(
            "ExportDialog", "Export model: {0}").format(self.run_dir.name))
        self.resize(640, 260)
        self.format_combo = QComboBox()
        for fmt, missing in ((f, available_formats()[f]) for f in FORMAT_ORDER):
            self.format_combo.addItem(f"{FORMATS[fmt][0]}: "
                                      + QCoreApplication.translate("ExportDialog",
                                                                   FORMAT_HELP[fmt]), fmt)
            if missing:
                index = self.format_combo.count() - 1
                item = self.format_combo.model().item(index)
                item.setEnabled(False)
                item.setToolTip(missing)
                self.format_combo.setItemText(index, f"{FORMATS[fmt][0]} ({missing})")
        self.checkpoint_combo = QComboBox()
        for kind in ("best", "last"):
            if (self.run_dir / "checkpoints" / f"{kind}.pt").is_file():
                self.checkpoint_combo.addItem(kind, kind)
        self.path_edit = QLineEdit()
        browse = QPushButton(QCoreApplication.translate("ExportDialog", "Browse…"))
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse)
        self.format_combo.currentIndexChanged.connect(self._suggest_path)
        self.checkpoint_combo.currentIndexChanged.connect(self._suggest_path)
        form = QFormLayout()
        form.addRow(QCoreApplication.translate("ExportDialog", "Format"), self.format_combo)
        form.addRow(QCoreApplication.translate(
            "ExportDialog", "Checkpoint"), self.checkpoint_combo)
        form.addRow(QCoreApplication.translate("ExportDialog", "Save as"), path_row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton(
            QCoreApplication.translate("ExportDialog", "Export"),
            QDialogButtonBox.ButtonRole.ApplyRole)
        self.export_button.clicked.connect(self.export)
        self.open_folder_button = self.buttons.addButton(
            QCoreApplication.translate("ExportDialog", "Open folder"),
            QDialogButtonBox.ButtonRole.ActionRole)
        self.open_folder_button.setToolTip(QCoreApplication.translate(
            "ExportDialog", "Show the folder the model was saved in"))
        self.open_folder_button.clicked.connect(self._open_folder)
        self.buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.buttons)
        self._suggest_path()

    def _suggest_path(self) -> None:
        """A path for the chosen format and checkpoint; what an earlier export said no
        longer applies (it named another file)."""
        self.result = None
        self.open_folder_button.hide()
        self.status.setStyleSheet("")
        self.status.setText(QCoreApplication.translate(
            "ExportDialog", "The exported model is checked against the trained one on "
            "validation samples right after it is written."))
        fmt, checkpoint = self.format_combo.currentData(), self.checkpoint_combo.currentData()
        if fmt and checkpoint:
            self.path_edit.setText(str(default_export_path(self.run_dir, fmt, checkpoint)))

    def _browse(self) -> None:
        fmt = self.format_combo.currentData()
        ending = FORMATS[fmt][1]
        path, _ = QFileDialog.getSaveFileName(
            self, QCoreApplication.translate("ExportDialog", "Export model as"),
            self.path_edit.text(), QCoreApplication.translate(
                "ExportDialog", "{0} (*{1});;All files (*)").format(FORMATS[fmt][0], ending))
        if path:
            self.path_edit.setText(path if path.endswith(ending) else path + ending)

    def export(self) -> None:
        fmt, checkpoint = self.format_combo.currentData(), self.checkpoint_combo.currentData()
        if checkpoint is None:
            self._show_failure(QCoreApplication.translate(
                "ExportDialog", "this run has no checkpoint yet"))
            return
        out = Path(self.path_edit.text().strip()) if self.path_edit.text().strip() else None
        self.export_button.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText(QCoreApplication.translate(
            "ExportDialog", "Exporting {0} and checking it…").format(FORMATS[fmt][0]))

        def work():
            from core.inference.export import ExportCheckFailed, export_model

            try:
                return export_model(self.run_dir, fmt, checkpoint, out)
            except ExportCheckFailed as exc:
                return str(exc)

        runner().submit(self, work, self._show_result, self._show_failure)

    def _show_result(self, result) -> None:
        self.export_button.setEnabled(True)
        if isinstance(result, str):  # written, but the check failed
            self._show_failure(result)
            return
        self.result = result
        self.status.setStyleSheet("QLabel { color: #1e7b34; }")
        check = result.describe()
        self.status.setText(QCoreApplication.translate(
            "ExportDialog", "✓ Saved {0}<br>and {1} beside it.<br>{2}{3}.").format(
            result.path, result.preprocessing_path.name, check[0].upper(), check[1:]))
        self.open_folder_button.show()
        self.exported.emit(result)
        self.finished_export.emit()

    def _open_folder(self) -> None:
        if self.result is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.result.path).parent)))

    def _show_failure(self, message: str, details: str = "") -> None:
        self.export_button.setEnabled(True)
        self.status.setStyleSheet("QLabel { color: #b02a37; }")
        self.status.setText(f"✗ {message}")
        self.finished_export.emit()


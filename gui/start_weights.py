"""The [finetune] init_from field: a weights file typed, browsed for, or picked from the
checkpoints of earlier runs (newest first), so fine-tuning a run's result is two clicks.

Start weights load with weights_only=True (core.finetune.weights), so picking a file runs no code.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLineEdit, QMenu, QPushButton,
                               QVBoxLayout, QWidget)

WEIGHTS_FILE_FILTER = QT_TRANSLATE_NOOP("StartWeightsField",
                                        "PyTorch weights (*.pt *.pth);;All files (*)")
CHECKPOINT_KINDS = ("best", "last")
MAX_RUNS_LISTED = 30


def run_checkpoints(runs_dir: Path, limit: int = MAX_RUNS_LISTED) -> list[tuple[str, Path]]:
    """("<run folder> · best", path) for the checkpoints of the runs in `runs_dir`, the
    most recently written run first, at most `limit` runs."""
    try:
        folders = [path for path in Path(runs_dir).iterdir() if path.is_dir()]
    except OSError:  # no runs yet, or the folder cannot be read
        return []
    runs = []
    for folder in folders:
        files = [(kind, folder / "checkpoints" / f"{kind}.pt") for kind in CHECKPOINT_KINDS]
        files = [(kind, path) for kind, path in files if path.is_file()]
        if files:
            newest = max(path.stat().st_mtime for _, path in files)
            runs.append((newest, folder.name, files))
    runs.sort(key=lambda run: (run[0], run[1]), reverse=True)
    return [(f"{name} · {kind}", path) for _, name, files in runs[:limit] for kind, path in files]


class StartWeightsField(QWidget):
    """A path line edit, the full width of the form so a run's folder name shows, and
    under it "Earlier run" (a menu of checkpoints) and "Browse…"."""

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.line_edit = QLineEdit()
        self.line_edit.setPlaceholderText(QCoreApplication.translate(
            "StartWeightsField", "none: fresh weights"))
        self.line_edit.textChanged.connect(self.line_edit.setToolTip)
        # Room for most of a run's folder name: "<run folder>/checkpoints/best.pt".
        self.line_edit.setMinimumWidth(self.line_edit.fontMetrics().horizontalAdvance("x" * 44))
        self.runs_menu = QMenu(self)
        self.runs_menu.aboutToShow.connect(self._fill_runs_menu)
        self.runs_button = QPushButton(QCoreApplication.translate(
            "StartWeightsField", "Earlier run"))
        self.runs_button.setToolTip(QCoreApplication.translate(
            "StartWeightsField", "Start from the best or last checkpoint of an earlier run."))
        self.runs_button.setMenu(self.runs_menu)
        browse = QPushButton(QCoreApplication.translate("StartWeightsField", "Browse…"))
        browse.setToolTip(QCoreApplication.translate(
            "StartWeightsField", "Any checkpoint or state_dict file (.pt)."))
        browse.clicked.connect(self._browse)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.runs_button)
        buttons.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.line_edit)
        layout.addLayout(buttons)

    def _fill_runs_menu(self) -> None:
        self.runs_menu.clear()
        checkpoints = run_checkpoints(self.runs_dir)
        if not checkpoints:
            self.runs_menu.addAction(QCoreApplication.translate(
                "StartWeightsField", "No run with a checkpoint yet in {0}").format(
                    self.runs_dir)) \
                .setEnabled(False)
        for label, path in checkpoints:
            action = self.runs_menu.addAction(label)
            action.setToolTip(str(path))
            action.triggered.connect(lambda checked=False, p=path: self.show_value(str(p)))

    def _browse(self) -> None:
        start = self.line_edit.text() or str(self.runs_dir if self.runs_dir.is_dir()
                                             else Path.home())
        path, _ = QFileDialog.getOpenFileName(self, QCoreApplication.translate(
            "StartWeightsField", "Choose start weights"), start,
                                              QCoreApplication.translate(
                                                  "StartWeightsField", WEIGHTS_FILE_FILTER))
        if path:
            self.line_edit.setText(path)

    def config_value(self) -> str:
        return self.line_edit.text().strip()

    def show_value(self, value: str) -> None:
        self.line_edit.setText(value)

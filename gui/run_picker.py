"""RunPicker: choose a finished run (one with a checkpoint) and which checkpoint, for the
Evaluation and Predict tabs. The list is read from the runs folder when asked."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QWidget

from core.runs.history import list_runs
from gui.i18n import status_text


class RunPicker(QWidget):
    changed = Signal()  # another run or checkpoint was chosen

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.run_combo = QComboBox()
        # Long run names must not widen the window: 30 characters, the rest in the list.
        self.run_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.run_combo.setMinimumContentsLength(30)
        self.run_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.checkpoint_combo = QComboBox()
        self.checkpoint_combo.addItem("best", "best")
        self.checkpoint_combo.addItem("last", "last")
        self.checkpoint_combo.setToolTip(QCoreApplication.translate(
            "RunPicker", "best: the epoch with the lowest validation loss; last: where the run "
            "ended."))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(QCoreApplication.translate("RunPicker", "Run")))
        layout.addWidget(self.run_combo, 1)
        layout.addWidget(QLabel(QCoreApplication.translate("RunPicker", "Checkpoint")))
        layout.addWidget(self.checkpoint_combo)
        self.run_combo.currentIndexChanged.connect(self.changed)
        self.checkpoint_combo.currentIndexChanged.connect(self.changed)

    def refresh(self) -> None:
        """Read the runs folder again; the chosen run stays chosen when it is still there."""
        current = self.current_path()
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for record in list_runs(self.runs_dir):
            if record.readable and (record.checkpoint("best").is_file()
                                    or record.checkpoint("last").is_file()):
                label = record.display_name
                if record.model:
                    label += "  " + QCoreApplication.translate(
                        "RunPicker", "({0} on {1}, {2})").format(
                        record.model, record.data, status_text(record.status))
                self.run_combo.addItem(label, str(record.path))
        self.run_combo.blockSignals(False)
        if current is not None:
            self.set_run(current, notify=False)
        if self.current_path() != current:
            self.changed.emit()

    def set_run(self, path: Path, notify: bool = True) -> bool:
        """Choose the run in `path`; False when it is not in the list."""
        index = self.run_combo.findData(str(path))
        if index < 0:
            return False
        if not notify:
            self.run_combo.blockSignals(True)
        self.run_combo.setCurrentIndex(index)
        self.run_combo.blockSignals(False)
        return True

    def current_path(self) -> Path | None:
        data = self.run_combo.currentData()
        return Path(data) if data else None

    def checkpoint(self) -> str:
        return self.checkpoint_combo.currentData()

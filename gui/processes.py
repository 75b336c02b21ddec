"""How many processes train a run: one (the window's own training thread), or several on
this machine through torchrun (one per GPU, or CPU processes to try it out), and for
several machines the command to type on each (core.launch.node_commands).

The count is not a setting of the run file: the same run trains on any number of processes
([training] batch_size is the global batch, split across them), so it sits beside the
device rather than in the training form."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout,
                               QWidget)

from core.config import RunConfig, save_config
from core.errors import BadInput
from core.launch import Nodes, node_commands


class ProcessesField(QWidget):
    """A count of processes for this machine, and "Several machines…"."""

    def __init__(self, config_of, runs_dir: Path, parent: QWidget | None = None) -> None:
        """`config_of()` gives the run on screen (BadInput when it cannot) for the
        several-machine commands; they write it as a run file under `runs_dir`."""
        super().__init__(parent)
        self.config_of, self.runs_dir = config_of, runs_dir
        self.count = QSpinBox()
        self.count.setRange(1, max(os.cpu_count() or 1, 1))
        self.count.setToolTip(QCoreApplication.translate(
            "ProcessesField", "Train on this many processes of this machine through torchrun: "
            "one per GPU when the device is a GPU, or CPU processes to try it out. The batch "
            "size is the global batch, split across them; 1 trains in the window itself."))
        self.machines_button = QPushButton(QCoreApplication.translate(
            "ProcessesField", "Several machines…"))
        self.machines_button.setToolTip(QCoreApplication.translate(
            "ProcessesField", "The command to run on each machine of a run on several "
            "machines."))
        self.machines_button.clicked.connect(self.show_machines)
        self.dialog: MachinesDialog | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.count)
        row.addWidget(self.machines_button)
        row.addStretch(1)

    def processes(self) -> int:
        return self.count.value()

    def set_gpus(self, gpus: int) -> None:
        """With GPUs, offer up to one process per GPU (and still CPU processes)."""
        self.count.setMaximum(max(gpus, os.cpu_count() or 1, 1))

    def show_machines(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.dialog = MachinesDialog(self.config_of, self.runs_dir, self.processes(),
                                     self.window())
        self.dialog.show()


class MachinesDialog(QDialog):
    """The run on screen saved as a run file, and the command for each machine."""

    def __init__(self, config_of, runs_dir: Path, processes: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(QCoreApplication.translate("MachinesDialog",
                                                       "Train on several machines"))
        self.config_of, self.runs_dir = config_of, runs_dir
        self.machines = QSpinBox()
        self.machines.setRange(2, 1024)
        self.per_machine = QSpinBox()
        self.per_machine.setRange(1, 1024)
        self.per_machine.setValue(processes)
        # this machine as machine 0, by default: the window is usually started there
        self.endpoint = QLineEdit(f"{socket.gethostname()}:29500")
        self.endpoint.setToolTip(QCoreApplication.translate(
            "MachinesDialog", "The address of machine 0 as the others reach it, and a free "
            "port on it."))
        self.commands = QPlainTextEdit()
        self.commands.setReadOnly(True)
        self.commands.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.note = QLabel(QCoreApplication.translate(
            "MachinesDialog", "Run one command on each machine, in the same folder. The run "
            "file and the runs folder must be at the same paths on every machine (shared "
            "storage), so that machine 0 writes the run and any of them can resume it. The "
            "Runs tab shows the run when its folder is this window's runs folder."))
        self.note.setWordWrap(True)
        form = QFormLayout()
        form.addRow(QCoreApplication.translate("MachinesDialog", "Machines"), self.machines)
        form.addRow(QCoreApplication.translate("MachinesDialog", "Processes per machine"),
                    self.per_machine)
        form.addRow(QCoreApplication.translate("MachinesDialog", "Address of machine 0"),
                    self.endpoint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.commands)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.run_file: Path | None = None
        self.problem = ""  # why the run file could not be written
        for field in (self.machines, self.per_machine):
            field.valueChanged.connect(self.update_commands)
        self.endpoint.textChanged.connect(self.update_commands)
        self.resize(760, 360)
        self._save_run_file()
        self.update_commands()

    def _save_run_file(self) -> None:
        """The run on screen as a run file under the runs folder, for the commands."""
        try:
            config: RunConfig = self.config_of()
            folder = self.runs_dir / "launch"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{config.model.name}-{config.data.name}.toml"
            save_config(config.with_absolute_paths(Path.cwd()), path)
        except (BadInput, OSError) as exc:
            self.run_file = None
            self.problem = str(exc)
            return
        self.run_file = path

    def update_commands(self) -> None:
        if self.run_file is None:
            self.commands.setPlainText(QCoreApplication.translate(
                "MachinesDialog", "Cannot write the run file: {0}").format(self.problem))
            return
        nodes = Nodes(self.per_machine.value(), self.machines.value(), 0,
                      self.endpoint.text().strip())
        try:
            nodes.check()
        except BadInput as exc:
            self.commands.setPlainText(str(exc))
            return
        lines = []
        for rank, command in enumerate(node_commands(nodes, [str(self.run_file),
                                                            "--runs-dir", str(self.runs_dir)])):
            lines += [QCoreApplication.translate("MachinesDialog", "# machine {0}").format(rank),
                      command, ""]
        self.commands.setPlainText("\n".join(lines))

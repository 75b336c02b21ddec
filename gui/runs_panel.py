"""The Runs tab: every run in the runs folder (core.runs.history reads them from disk, so the list
survives restarts and includes runs started from the command line), sortable and
filterable, with what a user does to a past run: rename, note, delete, open its folder,
load its settings, run it again, resume it, copy its command line, evaluate or export it.

Selecting several runs compares them: their curves overlaid (one colour per run) and their
settings side by side, the rows that differ highlighted.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import (QT_TRANSLATE_NOOP, QCoreApplication, QSortFilterProxyModel, Qt,
                            QUrl, Signal)
from PySide6.QtGui import (QAction, QBrush, QColor, QDesktopServices, QFont, QShowEvent,
                           QStandardItem, QStandardItemModel)
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QCheckBox, QHBoxLayout,
                               QHeaderView, QInputDialog, QLabel, QLineEdit, QMenu,
                               QMessageBox, QPushButton, QSplitter, QTableView, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from core.config import load_config
from core.runs.curves import RunCurves, read_curves
from core.errors import BadInput
from core.metrics import format_metric, metric_label
from core.runs.history import RunRecord, command_line, delete_run, list_runs, set_notes, settings_rows
from gui.error_file import has_error_file, open_error_file
from gui.i18n import status_text, translate_message
from gui.plots import ComparePlots, run_colors
from gui.run_progress import format_duration

# Marked for translation here, translated where shown (lupdate reads the markers).
COLUMNS = (QT_TRANSLATE_NOOP("RunsPanel", "Name"), QT_TRANSLATE_NOOP("RunsPanel", "Model"),
           QT_TRANSLATE_NOOP("RunsPanel", "Dataset"), QT_TRANSLATE_NOOP("RunsPanel", "Status"),
           QT_TRANSLATE_NOOP("RunsPanel", "Best metric"),
           QT_TRANSLATE_NOOP("RunsPanel", "Best val loss"),
           QT_TRANSLATE_NOOP("RunsPanel", "Epochs"), QT_TRANSLATE_NOOP("RunsPanel", "Duration"),
           QT_TRANSLATE_NOOP("RunsPanel", "Started"), QT_TRANSLATE_NOOP("RunsPanel", "Note"))
NAME, MODEL, DATASET, STATUS, METRIC, LOSS, EPOCHS, DURATION, STARTED, NOTE = range(10)
PATH_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
DIFFERENT = QColor("#fff4ce")
STATUS_COLORS = {"completed": "#1e7b34", "failed": "#b02a37", "diverged": "#b02a37",
                 "unreadable": "#6c757d",
                 "running": "#1f5fbf", "stopped": "#8a4b00", "interrupted": "#8a4b00"}
MAX_COMPARED = 8  # more curves than this in one plot are a tangle


class RunsPanel(QWidget):
    load_settings_requested = Signal(object)  # RunConfig: put it in the setup panel
    rerun_requested = Signal(object)  # RunConfig: put it in the setup panel and start
    resume_requested = Signal(object)  # Path of the run folder
    evaluate_requested = Signal(object)  # Path
    export_requested = Signal(object)  # Path
    message = Signal(str)  # a line for the status bar

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = Path(runs_dir)
        self.records: dict[str, RunRecord] = {}  # by folder path
        self._curves_cache: dict[str, tuple[tuple, RunCurves]] = {}
        self._running = False

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(QCoreApplication.translate(
            "RunsPanel", "Filter runs by name, model, dataset, status or note"))
        self.filter_edit.setClearButtonEnabled(True)
        self.refresh_button = QPushButton(QCoreApplication.translate("RunsPanel", "Refresh"))
        self.refresh_button.setToolTip(QCoreApplication.translate(
            "RunsPanel", "Read the runs folder again: {0}").format(self.runs_dir))
        self.refresh_button.clicked.connect(self.reload)
        self.count_label = QLabel()

        self.model = QStandardItemModel(0, len(COLUMNS))
        self.model.setHorizontalHeaderLabels(
            [QCoreApplication.translate("RunsPanel", c) for c in COLUMNS])
        self.proxy = QSortFilterProxyModel()
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.filter_edit.textChanged.connect(self._update_count)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(STARTED, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _: self.load_settings())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_context_menu)

        self.buttons: dict[str, QPushButton] = {}
        actions = (
            ("rename", QCoreApplication.translate("RunsPanel", "Rename…"),
             QCoreApplication.translate("RunsPanel", "Give the run a name of your own (its "
                                                     "folder keeps its name)."), self.rename),
            ("note", QCoreApplication.translate("RunsPanel", "Note…"),
             QCoreApplication.translate("RunsPanel", "Write a note about the run."),
             self.edit_note),
            ("load", QCoreApplication.translate("RunsPanel", "Load settings"),
             QCoreApplication.translate("RunsPanel", "Put this run's settings into the setup "
                                                     "panel."), self.load_settings),
            ("rerun", QCoreApplication.translate("RunsPanel", "Run again"),
             QCoreApplication.translate("RunsPanel",
                                        "Start a new run with this run's settings."),
             self.rerun),
            ("resume", QCoreApplication.translate("RunsPanel", "Resume"),
             QCoreApplication.translate("RunsPanel", "Continue a stopped or interrupted run "
                                                     "from its last checkpoint."), self.resume),
            ("evaluate", QCoreApplication.translate("RunsPanel", "Evaluate"),
             QCoreApplication.translate("RunsPanel", "Confusion matrix, per-class scores and "
                                                     "mistakes of the best checkpoint."),
             self.evaluate),
            ("export", QCoreApplication.translate("RunsPanel", "Export…"),
             QCoreApplication.translate("RunsPanel", "Save the trained model as TorchScript, "
                                                     "ONNX, safetensors or a state_dict."),
             self.export),
            ("copy", QCoreApplication.translate("RunsPanel", "Copy command"),
             QCoreApplication.translate("RunsPanel",
                                        "Copy the command line that repeats this run."),
             self.copy_command),
            ("open", QCoreApplication.translate("RunsPanel", "Open folder"),
             QCoreApplication.translate("RunsPanel",
                                        "Show the run's folder in the file manager."),
             self.open_folder),
            ("delete", QCoreApplication.translate("RunsPanel", "Delete…"),
             QCoreApplication.translate("RunsPanel",
                                        "Delete the run's folder and everything in it."),
             self.delete),
        )
        # Two rows: doing something with the run, then looking after it.
        button_rows = [QHBoxLayout(), QHBoxLayout()]
        for key, text, tip, slot in actions:
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            self.buttons[key] = button
            button_rows[0 if key in ("load", "rerun", "resume", "evaluate", "export")
                        else 1].addWidget(button)
        for row in button_rows:
            row.addStretch(1)

        self.compare_plots = ComparePlots()
        self.only_differences = QCheckBox(QCoreApplication.translate(
            "RunsPanel", "Only the settings that differ"))
        self.only_differences.setChecked(True)
        self.only_differences.toggled.connect(self._show_settings)
        self.settings_table = QTableWidget()
        self.settings_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.settings_table.verticalHeader().hide()
        self.compare_hint = QLabel(QCoreApplication.translate(
            "RunsPanel", "Select runs above to compare them: Ctrl-click or Shift-click to "
            "select several."))
        self.compare_hint.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.addWidget(self.only_differences)
        settings_layout.addWidget(self.settings_table, 1)
        self.compare_tabs = QTabWidget()
        self.compare_tabs.addTab(self.compare_plots, QCoreApplication.translate(
            "RunsPanel", "Curves"))
        self.compare_tabs.addTab(settings, QCoreApplication.translate("RunsPanel", "Settings"))

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.filter_edit, 1)
        filter_row.addWidget(self.count_label)
        filter_row.addWidget(self.refresh_button)
        top_layout.addLayout(filter_row)
        top_layout.addWidget(self.table, 1)
        for row in button_rows:
            top_layout.addLayout(row)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.compare_hint)
        bottom_layout.addWidget(self.compare_tabs, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([320, 480])  # room for a dozen runs above the curves
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._loaded = False
        self._update_buttons()

    # The list

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self.reload()

    def reload(self) -> None:
        """Read the runs folder again, keeping the selection (by folder)."""
        selected = [str(r.path) for r in self.selected_runs()]
        self._loaded = True
        records = list_runs(self.runs_dir)
        self.records = {str(r.path): r for r in records}
        self.table.setSortingEnabled(False)
        self.model.removeRows(0, self.model.rowCount())
        for record in records:
            self.model.appendRow(_row(record))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        for column in (NAME, NOTE):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 260))
        self.select_runs([Path(p) for p in selected if p in self.records])
        self._update_count()
        self._selection_changed()

    def set_running(self, running: bool) -> None:
        """While a run trains, nothing else can start (load, run again, resume)."""
        self._running = running
        self._update_buttons()

    def visible_folders(self) -> list[str]:
        """Folder names in the order shown (sorted and filtered)."""
        return [Path(self.proxy.index(row, NAME).data(PATH_ROLE)).name
                for row in range(self.proxy.rowCount())]

    def select_runs(self, paths: list[Path]) -> None:
        wanted = {str(p) for p in paths}
        selection = self.table.selectionModel()
        selection.clearSelection()
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, NAME)
            if index.data(PATH_ROLE) in wanted:
                selection.select(index, selection.SelectionFlag.Select
                                 | selection.SelectionFlag.Rows)

    def selected_runs(self) -> list[RunRecord]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        paths = [self.proxy.index(row, NAME).data(PATH_ROLE) for row in rows]
        return [self.records[p] for p in paths if p in self.records]

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(
            QCoreApplication.translate("RunsPanel", "{0} runs").format(total) if shown == total
            else QCoreApplication.translate("RunsPanel", "{0} of {1} runs").format(shown, total))

    def _update_buttons(self) -> None:
        runs = self.selected_runs()
        one = runs[0] if len(runs) == 1 else None
        readable = one is not None and one.readable
        enabled = {
            "rename": one is not None, "note": one is not None, "open": one is not None,
            "delete": one is not None and one.status != "running",
            "copy": readable,
            "load": readable and not self._running,
            "rerun": readable and not self._running,
            "resume": readable and not self._running and one.status in (
                "stopped", "interrupted") and one.checkpoint("last").is_file(),
            "evaluate": readable and one.checkpoint("best").is_file(),
            "export": readable and one.checkpoint("best").is_file(),
        }
        for key, button in self.buttons.items():
            button.setEnabled(enabled[key])

    def context_menu(self) -> QMenu:
        """The selected run's actions, as the buttons offer them, and for a failed run its
        error.txt (the full traceback the window shows one line of)."""
        menu = QMenu(self)
        for key, button in self.buttons.items():
            action = menu.addAction(button.text(), button.click)
            action.setEnabled(button.isEnabled())
            action.setObjectName(key)
        record = self._one()
        if record is not None and has_error_file(record.path):
            menu.insertSeparator(menu.actions()[0])
            error = QAction(QCoreApplication.translate("RunsPanel", "Open error.txt"), menu)
            error.setObjectName("error")
            error.setToolTip(QCoreApplication.translate(
                "RunsPanel", "Why the run failed, with the full traceback"))
            error.triggered.connect(lambda: open_error_file(record.path, self))
            menu.insertAction(menu.actions()[0], error)
        return menu

    def _show_context_menu(self, position) -> None:
        if self.table.indexAt(position).isValid():
            self.context_menu().exec(self.table.viewport().mapToGlobal(position))

    # Comparing

    def _selection_changed(self, *args) -> None:
        self._update_buttons()
        runs = [r for r in self.selected_runs() if r.readable][:MAX_COMPARED]
        self.compare_hint.setVisible(not runs)
        curves = []
        for record in runs:
            loaded = self._curves(record)
            if loaded is not None:
                curves.append((record.folder, record.display_name, loaded, record.metric))
        self.compare_plots.set_runs(curves)
        self._show_settings()

    def _curves(self, record: RunRecord) -> RunCurves | None:
        path = record.path / "metrics.csv"
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._curves_cache.get(str(path))
        if cached is None or cached[0] != key:
            try:
                cached = (key, read_curves(record.path))
            except (OSError, ValueError):
                return None
            self._curves_cache[str(path)] = cached
        return cached[1]

    def _show_settings(self) -> None:
        runs = [r for r in self.selected_runs() if r.readable][:MAX_COMPARED]
        configs = []
        for record in runs:
            try:
                configs.append(load_config(record.path / "config.toml").to_dict())
            except BadInput:
                configs.append(None)
        rows = settings_rows(configs)
        if self.only_differences.isChecked() and len(runs) > 1:
            rows = [row for row in rows if row[2]]
        table = self.settings_table
        table.clear()
        table.setColumnCount(1 + len(runs))
        table.setRowCount(len(rows))
        table.setHorizontalHeaderLabels([QCoreApplication.translate(
            "RunsPanel", "setting"), *(r.display_name for r in runs)])
        colors = run_colors([r.folder for r in runs])  # as the curves are drawn
        for column, record in enumerate(runs, start=1):
            table.horizontalHeaderItem(column).setForeground(QBrush(QColor(colors[record.folder])))
        bold = QFont()
        bold.setBold(True)
        for r, (key, cells, differs) in enumerate(rows):
            items = [QTableWidgetItem(key), *(QTableWidgetItem(cell) for cell in cells)]
            for c, item in enumerate(items):
                if differs:
                    item.setBackground(DIFFERENT)
                    if c == 0:
                        item.setFont(bold)
                table.setItem(r, c, item)
        table.resizeColumnsToContents()

    def differing_settings(self) -> list[str]:
        """The settings rows highlighted as different (for tests and the status line)."""
        table = self.settings_table
        return [table.item(r, 0).text() for r in range(table.rowCount())
                if table.item(r, 0).background().color() == DIFFERENT]

    # Actions on one run

    def _one(self) -> RunRecord | None:
        runs = self.selected_runs()
        return runs[0] if len(runs) == 1 else None

    def rename(self) -> None:
        record = self._one()
        if record is None:
            return
        name, ok = QInputDialog.getText(
            self, QCoreApplication.translate("RunsPanel", "Rename run"),
            QCoreApplication.translate("RunsPanel", "Name for {0} (empty: the folder's name):")
            .format(record.folder), text=record.display_name)
        if ok:
            self._write_notes(record, name=name)

    def edit_note(self) -> None:
        record = self._one()
        if record is None:
            return
        note, ok = QInputDialog.getMultiLineText(
            self, QCoreApplication.translate("RunsPanel", "Note"),
            QCoreApplication.translate("RunsPanel", "Note on {0}:").format(record.display_name),
            record.note)
        if ok:
            self._write_notes(record, note=note)

    def _write_notes(self, record: RunRecord, **notes) -> None:
        try:
            set_notes(record.path, **notes)
        except BadInput as exc:
            QMessageBox.warning(self, QCoreApplication.translate(
                "RunsPanel", "TrainDesk"), str(exc))
        self.reload()

    def delete(self) -> None:
        record = self._one()
        if record is None:
            return
        answer = QMessageBox.question(
            self, QCoreApplication.translate("RunsPanel", "Delete run"),
            QCoreApplication.translate(
                "RunsPanel", "Delete the run folder\n{0}\nwith its checkpoints and metrics? "
                "This cannot be undone.").format(record.path),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            delete_run(record.path, self.runs_dir)
        except BadInput as exc:
            QMessageBox.warning(self, QCoreApplication.translate(
                "RunsPanel", "TrainDesk"), str(exc))
        else:
            self.message.emit(QCoreApplication.translate("RunsPanel", "Deleted {0}").format(
                record.path))
        self.reload()

    def open_folder(self) -> None:
        record = self._one()
        if record is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(record.path)))

    def copy_command(self) -> None:
        record = self._one()
        if record is not None:
            line = command_line(record.path)
            QApplication.clipboard().setText(line)
            self.message.emit(QCoreApplication.translate("RunsPanel", "Copied: {0}").format(line))

    def _config(self, record: RunRecord):
        try:
            return load_config(record.path / "config.toml")
        except BadInput as exc:
            QMessageBox.warning(self, QCoreApplication.translate(
                "RunsPanel", "TrainDesk"), QCoreApplication.translate(
                "RunsPanel", "Cannot read this run's settings: {0}").format(exc))
            return None

    def load_settings(self) -> None:
        record = self._one()
        config = self._config(record) if record is not None and not self._running else None
        if config is not None:
            self.load_settings_requested.emit(config)
            self.message.emit(QCoreApplication.translate(
                "RunsPanel", "Loaded the settings of {0}").format(record.display_name))

    def rerun(self) -> None:
        record = self._one()
        config = self._config(record) if record is not None and not self._running else None
        if config is not None:
            self.rerun_requested.emit(config)

    def resume(self) -> None:
        record = self._one()
        if record is not None and not self._running:
            self.resume_requested.emit(record.path)

    def evaluate(self) -> None:
        record = self._one()
        if record is not None:
            self.evaluate_requested.emit(record.path)

    def export(self) -> None:
        record = self._one()
        if record is not None:
            self.export_requested.emit(record.path)


def _row(record: RunRecord) -> list[QStandardItem]:
    def item(text: str, sort_value=None, tip: str = "") -> QStandardItem:
        cell = QStandardItem(text)
        cell.setData(text.lower() if sort_value is None else sort_value, SORT_ROLE)
        if tip:
            cell.setToolTip(tip)
        return cell

    # The epoch best.pt holds, the checkpoint Evaluate, Predict and export use (issue 13: the
    # best over all epochs can be another epoch's when best_metric ranks by the loss)
    best, loss = record.best_epoch_val_metric, record.best_epoch_val_loss
    best_tip = "" if record.best_epoch is None else QCoreApplication.translate(
        "RunsPanel", "Epoch {0}, the one the best checkpoint holds").format(record.best_epoch)
    metric = "" if best is None else format_metric(record.metric, best)
    if metric and record.metric != "accuracy":
        metric = f"{metric_label(record.metric)} {metric}"  # "97.5%" says accuracy; R2 is named
    epochs = "" if record.epochs_completed is None else (
        f"{record.epochs_completed}/{record.epochs}" if record.epochs else
        str(record.epochs_completed))
    cells = [
        item(record.display_name, tip=f"{record.path}" + (
            f"\n{record.folder}" if record.display_name != record.folder else "")),
        item(record.model), item(record.data),
        item(status_text(record.status), tip=translate_message(record.error)),  # diverged: the hint
        item(metric, -math.inf if best is None else best, best_tip),
        item("" if loss is None else f"{loss:.4g}", math.inf if loss is None else loss,
             best_tip),
        item(epochs, record.epochs_completed or 0),
        item("" if record.duration_s is None else format_duration(record.duration_s),
             record.duration_s or 0.0),
        item(record.started.strftime("%Y-%m-%d %H:%M") if record.started else "",
             record.started.timestamp() if record.started else 0.0),
        item(record.note.splitlines()[0] if record.note else "", tip=record.note),
    ]
    cells[NAME].setData(str(record.path), PATH_ROLE)
    color = STATUS_COLORS.get(record.status)
    if color:
        cells[STATUS].setForeground(QBrush(QColor(color)))
    if not record.readable:
        for cell in cells:
            cell.setForeground(QBrush(QColor(STATUS_COLORS["unreadable"])))
            cell.setToolTip(record.error)
    return cells

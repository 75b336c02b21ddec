"""MainWindow: set up a run on the left, start and stop it, watch its curves on the right;
the right side's Layers tab shows the model's layers and which of them train, the Runs tab
every past run (compare, resume, evaluate, export), Evaluation a checkpoint's confusion
matrix or regression scatter, Predict a trained model on a new image or row.

torch is not imported here: the window shows first, then the device probe loads torch off
the GUI thread and fills in the device list.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import (QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence, QShortcut,
                           QShowEvent)
from PySide6.QtWidgets import (QApplication, QFileDialog, QHBoxLayout, QLabel, QMainWindow,
                               QMessageBox, QPushButton, QScrollArea, QSplitter, QTabWidget,
                               QVBoxLayout, QWidget)

import core
from core.config import load_config, save_config
from core.errors import BadInput
from core.events import EpochEnd, RunStarted
from core.runs.folder import RunFolder, default_runs_dir
from gui.background import Job, runner
from gui.device_probe import probe_devices
from gui.error_file import has_error_file, open_error_file
from gui.export_dialog import ExportDialog
from gui.finetune_check import LeftoverFinetuneCheck
from gui.help_menu import add_help_entries
from gui.i18n import choose_language, chosen_language
from gui.layers_panel import LayersPanel
from gui.message_bar import MessageBar
from gui.predict_view import PredictView
from gui.run_progress import RunProgress
from gui.run_setup import RunSetupPanel
from gui.training_thread import TrainingThread
from gui.wheel_guard import guard_wheel
from resources import resource_path

if TYPE_CHECKING:
    from gui.evaluation_view import EvaluationView
    from gui.plots import LivePlots
    from gui.runs_panel import RunsPanel
    from gui.sweep_dialog import SweepDialog

RUN_FILE_FILTER = QT_TRANSLATE_NOOP("MainWindow", "Run files (*.toml);;All files (*)")


class _NoMinimumHeight(QWidget):
    def minimumSizeHint(self) -> QSize:
        return QSize(super().minimumSizeHint().width(), 0)


def run_to_offer(runs_dir: Path):
    """The newest run, if it stopped or was cut off and can be resumed (its RunRecord)."""
    from core.runs.history import list_runs

    runs = list_runs(runs_dir)
    if runs and runs[0].status in ("stopped", "interrupted") \
            and runs[0].checkpoint("last").is_file():
        return runs[0]
    return None


@dataclass
class _PlotViews:
    """The tabs that draw with pyqtgraph, built after the window's first paint."""

    plots: LivePlots
    runs_panel: RunsPanel
    evaluation_view: EvaluationView


class MainWindow(QMainWindow):
    """The window: run setup, controls and the tabs; closing it stops the run and waits
    for the background jobs."""

    run_ended = Signal()  # a run's thread has finished, whatever the outcome

    def __init__(self, runs_dir: Path | None = None) -> None:
        super().__init__()
        self.runs_dir = Path(runs_dir) if runs_dir is not None else default_runs_dir()
        self.training_thread: TrainingThread | None = None  # kept until it has finished
        self.device_probe: Job | None = None  # torch loading off the GUI thread
        self.last_summary: dict | None = None
        # Closing during a run asks first; the self-test, with nobody to ask, turns it off.
        self.ask_before_closing = True
        self.setWindowTitle(QCoreApplication.translate("MainWindow", "TrainDesk"))
        self.setWindowIcon(QIcon(str(resource_path("traindesk.svg"))))
        self.resize(1280, 800)

        self.setup_panel = RunSetupPanel(self.runs_dir)
        self.layers_panel = LayersPanel(self.setup_panel.config)
        self.setup_panel.layers_settings_changed.connect(self.layers_panel.settings_changed)
        self.layers_panel.freeze_chosen.connect(self.setup_panel.set_frozen_layers)
        self.layers_panel.lora_chosen.connect(self.setup_panel.set_lora_targets)
        self.start_button = QPushButton(QCoreApplication.translate("MainWindow", "Start"))
        self.start_button.setToolTip(QCoreApplication.translate(
            "MainWindow", "Train with these settings; the run gets its own folder."))
        self.start_button.clicked.connect(self.start_run)
        self.stop_button = QPushButton(QCoreApplication.translate("MainWindow", "Stop"))
        self.stop_button.setToolTip(QCoreApplication.translate(
            "MainWindow", "Stop after the current batch and save a checkpoint."))
        self.stop_button.clicked.connect(self.stop_run)
        self.pause_button = QPushButton(QCoreApplication.translate("MainWindow", "Pause"))
        self.pause_button.setToolTip(QCoreApplication.translate(
            "MainWindow", "Hold the run after the current batch; Continue goes on exactly "
            "where it paused."))
        self.pause_button.clicked.connect(self.toggle_pause)
        self.progress = RunProgress()
        self.message_bar = MessageBar()
        # After a restart: the last run stopped or was cut off; offer to continue it.
        self.resume_bar = MessageBar("note")
        self.resume_bar.details_button.setText(QCoreApplication.translate("MainWindow", "Resume"))
        self.resume_bar.details_button.clicked.disconnect()
        self.resume_bar.details_button.clicked.connect(self._resume_offered_run)
        self._offered_run: Path | None = None
        # Start weights or layer names left from another model, shown with a one-click fix.
        self.leftover_bar = MessageBar()
        self.leftover_check = LeftoverFinetuneCheck(self.setup_panel, self.leftover_bar)
        # The Training, Runs and Evaluation tabs draw with pyqtgraph: built once the window
        # is on screen (see _plot_views).
        self._views: _PlotViews | None = None
        self.predict_view = PredictView(self.runs_dir)
        self.export_dialog: ExportDialog | None = None
        self.sweep_dialog: SweepDialog | None = None
        self.folder_label = QLabel()
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.folder_label, 1)
        self.folder_label.setText(QCoreApplication.translate(
            "MainWindow", "Runs are saved in {0}").format(self.runs_dir))

        self.setCentralWidget(self._build_layout())
        self._build_menus()
        self._build_shortcuts()
        self._set_running(False)
        guard_wheel(self)

    def _build_layout(self) -> QWidget:
        scroll = QScrollArea()
        scroll.setWidget(self.setup_panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.setup_panel.sizeHint().width()
                               + scroll.verticalScrollBar().sizeHint().width() + 4)

        controls = QHBoxLayout()
        controls.addWidget(self.start_button)
        controls.addWidget(self.stop_button)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.progress, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(controls)
        self.tabs = QTabWidget()
        # Empty pages hold the places of the plot views until _plot_views puts them in.
        self._view_places = [QWidget(), QWidget(), QWidget()]
        self.tabs.addTab(self._view_places[0], QCoreApplication.translate(
            "MainWindow", "Training"))
        self.tabs.addTab(self.layers_panel, QCoreApplication.translate("MainWindow", "Layers"))
        self.tabs.addTab(self._view_places[1], QCoreApplication.translate("MainWindow", "Runs"))
        self.tabs.addTab(self._view_places[2], QCoreApplication.translate(
            "MainWindow", "Evaluation"))
        self.tabs.addTab(self.predict_view, QCoreApplication.translate("MainWindow", "Predict"))
        self.setup_panel.layers_requested.connect(
            lambda: self.tabs.setCurrentWidget(self.layers_panel))
        right_layout.addWidget(self.tabs, 1)
        # Below the tabs, so that no tab bar moves as they come and go, in a box that asks
        # for no height of its own: they never raise the window's minimum size (issue 13).
        messages = _NoMinimumHeight()
        messages_layout = QVBoxLayout(messages)
        messages_layout.setContentsMargins(0, 0, 0, 0)
        for bar in (self.message_bar, self.leftover_bar, self.progress.notes_label,
                    self.resume_bar):
            messages_layout.addWidget(bar)
        right_layout.addWidget(messages)

        splitter = QSplitter()
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        return splitter

    def _build_menus(self) -> None:
        keys = QKeySequence.StandardKey
        file_menu = self.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&File"))
        self.open_action = QAction(QCoreApplication.translate(
            "MainWindow", "&Open run file…"), self, shortcut=keys.Open)
        self.open_action.triggered.connect(self.open_run_file)
        self.save_action = QAction(QCoreApplication.translate(
            "MainWindow", "&Save run file…"), self, shortcut=keys.Save)
        self.save_action.triggered.connect(self.save_run_file)
        self.resume_action = QAction(QCoreApplication.translate("MainWindow", "&Resume run…"),
                                     self)
        self.resume_action.setToolTip(QCoreApplication.translate(
            "MainWindow", "Continue a stopped, interrupted or crashed run from its last "
            "checkpoint"))
        self.resume_action.triggered.connect(self.resume_run)
        self.sweep_action = QAction(QCoreApplication.translate("MainWindow", "S&weep…"), self)
        self.sweep_action.setToolTip(QCoreApplication.translate(
            "MainWindow", "Train these settings over several values of the fields you pick"))
        self.sweep_action.triggered.connect(self.show_sweep_dialog)
        quit_action = QAction(QCoreApplication.translate(
            "MainWindow", "&Quit"), self, shortcut=keys.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addActions([self.open_action, self.save_action])
        file_menu.addSeparator()
        file_menu.addAction(self.resume_action)
        file_menu.addAction(self.sweep_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        self._build_language_menu()
        help_menu = self.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&Help"))
        about_action = QAction(QCoreApplication.translate("MainWindow", "&About TrainDesk"), self)
        about_action.triggered.connect(self._show_about)
        help_menu.addAction(about_action)
        add_help_entries(help_menu, self, self.runs_dir)

    def _build_shortcuts(self) -> None:
        """Start, Stop and Pause from the keyboard, and Ctrl+1… for the tabs."""
        for button, keys in ((self.start_button, "Ctrl+Return"), (self.stop_button, "Ctrl+."),
                             (self.pause_button, "Ctrl+Space")):
            # A QShortcut, not the button's own: a button's setText ("Pause", "Continue")
            # replaces its shortcut. click() does nothing while the button is disabled.
            shortcut = QShortcut(QKeySequence(keys), self, button.click)
            shortcut.setWhatsThis(button.text())  # Help > Keyboard shortcuts lists it
            native = QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)
            button.setToolTip(f"{button.toolTip()} ({native})")
        for index in range(self.tabs.count()):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{index + 1}"), self,
                                 lambda index=index: self.tabs.setCurrentIndex(index))
            shortcut.setWhatsThis(QCoreApplication.translate("MainWindow", "{0} tab").format(
                self.tabs.tabText(index)))

    def _build_language_menu(self) -> None:
        """View > Language: Auto (the system's), 中文, English; stored with QSettings and
        applied at the next start (the window's texts are set once, when it is built)."""
        view_menu = self.menuBar().addMenu(QCoreApplication.translate("MainWindow", "&View"))
        language_menu = view_menu.addMenu(QCoreApplication.translate("MainWindow", "&Language"))
        self.language_actions = QActionGroup(self)
        chosen = chosen_language()
        for code, text in (("auto", QCoreApplication.translate("MainWindow", "Auto (system)")),
                           ("zh_CN", "中文"), ("en", "English")):
            action = QAction(text, self, checkable=True, checked=code == chosen)
            action.setData(code)
            self.language_actions.addAction(action)
            language_menu.addAction(action)
        self.language_actions.triggered.connect(self._choose_language)

    def _choose_language(self, action: QAction) -> None:
        choose_language(action.data())
        self.statusBar().showMessage(QCoreApplication.translate(
            "MainWindow", "The language changes when TrainDesk is started again."), 10000)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText(QCoreApplication.translate("MainWindow", "Pause"))
        self.resume_action.setEnabled(not running)
        # The settings belong to the run in progress until it ends.
        self.setup_panel.setEnabled(not running)
        self.layers_panel.setEnabled(not running)
        self.open_action.setEnabled(not running)
        if self._views is not None:
            self._views.runs_panel.set_running(running)

    # Running

    def start_run(self) -> None:
        self.message_bar.clear()
        config = self._form_config(QCoreApplication.translate("MainWindow", "Cannot start: {0}"))
        if config is None:
            return
        self._start_thread(TrainingThread(config, self.runs_dir,
                                          processes=self.setup_panel.processes_field.processes()))

    def rerun(self, config) -> None:
        """Runs tab > Run again: these settings into the setup panel, then Start."""
        if self.training_thread is None:
            self.setup_panel.set_config(config)
            self.start_run()

    def evaluate_run(self, path: Path) -> None:
        self.tabs.setCurrentWidget(self.evaluation_view)
        self.evaluation_view.show_run(path)

    def show_sweep_dialog(self) -> None:
        """A sweep of the settings on screen (one sweep dialog at a time)."""
        from gui.sweep_dialog import SweepDialog, varied_fields  # draws with pyqtgraph

        config = self._form_config(QCoreApplication.translate("MainWindow", "Cannot start: {0}"))
        if config is None:
            return
        if self.sweep_dialog is not None and self.sweep_dialog.is_running():
            self.sweep_dialog.raise_()
            return
        if self.sweep_dialog is not None:
            self.sweep_dialog.deleteLater()
        self.sweep_dialog = SweepDialog(config, varied_fields(config), self.runs_dir,
                                        self.show_run, self)
        self.sweep_dialog.show()

    def show_run(self, path: Path) -> None:
        """Select a run in the Runs tab."""
        self.runs_panel.reload()
        self.runs_panel.select_runs([path])
        self.tabs.setCurrentWidget(self.runs_panel)

    def show_export_dialog(self, path: Path) -> None:
        if self.export_dialog is not None:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
        self.export_dialog = ExportDialog(path, self)
        self.export_dialog.show()

    def resume_run(self) -> None:
        """File > Resume run…: pick a run folder and continue it."""
        start = str(self.runs_dir if self.runs_dir.is_dir() else Path.home())
        path = QFileDialog.getExistingDirectory(self, QCoreApplication.translate(
            "MainWindow", "Resume run: choose its folder"), start)
        if path:
            self.resume_run_folder(Path(path))

    def resume_run_folder(self, path: Path) -> None:
        """Continue the run in `path` from checkpoints/last.pt; the plots show its earlier
        points first, then go on live."""
        if self.training_thread is not None:
            return  # one run at a time (the action is disabled while one goes)
        self.message_bar.clear()
        try:
            config = RunFolder.open_existing(path).config()
        except BadInput as exc:
            self.message_bar.show_error(QCoreApplication.translate(
                "MainWindow", "Cannot resume: {0}").format(exc))
            return
        self.setup_panel.set_config(config)  # shows the settings the run continues with
        self._start_thread(TrainingThread(
            None, self.runs_dir, resume_dir=path,
            processes=self.setup_panel.processes_field.processes()))

    def _start_thread(self, thread: TrainingThread) -> None:
        self.folder_label.setText(QCoreApplication.translate(
            "MainWindow", "Runs are saved in {0}").format(self.runs_dir))  # until it has one
        thread.run_started.connect(self._on_run_started)
        thread.history_loaded.connect(self._on_history)
        thread.run_refused.connect(self._on_run_refused)
        thread.batches_ended.connect(self._on_batches)
        thread.epoch_ended.connect(self._on_epoch)
        thread.run_finished.connect(self._on_run_finished)
        thread.run_failed.connect(self._on_run_failed)
        thread.finished.connect(self._on_thread_finished)
        self.training_thread = thread
        self.last_summary = None
        self._run_dir: Path | None = None  # the run's folder, once it has one
        self.resume_bar.clear()
        self.plots.clear()
        self.plots.start_live()
        self.progress.show_preparing()
        self.tabs.setCurrentWidget(self.plots)
        self._set_running(True)
        thread.start()

    def stop_run(self) -> None:
        if self.training_thread is not None:
            self.training_thread.stop()
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.progress.show_stopping()

    def toggle_pause(self) -> None:
        thread = self.training_thread
        if thread is None:
            return
        if thread.paused:
            thread.resume()
            self.pause_button.setText(QCoreApplication.translate("MainWindow", "Pause"))
            self.progress.show_continuing()
        else:
            thread.pause()
            self.pause_button.setText(QCoreApplication.translate("MainWindow", "Continue"))
            self.progress.show_paused()

    def _on_history(self, batches: list, epochs: list) -> None:
        if batches:
            self.plots.add_steps(batches)
            self.progress.show_batch(batches[-1])
        for event in epochs:
            self.plots.add_epoch(event)
            self.progress.show_epoch(event)

    def _on_run_refused(self, message: str) -> None:
        self.message_bar.show_error(QCoreApplication.translate(
            "MainWindow", "Cannot start: {0}").format(message))
        self.progress.show_refused()

    def _on_run_started(self, event: RunStarted) -> None:
        self._run_dir = Path(event.run_dir)
        self.folder_label.setText(QCoreApplication.translate(
            "MainWindow", "Run folder: {0}").format(event.run_dir))
        self.plots.start_run(event)
        self.progress.show_started(event)

    def _on_batches(self, batches: list) -> None:
        self.plots.add_steps(batches)
        self.progress.show_batch(batches[-1])

    def _on_epoch(self, event: EpochEnd) -> None:
        self.plots.add_epoch(event)
        self.progress.show_epoch(event)

    def _on_run_finished(self, summary: dict) -> None:
        self.last_summary = summary
        if summary.get("run_dir", "") is None:  # stopped before its first step: folder removed
            self.folder_label.setText(QCoreApplication.translate(
                "MainWindow", "Runs are saved in {0}").format(self.runs_dir))
        self.progress.show_finished(summary)

    def _on_run_failed(self, message: str, details: str) -> None:
        self.message_bar.show_error(QCoreApplication.translate(
            "MainWindow", "The run failed: {0}").format(message), details)
        run_dir = self._run_dir
        if has_error_file(run_dir):  # the full traceback, beside the one line
            self.message_bar.set_file(QCoreApplication.translate(
                "MainWindow", "Open error.txt"), lambda: open_error_file(run_dir, self))
        self.plots.show_failure(message)
        self.progress.show_failed()

    def _on_thread_finished(self) -> None:
        self.training_thread.deleteLater()
        self.training_thread = None
        self.plots.stop_live()
        self._set_running(False)
        self.run_ended.emit()

    def _stop_and_close_asked(self) -> bool:
        """Closing during a run: ask first (the run is saved either way, and resumable)."""
        box = QMessageBox(QMessageBox.Icon.Question, QCoreApplication.translate(
            "MainWindow", "TrainDesk"), QCoreApplication.translate(
            "MainWindow", "A run is training. Stop it and close TrainDesk?"),
            QMessageBox.StandardButton.NoButton, self)
        box.setInformativeText(QCoreApplication.translate(
            "MainWindow", "The run is saved with a checkpoint; TrainDesk offers to resume it "
            "when it starts again."))
        stop = box.addButton(QCoreApplication.translate("MainWindow", "Stop and close"),
                             QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton(QCoreApplication.translate("MainWindow", "Keep training"),
                             QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setObjectName("closeQuestion")
        box.exec()
        return box.clickedButton() is stop

    # Devices

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.device_probe is None:
            self.device_probe = probe_devices(self, self._on_devices, self._on_torch_failed)
            runner().submit(self, lambda: run_to_offer(self.runs_dir), self._offer_resume,
                            name="resume offer")
            self.windowHandle().installEventFilter(self)  # its first expose: _plot_views

    # The plot views, built after the first paint

    @property
    def plots(self) -> LivePlots:
        return self._plot_views().plots

    @property
    def runs_panel(self) -> RunsPanel:
        return self._plot_views().runs_panel

    @property
    def evaluation_view(self) -> EvaluationView:
        return self._plot_views().evaluation_view

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The window's first expose: paint it and put it on screen, then build the plot
        views, so that whoever waits for the window exposed finds them there."""
        if watched is self.windowHandle() and event.type() == QEvent.Type.Expose \
                and watched.isExposed():
            watched.removeEventFilter(self)
            watched.event(event)  # the window's own handling: it paints and flushes
            QApplication.sync()  # sends the pixels to the display server now
            self._plot_views()
            return True
        return super().eventFilter(watched, event)

    def _plot_views(self) -> _PlotViews:
        """The Training, Runs and Evaluation tabs' views, built on first use: right after
        the window's first paint, or earlier when something asks for one. They draw with
        pyqtgraph, whose import and plots were about a third of the time to a window on
        screen (docs/performance.md, benchmark 4); the window shows first without them."""
        if self._views is not None:
            return self._views
        from gui.evaluation_view import EvaluationView
        from gui.plots import LivePlots
        from gui.runs_panel import RunsPanel

        views = _PlotViews(LivePlots(), RunsPanel(self.runs_dir), EvaluationView(self.runs_dir))
        self._views = views
        for place, view in zip(self._view_places, (views.plots, views.runs_panel,
                                                   views.evaluation_view)):
            index = self.tabs.indexOf(place)
            showing = self.tabs.currentIndex() == index
            self.tabs.insertTab(index, view, self.tabs.tabText(index))
            if showing:
                self.tabs.setCurrentIndex(index)
            self.tabs.removeTab(index + 1)
            place.deleteLater()
            guard_wheel(view)
        runs = views.runs_panel
        runs.load_settings_requested.connect(self.setup_panel.set_config)
        runs.rerun_requested.connect(self.rerun)
        runs.resume_requested.connect(self.resume_run_folder)
        runs.evaluate_requested.connect(self.evaluate_run)
        runs.export_requested.connect(self.show_export_dialog)
        runs.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        runs.set_running(self.training_thread is not None)
        self.run_ended.connect(runs.reload)
        return views

    def _offer_resume(self, record) -> None:
        if record is None or self.training_thread is not None:
            return
        self._offered_run = record.path
        self.resume_bar.show_note(QCoreApplication.translate(
            "MainWindow", "The last run, {0}, {1} after {2} of {3} epochs. Resume continues it "
            "from its last checkpoint.").format(
            record.display_name, QCoreApplication.translate("MainWindow", "was stopped")
            if record.status == "stopped" else QCoreApplication.translate(
                "MainWindow", "was cut off"), record.epochs_completed or 0, record.epochs or "?"))
        self.resume_bar.details_button.show()

    def _resume_offered_run(self) -> None:
        path, self._offered_run = self._offered_run, None
        self.resume_bar.clear()
        if path is not None:
            self.resume_run_folder(path)

    def _on_devices(self, devices: list[str]) -> None:
        self.setup_panel.set_devices(devices)
        self.layers_panel.set_torch_ready()
        self.leftover_check.set_torch_ready()
        self.setup_panel.memory_line.set_torch_ready()

    def _on_torch_failed(self, message: str, details: str) -> None:
        self.message_bar.show_error(message, details)
        self.layers_panel.set_torch_failed(message)

    # Run files

    def open_run_file(self) -> None:
        start = str(self.runs_dir if self.runs_dir.is_dir() else Path.home())
        path, _ = QFileDialog.getOpenFileName(
            self, QCoreApplication.translate("MainWindow", "Open run file"), start,
            QCoreApplication.translate("MainWindow", RUN_FILE_FILTER))
        if not path:
            return
        try:
            config = load_config(path)
        except BadInput as exc:
            self.message_bar.show_error(QCoreApplication.translate(
                "MainWindow", "Cannot open the run file: {0}").format(exc), form_labels=False)
            return
        self.setup_panel.set_config(config)
        self.message_bar.clear()
        self.statusBar().showMessage(QCoreApplication.translate(
            "MainWindow", "Opened {0}").format(path), 5000)

    def _form_config(self, failure: str):
        """The run the form describes, or None after showing `failure` (a translated
        template with {0} for the reason) in the message bar."""
        try:
            return self.setup_panel.config()
        except BadInput as exc:
            self.message_bar.show_error(failure.format(exc))
            return None

    def save_run_file(self) -> None:
        config = self._form_config(QCoreApplication.translate("MainWindow", "Cannot save: {0}"))
        if config is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, QCoreApplication.translate("MainWindow", "Save run file"),
            str(Path.home() / "run.toml"), QCoreApplication.translate("MainWindow",
                                                                      RUN_FILE_FILTER))
        if not path:
            return
        path = Path(path) if Path(path).suffix else Path(path).with_suffix(".toml")
        try:
            save_config(config, path)
        except OSError as exc:
            self.message_bar.show_error(QCoreApplication.translate(
                "MainWindow", "Cannot save {0}: {1}").format(path, exc.strerror or exc))
            return
        self.statusBar().showMessage(QCoreApplication.translate(
            "MainWindow", "Saved {0}").format(path), 5000)

    def _show_about(self) -> None:
        QMessageBox.about(self, QCoreApplication.translate("MainWindow", "About TrainDesk"),
                          QCoreApplication.translate(
                              "MainWindow", "<b>TrainDesk {0}</b><p>Train and fine-tune "
                              "PyTorch models by pointing and clicking.</p><p>Runs are saved "
                              "in {1}</p>").format(core.__version__, self.runs_dir))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.training_thread is not None and self.ask_before_closing \
                and not self._stop_and_close_asked():
            event.ignore()
            return
        # A QThread destroyed while running aborts the process, and a run should end with its
        # checkpoint saved: ask it to stop, then wait (one batch, or torch still importing).
        # Every other job (torch loading, a preview, a summary, an evaluation, an export
        # being written) belongs to the background runner, which waits for them all.
        if self.training_thread is not None:
            self.training_thread.stop()
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if self.training_thread is not None:
                self.training_thread.wait()
            if self.export_dialog is not None:
                self.export_dialog.close()
            self.setup_panel.close_data_preview()
            self.setup_panel.close_lr_finder()  # its range test stops at its next step
            if self.sweep_dialog is not None:
                self.sweep_dialog.stop_and_wait()  # its run saves, resumable
            runner().wait_all()
        finally:
            QApplication.restoreOverrideCursor()
        super().closeEvent(event)

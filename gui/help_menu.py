"""The Help menu beyond About (issue 13: Help had only About): a getting-started guide in
the window's own words (the installed app carries no README), the keyboard shortcuts as
the window really has them, and the runs folder opened in the file manager."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget


def add_help_entries(menu: QMenu, window: QWidget, runs_dir: Path) -> None:
    """Getting started, Keyboard shortcuts and Open runs folder, at the top of `menu`."""
    guide = QAction(QCoreApplication.translate("HelpMenu", "&Getting started"), window,
                    shortcut=QKeySequence.StandardKey.HelpContents)
    guide.triggered.connect(lambda: show_getting_started(window))
    keys = QAction(QCoreApplication.translate("HelpMenu", "&Keyboard shortcuts"), window)
    keys.triggered.connect(lambda: show_shortcuts(window))
    folder = QAction(QCoreApplication.translate("HelpMenu", "Open &runs folder"), window)
    folder.setToolTip(str(runs_dir))
    folder.triggered.connect(lambda: open_runs_folder(runs_dir))
    first = menu.actions()[0] if menu.actions() else None
    menu.insertActions(first, [guide, keys, folder])
    if first is not None:
        menu.insertSeparator(first)


def show_getting_started(parent: QWidget) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, QCoreApplication.translate(
        "HelpMenu", "Getting started"), QCoreApplication.translate(
        "HelpMenu", "<p><b>Train a model in four steps</b></p><ol>"
        "<li>On the left, pick a <b>Model</b> and the <b>Data</b> to train it on (Preview "
        "data… shows samples). Models that cannot read the chosen data are greyed out.</li>"
        "<li>Set <b>Training</b> › epochs and batch size; the rest can stay as they are. "
        "Show advanced settings reveals the others.</li>"
        "<li>Click <b>Start</b>. The Training tab draws the loss and the accuracy as they "
        "come; Pause and Stop keep everything, and a stopped run can be resumed.</li>"
        "<li>In the <b>Runs</b> tab, compare runs, then <b>Evaluate</b>, <b>Export</b>, or "
        "try the model on your own files in <b>Predict</b>.</li></ol>"
        "<p>Every run is a folder holding its settings, metrics and checkpoints; Help › Open "
        "runs folder shows them. The same runs can be made on the command line: "
        "<code>traindesk train run.toml</code>.</p>"), QMessageBox.StandardButton.Close,
        parent)
    box.setObjectName("gettingStarted")
    box.open()
    return box


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for every shortcut of the window: its QShortcuts (their
    whatsThis says what they do) and its menu actions that have one."""
    native = QKeySequence.SequenceFormat.NativeText
    rows = [(shortcut.key().toString(native), shortcut.whatsThis())
            for shortcut in window.findChildren(QShortcut) if shortcut.whatsThis()]
    rows += [(action.shortcut().toString(native), _plain(action.text()))
             for action in window.findChildren(QAction) if not action.shortcut().isEmpty()]
    return rows


def _plain(text: str) -> str:
    """A menu entry's text without its accelerator ("&Open run file…", "打开(&O)…")."""
    return re.sub(r"\(&\w\)|&", "", text).removesuffix("…")


def show_shortcuts(window: QWidget) -> QMessageBox:
    table = "".join(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>"
                    for keys, what in shortcut_rows(window))
    box = QMessageBox(QMessageBox.Icon.NoIcon, QCoreApplication.translate(
        "HelpMenu", "Keyboard shortcuts"), f"<table>{table}</table>",
        QMessageBox.StandardButton.Close, window)
    box.setObjectName("keyboardShortcuts")
    box.open()
    return box


def open_runs_folder(runs_dir: Path) -> None:
    """Show the runs folder in the file manager (made first: a new user has none yet)."""
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # the file manager says it is missing
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(runs_dir)))

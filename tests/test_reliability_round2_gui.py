"""Issue 20 in the window: the Runs tab lists every run when one folder is damaged (that one
as unreadable, with the reason), shows a run another process trains as running, and
File > Resume run… on such a run says it is still being trained and writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from core.train.loop import train
from gui.runs_panel import NAME, STATUS, RunsPanel
from limits import HANG_MS
from run_control import StopAfter, mlp_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def held_run(tmp_path):
    """A stopped run whose folder another process holds locked, as if it were training it."""
    summary = train(mlp_config(), runs_dir=tmp_path / "runs", control=StopAfter(3))
    run_dir = Path(summary["run_dir"])
    (run_dir / "summary.json").write_text(json.dumps({**summary, "status": "running"}),
                                          encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from core.runs.folder import RunLock; RunLock.take(Path(sys.argv[1])); "
         "print('locked', flush=True); time.sleep(60)", str(run_dir)],
        stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert holder.stdout.readline().strip() == "locked"
    yield run_dir
    holder.kill()
    holder.wait()


def _status(panel: RunsPanel, folder: str) -> tuple[str, str]:
    for row in range(panel.proxy.rowCount()):
        if panel.proxy.index(row, NAME).data(Qt.ItemDataRole.UserRole).endswith(folder):
            cell = panel.proxy.index(row, STATUS)
            return cell.data(), cell.data(Qt.ItemDataRole.ToolTipRole) or ""
    raise KeyError(folder)


def test_the_runs_tab_lists_every_run_around_a_damaged_one(qtbot, tmp_path, held_run):
    runs = tmp_path / "runs"
    bad_config = runs / "20250101-000000-mlp-digits"
    bad_config.mkdir()
    (bad_config / "config.toml").write_text('model = "mlp"\n', encoding="utf-8")
    (bad_config / "summary.json").write_text('{"status": "completed"}', encoding="utf-8")
    huge_pid = runs / "20250101-000001-mlp-digits"
    huge_pid.mkdir()
    (huge_pid / "config.toml").write_text((held_run / "config.toml").read_text())
    (huge_pid / "summary.json").write_text('{"status": "running", "pid": ' + str(2**80) + "}",
                                           encoding="utf-8")
    panel = RunsPanel(runs)
    qtbot.addWidget(panel)
    panel.show()  # the list is read when the tab is shown
    qtbot.waitUntil(lambda: len(panel.visible_folders()) == 3, timeout=HANG_MS)
    assert sorted(panel.visible_folders()) == sorted([held_run.name, bad_config.name,
                                                      huge_pid.name])
    assert _status(panel, held_run.name)[0] == "running"  # locked: someone trains it
    status, reason = _status(panel, bad_config.name)
    assert status == "unreadable" and "[model] is not a table" in reason
    assert _status(panel, huge_pid.name)[0] == "interrupted"


def test_file_resume_of_a_run_being_trained_says_so(window, qtbot, monkeypatch, held_run):
    before = (held_run / "metrics.csv").read_bytes()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(held_run))
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.training_thread is None, timeout=HANG_MS)
    assert window.message_bar.text().startswith(f"Cannot start: {held_run} is still being "
                                                "trained by process")
    assert (held_run / "metrics.csv").read_bytes() == before

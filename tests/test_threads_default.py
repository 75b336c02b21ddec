"""`[training] threads = 0` (auto) trains on every core the process may use on the command
line, and on all but one in the window, whose event loop needs it (docs/performance.md:
benchmarks 1 and 3); OMP_NUM_THREADS, when set, is the count (torchrun sets 1 for several
ranks on one machine). summary.json records the count used; the window writes it into the
run's config.toml, so the run repeated from the command line uses the same."""

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from core.config import RunConfig, load_config
from core.train.build import cpu_threads
from limits import HANG_MS, HANG_S

REPO = Path(__file__).resolve().parent.parent


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def test_auto_is_every_usable_core_unless_the_environment_says(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert cpu_threads(0) == usable_cores()
    assert cpu_threads(0, window=True) == max(1, usable_cores() - 1)
    assert cpu_threads(3) == 3 and cpu_threads(3, window=True) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # what torchrun sets for several local ranks
    assert cpu_threads(0) == cpu_threads(0, window=True) == 1
    assert cpu_threads(2) == 2  # a count in the run file wins


def test_command_line_run_with_auto_threads_uses_every_core(tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text('[model]\nname = "mlp"\n[data]\nname = "digits"\n'
                        '[training]\nepochs = 1\ndevice = "cpu"\nthreads = 0\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-m", "core", "train", str(run_file),
                             "--runs-dir", str(tmp_path / "runs")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=HANG_S)
    assert result.returncode == 0, result.stderr
    [summary] = [json.loads(p.read_text(encoding="utf-8"))
                 for p in (tmp_path / "runs").glob("*/summary.json")]
    assert summary["threads"] == usable_cores()


def test_window_run_with_auto_threads_leaves_a_core_and_records_it(window, qtbot,
                                                                    monkeypatch, tmp_path):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    window.setup_panel.set_config(RunConfig().with_overrides(
        ["model.name=mlp", "training.epochs=1", "training.device=cpu"]))
    assert window.setup_panel.config().training.threads == 0  # the form's default: auto
    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    assert window.last_summary["status"] == "completed"
    assert window.last_summary["threads"] == max(1, usable_cores() - 1)
    [config] = (tmp_path / "runs").glob("*/config.toml")
    assert load_config(config).training.threads == max(1, usable_cores() - 1)

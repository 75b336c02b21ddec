"""`traindesk self-test`, as installers run it: a fresh process, no display needed."""

import os
import subprocess
import sys
from limits import HANG_S


def test_self_test_trains_through_the_window_and_exits_0(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "TRAINDESK_HOME": str(home)}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test must choose off screen by itself
    env.pop("DISPLAY", None)
    result = subprocess.run([sys.executable, "-m", "gui.launcher", "self-test"],
                            capture_output=True, text=True, timeout=HANG_S, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("self-test passed"), result.stdout
    assert "error" not in result.stderr
    assert not home.exists()  # its run went to a temporary folder, now removed

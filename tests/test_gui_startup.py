"""The window comes up before torch is imported: the GUI modules must not pull it in."""

import os
import subprocess
import sys

WINDOW_WITHOUT_TORCH = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import gui.app, gui.main_window
assert "torch" not in sys.modules, "importing the GUI imported torch"
from PySide6.QtWidgets import QApplication
app = QApplication([])
window = gui.main_window.MainWindow()
assert "torch" not in sys.modules, "building the window imported torch"
"""


def test_window_is_built_without_importing_torch(tmp_path):
    result = subprocess.run([sys.executable, "-c", WINDOW_WITHOUT_TORCH], capture_output=True,
                            text=True, timeout=120,
                            env={**os.environ, "TRAINDESK_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr


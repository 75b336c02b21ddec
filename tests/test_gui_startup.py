"""The window comes up before torch is imported: the GUI modules must not pull it in."""

import os
import subprocess
import sys

from limits import HANG_S

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
                            text=True, timeout=HANG_S,
                            env={**os.environ, "TRAINDESK_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr



NONE_REFCOUNT_AFTER_QT_CALLS = """
import sys
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(["traindesk", "-platform", "offscreen"])
label = QLabel()
before = sys.getrefcount(None)
for _ in range(5000):
    label.setText("x")  # a void method: the binding must not drop a reference to None
    app.processEvents()
print(before - sys.getrefcount(None))
"""


def test_qt_binding_keeps_its_references_to_none():
    # PySide6 6.12.0 on Python 3.11 releases a reference to None on every void call; a
    # training window makes thousands a minute and the interpreter aborts. Guards the pin.
    result = subprocess.run([sys.executable, "-c", NONE_REFCOUNT_AFTER_QT_CALLS],
                            capture_output=True, text=True, timeout=HANG_S)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) < 100, f"{result.stdout.strip()} references to None lost"

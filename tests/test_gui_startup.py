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


# The window is painted before pyqtgraph is imported (its import and plots were a third of
# the start-up); the plot views are then built and put in their tabs, and work.
PAINTED_BEFORE_PLOTS = """
import os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
from gui.main_window import MainWindow
app = QApplication([])
window = MainWindow()
first_paint = {}

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and not first_paint:
            first_paint["pyqtgraph"] = "pyqtgraph" in sys.modules
        return False

spy = FirstPaint()
window.start_button.installEventFilter(spy)
window.show()
assert "pyqtgraph" not in sys.modules, "showing the window imported pyqtgraph"
deadline = time.monotonic() + float(sys.argv[1])
while type(window.tabs.widget(0)).__name__ != "LivePlots" and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.005)
assert first_paint == {"pyqtgraph": False}, first_paint
assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
    "Training", "Layers", "Runs", "Evaluation", "Predict"]
assert window.tabs.currentIndex() == 0 and window.tabs.currentWidget() is window.plots
assert window.tabs.widget(2) is window.runs_panel
assert window.tabs.widget(3) is window.evaluation_view
from core.events import BatchEnd
window.plots.add_steps([BatchEnd(step=1, epoch=1, total_steps=10, loss=2.0, metric=0.5, lr=0.1,
                                  elapsed_s=0.1, samples_per_s=100.0)])
window.plots.refresh()
assert window.plots.train_point_count == 1
window.tabs.setCurrentWidget(window.runs_panel)
window.runs_panel.reload()
window.close()
print("ok")
"""


def test_window_is_painted_before_the_plot_views_are_built(tmp_path):
    result = subprocess.run([sys.executable, "-c", PAINTED_BEFORE_PLOTS, str(HANG_S)],
                            capture_output=True, text=True, timeout=HANG_S * 2,
                            env={**os.environ, "TRAINDESK_HOME": str(tmp_path)})
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


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

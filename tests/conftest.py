"""Shared test setup: Qt off screen, a private TRAINDESK_HOME per test, and a check that
no test ends with a QThread still running (after napari's dangling-thread fixture)."""

import os

import pytest
from limits import HANG_MS

# Before Qt loads: tests never open windows on the desktop.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

STARTED_THREADS = pytest.StashKey[list]()


@pytest.fixture(autouse=True)
def private_traindesk_home(tmp_path, monkeypatch):
    """Runs and settings go to a temporary folder, never the user's own."""
    home = tmp_path / "traindesk-home"
    monkeypatch.setenv("TRAINDESK_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def track_started_threads(request, monkeypatch):
    """Record every QThread a Qt test starts; tests without qtbot never load Qt."""
    if "qtbot" not in request.fixturenames:
        return
    from PySide6.QtCore import QThread

    started = request.node.stash[STARTED_THREADS] = []
    original_start = QThread.start

    def start_and_record(thread, *args):
        started.append(thread)
        original_start(thread, *args)

    monkeypatch.setattr(QThread, "start", start_and_record)


THREAD_EXIT_GRACE_MS = 2000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a test whose body ends with a QThread running. Checked here, before pytest-qt
    closes the test's windows, because closing the main window stops and joins its run
    and would hide the thread the test forgot."""
    result = yield
    started = item.stash.get(STARTED_THREADS, [])
    if started:
        import shiboken6

        # A thread that has sent its result may still be returning from run(): give it a
        # moment (a forgotten training run takes far longer and is still caught).
        running = [t for t in started
                   if shiboken6.isValid(t) and t.isRunning() and not t.wait(THREAD_EXIT_GRACE_MS)]
        if running:
            pytest.fail(f"the test ended with {len(running)} QThread(s) still running: "
                        f"{running}; wait for them (qtbot.waitSignal) before it ends")
    return result


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window on (off) screen with runs going to tmp_path/runs, torch loaded."""
    from gui.main_window import MainWindow

    win = MainWindow(runs_dir=tmp_path / "runs")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.device_probe.isFinished(), timeout=HANG_MS)
    return win


@pytest.fixture
def predict_tab(qtbot, tmp_path):
    """Opens the Predict tab (runs in tmp_path/runs) on screen with the run in a folder
    loaded, and returns it."""
    from gui.predict_view import PredictView

    def opened(run_dir):
        view = PredictView(tmp_path / "runs")
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        assert view.picker.set_run(run_dir)
        qtbot.waitUntil(lambda: view.shown_run == run_dir, timeout=HANG_MS)
        return view
    return opened


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    """A tiny random Llama with a word tokenizer and a chat template (tests/hf_models.py)."""
    from hf_models import save_tiny_llama

    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def animals(tmp_path_factory):
    """The instruction-tuning CSV of what animals say (tests/hf_models.py)."""
    from hf_models import write_animals

    return write_animals(tmp_path_factory.mktemp("data") / "animals.csv")

"""The background runner: results of a superseded job are dropped, a job waits for its
owner's running one, a deleted owner gets nothing, failures arrive as one readable line,
and shutdown waits for every running job from one place."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject

from core.errors import BadInput
from gui.background import BackgroundRunner
from limits import HANG_MS


@pytest.fixture
def runner(qtbot):
    runner = BackgroundRunner()
    yield runner
    runner.wait_all()


def test_a_superseded_jobs_result_is_dropped(runner, qtbot):
    owner = QObject()
    release = threading.Event()
    results = []
    runner.submit(owner, lambda: release.wait(10) and "old", results.append)
    runner.submit(owner, lambda: "overtaken", results.append)  # waits, then is replaced
    runner.submit(owner, lambda: "new", results.append)
    assert runner.is_busy(owner)
    release.set()
    qtbot.waitUntil(lambda: not runner.is_busy(owner), timeout=HANG_MS)
    assert results == ["new"]


def test_jobs_of_other_owners_or_names_are_not_superseded(runner, qtbot):
    first, second = QObject(), QObject()
    results = []
    runner.submit(first, lambda: 1, results.append)
    runner.submit(second, lambda: 2, results.append)
    runner.submit(first, lambda: 3, results.append, name="other")
    qtbot.waitUntil(lambda: len(results) == 3, timeout=HANG_MS)
    assert sorted(results) == [1, 2, 3]


def test_a_failure_arrives_as_one_line_and_its_details(runner, qtbot):
    owner = QObject()
    failures = []

    def broken():
        raise RuntimeError("shapes do not match\nmore lines nobody reads")

    runner.submit(owner, broken, lambda _: None, lambda *args: failures.append(args))
    runner.submit(QObject(), lambda: (_ for _ in ()).throw(BadInput("fix this")),
                  lambda _: None, lambda *args: failures.append(args))
    qtbot.waitUntil(lambda: len(failures) == 2, timeout=HANG_MS)
    by_message = dict(failures)
    assert "Traceback" in by_message["RuntimeError: shapes do not match"]
    assert by_message["fix this"] == ""


def test_a_deleted_owner_gets_no_result(runner, qtbot):
    owner = QObject()
    release = threading.Event()
    results = []
    job = runner.submit(owner, lambda: release.wait(10), results.append)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner))
    release.set()
    qtbot.waitUntil(lambda: not runner.is_busy(owner), timeout=HANG_MS)  # outcome handled
    assert results == [] and job.isFinished()


def test_shutdown_waits_for_every_running_job(runner, qtbot):
    release = threading.Event()
    done = []

    def slow(n):
        release.wait(10)
        done.append(n)
        return n

    owners = [QObject() for _ in range(3)]
    jobs = [runner.submit(owner, lambda n=n: slow(n), lambda _: None)
            for n, owner in enumerate(owners)]
    qtbot.waitUntil(lambda: all(job.isRunning() for job in jobs), timeout=HANG_MS)
    threading.Timer(0.2, release.set).start()
    runner.wait_all()
    assert sorted(done) == [0, 1, 2]
    assert not any(job.isRunning() for job in jobs)


def test_shutdown_drops_the_jobs_still_waiting(runner, qtbot):
    owner = QObject()
    release = threading.Event()
    started = []
    runner.submit(owner, lambda: release.wait(10), lambda _: None)
    waiting = runner.submit(owner, lambda: started.append(1), lambda _: None)
    release.set()
    runner.wait_all()
    qtbot.wait(100)  # the running job's result is handled: nothing starts after shutdown
    assert started == [] and not waiting.isRunning() and not waiting.isFinished()


def _alive(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)

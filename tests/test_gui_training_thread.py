"""TrainingThread's relay: steps reach the GUI in few, ordered bursts; nothing is lost."""

import time
from pathlib import Path

from core.config import RunConfig
from core.events import BatchEnd, EpochEnd, RunFinished
from gui.training_thread import MAX_BATCH_SIGNALS_PER_S, TrainingThread


def step(n: int) -> BatchEnd:
    return BatchEnd(n, 1, 5000, 1.0 / n, 0.5, 0.001, n * 1e-4, 1000.0)


def test_steps_are_sent_at_most_30_times_a_second_and_none_is_lost(qtbot):
    thread = TrainingThread(RunConfig.from_dict({}), Path("unused"))
    bursts, epochs, summaries = [], [], []
    thread.batches_ended.connect(bursts.append)
    thread.epoch_ended.connect(epochs.append)
    thread.run_finished.connect(summaries.append)

    started = time.monotonic()
    for n in range(1, 5001):
        thread.relay(step(n))
    elapsed = time.monotonic() - started
    assert len(bursts) <= 1 + MAX_BATCH_SIGNALS_PER_S * elapsed + 1

    thread.relay(EpochEnd(1, 1, 5000, 0.5, 0.8, 0.4, 0.85, 0.001, 1.0, 1000.0, True))
    assert [s.step for burst in bursts for s in burst] == list(range(1, 5001))
    assert len(epochs) == 1

    thread.relay(step(5001))
    thread.relay(RunFinished("completed", {"status": "completed"}))
    assert bursts[-1][-1].step == 5001  # the last steps come before the end of the run
    assert summaries == [{"status": "completed"}]

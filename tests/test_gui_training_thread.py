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


def test_a_resumed_runs_history_is_its_recorded_curves(tmp_path):
    import math

    from core.events import RunStarted
    from core.runs.curves import read_curves
    from gui.training_thread import history_events

    (tmp_path / "metrics.csv").write_text(
        "step,epoch,split,loss,accuracy,lr,elapsed_s\n"
        "1,1,train,2.3,0.1,0.001,0.1\n"
        "2,1,train,2.1,0.2,0.001,0.2\n"
        "2,1,train_epoch,2.25,0.125,0.001,0.2\n"
        "2,1,val,2.0,0.3,0.001,0.3\n"
        "3,2,train,1.9,0.4,0.001,0.4\n", encoding="utf-8")
    started = RunStarted(str(tmp_path), "cpu", 5, 2, 4, 1, 10, 10, resumed_from_step=3)
    batches, epochs = history_events(read_curves(tmp_path), started, "val_loss")
    assert [(b.step, b.epoch, b.loss, b.elapsed_s, b.total_steps) for b in batches] == [
        (1, 1, 2.3, 0.1, 10), (2, 1, 2.1, 0.2, 10), (3, 2, 1.9, 0.4, 10)]
    assert all(math.isnan(b.samples_per_s) for b in batches)  # not recorded, not made up
    [epoch] = epochs
    assert (epoch.epoch, epoch.epochs, epoch.step, epoch.train_loss, epoch.train_metric,
            epoch.val_loss, epoch.val_metric, epoch.is_best) == (1, 5, 2, 2.25, 0.125, 2.0,
                                                                 0.3, True)

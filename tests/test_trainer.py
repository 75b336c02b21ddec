"""The training loop: accuracy on the example, the event stream, determinism, control
(stop, pause, resume), failures, fine-tuning with frozen layers, and exact resumption."""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path

import pytest
import torch

import core.train.readback
from core.config import RunConfig, load_config
from core.control import RunControl
from core.errors import BadInput, TrainingFailed
from core.events import (BatchEnd, CheckpointSaved, EpochEnd, RunFailed, RunFinished,
                         RunStarted)
from core.models.networks import MLP
from core.train.loop import train
from limits import HANG_S
from run_control import StopAfter, mlp_config, non_finite_from, run_dirs

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "digits_cnn.toml"
SIMPLE_CNN_CONV_PARAMS = 32 * 1 * 9 + 32 + 64 * 32 * 9 + 64
SIMPLE_CNN_FC_PARAMS = 3136 * 512 + 512 + 512 * 10 + 10


def metric_rows(run_dir: Path, columns=("step", "epoch", "split", "loss", "accuracy", "lr")):
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        return [tuple(row[c] for c in columns) for row in csv.DictReader(f)]


def last_state(run_dir: Path, kind: str = "last") -> dict:
    return torch.load(run_dir / "checkpoints" / f"{kind}.pt", weights_only=True)


# ---------------------------------------------------------------- the example run


@pytest.fixture(scope="module")
def example_run(tmp_path_factory):
    """`traindesk train examples/digits_cnn.toml`, in process: the article's CNN, 15 epochs."""
    runs_dir = tmp_path_factory.mktemp("runs")
    events: list = []
    summary = train(load_config(EXAMPLE), runs_dir=runs_dir, listeners=[events.append])
    return summary, events, runs_dir


def test_example_run_reaches_the_articles_accuracy(example_run):
    summary, _, _ = example_run
    assert summary["status"] == "completed"
    assert summary["epochs_completed"] == 15
    assert summary["device"] == "cpu"
    assert summary["best_val_accuracy"] >= 0.98


def test_example_run_loss_falls(example_run):
    _, events, _ = example_run
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert epochs[-1].train_loss < epochs[0].train_loss / 5
    assert epochs[-1].val_loss < epochs[0].val_loss


def test_event_stream_order(example_run):
    summary, events, runs_dir = example_run
    started = events[0]
    assert isinstance(started, RunStarted)
    assert sum(isinstance(e, RunStarted) for e in events) == 1
    assert started.run_dir == summary["run_dir"]
    assert started.epochs == 15
    assert started.train_samples + started.val_samples == 1797
    assert started.steps_per_epoch == -(-started.train_samples // 64)
    assert started.class_names == [str(d) for d in range(10)]
    assert started.trainable_params == started.total_params == summary["total_params"]

    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "completed"
    assert finished.summary == summary
    assert not any(isinstance(e, RunFailed) for e in events)

    total_steps = 15 * started.steps_per_epoch
    steps = [e.step for e in events if isinstance(e, BatchEnd)]
    assert steps == list(range(1, total_steps + 1))
    epoch_ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epoch_ends] == list(range(1, 16))

    # every epoch: its BatchEnds, then its EpochEnd, then its checkpoints, before the next epoch
    epoch = 1
    seen_last = set()
    for event in events[1:-1]:
        if isinstance(event, BatchEnd):
            assert event.epoch == epoch and event.total_steps == total_steps
            assert (event.step - 1) // started.steps_per_epoch + 1 == event.epoch
        elif isinstance(event, EpochEnd):
            assert event.epoch == epoch
            assert event.step == epoch * started.steps_per_epoch
            epoch += 1
        elif isinstance(event, CheckpointSaved):  # last.pt: the epoch just ended; best.pt:
            # that epoch, or an earlier best one held in memory since (checkpoint_every_s)
            assert (event.epoch == epoch - 1 if event.kind == "last"
                    else 1 <= event.epoch <= epoch - 1)
            assert Path(event.path).parent == Path(summary["run_dir"]) / "checkpoints"
            if event.kind == "last":
                seen_last.add(event.epoch)
        else:
            pytest.fail(f"unexpected event in the middle: {event}")
    # checkpoints at most every checkpoint_every_s (10 s), and always after the last epoch
    assert 15 in seen_last and seen_last <= set(range(1, 16))

    # a "best" checkpoint is only ever an epoch flagged best, and the last one is the best
    best_epochs = [e.epoch for e in epoch_ends if e.is_best]
    saved_best = [e.epoch for e in events if isinstance(e, CheckpointSaved) and e.kind == "best"]
    assert saved_best and set(saved_best) <= set(best_epochs)
    assert best_epochs[0] == 1 and best_epochs[-1] == saved_best[-1] == summary["best_epoch"]


# ---------------------------------------------------------------- determinism


def test_a_window_job_beside_a_run_leaves_its_numbers_alone(tmp_path):
    """The window's background jobs build models (weight initialisation draws from torch's
    one global generator) and seed it (the memory estimate, the preview): one running the
    whole time beside a run must change none of the run's numbers (core/rng.py)."""
    from core.models.summary import summarize_model
    from core.train.memory_estimate import estimate_memory

    config = mlp_config("model.dropout=0.2")
    alone = train(config, runs_dir=tmp_path / "alone")
    started, done, jobs = threading.Event(), threading.Event(), []

    def window_jobs():  # as the Layers tab and the memory line would, over and over
        while not done.is_set():
            summarize_model(config.with_overrides(["training.seed=7"]))
            estimate_memory(config.with_overrides(["training.seed=8"]))
            jobs.append(1)
            started.set()
            time.sleep(0.001)

    beside = threading.Thread(target=window_jobs)
    beside.start()
    try:
        assert started.wait(HANG_S)
        with_jobs = train(config, runs_dir=tmp_path / "beside")
    finally:
        done.set()
        beside.join(HANG_S)
    assert metric_rows(Path(with_jobs["run_dir"])) == metric_rows(Path(alone["run_dir"]))
    first, second = (last_state(Path(s["run_dir"]))["model"] for s in (alone, with_jobs))
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_same_seed_gives_identical_metrics(tmp_path):
    config = mlp_config("model.dropout=0.2")  # dropout draws random numbers too
    summaries = [train(config, runs_dir=tmp_path / name) for name in ("a", "b")]
    other = train(config.with_overrides(["training.seed=1"]), runs_dir=tmp_path / "c")
    rows = [metric_rows(Path(s["run_dir"])) for s in (*summaries, other)]
    # ceil(1438 / 128) steps per epoch, plus a training and a val row per epoch
    assert len(rows[0]) == 2 * 12 + 2 * 2
    assert rows[0] == rows[1]
    assert rows[0] != rows[2]
    assert summaries[0]["best_val_loss"] == summaries[1]["best_val_loss"]
    first, second = (last_state(Path(s["run_dir"]))["model"] for s in summaries)
    assert all(torch.equal(first[k], second[k]) for k in first)


# ---------------------------------------------------------------- control


def test_stop_from_a_listener_mid_epoch(tmp_path, monkeypatch):
    monkeypatch.setattr(core.train.readback, "LOG_INTERVAL_S", 0.0)  # every step is reported at once
    control = RunControl()
    events: list = []

    def listener(event):
        events.append(event)
        if isinstance(event, BatchEnd) and event.step == 30:
            control.stop()

    summary = train(mlp_config("training.epochs=5", "training.batch_size=64"),
                    runs_dir=tmp_path, listeners=[listener], control=control)
    assert summary["status"] == "stopped"
    assert summary["steps_completed"] == 30  # 23 steps per epoch: stopped inside epoch 2
    assert summary["epochs_completed"] == 1
    assert max(e.step for e in events if isinstance(e, BatchEnd)) == 30
    assert isinstance(events[-1], RunFinished) and events[-1].status == "stopped"
    assert [e.kind for e in events if isinstance(e, CheckpointSaved)][-1] == "last"

    state = last_state(Path(summary["run_dir"]))
    assert state["progress"]["step"] == 30
    assert state["progress"]["epoch"] == 2 and state["progress"]["batch"] == 7


def test_stop_keeps_every_finished_step_in_metrics(tmp_path):
    """Steps waiting for the throttled read-back are written out when the run stops."""
    summary = train(mlp_config("training.batch_size=16"), runs_dir=tmp_path,
                    control=StopAfter(37))
    assert summary["status"] == "stopped" and summary["steps_completed"] == 37
    rows = metric_rows(Path(summary["run_dir"]))
    assert [int(r[0]) for r in rows if r[2] == "train"] == list(range(1, 38))


def test_keyboard_interrupt_ends_interrupted_with_a_checkpoint(tmp_path):
    def listener(event):
        if isinstance(event, EpochEnd) and event.epoch == 1:
            raise KeyboardInterrupt

    summary = train(mlp_config("training.epochs=3"), runs_dir=tmp_path, listeners=[listener])
    assert summary["status"] == "interrupted"
    assert (Path(summary["run_dir"]) / "checkpoints" / "last.pt").is_file()


def test_interrupt_flag_ends_interrupted_between_batches(tmp_path, monkeypatch):
    """What Ctrl-C does on the command line: the loop ends at the next batch boundary."""
    monkeypatch.setattr(core.train.readback, "LOG_INTERVAL_S", 0.0)
    control = RunControl()

    def listener(event):
        if isinstance(event, BatchEnd) and event.step == 10:
            control.interrupt()

    events: list = []
    summary = train(mlp_config("training.batch_size=64"), runs_dir=tmp_path,
                    listeners=[listener, events.append], control=control)
    assert control.interrupted
    assert summary["status"] == "interrupted" and summary["steps_completed"] == 10
    assert isinstance(events[-1], RunFinished) and events[-1].status == "interrupted"
    progress = last_state(Path(summary["run_dir"]))["progress"]
    assert (progress["epoch"], progress["batch"], progress["step"]) == (1, 10, 10)
    assert progress["epoch_samples"] == 10 * 64


class CountingControl(RunControl):
    """Counts the steps let through, and signals when `signal_at` have passed."""

    def __init__(self, signal_at: int) -> None:
        super().__init__()
        self.passed, self.signal_at = 0, signal_at
        self.reached = threading.Event()

    def checkpoint(self, before_pause=None) -> None:
        super().checkpoint(before_pause)
        self.passed += 1
        if self.passed >= self.signal_at:
            self.reached.set()


def test_pause_and_resume_from_another_thread(tmp_path):
    config = mlp_config("training.batch_size=16", "training.epochs=3")
    total = 3 * 90
    control = CountingControl(signal_at=5)
    result: dict = {}

    def worker():
        try:
            result["summary"] = train(config, runs_dir=tmp_path, control=control)
        except BaseException as exc:  # reported below
            result["error"] = exc

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    assert control.reached.wait(30), result
    control.pause()
    assert control.paused
    time.sleep(0.3)  # the step under way finishes, then the loop waits
    held = control.passed
    time.sleep(0.5)
    assert control.passed == held, "steps went on while paused"
    assert thread.is_alive() and held < total
    control.resume()
    thread.join(60)
    assert not thread.is_alive()
    assert "error" not in result, result
    assert result["summary"]["status"] == "completed"
    assert result["summary"]["steps_completed"] == total == control.passed


def test_stop_wakes_a_paused_run(tmp_path):
    control = CountingControl(signal_at=3)
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(summary=train(
        mlp_config("training.batch_size=16", "training.epochs=3"), runs_dir=tmp_path,
        control=control)), daemon=True)
    thread.start()
    assert control.reached.wait(30)
    control.pause()
    time.sleep(0.2)
    control.stop()
    thread.join(30)
    assert result["summary"]["status"] == "stopped"


# ---------------------------------------------------------------- failures


def test_non_finite_loss_fails_naming_the_step(tmp_path, monkeypatch):
    non_finite_from(monkeypatch, 5)
    events: list = []
    with pytest.raises(TrainingFailed) as info:
        train(mlp_config("optimizer.lr=0.05"), runs_dir=tmp_path, listeners=[events.append])
    message = str(info.value)
    assert "step 5 " in message and "epoch 1" in message
    assert "lower [optimizer] lr" in message.lower() and "0.05" in message

    assert [e.step for e in events if isinstance(e, BatchEnd)] == [1, 2, 3, 4]
    assert isinstance(events[-1], RunFailed) and events[-1].error == message
    assert not any(isinstance(e, RunFinished) for e in events)
    (run_dir,) = run_dirs(tmp_path)
    import json
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == message
    assert events[-1].summary == summary


def test_a_real_divergence_is_caught(tmp_path):
    """sgd with lr=10 blows the mlp up within the first epoch (seed 0)."""
    config = mlp_config("model.hidden_sizes=[256, 128]", "training.batch_size=64",
                        "optimizer.name=sgd", "optimizer.lr=10.0")
    with pytest.raises(TrainingFailed, match=r"the loss became (nan|inf|-inf) at step \d+ "
                                             r"\(epoch 1\).*Lower \[optimizer\] lr \(now 10.0\)"):
        train(config, runs_dir=tmp_path)


def test_an_exception_in_the_model_is_reported(tmp_path, monkeypatch):
    original = MLP.forward
    calls = {"n": 0}

    def forward(self, x):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (boom)\nsecond line")
        return original(self, x)

    monkeypatch.setattr(MLP, "forward", forward)
    events: list = []
    with pytest.raises(TrainingFailed) as info:
        train(mlp_config(), runs_dir=tmp_path, listeners=[events.append])
    message = str(info.value)
    assert message == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (boom)"
    failed = events[-1]
    assert isinstance(failed, RunFailed)
    assert failed.error == message
    assert "Traceback" in failed.details and "second line" in failed.details
    assert failed.summary["status"] == "failed" and failed.summary["error"] == message


@pytest.mark.parametrize("overrides, match", [
    (["training.batch_size=5000"], r"\[training\] batch_size = 5000 .* 1438 training samples"),
    (["finetune.freeze=['layers']"], r"\[finetune\] freeze covers every layer"),
    (["finetune.freeze=['conv1']"], r"\[finetune\] freeze: no layer named 'conv1'"),
    (["finetune.init_from='/nonexistent/weights.pt'"], r"weights\.pt does not exist"),
])
def test_bad_input_is_raised_before_any_run_folder_exists(tmp_path, overrides, match):
    runs_dir = tmp_path / "runs"
    with pytest.raises(BadInput, match=match):
        train(mlp_config(*overrides), runs_dir=runs_dir)
    assert run_dirs(runs_dir) == []


# ---------------------------------------------------------------- schedules


def test_per_epoch_schedule_changes_lr_between_epochs(tmp_path):
    summary = train(mlp_config("training.epochs=3", "optimizer.lr=0.01", "scheduler.name=step",
                               "scheduler.step_epochs=1", "scheduler.gamma=0.5"),
                    runs_dir=tmp_path)
    rows = metric_rows(Path(summary["run_dir"]))
    train_lrs: dict[int, set[float]] = {}
    for _step, epoch, split, _loss, _accuracy, lr in rows:
        if split == "train":
            train_lrs.setdefault(int(epoch), set()).add(float(lr))
    assert train_lrs == {1: {0.01}, 2: {0.005}, 3: {0.0025}}


# ---------------------------------------------------------------- fine-tuning


def test_frozen_layers_stay_bit_for_bit_unchanged(tmp_path):
    from core.models.networks import SimpleCNN

    torch.manual_seed(7)
    start = SimpleCNN(1, 28, 28, 10).state_dict()
    weights = tmp_path / "start.pt"
    torch.save(start, weights)
    config = RunConfig().with_overrides([
        "training.epochs=1", "training.batch_size=256", "training.device=cpu",
        f"finetune.init_from={str(weights)!r}", "finetune.freeze=['conv1', 'conv2']",
        "optimizer.weight_decay=0.1"])
    summary = train(config, runs_dir=tmp_path / "runs")
    assert summary["trainable_params"] == SIMPLE_CNN_FC_PARAMS
    assert summary["total_params"] == SIMPLE_CNN_FC_PARAMS + SIMPLE_CNN_CONV_PARAMS
    end = last_state(Path(summary["run_dir"]))["model"]
    for name in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
        assert torch.equal(end[name], start[name]), name
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        assert not torch.equal(end[name], start[name]), name


# ---------------------------------------------------------------- resume


def as_written_before_the_metric_rename(checkpoint: Path) -> None:
    """Give a checkpoint's progress the keys earlier versions wrote (the task's metric was
    stored as best_val_accuracy and final_val_accuracy, also for R2)."""
    state = torch.load(checkpoint, weights_only=True)
    progress = state["progress"]
    progress["best_val_accuracy"] = progress.pop("best_val_metric")
    progress["final_val_accuracy"] = progress.pop("final_val_metric")
    torch.save(state, checkpoint)


@pytest.mark.parametrize("written_before_the_rename", [False, True])
def test_resumed_run_ends_exactly_like_an_uninterrupted_one(tmp_path,
                                                            written_before_the_rename):
    # dropout (random draws), adam (optimizer state) and a per-step cosine schedule
    # (scheduler state) all have to be restored for the two runs to agree; a checkpoint of
    # an earlier version (old progress keys) resumes the same.
    config = mlp_config("training.epochs=3", "training.batch_size=64", "model.dropout=0.3",
                        "scheduler.name=cosine", "scheduler.min_lr=0.0001")
    whole_events: list = []
    whole = train(config, runs_dir=tmp_path / "whole", listeners=[whole_events.append])

    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(30))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 30
    run_dir = Path(stopped["run_dir"])
    if written_before_the_rename:
        as_written_before_the_metric_rename(run_dir / "checkpoints" / "last.pt")
    torch.manual_seed(12345)  # the resumed run must not depend on the global random state
    resumed_events: list = []
    resumed = train(None, resume_dir=run_dir, listeners=[resumed_events.append])

    assert resumed["status"] == "completed"
    assert resumed["run_dir"] == str(run_dir)
    assert run_dirs(tmp_path / "parts") == [run_dir]  # continued in place, no new folder
    for key in ("epochs_completed", "steps_completed", "best_epoch", "best_val_loss",
                "best_val_accuracy", "final_val_loss", "final_val_accuracy"):
        assert resumed[key] == whole[key], key

    assert metric_rows(run_dir) == metric_rows(Path(whole["run_dir"]))

    a, b = last_state(Path(whole["run_dir"])), last_state(run_dir)
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    for index, state in a["optimizer"]["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(
                b["optimizer"]["state"][index][key])), (index, key)

    def epoch_values(events, first):
        return [(e.epoch, e.step, e.train_loss, e.train_metric, e.val_loss, e.val_metric,
                 e.lr, e.is_best) for e in events if isinstance(e, EpochEnd) and e.epoch >= first]

    # the epoch that was cut in two reports the whole epoch's training loss
    assert epoch_values(resumed_events, 2) == epoch_values(whole_events, 2)
    assert [e.step for e in resumed_events if isinstance(e, BatchEnd)] == list(range(31, 70))


def test_resume_needs_a_run_folder_with_a_checkpoint(tmp_path):
    with pytest.raises(BadInput, match="not a run folder"):
        train(None, resume_dir=tmp_path)
    summary = train(mlp_config("training.epochs=1"), runs_dir=tmp_path / "runs")
    run_dir = Path(summary["run_dir"])
    (run_dir / "checkpoints" / "last.pt").unlink()
    with pytest.raises(BadInput, match="last.pt is missing"):
        train(None, resume_dir=run_dir)


def test_resuming_a_completed_run_trains_nothing_more(tmp_path):
    summary = train(mlp_config("training.epochs=1"), runs_dir=tmp_path)
    events: list = []
    again = train(None, resume_dir=Path(summary["run_dir"]), listeners=[events.append])
    assert again["status"] == "completed"
    assert again["steps_completed"] == summary["steps_completed"]
    assert not any(isinstance(e, BatchEnd) for e in events)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without a CUDA GPU")
def test_asking_for_cuda_without_a_gpu_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match=r"\[training\] device = 'cuda:0': no CUDA GPU"):
        train(mlp_config("training.device=cuda:0"), runs_dir=tmp_path / "runs")
    assert run_dirs(tmp_path / "runs") == []


def test_auto_device_trains_somewhere(tmp_path):
    summary = train(mlp_config("training.device=auto", "training.epochs=1"), runs_dir=tmp_path)
    assert summary["status"] == "completed"
    mps = getattr(torch.backends, "mps", None)
    expected = ("cuda" if torch.cuda.is_available()
                else "mps" if mps is not None and mps.is_available() else "cpu")
    assert summary["device"].startswith(expected)


# ---------------------------------------------------------------- listeners


def test_a_listener_that_raises_is_reported_and_removed_and_the_run_goes_on(tmp_path, capsys):
    from core.events import ListenerFailed

    calls = {"n": 0}

    def broken(event):
        calls["n"] += 1
        if isinstance(event, BatchEnd):
            raise ValueError("a bug in the listener\nsecond line")

    events: list = []
    summary = train(mlp_config(), runs_dir=tmp_path, listeners=[broken, events.append])
    assert summary["status"] == "completed"
    failures = [e for e in events if isinstance(e, ListenerFailed)]
    assert len(failures) == 1 and failures[0].error == "ValueError: a bug in the listener"
    assert calls["n"] == 2  # RunStarted, then the BatchEnd it failed on; nothing after
    assert "removed after it raised ValueError: a bug in the listener" in capsys.readouterr().err
    assert isinstance(events[-1], RunFinished)

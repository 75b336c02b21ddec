"""Faults a run survives, in core: best checkpoint by a chosen metric, early stopping that
keeps the best weights, mixed precision refused off CUDA (and its code path on the CPU),
out of memory, errors in the model or data, a non-finite loss, a full or read-only disk,
a process killed mid-run (resumable; its extra metrics rows dropped), and pausing."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

import core.train.precision
import core.train.readback
import core.train.validation
from core.control import RunControl
from core.data.memory import InMemoryData
from core.errors import BadInput, TrainingFailed
from core.events import BatchEnd, CheckpointSaved, EpochEnd, RunFailed
from core.models.networks import MLP
from core.runs.curves import read_curves
from core.runs.folder import METRIC_COLUMNS, RunFolder, effective_status, is_locked
from core.train.loop import train
from run_control import StopAfter, mlp_config, non_finite_from, read_metrics, run_dirs


def checkpoint(run_dir: Path, kind: str = "last") -> dict:
    return torch.load(run_dir / "checkpoints" / f"{kind}.pt", weights_only=True)


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def scripted_evaluation(monkeypatch, losses: list[float], metrics: list[float]) -> None:
    """Validation gives these scores epoch by epoch. The same weights always score the same,
    so re-evaluating restored weights gives their epoch's scores back."""
    scores = iter(zip(losses, metrics))
    seen: dict[float, tuple] = {}

    def validate(run, *args, **kwargs):
        key = float(sum(p.detach().double().sum() for p in run.model.parameters()))
        if key not in seen:
            loss, metric = next(scores)
            seen[key] = (loss, metric, None, {})
        return seen[key]

    monkeypatch.setattr(core.train.validation, "validate", validate)


# ---------------------------------------------------------------- best checkpoint, early stop

LOSSES = [1.0, 0.8, 0.85, 0.9, 0.95, 0.7]
ACCURACIES = [0.5, 0.6, 0.7, 0.65, 0.6, 0.8]


@pytest.mark.parametrize("every", [0, 10])
@pytest.mark.parametrize("best_metric, best_epoch", [("val_loss", 2), ("val_metric", 3)])
def test_best_checkpoint_follows_the_chosen_metric(tmp_path, monkeypatch, best_metric,
                                                   best_epoch, every):
    scripted_evaluation(monkeypatch, LOSSES[:5], ACCURACIES[:5])
    events: list = []
    summary = train(mlp_config("training.epochs=5", f"training.best_metric={best_metric!r}",
                               f"training.checkpoint_every_s={every}"),
                    runs_dir=tmp_path, listeners=[events.append])
    assert summary["best_metric"] == best_metric
    assert summary["best_epoch"] == best_epoch
    assert summary["best_val_loss"] == 0.8 and summary["best_val_metric"] == 0.7
    assert checkpoint(Path(summary["run_dir"]), "best")["progress"]["epoch"] == best_epoch + 1
    flagged = [e.epoch for e in events if isinstance(e, EpochEnd) and e.is_best]
    assert flagged[-1] == best_epoch
    saved = [(e.epoch, e.kind) for e in events if isinstance(e, CheckpointSaved)]
    if every == 0:  # every epoch: each best epoch is written as it happens
        assert [epoch for epoch, kind in saved if kind == "best"] == flagged
    else:  # the run takes under 10 s: the best epoch is held in memory and written at the end
        assert saved == [(best_epoch, "best"), (5, "last")]
    assert not summary["stopped_early"]


@pytest.mark.parametrize("every", [0, 10])  # best weights restored from best.pt, or memory
@pytest.mark.parametrize("best_metric, stop_after, best_epoch", [
    ("val_loss", 4, 2), ("val_metric", 5, 3)])
def test_early_stopping_ends_the_run_and_keeps_the_best_weights(tmp_path, monkeypatch,
                                                                best_metric, stop_after,
                                                                best_epoch, every):
    scripted_evaluation(monkeypatch, LOSSES, ACCURACIES)
    events: list = []
    summary = train(mlp_config("training.epochs=6", f"training.best_metric={best_metric!r}",
                               "training.early_stopping_patience=2",
                               f"training.checkpoint_every_s={every}"),
                    runs_dir=tmp_path, listeners=[events.append])
    run_dir = Path(summary["run_dir"])
    assert summary["status"] == "completed" and summary["stopped_early"] is True
    assert summary["epochs_completed"] == stop_after
    assert summary["best_epoch"] == best_epoch
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == list(range(1, stop_after + 1))
    # last.pt holds the best epoch's weights, and the final scores are theirs
    last, best = checkpoint(run_dir), checkpoint(run_dir, "best")
    assert all(torch.equal(last["model"][k], best["model"][k]) for k in best["model"])
    assert last["progress"]["stopped_early"] is True
    assert summary["final_val_loss"] == LOSSES[best_epoch - 1]
    assert summary["final_val_metric"] == ACCURACIES[best_epoch - 1]
    assert summary_of(run_dir) == summary

    # a finished run: resuming it trains nothing more
    again_events: list = []
    again = train(None, resume_dir=run_dir, listeners=[again_events.append])
    assert again["status"] == "completed" and again["epochs_completed"] == stop_after
    assert not any(isinstance(e, (BatchEnd, EpochEnd)) for e in again_events)


def test_checkpoints_are_written_at_most_every_checkpoint_every_s(tmp_path):
    saved: list[tuple[int, str]] = []
    on_disk_at_epoch_end: dict[int, int] = {}

    class SlowSecondEpoch(RunControl):
        """Epoch 2 takes more than checkpoint_every_s (2 s): one of its steps waits 2.1 s."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def checkpoint(self, before_pause=None) -> None:
            self.calls += 1
            if self.calls == 12 + 5:  # 12 steps an epoch
                time.sleep(2.1)
            super().checkpoint(before_pause)

    def watch(event) -> None:
        if isinstance(event, EpochEnd):
            summary_file = next(tmp_path.glob("*/summary.json"))
            on_disk_at_epoch_end[event.epoch] = json.loads(summary_file.read_text())[
                "epochs_completed"]
        elif isinstance(event, CheckpointSaved):
            saved.append((event.epoch, event.kind))

    summary = train(mlp_config("training.epochs=4", "training.checkpoint_every_s=2"),
                    runs_dir=tmp_path, listeners=[watch], control=SlowSecondEpoch())
    best = summary["best_epoch"]
    last_saves = [epoch for epoch, kind in saved if kind == "last"]
    assert last_saves == [2, 4]
    assert [epoch for epoch, kind in saved if kind == "best"][-1] == best
    # summary.json describes the run as far as last.pt holds it (read as each epoch's end
    # is reported, which is before that epoch's checkpoint)
    assert on_disk_at_epoch_end == {1: 0, 2: 0, 3: 2, 4: 2}
    assert summary_of(Path(summary["run_dir"]))["epochs_completed"] == 4
    assert checkpoint(Path(summary["run_dir"]), "best")["progress"]["best_epoch"] == best


def test_a_stopped_run_writes_the_best_epoch_it_held_in_memory(tmp_path, monkeypatch):
    scripted_evaluation(monkeypatch, LOSSES, ACCURACIES)  # epoch 2 is the best
    saved: list = []
    steps_per_epoch = 12  # ceil(1438 / 128)
    summary = train(mlp_config("training.epochs=5"), runs_dir=tmp_path,
                    control=StopAfter(3 * steps_per_epoch + 4),
                    listeners=[lambda e: saved.append(e) if isinstance(e, CheckpointSaved)
                               else None])
    assert summary["status"] == "stopped" and summary["best_epoch"] == 2
    assert [(e.epoch, e.kind) for e in saved] == [(2, "best"), (4, "last")]
    run_dir = Path(summary["run_dir"])
    assert checkpoint(run_dir, "best")["progress"]["epoch"] == 3  # written after epoch 2
    assert checkpoint(run_dir)["progress"]["step"] == 3 * steps_per_epoch + 4


def test_improvements_smaller_than_min_delta_do_not_count(tmp_path, monkeypatch):
    scripted_evaluation(monkeypatch, [1.0, 0.99, 0.98, 0.97, 0.5], [0.5] * 5)
    summary = train(mlp_config("training.epochs=5", "training.early_stopping_patience=2",
                               "training.early_stopping_min_delta=0.05"), runs_dir=tmp_path)
    assert summary["stopped_early"] and summary["epochs_completed"] == 3
    assert summary["best_epoch"] == 3  # best.pt still follows every improvement


def test_early_stopping_never_cuts_the_last_epoch_short(tmp_path, monkeypatch):
    scripted_evaluation(monkeypatch, [1.0, 1.1, 1.2], [0.5] * 3)
    summary = train(mlp_config("training.epochs=3", "training.early_stopping_patience=2"),
                    runs_dir=tmp_path)
    assert summary["epochs_completed"] == 3 and not summary["stopped_early"]


def test_early_stopping_state_survives_a_resume(tmp_path, monkeypatch):
    """The epochs without improvement are in the checkpoint: a run stopped and resumed stops
    early at the same epoch as one left alone."""
    scripted_evaluation(monkeypatch, [1.0, 0.8, 0.85, 0.9, 0.95], [0.5] * 5)
    config = mlp_config("training.epochs=5", "training.early_stopping_patience=2")
    stopped = train(config, runs_dir=tmp_path, control=StopAfter(30))
    assert stopped["epochs_completed"] == 2
    resumed = train(None, resume_dir=Path(stopped["run_dir"]))
    assert resumed["stopped_early"] and resumed["epochs_completed"] == 4


# ---------------------------------------------------------------- mixed precision


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_without_a_cuda_gpu_is_bad_input(tmp_path, precision):
    with pytest.raises(BadInput, match=rf"\[training\] precision = '{precision}' needs a CUDA "
                                       r"GPU, and this run trains on cpu; use precision = "
                                       r'"fp32"'):
        train(mlp_config(f"training.precision={precision!r}"), runs_dir=tmp_path / "runs")
    assert run_dirs(tmp_path / "runs") == []


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_code_path_trains_and_resumes(tmp_path, monkeypatch, precision):
    """The CUDA path's logic, run on the CPU's own autocast (bf16, fp16 with a GradScaler):
    it trains, clips, saves the scaler's state and resumes exactly."""
    monkeypatch.setattr(core.train.precision, "MIXED_PRECISION_DEVICES", ("cuda", "cpu"))
    config = mlp_config(f"training.precision={precision!r}", "training.grad_clip=1.0")
    whole = train(config, runs_dir=tmp_path / "whole")
    assert whole["status"] == "completed" and whole["precision"] == precision
    assert whole["final_val_accuracy"] > 0.5
    scaler = checkpoint(Path(whole["run_dir"]))["scaler"]
    assert bool(scaler) == (precision == "fp16")
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(7))
    resumed = train(None, resume_dir=Path(stopped["run_dir"]))
    a, b = checkpoint(Path(whole["run_dir"])), checkpoint(Path(resumed["run_dir"]))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert a["scaler"] == b["scaler"]


# ---------------------------------------------------------------- out of memory, exceptions


def _fail_forward_at(monkeypatch, call: int, error: BaseException) -> None:
    original = MLP.forward
    calls = {"n": 0}

    def forward(self, x):
        calls["n"] += 1
        if calls["n"] == call:
            raise error
        return original(self, x)

    monkeypatch.setattr(MLP, "forward", forward)


@pytest.mark.parametrize("error", [
    torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate "
                 "memory: you tried to allocate 8589934592 bytes"),
    MemoryError(),
], ids=["cuda", "host allocator", "python"])
def test_out_of_memory_suggests_a_smaller_batch_and_the_next_run_works(tmp_path, monkeypatch,
                                                                       error):
    _fail_forward_at(monkeypatch, 3, error)
    events: list = []
    with pytest.raises(TrainingFailed) as info:
        train(mlp_config(), runs_dir=tmp_path, listeners=[events.append])
    assert str(info.value) == ("out of memory with batch_size 128; lower [training] batch_size "
                               "or pick a smaller model")
    assert isinstance(events[-1], RunFailed) and "Traceback" in events[-1].details
    (run_dir,) = run_dirs(tmp_path)
    assert summary_of(run_dir)["status"] == "failed"
    monkeypatch.undo()
    assert train(mlp_config("training.epochs=1"), runs_dir=tmp_path)["status"] == "completed"


def test_an_exception_in_the_data_during_training_is_reported(tmp_path, monkeypatch):
    original = InMemoryData.prepare
    calls = {"n": 0}

    def prepare(self, x, training):
        calls["n"] += 1
        if calls["n"] == 4:
            raise ValueError("cannot decode sample 17")
        return original(self, x, training)

    monkeypatch.setattr(InMemoryData, "prepare", prepare)
    events: list = []
    with pytest.raises(TrainingFailed, match="^ValueError: cannot decode sample 17$"):
        train(mlp_config(), runs_dir=tmp_path, listeners=[events.append])
    assert "prepare" in events[-1].details


def test_an_exception_while_building_the_model_fails_before_a_run_folder(tmp_path,
                                                                         monkeypatch):
    def broken_init(self, *args, **kwargs):
        raise AttributeError("'MLP' object has no attribute 'head'")

    monkeypatch.setattr(MLP, "__init__", broken_init)
    with pytest.raises(TrainingFailed) as info:
        train(mlp_config(), runs_dir=tmp_path / "runs")
    assert str(info.value) == "AttributeError: 'MLP' object has no attribute 'head'"
    assert "broken_init" in info.value.details
    assert run_dirs(tmp_path / "runs") == []


def test_a_non_finite_loss_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    non_finite_from(monkeypatch, 15, float("inf"))  # epoch 2, step 15
    with pytest.raises(TrainingFailed, match=r"at step 15 \(epoch 2\)"):
        train(mlp_config("training.epochs=3", "training.checkpoint_every_s=0"),
              runs_dir=tmp_path)
    (run_dir,) = run_dirs(tmp_path)
    last = checkpoint(run_dir)
    assert last["progress"]["step"] == 12 and last["progress"]["epoch"] == 2
    assert all(torch.isfinite(t).all() for t in last["model"].values())
    assert summary_of(run_dir)["status"] == "failed"


def test_a_failed_run_writes_the_best_epoch_it_held_in_memory(tmp_path, monkeypatch):
    non_finite_from(monkeypatch, 15, float("inf"))  # epoch 2, step 15
    with pytest.raises(TrainingFailed, match=r"at step 15 \(epoch 2\)"):
        train(mlp_config("training.epochs=3"), runs_dir=tmp_path)  # checkpoints every 10 s
    (run_dir,) = run_dirs(tmp_path)
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.pt"]
    best = checkpoint(run_dir, "best")
    assert best["progress"]["epoch"] == 2 and best["progress"]["step"] == 12
    assert all(torch.isfinite(t).all() for t in best["model"].values())


# ---------------------------------------------------------------- the disk


def _replace_fails_on(monkeypatch, name: str, nth: int, code: int) -> None:
    """os.replace raises OSError(code) the nth time a file called `name` is put in place,
    as a full disk or a read-only folder would make the save fail."""
    real_replace = os.replace
    count = {"n": 0}

    def replace(src, dst, *args, **kwargs):
        if Path(dst).name == name:
            count["n"] += 1
            if count["n"] == nth:
                raise OSError(code, os.strerror(code), str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("code, problem, remedy", [
    (errno.ENOSPC, "the disk is full", "free disk space"),
    (errno.EACCES, "Permission denied", "make the run folder writable"),
])
def test_a_failed_checkpoint_save_keeps_the_previous_one_and_says_why(tmp_path, monkeypatch,
                                                                      code, problem, remedy):
    _replace_fails_on(monkeypatch, "last.pt", 2, code)
    events: list = []
    with pytest.raises(TrainingFailed) as info:
        train(mlp_config("training.epochs=3", "training.checkpoint_every_s=0"),
              runs_dir=tmp_path, listeners=[events.append])
    (run_dir,) = run_dirs(tmp_path)
    last_pt = run_dir / "checkpoints" / "last.pt"
    assert str(info.value) == (f"could not save the last checkpoint to {last_pt} ({problem}); "
                               f"the previous checkpoint is intact; {remedy}")
    monkeypatch.undo()
    assert checkpoint(run_dir)["progress"]["epoch"] == 2  # epoch 1's, whole and loadable
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    summary = summary_of(run_dir)
    assert summary["status"] == "failed" and summary["error"] == str(info.value)
    assert isinstance(events[-1], RunFailed)
    # and the run continues from epoch 1's checkpoint once there is room again
    resumed = train(None, resume_dir=run_dir)
    assert resumed["status"] == "completed" and resumed["epochs_completed"] == 3


def test_a_full_disk_while_logging_metrics_is_reported(tmp_path, monkeypatch):
    original = RunFolder.record
    calls = {"n": 0}

    def record(self, event):
        if isinstance(event, BatchEnd):
            calls["n"] += 1
            if calls["n"] == 5:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC),
                              str(self.path / "metrics.csv"))
        original(self, event)

    monkeypatch.setattr(RunFolder, "record", record)
    with pytest.raises(TrainingFailed, match=r"could not write .*metrics\.csv \(the disk is "
                                             r"full\); the last checkpoint is intact; free "
                                             r"disk space, then resume the run"):
        train(mlp_config(), runs_dir=tmp_path)


# ---------------------------------------------------------------- a killed process


def _killed_run(tmp_path: Path) -> tuple[Path, dict]:
    """A run folder as SIGKILL leaves it: stopped after step 17 (checkpoint at step 12, the
    end of epoch 1), metrics logged up to step 17 and half a row, summary "running"."""
    summary = train(mlp_config("training.epochs=3"), runs_dir=tmp_path, control=StopAfter(17))
    run_dir = Path(summary["run_dir"])
    state = checkpoint(run_dir)
    good = train(mlp_config("training.epochs=3"), runs_dir=tmp_path / "ref",
                 control=StopAfter(12))
    (run_dir / "checkpoints" / "last.pt").write_bytes(
        (Path(good["run_dir"]) / "checkpoints" / "last.pt").read_bytes())
    assert state["progress"]["step"] == 17
    with open(run_dir / "metrics.csv", "a", encoding="utf-8") as f:
        f.write("18,2,train,0.5")  # cut off mid-row
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    written = {**summary_of(run_dir), "status": "running", "pid": dead.pid}
    (run_dir / "summary.json").write_text(json.dumps(written), encoding="utf-8")
    return run_dir, written


def test_a_killed_runs_folder_reads_as_interrupted_and_resumes_cleanly(tmp_path):
    run_dir, written = _killed_run(tmp_path)
    assert not is_locked(run_dir)  # the OS released the dead process's lock
    assert effective_status(written, run_dir) == "interrupted"
    rows = read_metrics(run_dir)  # the half row is skipped, not an error
    assert [int(r["step"]) for r in rows if r["split"] == "train"] == list(range(1, 18))

    events: list = []
    resumed = train(None, resume_dir=run_dir, listeners=[events.append])
    assert resumed["status"] == "completed" and resumed["steps_completed"] == 36
    assert events[0].resumed_from_step == 12
    rows = read_metrics(run_dir)
    assert [int(r["step"]) for r in rows if r["split"] == "train"] == list(range(1, 37))
    assert [int(r["epoch"]) for r in rows if r["split"] == "val"] == [1, 2, 3]
    whole = train(mlp_config("training.epochs=3"), runs_dir=tmp_path / "whole")
    a, b = checkpoint(Path(whole["run_dir"])), checkpoint(run_dir)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_continue_metrics_keeps_rows_up_to_the_checkpoint(tmp_path):
    folder = RunFolder(tmp_path)
    header = ",".join(METRIC_COLUMNS)
    (tmp_path / "metrics.csv").write_text(
        f"{header}\n1,1,train,2.3,0.1,0.01,0.1\n2,1,train,2.2,0.2,0.01,0.2\n"
        "2,1,val,2.1,0.3,0.01,0.3\n3,2,train,2.0,0.4,0.01,0.4\n4,2,tra", encoding="utf-8")
    folder.continue_metrics(2)
    folder.close()
    assert [(r["step"], r["split"]) for r in read_metrics(tmp_path)] == [
        (1.0, "train"), (2.0, "train"), (2.0, "val")]
    folder.continue_metrics(2)  # nothing beyond: the file is left as it is
    folder.close()
    assert len(read_metrics(tmp_path)) == 3


def test_a_run_still_training_in_another_process_is_not_resumed(tmp_path):
    summary = train(mlp_config("training.epochs=1"), runs_dir=tmp_path)
    run_dir = Path(summary["run_dir"])
    written = {**summary, "status": "running"}
    (run_dir / "summary.json").write_text(json.dumps(written), encoding="utf-8")
    holder = subprocess.Popen(  # holds the run's lock, as a process training it does
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from core.runs.folder import RunLock; RunLock.take(Path(sys.argv[1])); "
         "print('locked', flush=True); time.sleep(60)", str(run_dir)],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert is_locked(run_dir) and effective_status(written, run_dir) == "running"
        with pytest.raises(BadInput, match=rf"still being trained by process {holder.pid}; "
                                           "stop that run first"):
            train(None, resume_dir=run_dir)
        assert json.loads((run_dir / "summary.json").read_text()) == written  # untouched
    finally:
        holder.kill()
        holder.wait()
    assert effective_status(written, run_dir) == "interrupted"
    assert train(None, resume_dir=run_dir)["status"] == "completed"


def test_the_curves_of_a_resumed_run_redraw_its_earlier_points(tmp_path):
    events: list = []
    whole = train(mlp_config("training.epochs=3"), runs_dir=tmp_path,
                  listeners=[events.append])
    curves = read_curves(Path(whole["run_dir"])).up_to_step(30)
    assert curves.step.tolist() == list(range(1, 31))
    live = [e for e in events if isinstance(e, BatchEnd)][:30]
    assert curves.loss.tolist() == pytest.approx([b.loss for b in live], rel=1e-5)
    assert curves.lr.tolist() == pytest.approx([b.lr for b in live], rel=1e-5)
    live_epochs = [e for e in events if isinstance(e, EpochEnd)][:2]
    assert curves.val_epoch.tolist() == [1, 2]
    assert curves.best_epochs("val_loss").tolist() == [e.is_best for e in live_epochs]
    recorded = zip(curves.epoch_train_loss, curves.epoch_train_metric, curves.val_loss,
                   curves.val_metric)
    for mine, theirs in zip(recorded, live_epochs):  # the trainer's own figures
        assert mine == pytest.approx((theirs.train_loss, theirs.train_metric, theirs.val_loss,
                                      theirs.val_metric), rel=1e-5)


# ---------------------------------------------------------------- pause


class PauseAt(RunControl):
    """Pauses itself after `steps` steps have been let through, as a Pause click would."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps, self.passed = steps, 0
        self.waiting = threading.Event()

    def checkpoint(self, before_pause=None) -> None:
        if self.passed == self.steps:
            self.pause()

        def report_then_wait():
            before_pause()
            self.waiting.set()

        super().checkpoint(report_then_wait if before_pause else None)
        self.passed += 1


def test_a_paused_run_reports_every_step_taken_before_it_waits(tmp_path, monkeypatch):
    monkeypatch.setattr(core.train.readback, "LOG_INTERVAL_S", 3600.0)  # only flushes report
    control = PauseAt(7)
    events: list = []
    thread = threading.Thread(target=lambda: train(mlp_config(), runs_dir=tmp_path,
                                                   listeners=[events.append], control=control),
                              daemon=True)
    thread.start()
    assert control.waiting.wait(60)
    time.sleep(0.2)
    assert [e.step for e in events if isinstance(e, BatchEnd)] == list(range(1, 8))
    assert control.passed == 7 and thread.is_alive()
    control.resume()
    thread.join(60)
    assert not thread.is_alive()
    assert [e.step for e in events if isinstance(e, BatchEnd)] == list(range(1, 25))

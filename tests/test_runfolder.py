"""Run folders: name, config.toml, metrics.csv, summary.json, checkpoints, atomic writes."""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import pytest
import torch

from core.config import RunConfig, load_config
from core.errors import BadInput
from core.files import write_atomic, write_json_atomic, write_text_atomic
from core.events import EpochEnd
from core.runs.folder import LOCK_FILE, METRIC_COLUMNS, RunFolder, default_runs_dir
from core.train.loop import train
from run_control import read_metrics

SUMMARY_KEYS = {"status", "epochs_completed", "best_epoch", "best_val_loss",
                "best_val_accuracy", "final_val_loss", "duration_s", "samples_per_s", "device",
                "trainable_params", "total_params"}
PLAIN = (str, int, float, bool, type(None), torch.Tensor)


def _config(*overrides: str) -> RunConfig:
    return RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[16]", "training.epochs=3",
        "training.batch_size=100", "training.device=cpu", *overrides])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("runs")
    config = _config()
    summary = train(config, runs_dir=runs_dir, listeners=[EVENTS.append])
    return config, summary, Path(summary["run_dir"]), runs_dir


EVENTS: list = []  # the finished run's events


def test_folder_is_named_timestamp_model_data(finished_run):
    _, _, run_dir, runs_dir = finished_run
    assert run_dir.parent == runs_dir
    assert re.fullmatch(r"\d{8}-\d{6}-mlp-digits", run_dir.name)
    assert sorted(p.name for p in run_dir.iterdir()) == [
        ".run.lock", "checkpoints", "config.toml", "metrics.csv", "preprocessing.json",
        "summary.json", "tensorboard"]
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["best.pt", "last.pt"]


def test_two_runs_in_the_same_second_get_distinct_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(time, "strftime", lambda fmt, *args: "20260101-120000")
    config = _config()
    folders = [RunFolder.create(tmp_path, config) for _ in range(3)]
    for folder in folders:
        folder.close()
    assert [f.path.name for f in folders] == [
        "20260101-120000-mlp-digits", "20260101-120000-mlp-digits-2",
        "20260101-120000-mlp-digits-3"]


def test_config_toml_reproduces_the_run_config(finished_run):
    config, _, run_dir, _ = finished_run
    text = (run_dir / "config.toml").read_text(encoding="utf-8")
    assert text == config.to_toml()
    assert load_config(run_dir / "config.toml") == config


def test_metrics_csv_has_a_row_per_step_and_a_training_and_val_row_per_epoch(finished_run):
    _, summary, run_dir, _ = finished_run
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert tuple(header) == METRIC_COLUMNS == (
        "step", "epoch", "split", "loss", "accuracy", "lr", "elapsed_s", "macro_f1",
        "balanced_accuracy", "top_k_accuracy")
    steps_per_epoch = -(-1438 // 100)
    train_rows = [r for r in rows if r[2] == "train"]
    epoch_rows = [r for r in rows if r[2] == "train_epoch"]
    val_rows = [r for r in rows if r[2] == "val"]
    assert [int(r[0]) for r in train_rows] == list(range(1, 3 * steps_per_epoch + 1))
    assert [(int(r[0]), int(r[1])) for r in val_rows] == [
        (e * steps_per_epoch, e) for e in (1, 2, 3)]
    assert [r[:2] for r in epoch_rows] == [r[:2] for r in val_rows]
    assert rows.index(epoch_rows[0]) + 1 == rows.index(val_rows[0])  # each just before its val
    # the epoch's training loss and metric as the trainer computed them, not rebuilt
    ends = [e for e in EVENTS if isinstance(e, EpochEnd)]
    assert [(float(r[3]), float(r[4])) for r in epoch_rows] == [
        pytest.approx((e.train_loss, e.train_metric), rel=1e-5) for e in ends]
    assert len(rows) == len(train_rows) + len(epoch_rows) + len(val_rows)
    parsed = read_metrics(run_dir)
    assert len(parsed) == len(rows)
    for row in parsed:
        assert 0.0 <= row["accuracy"] <= 1.0 and row["loss"] > 0 and row["lr"] == 0.001
    elapsed = [row["elapsed_s"] for row in parsed]
    assert elapsed == sorted(elapsed) and elapsed[-1] <= summary["duration_s"] + 1e-3
    # the last val row is the run's final validation result
    assert parsed[-1]["split"] == "val"
    assert parsed[-1]["loss"] == pytest.approx(summary["final_val_loss"], rel=1e-5)


def test_summary_json_holds_the_contract_keys(finished_run):
    _, summary, run_dir, _ = finished_run
    on_disk = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert on_disk == summary
    assert SUMMARY_KEYS <= set(on_disk)
    assert on_disk["status"] == "completed"
    assert on_disk["epochs_completed"] == 3
    assert on_disk["best_epoch"] in (1, 2, 3)
    assert on_disk["device"] == "cpu"
    assert on_disk["trainable_params"] == on_disk["total_params"] == 784 * 16 + 16 + 16 * 10 + 10
    assert 0 < on_disk["best_val_accuracy"] <= 1
    assert on_disk["best_val_loss"] <= on_disk["final_val_loss"]
    assert on_disk["duration_s"] > 0 and on_disk["samples_per_s"] > 0
    assert "error" not in on_disk


def _assert_plain(value, where="checkpoint"):
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, (str, int)), f"{where}: key {key!r}"
            _assert_plain(item, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _assert_plain(item, f"{where}[{i}]")
    else:
        assert isinstance(value, PLAIN), f"{where} is a {type(value).__name__}"


@pytest.mark.parametrize("kind", ["last", "best"])
def test_checkpoints_load_with_weights_only_and_hold_plain_types(finished_run, kind):
    _, summary, run_dir, _ = finished_run
    state = torch.load(run_dir / "checkpoints" / f"{kind}.pt", weights_only=True)
    _assert_plain(state)
    # last.pt: what a resume needs; best.pt: the best weights and where they were (a third
    # of the size with Adam, whose two moments per weight only a resume reads)
    assert set(state) == ({"model", "optimizer", "scheduler", "scaler", "torch_rng",
                           "progress", "class_names", "format"} if kind == "last"
                          else {"model", "progress", "class_names", "format"})
    assert set(state["model"]) == {"layers.1.weight", "layers.1.bias", "layers.3.weight",
                                   "layers.3.bias"}
    assert state["class_names"] == [str(d) for d in range(10)]
    progress = state["progress"]
    if kind == "last":
        assert progress["epoch"] == 4 and progress["batch"] == 0
        assert progress["step"] == summary["steps_completed"]
    else:
        assert progress["epoch"] == summary["best_epoch"] + 1


def test_no_temporary_files_are_left_behind(finished_run):
    _, _, run_dir, _ = finished_run
    leftovers = [p for p in run_dir.rglob("*")
                 if (p.name.startswith(".") or p.suffix == ".tmp") and p.name != LOCK_FILE]
    assert leftovers == []


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomic(path, {"status": "running"})
    old = path.read_bytes()

    def broken(f):
        f.write('{"status": "comp')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomic(path, broken)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_atomic_write_of_a_checkpoint_survives_an_interrupted_save(tmp_path):
    path = tmp_path / "checkpoints" / "last.pt"
    write_atomic(path, lambda f: torch.save({"w": torch.ones(2)}, f), binary=True)

    def interrupted(f):
        torch.save({"w": torch.zeros(2)}, f)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, interrupted, binary=True)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.ones(2))
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]


def test_atomic_text_write_replaces_the_file_readably(tmp_path):
    path = tmp_path / "deep" / "config.toml"
    write_text_atomic(path, "a = 1\n")
    write_text_atomic(path, "a = 2\n")
    assert path.read_text() == "a = 2\n"
    assert path.stat().st_mode & 0o777 == 0o644


def test_runs_dir_comes_from_traindesk_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINDESK_HOME", str(tmp_path / "home"))
    assert default_runs_dir() == tmp_path / "home" / "runs"
    monkeypatch.delenv("TRAINDESK_HOME")
    assert default_runs_dir().name == "runs"
    assert "TrainDesk" in str(default_runs_dir())


def test_unwritable_runs_dir_is_bad_input(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BadInput, match="cannot create a run folder"):
        RunFolder.create(blocker / "runs", _config())


def test_metrics_rows_are_on_disk_while_the_run_goes(tmp_path):
    """Each row is flushed as it is logged, so a crash keeps everything logged so far."""
    seen: list[int] = []

    def listener(event):
        from core.events import EpochEnd

        if isinstance(event, EpochEnd):
            run_dir = next(p for p in tmp_path.iterdir() if p.is_dir())
            rows = (run_dir / "metrics.csv").read_text().splitlines()
            seen.append(len(rows))
            summary = json.loads((run_dir / "summary.json").read_text())
            assert summary["status"] == "running"

    train(_config("training.epochs=2"), runs_dir=tmp_path, listeners=[listener])
    steps_per_epoch = -(-1438 // 100)
    # at epoch 1's end: header + its steps + its training and val rows (the run folder
    # records first)
    assert seen == [1 + steps_per_epoch + 2, 1 + 2 * (steps_per_epoch + 2)]

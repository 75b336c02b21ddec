"""The run history in core: listing run folders, damaged ones included, names and notes,
deleting only run folders, the command line that repeats a run, settings side by side."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from core.config import RunConfig
from core.errors import BadInput
from core.runs.history import (NOTES_FILE, UNREADABLE, command_line, delete_run, list_runs, read_run,
                       set_notes, settings_rows)
from core.train.loop import train


def _config(*overrides: str) -> RunConfig:
    return RunConfig().with_overrides(["model.name=mlp", "model.hidden_sizes=[16]",
                                       "training.epochs=2", "training.batch_size=128",
                                       "training.device=cpu", *overrides])


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    train(_config(), runs_dir=runs)
    return runs


def _fake_run(runs_dir: Path, name: str, summary: dict | str | None,
              config: str | None = "") -> Path:
    path = runs_dir / name
    path.mkdir()
    if config is not None:
        (path / "config.toml").write_text(config or _config().to_toml(), encoding="utf-8")
    if summary is not None:
        text = summary if isinstance(summary, str) else json.dumps(summary)
        (path / "summary.json").write_text(text, encoding="utf-8")
    return path


def test_a_finished_run_is_listed_with_its_numbers(runs_dir):
    [record] = list_runs(runs_dir)
    summary = json.loads((record.path / "summary.json").read_text(encoding="utf-8"))
    assert record.display_name == record.folder == record.path.name
    assert (record.model, record.data, record.status) == ("mlp", "digits", "completed")
    assert record.metric == "accuracy"
    assert record.best_val_metric == summary["best_val_accuracy"]
    assert record.best_val_loss == summary["best_val_loss"]
    assert record.epochs_completed == record.epochs == 2
    assert record.duration_s == summary["duration_s"]
    assert record.started is not None and record.started.year >= 2026
    assert record.checkpoint("best").is_file()


def test_damaged_folders_are_listed_as_unreadable_with_the_reason(tmp_path):
    _fake_run(tmp_path, "20260101-100000-mlp-digits", "{not json")
    _fake_run(tmp_path, "20260101-110000-mlp-digits", {"status": "completed"}, config=None)
    _fake_run(tmp_path, "20260101-120000-mlp-digits", None)
    _fake_run(tmp_path, "20260101-130000-mlp-digits", {"status": "completed"},
              config="[model\nname=")
    _fake_run(tmp_path, "20260101-140000-mlp-digits", ["a", "list"])
    (tmp_path / "not-a-run").mkdir()  # none of a run's files: not listed
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "stray.txt").write_text("x")
    records = list_runs(tmp_path)
    assert [r.folder for r in records] == [
        "20260101-140000-mlp-digits", "20260101-130000-mlp-digits",
        "20260101-120000-mlp-digits", "20260101-110000-mlp-digits",
        "20260101-100000-mlp-digits"]
    assert all(r.status == UNREADABLE and not r.readable for r in records)
    reasons = {r.folder[9:15]: r.error for r in records}
    assert reasons["100000"].startswith("summary.json cannot be read")
    assert reasons["110000"] == "config.toml cannot be read (missing)"
    assert reasons["120000"] == "summary.json cannot be read (missing)"
    assert reasons["130000"].startswith("config.toml cannot be read")
    assert reasons["140000"] == "summary.json cannot be read (not a JSON object)"
    assert records[3].model == ""  # no config; nothing guessed


def test_a_missing_runs_folder_is_an_empty_history(tmp_path):
    assert list_runs(tmp_path / "nowhere") == []


def test_a_running_run_whose_process_is_gone_reads_as_interrupted(tmp_path):
    path = _fake_run(tmp_path, "20260101-100000-mlp-digits",
                     {"status": "running", "pid": 2**22 + 12345, "host": "elsewhere"})
    assert read_run(path).status == "interrupted"


def test_a_display_name_and_a_note_are_kept_in_notes_json(tmp_path):
    path = _fake_run(tmp_path, "20260101-100000-mlp-digits", {"status": "completed"})
    set_notes(path, name="  baseline  ")
    set_notes(path, note="lr 0.01 was too high")
    record = read_run(path)
    assert (record.display_name, record.note) == ("baseline", "lr 0.01 was too high")
    assert json.loads((path / NOTES_FILE).read_text(encoding="utf-8")) == {
        "name": "baseline", "note": "lr 0.01 was too high"}
    set_notes(path, name="")
    assert read_run(path).display_name == path.name
    assert not list((path).glob(".*tmp"))
    (path / NOTES_FILE).write_text("garbage", encoding="utf-8")
    assert read_run(path).display_name == path.name  # a damaged notes file is ignored
    with pytest.raises(BadInput, match="does not exist"):
        set_notes(tmp_path / "gone", name="x")


def test_delete_removes_a_run_folder_and_nothing_else(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    path = _fake_run(runs, "20260101-100000-mlp-digits", {"status": "completed"})
    other = tmp_path / "precious"
    other.mkdir()
    (other / "config.toml").write_text("", encoding="utf-8")
    with pytest.raises(BadInput, match="not a run folder inside"):
        delete_run(other, runs)
    plain = runs / "photos"
    plain.mkdir()
    with pytest.raises(BadInput, match="none of a run's files"):
        delete_run(plain, runs)
    delete_run(path, runs)
    assert not path.exists() and other.exists() and plain.exists()


def test_the_command_line_repeats_the_run(tmp_path):
    path = tmp_path / "runs dir" / "20260101-100000-mlp-digits"
    line = command_line(path)
    assert line.startswith("traindesk train ")
    assert shlex.split(line)[2] == str(path / "config.toml")


def test_settings_side_by_side_mark_the_differences():
    a = _config().to_dict()
    b = _config("optimizer.lr=0.01", "model.hidden_sizes=[32, 16]").to_dict()
    rows = {key: (cells, differs) for key, cells, differs in settings_rows([a, b, None])}
    assert rows["optimizer.lr"] == (["0.001", "0.01", ""], True)
    assert rows["model.hidden_sizes"] == (["[16]", "[32, 16]", ""], True)
    assert rows["model.name"] == (["mlp", "mlp", ""], False)
    assert list(rows)[0] == "model.name"  # file order
    assert sum(differs for _, differs in rows.values()) == 2

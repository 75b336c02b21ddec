"""Reliability, second round (issue 20): a run folder is locked for its run's life, sizes
are checked before memory is taken, paths are stored absolute with the data file's
fingerprint, export never writes over a run, one damaged folder never empties the history,
hostile files and a full or vanished disk give one line and no half-written folder, and
SIGTERM/SIGHUP save the run as Ctrl-C does. docs/reliability.md lists each case."""

from __future__ import annotations

import errno
import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bad_inputs import MLP_RUN
from core.cli import one_line
from core.config import RunConfig, load_config
from core.errors import BadInput, TrainingFailed
from core.events import EpochEnd
from core.inference.export import export_model
from core.runs.folder import LOCK_FILE, is_locked
from core.runs.history import UNREADABLE, list_runs, read_run
from core.train.loop import train
from limits import HANG_S
from run_control import StopAfter, mlp_config, read_metrics, run_dirs
from test_cli import REPO, _env, assert_one_error_line, cli, read_summary, run_folders

POSIX = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and file names")


def _stopped_run(tmp_path: Path, steps: int = 5, *overrides: str) -> Path:
    summary = train(mlp_config(*overrides), runs_dir=tmp_path / "runs", control=StopAfter(steps))
    assert summary["status"] == "stopped"
    return Path(summary["run_dir"])


# ---------------------------------------------------------------- 1. the run folder's lock


@POSIX
def test_two_resumes_started_together_one_trains_the_other_exits_2_writing_nothing(tmp_path):
    run_dir = _stopped_run(tmp_path, 5, "training.epochs=3", "training.batch_size=16")
    procs = [subprocess.Popen([sys.executable, "-m", "core", "train", "--resume", str(run_dir)],
                              cwd=REPO, env=_env(tmp_path), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(*p.communicate(timeout=HANG_S), p.returncode)[::-1] for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    (_, refused, _), = [r for r in results if r[0] == 2]
    assert refused.strip().count("\n") == 0 and "Traceback" not in refused
    assert "is still being trained by" in refused and "stop that run first" in refused
    steps_per_epoch = 90  # ceil(1438 / 16)
    rows = read_metrics(run_dir)
    assert [int(r["step"]) for r in rows if r["split"] == "train"] == \
        list(range(1, 3 * steps_per_epoch + 1))  # each step once: no second writer
    assert [int(r["epoch"]) for r in rows if r["split"] == "val"] == [1, 2, 3]
    assert read_summary(run_dir)["status"] == "completed"


def test_a_run_this_process_trains_reads_as_running_and_is_not_resumed_again(tmp_path):
    seen = {}

    def look(event):
        if isinstance(event, EpochEnd) and not seen:
            run_dir = Path(event_dir["path"])
            seen["status"] = read_run(run_dir).status
            seen["listed"] = [r.status for r in list_runs(run_dir.parent)]
            with pytest.raises(BadInput, match="still being trained by process"):
                train(None, resume_dir=run_dir)
            seen["refused"] = True

    event_dir = {}

    def started(event):
        if hasattr(event, "run_dir") and not event_dir:
            event_dir["path"] = event.run_dir

    summary = train(mlp_config("training.epochs=2", "training.checkpoint_every_s=0"),
                    runs_dir=tmp_path, listeners=[started, look])
    assert seen == {"status": "running", "listed": ["running"], "refused": True}
    run_dir = Path(summary["run_dir"])
    assert not is_locked(run_dir) and read_run(run_dir).status == "completed"


def test_a_resume_removes_temporary_files_a_killed_write_left(tmp_path):
    run_dir = _stopped_run(tmp_path)
    orphans = [run_dir / ".summary.json.abc123.tmp", run_dir / "checkpoints" / ".last.pt.x.tmp"]
    for orphan in orphans:
        orphan.write_bytes(b"half a file")
    train(None, resume_dir=run_dir)
    assert not any(p.exists() for p in orphans)


def test_resuming_a_read_only_run_is_one_line_and_changes_nothing(tmp_path, monkeypatch):
    run_dir = _stopped_run(tmp_path)
    (run_dir / LOCK_FILE).unlink()
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    real_open = os.open

    def read_only(path, flags, *args):  # as a read-only folder answers (tests may run as root)
        if str(path).endswith(LOCK_FILE) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(BadInput, match=r"cannot use the run folder .*\(Permission denied\); "
                                       "make the run folder writable"):
        train(None, resume_dir=run_dir)
    monkeypatch.undo()
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before


# ---------------------------------------------------------------- 8. SIGTERM and SIGHUP


@POSIX
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_save_and_exit_130_as_ctrl_c_does(tmp_path, signum):
    run_file = tmp_path / "run.toml"
    run_file.write_text(MLP_RUN.replace("epochs = 1", "epochs = 50\ncheckpoint_every_s = 0"),
                        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "core", "train", str(run_file),
                             "--runs-dir", str(tmp_path / "runs")], cwd=REPO,
                            env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("epoch   1/"):
                proc.send_signal(signum)
                break
        out, err = proc.communicate(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    (run_dir,) = run_folders(tmp_path / "runs")
    summary = read_summary(run_dir)
    assert summary["status"] == "interrupted" and summary["epochs_completed"] >= 1
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert state["progress"]["step"] == summary["steps_completed"]  # saved where it stopped
    assert not is_locked(run_dir)


# ---------------------------------------------------------------- 2. sizes before memory


def _idx(path: Path, dtype_code: int, dims: tuple[int, ...], data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes([0, 0, dtype_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
                     + data)


def _mnist(root: Path, images=None, labels=None, label_code: int = 0x08) -> None:
    """An MNIST folder of 4 training and 2 test images: `images` / `labels` (bytes) replace
    the training files' contents."""
    raw = root / "MNIST" / "raw"
    for prefix, n in (("train", 4), ("t10k", 2)):
        _idx(raw / f"{prefix}-images-idx3-ubyte", 0x08, (n, 28, 28), bytes(n * 28 * 28))
        _idx(raw / f"{prefix}-labels-idx1-ubyte", 0x08, (n,), bytes(range(n)))
    if images is not None:
        (raw / "train-images-idx3-ubyte").write_bytes(images)
    if labels is not None:
        (raw / "train-labels-idx1-ubyte").write_bytes(labels)


def _header(code, dims):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


MNIST_DAMAGE = {
    "a label of 2**31-1": (None, _header(0x0C, (4,)) + struct.pack(">4i", 0, 1, 2, 2**31 - 1),
                           "holds the label 2147483647, where this dataset's classes are 0 to 9"),
    "labels of 255": (None, _header(0x08, (4,)) + bytes([0, 1, 255, 3]),
                      "holds the label 255, where this dataset's classes are 0 to 9"),
    "a label of -1": (None, _header(0x09, (4,)) + struct.pack(">4b", 0, 1, -1, 3),
                      "holds the label -1"),
    "a cut header": (_header(0x08, (4, 28, 28))[:9], None, "is cut short in its header"),
    "ndim 255": (bytes([0, 0, 8, 255]) + bytes(64), None, "array of 255 dimensions"),
    "zero images": (_header(0x08, (0, 28, 28)), _header(0x08, (0,)), "holds no images"),
    "3x5 images": (_header(0x08, (4, 3, 5)) + bytes(60), None,
                   "holds images of 3x5 pixels, where this dataset's are 28x28"),
}


@pytest.mark.parametrize("case", list(MNIST_DAMAGE))
def test_damaged_mnist_files_say_what_in_the_data_is_wrong(tmp_path, case):
    images, labels, message = MNIST_DAMAGE[case]
    _mnist(tmp_path / "data", images, labels)
    config = mlp_config("data.name=mnist", f"data.data_dir={json.dumps(str(tmp_path / 'data'))}",
                        "data.download=false", "training.batch_size=2")
    with pytest.raises(BadInput, match="delete it and fetch it again") as info:
        train(config, runs_dir=tmp_path / "runs")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "runs").exists()


def test_a_doctored_mnist_label_is_one_line_on_the_command_line(tmp_path):
    _mnist(tmp_path / "data", labels=MNIST_DAMAGE["a label of 2**31-1"][1])
    run_file = tmp_path / "run.toml"
    data_dir = json.dumps(str(tmp_path / "data"))
    run_file.write_text(MLP_RUN.replace("batch_size = 4", "batch_size = 2")
                        + f'\n[data]\nname = "mnist"\ndata_dir = {data_dir}\ndownload = false\n',
                        encoding="utf-8")
    result = cli(tmp_path, "train", str(run_file), "--runs-dir", str(tmp_path / "runs"))
    assert_one_error_line(result, "holds the label 2147483647", "classes are 0 to 9")
    assert not (tmp_path / "runs").exists()


def test_a_huge_hidden_sizes_list_is_refused_naming_it(tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text(MLP_RUN.replace("hidden_sizes = [8]",
                                        f"hidden_sizes = [{', '.join(['8'] * 2_000_000)}]"),
                        encoding="utf-8")
    with pytest.raises(BadInput) as info:
        load_config(run_file)
    assert str(info.value) == ("[model] hidden_sizes holds 2,000,000 entries; at most 64 are "
                               "accepted")


# ---------------------------------------------------------------- 3. absolute paths


def _table_csv(path: Path, rows: int = 60) -> None:
    lines = ["a,b,y"] + [f"{i % 7},{(i * 3) % 11},{'yes' if i % 2 else 'no'}"
                         for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_relative_paths_are_stored_absolute_and_a_changed_data_file_is_not_resumed(
        tmp_path, monkeypatch):
    project = tmp_path / "project"
    project.mkdir()
    _table_csv(project / "data.csv")
    run_file = project / "run.toml"
    run_file.write_text(MLP_RUN + '\n[data]\nname = "csv"\npath = "data.csv"\n\n'
                        '[finetune]\ninit_from = "../weights/start.pt"\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the window's working directory is not the run file's
    config = load_config(run_file)
    assert config.data.params["path"] == str(project / "data.csv")
    assert config.finetune.init_from == str(tmp_path / "weights" / "start.pt")
    assert load_config(run_file, ["data.path=other.csv"]).data.params["path"] == \
        str(elsewhere / "other.csv")  # --set: from the working directory

    config.finetune.init_from = ""
    run_dir = Path(train(config, runs_dir=tmp_path / "runs", control=StopAfter(3))["run_dir"])
    saved = load_config(run_dir / "config.toml")
    assert saved.data.params["path"] == str(project / "data.csv")
    recorded = json.loads((run_dir / "data_files.json").read_text(encoding="utf-8"))
    assert recorded["path"]["file"] == str(project / "data.csv")
    assert recorded["path"]["size"] == (project / "data.csv").stat().st_size

    monkeypatch.chdir(tmp_path)  # resumed from another directory: the same file
    with open(project / "data.csv", "a", encoding="utf-8") as f:
        f.write("1,2,yes\n")
    before = (run_dir / "metrics.csv").read_bytes()
    with pytest.raises(BadInput, match=r"\[data\] path .*data.csv has changed since the run "
                                       "started"):
        train(None, resume_dir=run_dir)
    assert (run_dir / "metrics.csv").read_bytes() == before
    _table_csv(project / "data.csv")  # the original back: the run resumes
    assert train(None, resume_dir=run_dir)["status"] == "completed"


# ---------------------------------------------------------------- 4. export over the run


@pytest.fixture(scope="module")
def finished_mlp(tmp_path_factory) -> Path:
    runs = tmp_path_factory.mktemp("round2_runs")
    return Path(train(mlp_config("training.epochs=1"), runs_dir=runs)["run_dir"])


@pytest.mark.parametrize("target", ["checkpoints/last.pt", "checkpoints/best.pt", "config.toml",
                                    "metrics.csv", "summary.json"])
def test_export_refuses_to_write_over_the_runs_own_files(finished_mlp, tmp_path, target):
    before = (finished_mlp / target).read_bytes()
    with pytest.raises(BadInput, match=rf"would overwrite the run's own file "
                                       rf"{Path(target).name}, and the run could no longer"):
        export_model(finished_mlp, "pt", out=finished_mlp / target)
    assert (finished_mlp / target).read_bytes() == before


def test_export_over_the_runs_checkpoint_is_one_line_on_the_command_line(finished_mlp, tmp_path):
    result = cli(tmp_path, "export", str(finished_mlp), "--format", "pt", "--out",
                 str(finished_mlp / "checkpoints" / "last.pt"))
    assert_one_error_line(result, "would overwrite the run's own file last.pt")
    assert train(None, resume_dir=finished_mlp)["status"] == "completed"  # still resumes


# ---------------------------------------------------------------- 5. the history survives


DAMAGED_CONFIGS = {
    "model as text": 'model = "mlp"\n',
    "model as an array of tables": '[[model]]\nname = "mlp"\n',
    "deep nesting": "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "not UTF-8": "name = '\xff'\n",
}
DAMAGED_SUMMARIES = {
    "pid 2**80": '{"status": "running", "pid": 1208925819614629174706176, "host": "h"}',
    "wrong types": '{"status": 5, "best_val_loss": "low", "epochs_completed": [1], '
                   '"error": {"a": 1}, "metric": 3}',
    "a huge number": '{"status": "completed", "best_val_loss": 1' + "0" * 400 + '}',
    "a list": "[1, 2]",
}


def test_one_damaged_folder_never_empties_the_history(finished_mlp, tmp_path):
    import shutil

    runs = tmp_path / "runs"
    good = Path(shutil.copytree(finished_mlp, runs / "20260101-000000-good"))
    damaged = {}
    for i, (name, text) in enumerate(DAMAGED_CONFIGS.items()):
        folder = Path(shutil.copytree(finished_mlp, runs / f"20250101-00000{i}-config"))
        (folder / "config.toml").write_bytes(text.encode("latin-1") if name == "not UTF-8"
                                             else text.encode())
        damaged[folder.name] = name
    for i, (name, text) in enumerate(DAMAGED_SUMMARIES.items()):
        folder = Path(shutil.copytree(finished_mlp, runs / f"20240101-00000{i}-summary"))
        (folder / "summary.json").write_text(text, encoding="utf-8")
        damaged[folder.name] = name
    metrics = Path(shutil.copytree(finished_mlp, runs / "20230101-000000-metrics"))
    (metrics / "metrics.csv").write_bytes(b"\xff\xfe garbage\x00,,,\n" * 10)
    records = {r.folder: r for r in list_runs(runs)}
    assert set(records) == {good.name, metrics.name, *damaged}
    assert records[good.name].status == "completed"
    assert records[metrics.name].status == "completed"  # metrics are read when drawn
    for folder in [f for f, name in damaged.items() if name in DAMAGED_CONFIGS]:
        assert records[folder].status == UNREADABLE and "config.toml" in records[folder].error
    assert records[next(f for f, n in damaged.items() if n == "a list")].status == UNREADABLE
    assert records[next(f for f, n in damaged.items() if n == "wrong types")].status == \
        UNREADABLE
    huge = records[next(f for f, n in damaged.items() if n == "a huge number")]
    assert huge.status == "completed" and huge.best_val_loss is None
    pid = records[next(f for f, n in damaged.items() if n == "pid 2**80")]
    assert pid.status == "interrupted"  # not locked: nobody trains it


def test_a_damaged_run_folder_is_refused_in_one_line_when_resumed(finished_mlp, tmp_path):
    import shutil

    cases = {"config.toml": 'model = "mlp"\n', "summary.json": '{"init_notes": 5}',
             "checkpoints/last.pt": "not a checkpoint\n" * 3}
    for name, text in cases.items():
        run_dir = Path(shutil.copytree(finished_mlp, tmp_path / name.replace("/", "_")))
        (run_dir / name).write_text(text, encoding="utf-8")
        if name == "summary.json":  # hostile values in the summary: ignored, the run resumes
            assert train(None, resume_dir=run_dir)["status"] == "completed"
            continue
        result = cli(tmp_path, "train", "--resume", str(run_dir))
        assert_one_error_line(result, name.split("/")[-1] if name != "config.toml" else "[model]")
    metrics_dir = Path(shutil.copytree(finished_mlp, tmp_path / "metrics_dir"))
    (metrics_dir / "metrics.csv").unlink()
    (metrics_dir / "metrics.csv").mkdir()
    with pytest.raises(BadInput, match="cannot read .*metrics.csv"):
        train(None, resume_dir=metrics_dir)


# ---------------------------------------------------------------- 6. names, disks, folders


@POSIX
def test_file_and_folder_names_that_are_not_utf8_give_no_traceback(tmp_path):
    from PIL import Image

    root = Path(os.fsdecode(bytes(tmp_path) + b"/images\xff"))
    for label, value in (("cats", 40), ("dogs", 200)):
        for i in range(6):
            (root / label).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8), (value + i, 0, 0)).save(root / label / f"{label}{i}.png")
    (root / "cats" / os.fsdecode(b"bad\xffname.png")).write_bytes(b"not a png")
    config = RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[8]", "training.epochs=1",
        "training.batch_size=4", "training.device=cpu", "data.name=image_folder",
        "data.image_size=8"])
    config.data.params["folder"] = str(root)
    with pytest.raises(BadInput, match="the path holds bytes that are not UTF-8"):
        RunConfig.from_dict(config.to_dict())
    tidy = tmp_path / "images"
    root.rename(tidy)
    config.data.params["folder"] = str(tidy)
    runs = Path(os.fsdecode(bytes(tmp_path) + b"/runs\xff"))
    summary = train(config, runs_dir=runs)
    assert summary["status"] == "completed"
    assert any("unreadable image" in note and "bad\ufffdname.png" in note
               for note in summary["data_notes"])
    (run_dir,) = run_dirs(runs)
    (record,) = list_runs(runs)
    assert record.status == "completed"
    assert read_summary(run_dir)["run_dir"] == str(run_dir)  # JSON keeps the bytes


def test_a_full_disk_at_start_leaves_no_folder(tmp_path, monkeypatch):
    import core.runs.folder as folder_module

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(folder_module, "save_config", full)
    with pytest.raises(BadInput, match=r"cannot write the run folder .* \(the disk is full\); "
                                       "free disk space"):
        train(mlp_config(), runs_dir=tmp_path / "runs")
    assert run_dirs(tmp_path / "runs") == []


def test_a_full_disk_at_resume_is_bad_input_and_changes_nothing(tmp_path, monkeypatch):
    run_dir = _stopped_run(tmp_path)
    with open(run_dir / "metrics.csv", "a", encoding="utf-8") as f:
        f.write("99,9,train,1")  # half a row: the resume rewrites metrics.csv first
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    import core.runs.folder as folder_module

    def full(path, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(folder_module, "write_atomic", full)
    with pytest.raises(BadInput, match=r"\(the disk is full\); free disk space"):
        train(None, resume_dir=run_dir)
    assert {p: p.read_bytes() for p in before} == before
    assert not is_locked(run_dir)


@POSIX
def test_a_real_full_disk_while_saving_a_checkpoint_says_the_disk_is_full(tmp_path, monkeypatch):
    """torch.save into /dev/full meets the kernel's ENOSPC, which torch reports as
    "[enforce fail at inline_container.cc] unexpected pos"."""
    import core.files as files

    run_dir = _stopped_run(tmp_path, 3)
    good = (run_dir / "checkpoints" / "last.pt").read_bytes()
    real_write = files.write_atomic

    def into_dev_full(path, write, binary=False, make_folder=True):
        if Path(path).suffix != ".pt":
            return real_write(path, write, binary, make_folder)
        with open("/dev/full", "wb") as f:
            write(f)
            f.flush()

    monkeypatch.setattr("core.runs.folder.write_atomic", into_dev_full)
    with pytest.raises(TrainingFailed) as info:
        train(None, resume_dir=run_dir)
    assert "(the disk is full); the previous checkpoint is intact; free disk space" in \
        str(info.value)
    assert "inline_container" not in str(info.value)
    assert (run_dir / "checkpoints" / "last.pt").read_bytes() == good


def test_deleting_the_run_folder_mid_run_fails_clearly_without_a_ghost_folder(tmp_path):
    import shutil

    def delete(event):
        if isinstance(event, EpochEnd) and event.epoch == 1:
            shutil.rmtree(tmp_path / "runs")

    with pytest.raises(TrainingFailed, match=r"its folder is gone: deleted or moved\); start "
                                             "the run again"):
        train(mlp_config("training.epochs=3", "training.checkpoint_every_s=0"),
              runs_dir=tmp_path / "runs", listeners=[delete])
    assert not (tmp_path / "runs").exists()


# ---------------------------------------------------------------- 9. smaller ones


@pytest.mark.parametrize("setting", ["optimizer.lr=nan", "model.dropout=nan",
                                     "training.early_stopping_min_delta=nan",
                                     "finetune.lr_multipliers={ fc = nan }"])
def test_nan_passes_no_range_check(setting):
    with pytest.raises(BadInput, match="nan is not a number"):
        RunConfig().with_overrides(["model.name=mlp", setting])


def test_a_run_file_with_a_utf8_bom_reads(tmp_path):
    run_file = tmp_path / "notepad.toml"
    run_file.write_bytes(b"\xef\xbb\xbf" + MLP_RUN.encode())
    assert load_config(run_file).model.params["hidden_sizes"] == [8]


def test_one_digit_class_is_refused(tmp_path):
    with pytest.raises(BadInput, match=r"\[data\] classes = \[5\]: a classifier needs at least "
                                       "two classes"):
        train(mlp_config("data.classes=[5]"), runs_dir=tmp_path)
    assert run_dirs(tmp_path) == []


def test_a_huge_value_gives_a_short_error_line(tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text(MLP_RUN.replace('name = "mlp"', f'name = "{"m" * 20_000_000}"'),
                        encoding="utf-8")
    result = cli(tmp_path, "train", str(run_file))
    line = assert_one_error_line(result, "unknown model", "(20,000,000 characters)")
    assert len(line) < 1000


def test_arrays_nested_100000_deep_are_bad_input(tmp_path):
    run_file = tmp_path / "deep.toml"
    run_file.write_text(MLP_RUN + "\n[finetune]\nfreeze = " + "[" * 100_000 + "]" * 100_000,
                        encoding="utf-8")
    with pytest.raises(BadInput, match="nests arrays or tables too deeply"):
        load_config(run_file)
    with pytest.raises(BadInput, match="nests arrays too deeply"):
        load_config(_plain(tmp_path), ["finetune.freeze=" + "[" * 100_000 + "]" * 100_000])


def _plain(tmp_path: Path) -> Path:
    path = tmp_path / "plain.toml"
    path.write_text(MLP_RUN, encoding="utf-8")
    return path


def test_error_lines_carry_no_escape_codes_or_second_lines():
    assert one_line("cannot resume: \x1b[31mred\x1b[0m\nTraceback (most recent call last):") \
        == "cannot resume: red"
    assert one_line("x" * 5000).endswith("…") and len(one_line("x" * 5000)) == 2001


def test_a_last_batch_of_one_sample_no_longer_breaks_batchnorm(tmp_path):
    # 1,438 training digits in batches of 1,437: the last batch would hold one sample
    config = mlp_config("model.name=small_cnn", "training.batch_size=1437", "training.epochs=2")
    assert config.model.params["batch_norm"]
    summary = train(config, runs_dir=tmp_path)
    assert summary["status"] == "completed" and summary["steps_completed"] == 2

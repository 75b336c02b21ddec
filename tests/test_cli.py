"""The command line, as users and scripts call it: exit codes, the one-line errors, progress
lines, Ctrl-C and --resume. Every case runs a real process (`python -m core`, and the
installed `traindesk` entry point through gui.launcher)."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from limits import HANG_S

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "digits_cnn.toml"

MLP_RUN = """\
[model]
name = "mlp"
hidden_sizes = [32]

[training]
epochs = 2
batch_size = 128
device = "cpu"
"""


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TRAINDESK_HOME"] = str(tmp_path / "home")  # never the real user data folder
    env.pop("PYTHONWARNINGS", None)
    # One thread per process: on a small, shared machine torch's thread pools slow each
    # other down by orders of magnitude; what these tests check does not depend on it.
    env["OMP_NUM_THREADS"] = "1"
    env.update(extra)
    return env


def cli(tmp_path: Path, *args: str, module: str = "core", timeout: float = HANG_S,
        **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=_env(tmp_path, **env))


def run_folders(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir() if p.is_dir()) if runs_dir.exists() else []


def read_summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def assert_one_error_line(result: subprocess.CompletedProcess, *parts: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


# ---------------------------------------------------------------- bad input: exit 2


class Opaque:
    def __init__(self):
        self.weights = torch.ones(3)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bad_input_cases(tmp: Path) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (arguments, parts the one error line must contain)."""
    good = _write(tmp / "good.toml", MLP_RUN)
    runs = ["--runs-dir", str(tmp / "runs")]

    empty = tmp / "empty.pt"
    empty.write_bytes(b"")
    opaque = tmp / "opaque.pt"
    torch.save({"model": Opaque()}, opaque)
    pickled = tmp / "pickled.pkl"
    pickled.write_bytes(pickle.dumps(Opaque()))
    from core.models.networks import MLP
    other = tmp / "mlp_weights.pt"
    torch.save(MLP(784, [32], "relu", 0.0, 10).state_dict(), other)

    def init_from(name: str, path: Path, model: str = "mlp") -> Path:
        extra = "\n[finetune]\ninit_from = " + json.dumps(str(path)) + "\n"
        text = MLP_RUN.replace('name = "mlp"', f'name = "{model}"').replace(
            "hidden_sizes = [32]\n", "hidden_sizes = [32]\n" if model == "mlp" else "")
        return _write(tmp / f"{name}.toml", text + extra)

    return {
        "unknown key": (
            [str(_write(tmp / "k.toml", MLP_RUN + "colour = 3\n")), *runs],
            ["[training] unknown key 'colour'", "epochs, batch_size, device, seed"]),
        "wrong type": (
            [str(_write(tmp / "t.toml", MLP_RUN.replace("epochs = 2", 'epochs = "2"'))), *runs],
            ["[training] epochs", "whole number"]),
        "out of range": (
            [str(_write(tmp / "r.toml", MLP_RUN.replace("epochs = 2", "epochs = 0"))), *runs],
            ["[training] epochs", "between 1 and"]),
        "invalid toml": (
            [str(_write(tmp / "s.toml", "[model\n")), *runs], ["s.toml", "not valid TOML"]),
        "missing run file": (
            [str(tmp / "nowhere.toml"), *runs], ["nowhere.toml", "does not exist"]),
        "unknown --set key": (
            [str(good), "--set", "training.epoch=3", *runs],
            ["[training] unknown key 'epoch'", "epochs"]),
        "malformed --set": (
            [str(good), "--set", "epochs=3", *runs], ["section.key=value"]),
        "unknown model via --set": (
            [str(good), "--set", "model.name=resnet", *runs],
            ["[model] name = 'resnet'", "simple_cnn", "mlp"]),
        "missing resume folder": (
            ["--resume", str(tmp / "no-such-run")], ["no-such-run", "does not exist"]),
        "resume with a run file": (
            [str(good), "--resume", str(tmp)], ["--resume"]),
        "no run file": (runs, ["give a run file"]),
        "zero-byte init_from": (
            [str(init_from("zero", empty)), *runs], ["empty.pt", "empty (0 bytes)"]),
        "init_from needing unpickling": (
            [str(init_from("opaque", opaque)), *runs], ["opaque.pt", "needs code to load"]),
        "init_from plain pickle": (
            [str(init_from("pickled", pickled)), *runs], ["pickled.pkl"]),
        "init_from another architecture": (
            [str(init_from("arch", other, model="simple_cnn")), *runs],
            ["do not fit", "missing conv1.weight", "unexpected layers.1.weight"]),
        "unknown option": (
            [str(good), "--epochs", "3"], ["unrecognized arguments: --epochs 3"]),
    }


@pytest.fixture(scope="module")
def bad_input_results(tmp_path_factory):
    """Run every bad-input case at once (they are independent processes), then check each."""
    tmp = tmp_path_factory.mktemp("bad")
    cases = _bad_input_cases(tmp)
    env = _env(tmp)
    procs = {name: subprocess.Popen([sys.executable, "-m", "core", "train", *args], cwd=REPO,
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
             for name, (args, _) in cases.items()}
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=HANG_S)
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return cases, results, tmp


BAD_INPUT_NAMES = [
    "unknown key", "wrong type", "out of range", "invalid toml", "missing run file",
    "unknown --set key", "malformed --set", "unknown model via --set",
    "missing resume folder", "resume with a run file", "no run file", "zero-byte init_from",
    "init_from needing unpickling", "init_from plain pickle", "init_from another architecture",
    "unknown option",
]


@pytest.mark.parametrize("name", BAD_INPUT_NAMES)
def test_bad_input_exits_2_with_one_error_line(bad_input_results, name):
    cases, results, tmp = bad_input_results
    assert set(BAD_INPUT_NAMES) == set(cases)
    assert_one_error_line(results[name], *cases[name][1])
    assert results[name].stdout == "" or "epoch" not in results[name].stdout
    assert run_folders(tmp / "runs") == []  # bad input never leaves a run folder behind


# ---------------------------------------------------------------- success: exit 0


def test_short_run_exits_0_with_a_line_per_epoch(tmp_path):
    run_file = _write(tmp_path / "run.toml", MLP_RUN)
    result = cli(tmp_path, "train", str(run_file), "--set", "training.epochs=3",
                 "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    for line in epoch_lines:
        assert "train loss" in line and "val loss" in line and "accuracy" in line
        assert line.count("%") == 2  # accuracy in percent, as the window shows it
    (run_dir,) = run_folders(tmp_path / "runs")
    assert lines[0] == f"run folder {run_dir}"
    assert lines[-1].startswith("completed: 3 epochs")
    summary = read_summary(run_dir)
    assert summary["status"] == "completed" and summary["epochs_completed"] == 3
    assert not (tmp_path / "home").exists()  # --runs-dir was used, not the default


def test_installed_entry_point_trains_headless(tmp_path):
    run_file = _write(tmp_path / "run.toml", MLP_RUN)
    result = cli(tmp_path, "train", str(run_file), "--set", "training.epochs=1",
                 "--runs-dir", str(tmp_path / "runs"), module="gui.launcher")
    assert result.returncode == 0, result.stderr
    assert "epoch   1/1" in result.stdout
    (run_dir,) = run_folders(tmp_path / "runs")
    assert read_summary(run_dir)["status"] == "completed"
    bad = cli(tmp_path, "train", str(tmp_path / "nowhere.toml"), module="gui.launcher")
    assert_one_error_line(bad, "does not exist")


@pytest.mark.parametrize("module", ["core", "gui.launcher"])
def test_catalog_json_without_qt(tmp_path, module):
    # -X importtime lists every import on stderr: the headless command must not load Qt
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", module, "catalog",
                             "--json"], cwd=REPO, capture_output=True, text=True, timeout=HANG_S,
                            env=_env(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    names = {e["name"] for entries in data.values() for e in entries}
    assert {"simple_cnn", "mlp", "digits", "sgd", "adam", "adamw", "cross_entropy"} <= names
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "core" in imported
    assert not imported & {"PySide6", "pyqtgraph", "torch"}


def test_catalog_text(tmp_path):
    result = cli(tmp_path, "catalog")
    assert result.returncode == 0, result.stderr
    assert "[model]" in result.stdout and "simple_cnn" in result.stdout
    assert "nesterov = false" in result.stdout



def test_a_run_file_without_a_loss_trains_with_the_one_for_its_data(tmp_path):
    table = tmp_path / "prices.csv"
    table.write_text("rooms,area,price\n" + "".join(
        f"{i % 5 + 1},{40 + 7 * i},{1000 + 37.5 * i}\n" for i in range(60)), encoding="utf-8")
    run_file = _write(tmp_path / "run.toml", MLP_RUN + f'\n[data]\nname = "csv"\n'
                      f"path = {json.dumps(str(table))}\n")
    result = cli(tmp_path, "train", str(run_file), "--set", "training.epochs=1",
                 "--set", "training.batch_size=16", "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 0, result.stderr
    (run_dir,) = run_folders(tmp_path / "runs")
    assert 'name = "mse"' in (run_dir / "config.toml").read_text(encoding="utf-8")
    assert read_summary(run_dir)["metric"] == "r2"
    epoch_line = next(line for line in result.stdout.splitlines() if line.startswith("epoch "))
    assert " R2 " in epoch_line and "%" not in epoch_line  # core.metrics names and shows it
    assert ", best val R2 " in result.stdout.splitlines()[-1]
    # A loss the file names is used as named: a wrong one is refused, nothing written.
    named = cli(tmp_path, "train", str(run_file), "--set", "loss.name=cross_entropy",
                "--set", "training.batch_size=16", "--runs-dir", str(tmp_path / "other"))
    assert_one_error_line(named, "[loss] cross_entropy is a classification loss",
                          "regression dataset", "pick mse or l1")
    assert run_folders(tmp_path / "other") == []

# ---------------------------------------------------------------- training failed: exit 1


def test_training_failure_exits_1_with_a_clear_message(tmp_path):
    run_file = _write(tmp_path / "run.toml", MLP_RUN.replace("hidden_sizes = [32]",
                                                             "hidden_sizes = [256, 128]")
                      + '\n[optimizer]\nname = "sgd"\nlr = 10.0\n')
    result = cli(tmp_path, "train", str(run_file), "--set", "training.batch_size=64",
                 "--runs-dir", str(tmp_path / "runs"))
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("training failed: the loss became")
    assert "at step" in lines[0] and "Lower [optimizer] lr (now 10.0)" in lines[0]
    (run_dir,) = run_folders(tmp_path / "runs")
    summary = read_summary(run_dir)
    assert summary["status"] == "failed"
    assert lines[0].endswith(summary["error"])


# ---------------------------------------------------------------- Ctrl-C: exit 130, then resume


def test_ctrl_c_saves_and_exits_130_then_resume_completes(tmp_path):
    epochs, steps_per_epoch = 6, 360  # ceil(1438 / 4): many short steps, so Ctrl-C lands mid-run
    run_file = _write(tmp_path / "run.toml", MLP_RUN)
    args = ["train", str(run_file), "--set", f"training.epochs={epochs}", "--set",
            "training.batch_size=4", "--runs-dir", str(tmp_path / "runs")]
    # the same run left alone, for comparison; it runs meanwhile in its own process
    whole_proc = subprocess.Popen([sys.executable, "-m", "core", *args[:-1],
                                   str(tmp_path / "whole")], cwd=REPO, env=_env(tmp_path),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc = subprocess.Popen([sys.executable, "-m", "core", *args], cwd=REPO, env=_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("epoch "):
                proc.send_signal(signal.SIGINT)
                break
        else:
            pytest.fail(f"no epoch line: {''.join(seen)} {proc.stderr.read()}")
        out, err = proc.communicate(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, whole_err = whole_proc.communicate(timeout=HANG_S)
    assert proc.returncode == 130, (proc.returncode, err)
    assert "Traceback" not in err
    (run_dir,) = run_folders(tmp_path / "runs")
    summary = read_summary(run_dir)
    assert summary["status"] == "interrupted"
    assert 1 <= summary["epochs_completed"] < epochs
    last = run_dir / "checkpoints" / "last.pt"
    assert last.is_file()
    assert torch.load(last, weights_only=True)["progress"]["step"] == summary["steps_completed"]
    assert "interrupted" in out

    resumed = cli(tmp_path, "train", "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[-1].startswith(f"completed: {epochs} epochs")
    summary = read_summary(run_dir)
    assert summary["status"] == "completed" and summary["epochs_completed"] == epochs
    assert run_folders(tmp_path / "runs") == [run_dir]
    with open(run_dir / "metrics.csv", encoding="utf-8") as f:
        rows = [line.split(",") for line in f.read().splitlines()[1:]]
    val_epochs = [int(r[1]) for r in rows if r[2] == "val"]
    assert val_epochs == list(range(1, epochs + 1))  # every epoch validated exactly once
    train_steps = [int(r[0]) for r in rows if r[2] == "train"]
    assert train_steps == list(range(1, epochs * steps_per_epoch + 1))  # each step logged once
    assert summary["steps_completed"] == epochs * steps_per_epoch

    # Ctrl-C stops between batches, so the resumed run ends exactly like one never stopped
    assert whole_proc.returncode == 0, whole_err
    (whole_dir,) = run_folders(tmp_path / "whole")
    a = torch.load(whole_dir / "checkpoints" / "last.pt", weights_only=True)["model"]
    b = torch.load(last, weights_only=True)["model"]
    assert all(torch.equal(a[name], b[name]) for name in a)


def test_first_ctrl_c_asks_to_stop_and_a_second_one_breaks_in():
    from core.cli import ctrl_c_interrupts
    from core.control import RunControl

    control = RunControl()
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with ctrl_c_interrupts(control):
            os.kill(os.getpid(), signal.SIGINT)
            deadline = time.monotonic() + HANG_S
            while not control.interrupted and time.monotonic() < deadline:
                pass  # the handler runs between bytecodes of the main thread
            assert control.interrupted
            os.kill(os.getpid(), signal.SIGINT)
            deadline = time.monotonic() + HANG_S
            while time.monotonic() < deadline:
                pass
    assert signal.getsignal(signal.SIGINT) is before


def test_ctrl_c_before_training_exits_130_without_a_traceback(monkeypatch, capsys, tmp_path):
    import core.config
    from core.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(core.config, "load_config", interrupted)
    assert main(["train", str(tmp_path / "run.toml")]) == 130
    assert capsys.readouterr().err == "interrupted\n"

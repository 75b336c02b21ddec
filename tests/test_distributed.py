"""The same run on several processes through torchrun (Gloo, 2 CPU processes here):
`traindesk train RUN.toml --nproc-per-node 2` trains what one process trains with the
same global batch, writes a run folder like any run's, stops on Ctrl-C with every
process at the same step and a checkpoint saved, resumes on 1 or 2 processes, and when a
worker is killed ends the others, marks the run failed with the rank, and resumes."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from core.errors import BadInput
from core.launch import Nodes, descendants, first_failure, node_commands, torchrun_command
from core.train.distributed import Alone, ProcessGroup
from limits import HANG_S
from test_cli import REPO, _env, cli, read_summary, run_folders

RUN = """\
[model]
name = "mlp"
hidden_sizes = [32]

[optimizer]
name = "adam"
lr = 0.003

[training]
epochs = {epochs}
batch_size = 64
device = "cpu"
threads = 1
checkpoint_every_s = 0
tensorboard = false
"""

# torchrun's report when a worker was killed (torch 2.x, as printed on its stderr)
TORCHRUN_REPORT = """\
torch.distributed.elastic.multiprocessing.errors.ChildFailedError:
=====================================================
core FAILED
-----------------------------------------------------
Failures:
[1]:
  time      : 2026-11-30_16:48:40
  host      : localhost
  rank      : 0 (local_rank: 0)
  exitcode  : -15 (pid: 428)  (SIGTERM)
  error_file: <N/A>
  traceback : Signal 15 (SIGTERM) received by PID 428
-----------------------------------------------------
Root Cause (first observed failure):
[0]:
  time      : 2026-11-30_16:48:39
  host      : localhost
  rank      : 1 (local_rank: 1)
  exitcode  : -9 (pid: 429)  (SIGKILL)
  error_file: <N/A>
  traceback : Signal 9 (SIGKILL) received by PID 429
=====================================================
"""


# ---------------------------------------------------------------- without processes


def test_each_rank_takes_its_slice_of_the_global_batch_with_its_share_of_the_loss():
    batch = torch.arange(7)
    parts = [ProcessGroup(rank, 2, rank).shard([batch]) for rank in (0, 1)]
    assert [p[0][0].tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6]]
    # DDP averages the ranks' gradients: 2 * 4/7 and 2 * 3/7 make it the 7 samples' mean
    assert [p[1] for p in parts] == pytest.approx([8 / 7, 6 / 7])
    assert Alone().shard([batch]) == ([batch], 1.0)
    with pytest.raises(BadInput, match="cannot be split across 4 processes"):
        ProcessGroup(3, 4, 3).shard([torch.arange(3)])


def test_torchrun_report_names_the_rank_that_died_first():
    failure = first_failure(TORCHRUN_REPORT.splitlines())
    assert (failure.rank, failure.exitcode, failure.pid, failure.signal_name) == (
        1, -9, 429, "SIGKILL")
    assert failure.cause() == "SIGKILL"
    assert first_failure(["no report here"]) is None


def test_several_machines_need_the_address_of_the_first_and_get_a_command_each():
    with pytest.raises(BadInput, match="--rdzv-endpoint HOST:PORT"):
        Nodes(2, nnodes=2).check()
    with pytest.raises(BadInput, match="--node-rank 2"):
        Nodes(2, nnodes=2, node_rank=2, rdzv_endpoint="10.0.0.1:29500").check()
    nodes = Nodes(4, nnodes=2, rdzv_endpoint="10.0.0.1:29500")
    commands = node_commands(nodes, ["run.toml"])
    assert commands == [f"traindesk train run.toml --nproc-per-node 4 --nnodes 2 "
                        f"--node-rank {rank} --rdzv-endpoint 10.0.0.1:29500" for rank in (0, 1)]
    assert "--standalone" in torchrun_command(Nodes(2), ["run.toml"])


# ---------------------------------------------------------------- 2 CPU processes


def _rows(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _val(run_dir: Path) -> list[dict]:
    return [row for row in _rows(run_dir) if row["split"] == "val"]


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _worker_of_rank(launcher: int, rank: int) -> int | None:
    for pid in descendants(launcher):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ and b"LOCAL_RANK=" + str(rank).encode() in environ:
            return pid
    return None


class _Launch:
    """`traindesk train RUN --nproc-per-node 2` as a background process, watched."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.runs = tmp_path / "runs"
        self.proc = subprocess.Popen([sys.executable, "-m", "core", "train", *args,
                                      "--nproc-per-node", "2"], cwd=REPO, env=_env(tmp_path),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.seen: set[int] = set()

    def wait_for_epochs(self, epochs: int) -> Path:
        """The run folder, once `epochs` epochs are in its metrics.csv."""
        deadline = time.monotonic() + HANG_S
        while time.monotonic() < deadline:
            self.seen |= descendants(self.proc.pid)
            assert self.proc.poll() is None, self.proc.communicate()
            folders = run_folders(self.runs)
            if folders and (folders[0] / "metrics.csv").is_file() and \
                    len(_val(folders[0])) >= epochs:
                return folders[0]
            time.sleep(0.05)
        pytest.fail("the run did not reach its epochs")

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=HANG_S)
        assert not _alive(self.seen), "processes of the launch were left running"
        return self.proc.returncode, out, err


@pytest.mark.slow
def test_two_processes_train_as_one_does_with_the_same_global_batch(tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text(RUN.format(epochs=3), encoding="utf-8")
    one = cli(tmp_path, "train", str(run_file), "--runs-dir", str(tmp_path / "one"))
    two = cli(tmp_path, "train", str(run_file), "--runs-dir", str(tmp_path / "two"),
              "--nproc-per-node", "2")
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    assert "epoch   3/3" in two.stdout and "completed: 3 epochs" in two.stdout
    (dir_one,), (dir_two,) = run_folders(tmp_path / "one"), run_folders(tmp_path / "two")
    rows_one, rows_two = _rows(dir_one), _rows(dir_two)
    # the same steps, each once, with the global batch's figures (not one rank's)
    assert [(r["step"], r["split"]) for r in rows_two] == [(r["step"], r["split"])
                                                           for r in rows_one]
    for a, b in zip(rows_one, rows_two):
        assert float(b["loss"]) == pytest.approx(float(a["loss"]), rel=1e-3, abs=1e-4)
        assert float(b["accuracy"]) == pytest.approx(float(a["accuracy"]), abs=0.01)
    summary = read_summary(dir_two)
    assert summary["status"] == "completed" and summary["epochs_completed"] == 3
    assert summary["processes"] == 2 and "processes" not in read_summary(dir_one)
    assert summary["best_val_metric"] == pytest.approx(read_summary(dir_one)["best_val_metric"],
                                                       abs=0.01)
    for name in ("last.pt", "best.pt"):
        a = torch.load(dir_one / "checkpoints" / name, weights_only=True)
        b = torch.load(dir_two / "checkpoints" / name, weights_only=True)
        assert a.keys() == b.keys() and a["model"].keys() == b["model"].keys()
        assert a["progress"]["step"] == b["progress"]["step"]


@pytest.mark.slow
def test_gradual_unfreezing_and_lora_train_on_two_processes_as_on_one(tmp_path):
    # DDP syncs the parameters that train when it is made: unfreezing makes it again
    unfreezing = RUN.format(epochs=2) + ('[finetune]\nfreeze = ["layers.1"]\n'
                                         'unfreeze_every = 1\n')
    lora = RUN.format(epochs=1) + '[finetune]\nlora_targets = ["layers.1", "layers.3"]\n'
    for name, text in (("unfreezing", unfreezing), ("lora", lora)):
        run_file = tmp_path / f"{name}.toml"
        run_file.write_text(text, encoding="utf-8")
        one = cli(tmp_path, "train", str(run_file), "--runs-dir", str(tmp_path / name / "one"))
        two = cli(tmp_path, "train", str(run_file), "--runs-dir", str(tmp_path / name / "two"),
                  "--nproc-per-node", "2")
        assert one.returncode == 0 and two.returncode == 0, (one.stderr, two.stderr)
        (dir_one,), (dir_two,) = (run_folders(tmp_path / name / side) for side in ("one", "two"))
        for a, b in zip(_val(dir_one), _val(dir_two), strict=True):
            assert float(b["loss"]) == pytest.approx(float(a["loss"]), rel=1e-3)
        if name == "unfreezing":
            assert "unfrozen layers.1 for epoch 2" in two.stdout


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; signals are POSIX")
def test_ctrl_c_stops_every_process_and_the_run_resumes_on_one_or_two(tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text(RUN.format(epochs=8), encoding="utf-8")
    launch = _Launch(tmp_path, str(run_file), "--runs-dir", str(tmp_path / "runs"))
    run_dir = launch.wait_for_epochs(1)
    launch.proc.send_signal(signal.SIGINT)
    code, out, err = launch.finish()
    assert code == 130, err
    summary = read_summary(run_dir)
    assert summary["status"] == "interrupted", summary
    saved = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["progress"]
    assert 0 < saved["step"] < 8 * 23
    copy = tmp_path / "copy" / run_dir.name
    shutil.copytree(run_dir, copy)
    on_one = cli(tmp_path, "train", "--resume", str(run_dir))
    on_two = cli(tmp_path, "train", "--resume", str(copy), "--nproc-per-node", "2")
    assert on_one.returncode == 0, on_one.stderr
    assert on_two.returncode == 0, on_two.stderr
    for folder in (run_dir, copy):
        assert read_summary(folder)["status"] == "completed"
        steps = [int(r["step"]) for r in _rows(folder) if r["split"] == "train"]
        assert steps == list(range(1, 8 * 23 + 1))  # each step once, resumed where it stopped
    final_one, final_two = _val(run_dir)[-1], _val(copy)[-1]
    assert float(final_two["loss"]) == pytest.approx(float(final_one["loss"]), rel=1e-2)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; signals are POSIX")
def test_a_killed_worker_ends_the_others_and_the_run_is_failed_with_its_rank(tmp_path):
    run_file = tmp_path / "run.toml"
    run_file.write_text(RUN.format(epochs=40), encoding="utf-8")
    launch = _Launch(tmp_path, str(run_file), "--runs-dir", str(tmp_path / "runs"))
    run_dir = launch.wait_for_epochs(2)
    worker = _worker_of_rank(launch.proc.pid, 1)
    assert worker is not None
    os.kill(worker, signal.SIGKILL)
    code, out, err = launch.finish()
    assert code == 1, err
    summary = read_summary(run_dir)
    assert summary["status"] == "failed"
    assert summary["error"].startswith("process rank 1 of 2 (pid ")
    assert "(SIGKILL); the other processes were stopped" in summary["error"]
    assert "--resume" in summary["error"]
    assert "training failed: process rank 1 of 2" in err
    assert "rank 1" in (run_dir / "error.txt").read_text(encoding="utf-8")
    resumed = cli(tmp_path, "train", "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert read_summary(run_dir)["status"] == "completed"


# ---------------------------------------------------------------- the window


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc; signals are POSIX")
def test_the_window_trains_on_two_processes_pauses_stops_and_resumes(window, qtbot, tmp_path):
    from test_gui_training import choose_quick_run, click, run_summaries

    epochs, steps_per_epoch = 6, 23  # ceil(1438 / 64)
    choose_quick_run(window, qtbot, epochs=epochs)
    window.setup_panel.processes_field.count.setValue(2)
    click(qtbot, window.start_button)
    thread = window.training_thread
    qtbot.waitUntil(lambda: window.plots.train_point_count > 0, timeout=HANG_S * 1000)
    launcher = os.getpid()
    workers = {_worker_of_rank(launcher, rank) for rank in (0, 1)}
    assert None not in workers  # torchrun's two workers, below the window

    click(qtbot, window.pause_button)
    qtbot.waitUntil(lambda: all(_state(pid) == "T" for pid in workers), timeout=HANG_S * 1000)
    click(qtbot, window.pause_button)
    qtbot.waitUntil(lambda: all(_state(pid) != "T" for pid in workers), timeout=HANG_S * 1000)
    with qtbot.waitSignal(window.run_ended, timeout=HANG_S * 1000):
        click(qtbot, window.stop_button)
    assert not _alive(workers)
    [stopped] = run_summaries(tmp_path)
    assert stopped["status"] == "stopped", stopped
    assert 0 < stopped["steps_completed"] < epochs * steps_per_epoch
    assert window.plots.train_point_count == stopped["steps_completed"]
    assert thread.processes == 2

    with qtbot.waitSignal(window.run_ended, timeout=HANG_S * 1000):
        window.resume_run_folder(Path(stopped["run_dir"]))
    [summary] = run_summaries(tmp_path)
    assert summary["status"] == "completed"
    assert window.plots.model.steps["step"].tolist() == list(
        range(1, epochs * steps_per_epoch + 1))  # the past from metrics.csv, then live
    assert len(window.plots.model.epochs) == epochs
    assert window.message_bar.isHidden()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_several_machines_shows_each_machine_its_command_for_the_run_on_screen(window, qtbot,
                                                                              tmp_path):
    from core.config import load_config

    panel = window.setup_panel
    panel.processes_field.count.setValue(2)
    panel.processes_field.machines_button.click()
    dialog = panel.processes_field.dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.machines.setValue(3)
    dialog.endpoint.setText("10.1.2.3:29400")
    lines = dialog.commands.toPlainText().splitlines()
    commands = [line for line in lines if line.startswith("traindesk train")]
    assert len(commands) == 3
    for rank, command in enumerate(commands):
        assert command.endswith(f"--nproc-per-node 2 --nnodes 3 --node-rank {rank} "
                                "--rdzv-endpoint 10.1.2.3:29400")
    run_file = Path(commands[0].split()[2])
    assert run_file.parent == tmp_path / "runs" / "launch"
    assert load_config(run_file) == panel.config().with_absolute_paths(Path.cwd())
    dialog.endpoint.setText("no port")
    assert "--rdzv-endpoint HOST:PORT" in dialog.commands.toPlainText()

"""The command line under faults: a training process killed outright (SIGKILL) leaves a
readable run folder that `traindesk train --resume` finishes exactly; every bad input of
tests/bad_inputs.py exits 2 with one `error:` line and leaves no run folder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bad_inputs import MLP_RUN, make_cases
from core.config import load_config
from core.runs.folder import effective_status
from core.train.loop import train
from run_control import read_metrics
from test_cli import REPO, _env, assert_one_error_line, cli, read_summary, run_folders
from limits import HANG_S

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


# ---------------------------------------------------------------- SIGKILL, then --resume


def test_a_killed_run_is_readable_and_resumes_to_the_same_weights(tmp_path):
    epochs, steps_per_epoch = 4, 90  # ceil(1438 / 16)
    run_file = tmp_path / "run.toml"
    run_file.write_text(MLP_RUN.replace("hidden_sizes = [8]", "hidden_sizes = [32]")
                        .replace("batch_size = 4", "batch_size = 16")
                        .replace("epochs = 1", f"epochs = {epochs}\ncheckpoint_every_s = 0"),
                        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "core", "train", str(run_file),
                             "--runs-dir", str(tmp_path / "runs")], cwd=REPO,
                            env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith(f"epoch   2/{epochs}"):
                proc.send_signal(signal.SIGKILL)  # no handler, no last save: gone
                break
        else:
            pytest.fail(f"no second epoch line: {''.join(seen)} {proc.stderr.read()}")
        proc.wait(timeout=HANG_S)  # reaped, as a shell would
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    (run_dir,) = run_folders(tmp_path / "runs")
    summary = read_summary(run_dir)
    assert summary["status"] == "running"  # as the killed process left it
    assert effective_status(summary) == "interrupted"
    assert summary["epochs_completed"] >= 1
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    checkpoint_step = state["progress"]["step"]
    assert checkpoint_step % steps_per_epoch == 0 and checkpoint_step >= steps_per_epoch
    rows = read_metrics(run_dir)
    train_steps = [int(r["step"]) for r in rows if r["split"] == "train"]
    assert train_steps == list(range(1, len(train_steps) + 1))
    assert len(train_steps) >= 2 * steps_per_epoch  # logged up to the last step it flushed

    resumed = cli(tmp_path, "train", "--resume", str(run_dir), timeout=HANG_S)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming after step {checkpoint_step:,}" in resumed.stdout
    assert resumed.stdout.splitlines()[-1].startswith(f"completed: {epochs} epochs")
    summary = read_summary(run_dir)
    assert summary["status"] == "completed"
    assert summary["steps_completed"] == epochs * steps_per_epoch
    rows = read_metrics(run_dir)
    assert [int(r["step"]) for r in rows if r["split"] == "train"] == \
        list(range(1, epochs * steps_per_epoch + 1))  # each step once, none lost
    assert [int(r["epoch"]) for r in rows if r["split"] == "val"] == list(range(1, epochs + 1))

    # the same run left alone, in this process: one torch thread, as the command line had
    whole = train(load_config(run_file, ["training.threads=1"]), runs_dir=tmp_path / "whole")
    a = torch.load(Path(whole["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][name], b["model"][name]) for name in a["model"])


# ---------------------------------------------------------------- bad input: exit 2

# Cases that tests/test_cli.py already runs (unknown keys, ranges, start weights) are left
# to it; these are the data, the new [training] keys and resuming.
CLI_CASES = [
    "out of range", "not a choice", "mixed precision on the cpu", "batch larger than the data",
    "missing csv", "unreadable csv (a folder)", "zero-byte csv", "non-numeric csv column",
    "constant csv columns", "csv with a missing cell in every row", "missing image folder",
    "empty class folder", "class of corrupt or zero-byte images",
    "corrupt, truncated and non-image files among good ones",
]

# One process runs the command line's main() on every case in turn, with the process's own
# stdout and stderr (file descriptors 1 and 2, so C-level output counts too) sent to a file
# per case: what a user's terminal would show, without importing torch 15 times over on a
# 2-core machine. tests/test_cli.py starts a process per case for the exit codes themselves.
DRIVER = """
import json, os, sys
from core.cli import main

results = {}
for name, args, out_path, err_path in json.loads(sys.argv[1]):
    with open(out_path, "w") as out, open(err_path, "w") as err:
        sys.stdout.flush(); sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1); os.dup2(err.fileno(), 2)
        try:
            code = main(args)
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
    results[name] = code
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reliability")
    cases = make_cases(tmp)
    runs = tmp / "runs"
    (tmp / "not_a_run").mkdir()
    argv = {name: ["train", str(cases[name].run_file), "--runs-dir", str(runs)]
            for name in CLI_CASES}
    argv["resume a folder that is not a run"] = ["train", "--resume", str(tmp / "not_a_run")]
    plan = [(name, args, str(tmp / f"{i}.out"), str(tmp / f"{i}.err"))
            for i, (name, args) in enumerate(argv.items())]
    driver = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(plan)], cwd=REPO,
                            env=_env(tmp), capture_output=True, text=True, timeout=HANG_S)
    assert driver.returncode == 0, driver.stderr
    codes = json.loads(driver.stdout.splitlines()[-1])
    results = {name: subprocess.CompletedProcess(args, codes[name], Path(out).read_text(),
                                                 Path(err).read_text())
               for name, args, out, err in plan}
    return cases, results, runs


@pytest.mark.parametrize("name", [*CLI_CASES, "resume a folder that is not a run"])
def test_bad_input_exits_2_with_one_error_line_and_no_run_folder(cli_results, name):
    cases, results, runs = cli_results
    result = results[name]
    if name == "resume a folder that is not a run":
        assert_one_error_line(result, "not_a_run is not a run folder (no config.toml)")
        return
    case = cases[name]
    if case.notes:  # accepted: the bad files are skipped, and the run says so
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        for note in case.notes:
            assert f"note: {note}" in result.stdout.splitlines()
        return
    assert_one_error_line(result, *case.parts)
    assert result.stdout == ""
    written = [json.loads(p.read_text())["data"] for p in runs.glob("*/summary.json")]
    assert written in ([], ["image_folder"])  # only the accepted case made a run folder

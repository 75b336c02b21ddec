"""Image folders read from disk batch by batch (core/data/streaming.py): the same training
as the in-memory path, exact resume, unreadable files skipped and reported, and the
automatic choice by the memory budget. Worker processes are started with spawn, as in the
desktop app."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.catalog import DATASETS
from core.config import RunConfig
from core.inference.evaluation import evaluate_run, load_run, sample_image
from core.train.loop import train
from limits import HANG_S
from run_control import StopAfter, read_metrics
from test_cli import REPO, _env, cli, read_summary

CLASSES = ("bars", "dots", "plain")


def image_folder(root: Path, per_class: int = 16) -> Path:
    """Three classes of noisy pictures of mixed sizes (so resizing matters), as PNGs."""
    rng = np.random.default_rng(0)
    for label, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        for n in range(per_class):
            side = int(rng.integers(18, 30))
            pixels = rng.integers(0, 90, (side, side, 3), dtype=np.uint8)
            if label == 0:
                pixels[::4] = 230
            elif label == 1:
                pixels[::5, ::5] = 250
            Image.fromarray(pixels).save(root / name / f"{name}{n:02d}.png")
    return root


def folder_config(folder: Path, *overrides: str) -> RunConfig:
    return RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[24]", "data.name=image_folder",
        f"data.folder={folder}", "data.image_size=12", "data.val_split=0.25",
        "training.epochs=2", "training.batch_size=8", "training.device=cpu",
        "training.tensorboard=false", *overrides])


def build(folder: Path, **params):
    entry = DATASETS.get("image_folder", "data")
    return entry.build(entry.check_params({"folder": str(folder), **params}, "data"), 0)


def scores(run_dir: Path) -> list[tuple]:
    """metrics.csv without its clock: each row's step, split, loss and accuracy."""
    return [(row["step"], row["split"], row["loss"], row["accuracy"])
            for row in read_metrics(run_dir)]


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]


def test_a_streamed_folder_trains_as_the_same_folder_in_memory(tmp_path):
    folder = image_folder(tmp_path / "images")
    held = train(folder_config(folder, "data.storage=memory"), runs_dir=tmp_path / "memory")
    streamed = train(folder_config(folder, "data.storage=stream", "data.workers=1"),
                     runs_dir=tmp_path / "stream")
    assert held["status"] == streamed["status"] == "completed"
    assert not multiprocessing.active_children()  # the run's end stopped its workers
    assert "images read from disk batch by batch (storage = stream, workers = 1)" in \
        streamed["data_notes"]
    held_dir, streamed_dir = Path(held["run_dir"]), Path(streamed["run_dir"])
    a, b = scores(held_dir), scores(streamed_dir)
    # per epoch: 5 steps, the epoch's training row and its validation row
    assert [row[:2] for row in a] == [row[:2] for row in b] and len(a) == 2 * (5 + 2)
    np.testing.assert_allclose([row[2:] for row in a], [row[2:] for row in b], rtol=1e-6)
    for name, value in weights(held_dir).items():
        torch.testing.assert_close(weights(streamed_dir)[name], value, rtol=1e-6, atol=1e-7)
    # Predict and export read the same description of the inputs
    assert (held_dir / "preprocessing.json").read_text() == \
        (streamed_dir / "preprocessing.json").read_text()


def test_a_streamed_run_stopped_mid_epoch_resumes_exactly(tmp_path):
    folder = image_folder(tmp_path / "images")
    # 36 training images in 5 batches an epoch; flips draw from torch's random state,
    # which the workers' loader must leave alone for the resumed run to see the same flips
    config = folder_config(folder, "data.storage=stream", "data.workers=1", "data.flip=true",
                           "training.epochs=3")
    whole = train(config, runs_dir=tmp_path / "whole")
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(5 + 2))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 7
    resumed = train(RunConfig(), resume_dir=Path(stopped["run_dir"]))
    assert resumed["status"] == "completed" and resumed["steps_completed"] == 15
    assert scores(Path(resumed["run_dir"])) == scores(Path(whole["run_dir"]))
    a, b = weights(Path(whole["run_dir"])), weights(Path(resumed["run_dir"]))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_unreadable_images_met_by_a_worker_are_skipped_and_reported(tmp_path):
    train_folder = image_folder(tmp_path / "train")
    val_folder = image_folder(tmp_path / "val", per_class=4)
    (train_folder / "dots" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    good = (val_folder / "bars" / "bars00.png").read_bytes()
    (val_folder / "bars" / "cut.png").write_bytes(good[:60])
    summary = train(folder_config(train_folder, f"data.val_folder={val_folder}",
                                  "data.storage=stream", "data.workers=1"),
                    runs_dir=tmp_path / "runs")
    assert summary["status"] == "completed"
    assert f"1 unreadable image file(s) in {train_folder} skipped (dots/broken.png)" in \
        summary["data_notes"]
    assert f"1 unreadable image file(s) in {val_folder} skipped (bars/cut.png)" in \
        summary["data_notes"]
    # evaluation scores the 12 readable validation images, and shows the right ones
    loaded = load_run(Path(summary["run_dir"]), "last")
    evaluation = evaluate_run(loaded)
    assert evaluation.samples == 12 and sum(map(sum, evaluation.confusion)) == 12
    assert evaluation.targets == [0] * 4 + [1] * 4 + [2] * 4
    shown = sample_image(loaded, 4)  # the first dots image: the bars' cut.png is left out
    assert shown.shape == (12, 12, 3)
    assert np.array_equal(shown, loaded.data.val_x[5].permute(1, 2, 0).numpy())


def test_a_folder_over_the_memory_budget_is_streamed_by_itself(tmp_path):
    folder = image_folder(tmp_path / "images")
    # 48 images at 3 x 128 x 128 are 2.25 MB decoded
    streamed = build(folder, image_size=128, memory_budget_mb=1)
    held = build(folder, image_size=128, memory_budget_mb=3)
    assert streamed.streamed and not held.streamed
    assert streamed.notes == ["images read from disk batch by batch (workers = 2): decoded "
                              "they would take 2 MB, more than the memory budget of 1 MB"]
    assert held.notes == []
    assert streamed.train_x.shape == held.train_x.shape
    assert torch.equal(streamed.train_x[torch.arange(len(streamed.train_y))], held.train_x)
    assert torch.equal(streamed.val_y, held.val_y)
    assert streamed.batch_transform.mean == held.batch_transform.mean
    with pytest.raises(Exception, match="storage"):
        build(folder, storage="disk")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_worker_killed_mid_run_fails_the_run_in_one_line_and_it_resumes(tmp_path):
    """A data worker killed outright (the kernel's out-of-memory killer does this): the
    run ends failed with one line saying what happened and what to do, no traceback, and
    `--resume` completes it."""
    folder = image_folder(tmp_path / "pictures", per_class=60)
    run_file = tmp_path / "run.toml"
    run_file.write_text(folder_config(folder, "data.storage=stream", "data.workers=1",
                                      "training.epochs=40", "training.checkpoint_every_s=0")
                       .to_toml(), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "core", "train", str(run_file),
                             "--runs-dir", str(tmp_path / "runs")], cwd=REPO,
                            env=_env(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("epoch   2/"):
                break
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        workers = [pid for pid in children
                   if "resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_text()]
        assert workers, children
        for pid in workers:
            os.kill(int(pid), signal.SIGKILL)
        _, err = proc.communicate(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "training failed: a worker process reading the image folder "), err
    (run_dir,) = sorted((tmp_path / "runs").iterdir())
    summary = read_summary(run_dir)
    assert summary["status"] == "failed" and "worker process" in summary["error"]
    resumed = cli(tmp_path, "train", "--resume", str(run_dir))
    assert resumed.returncode == 0, resumed.stderr
    assert read_summary(run_dir)["status"] == "completed"

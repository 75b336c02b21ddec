"""A run folder says what produced it (issue 13, finding 14): summary.json records the
TrainDesk, torch, torchvision, Python and CUDA versions, the device's name, the start time
and the host; a failed run keeps its full traceback in error.txt beside summary.json."""

from __future__ import annotations

import platform
import socket
from datetime import datetime
from pathlib import Path

import pytest
import torch

import core
from core.errors import TrainingFailed
from core.models.networks import MLP
from core.train.loop import train
from run_control import StopAfter, mlp_config, run_dirs


def test_the_summary_records_versions_device_start_and_host(tmp_path):
    before = datetime.now().astimezone().replace(microsecond=0)
    summary = train(mlp_config("training.epochs=1"), runs_dir=tmp_path)
    assert summary["versions"] == {
        "traindesk": core.__version__, "torch": torch.__version__,
        "torchvision": __import__("torchvision").__version__,
        "python": platform.python_version(), "cuda": torch.version.cuda}
    assert summary["device_name"] and summary["host"] == socket.gethostname()
    assert datetime.fromisoformat(summary["started"]) >= before
    assert not (Path(summary["run_dir"]) / "error.txt").exists()


def test_a_resumed_run_keeps_its_first_start(tmp_path):
    stopped = train(mlp_config(), runs_dir=tmp_path, control=StopAfter(3))
    resumed = train(mlp_config(), resume_dir=Path(stopped["run_dir"]))
    assert resumed["started"] == stopped["started"] and resumed["resumed"] >= stopped["started"]


def test_a_failed_run_keeps_its_traceback(tmp_path, monkeypatch):
    def broken(self, x):
        raise RuntimeError("the layer broke")

    monkeypatch.setattr(MLP, "forward", broken)
    with pytest.raises(TrainingFailed):
        train(mlp_config(), runs_dir=tmp_path)
    [run_dir] = run_dirs(tmp_path)
    text = (run_dir / "error.txt").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n\n")
    assert "the layer broke" in first and "\n" not in first
    assert rest.startswith("Traceback (most recent call last)") and "def broken" not in first
    assert 'raise RuntimeError("the layer broke")' in rest

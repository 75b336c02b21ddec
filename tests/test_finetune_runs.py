"""Fine-tuning, run by the trainer end to end: start weights and head replacement, frozen
layers and frozen BatchNorm, train_only, per-layer learning rates, gradual unfreezing (and
resuming across it), LoRA with its merged weights, and start weights that would run code."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from core.catalog import MODELS
from core.cli import ConsolePrinter
from core.config import RunConfig
from core.errors import BadInput
from core.events import BatchEnd, CheckpointSaved, EpochEnd, LayersUnfrozen, RunStarted
from core.finetune.lora import apply_lora, merge_lora
from core.models.networks import MLP, SimpleCNN
from core.train.loop import train
from run_control import StopAfter, run_dirs
from limits import HANG_S

REPO = Path(__file__).resolve().parents[1]
FC_PARAMS = 3136 * 512 + 512 + 512 * 5 + 5  # simple_cnn's fc1 + fc2 on five classes


def config(*overrides: str) -> RunConfig:
    return RunConfig().with_overrides(["training.device=cpu", *overrides])


def checkpoint(summary: dict, kind: str = "last") -> dict:
    return torch.load(Path(summary["run_dir"]) / "checkpoints" / f"{kind}.pt", weights_only=True)


def save_start(tmp_path: Path, model: nn.Module, name: str = "start.pt") -> tuple[Path, dict]:
    state = {k: v.clone() for k, v in model.state_dict().items()}
    path = tmp_path / name
    torch.save(state, path)
    return path, state


# ---------------------------------------------------------------- acceptance 1 and 2


def test_pretrain_on_0_to_4_then_fine_tune_fc_on_5_to_9(tmp_path):
    pre = train(config("training.epochs=3", "data.classes=[0, 1, 2, 3, 4]"),
                runs_dir=tmp_path / "pre")
    start = checkpoint(pre, "best")["model"]
    weights = tmp_path / "digits0-4.pt"
    torch.save(start, weights)  # a plain state_dict, as a user's own script would save it

    events: list = []
    tuned = train(config("training.epochs=6", "data.classes=[5, 6, 7, 8, 9]",
                         f"finetune.init_from={str(weights)!r}",
                         "finetune.freeze=['conv1', 'conv2']"),
                  runs_dir=tmp_path / "tuned", listeners=[events.append])
    assert events[0].notes == []  # same five-way head: everything loaded
    assert tuned["trainable_params"] == FC_PARAMS
    end = checkpoint(tuned)["model"]
    for name in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
        assert torch.equal(end[name], start[name]), name
    for name in ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"):
        assert not torch.equal(end[name], start[name]), name
    assert tuned["best_val_accuracy"] >= 0.95


def test_ten_class_weights_on_five_classes_replace_the_head(tmp_path, capsys):
    pre = train(config("training.epochs=1", "training.batch_size=128"), runs_dir=tmp_path / "pre")
    start = checkpoint(pre)["model"]
    pretrained = Path(pre["run_dir"]) / "checkpoints" / "last.pt"  # a TrainDesk checkpoint
    events: list = []
    tuned = train(config("training.epochs=1", "training.batch_size=128",
                         "data.classes=[5, 6, 7, 8, 9]", f"finetune.init_from={str(pretrained)!r}",
                         "finetune.freeze=['conv1', 'conv2', 'fc1']"),
                  runs_dir=tmp_path / "tuned", listeners=[events.append, ConsolePrinter()])
    note = "fc2 replaced: start weights have 10 classes, this dataset 5"
    started = events[0]
    assert isinstance(started, RunStarted) and started.notes == [note]
    assert tuned["init_notes"] == [note]
    assert f"start weights: {note}" in capsys.readouterr().out
    end = checkpoint(tuned)["model"]
    for name in ("conv1.weight", "conv2.bias", "fc1.weight", "fc1.bias"):  # loaded, frozen
        assert torch.equal(end[name], start[name]), name
    assert end["fc2.weight"].shape == (5, 512)


# ---------------------------------------------------------------- acceptance 3: BatchNorm


class NormNet(nn.Module):
    """A small CNN with a BatchNorm that has affine parameters and one that has none."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4),
                                      nn.ReLU(), nn.MaxPool2d(4))
        self.norm = nn.BatchNorm1d(4 * 7 * 7, affine=False)
        self.head = nn.Linear(4 * 7 * 7, classes)

    def forward(self, x):
        return self.head(self.norm(torch.flatten(self.features(x), 1)))


@pytest.fixture
def norm_net():
    """`test_norm_net` in the model catalogue for one test (a test model, not a product one)."""
    name = "test_norm_net"
    MODELS.register(name, "Test model with BatchNorm.")(
        lambda params, info: NormNet(info.num_classes))
    yield name
    MODELS._entries.pop(name)  # the catalogue has no unregister: it never needs one


STATS = ("features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
         "norm.running_mean", "norm.running_var", "norm.num_batches_tracked")


@pytest.mark.parametrize("setting, frozen", [
    ("finetune.freeze=['features', 'norm']", True),
    ("finetune.train_only=['head']", True),
    ("finetune.freeze=['features.0']", False),  # the norms themselves are not frozen
])
def test_frozen_batchnorm_keeps_its_running_statistics(tmp_path, norm_net, setting, frozen):
    torch.manual_seed(0)
    model = NormNet(10)
    with torch.no_grad():  # statistics a pretraining would have left, not the defaults
        for bn in (model.features[1], model.norm):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
            bn.num_batches_tracked.fill_(123)
    weights, start = save_start(tmp_path, model)
    summary = train(config(f"model.name={norm_net!r}", "training.epochs=1",
                           "training.batch_size=256", f"finetune.init_from={str(weights)!r}",
                           setting), runs_dir=tmp_path / "runs")
    end = checkpoint(summary)["model"]
    for name in STATS:
        assert torch.equal(end[name], start[name]) == frozen, name
    assert not torch.equal(end["head.weight"], start["head.weight"])  # it did train


# ---------------------------------------------------------------- acceptance 4: LoRA


def test_lora_trains_a_tenth_of_the_parameters_and_merges_exactly(tmp_path):
    targets = "finetune.lora_targets=['layers.1', 'layers.3']"
    events: list = []
    summary = train(config("model.name=mlp", "model.hidden_sizes=[1024, 1024]",
                           "training.epochs=3", targets, "finetune.lora_rank=4"),
                    runs_dir=tmp_path, listeners=[events.append])
    full = sum(p.numel() for p in MLP(784, [1024, 1024], "relu", 0.0, 10).parameters())
    assert full / summary["trainable_params"] >= 10
    assert summary["trainable_params"] == 4 * (784 + 1024) + 4 * (1024 + 1024) + 1024 * 10 + 10
    assert summary["total_params"] == full + 4 * (784 + 1024) + 4 * (1024 + 1024)
    assert summary["best_val_accuracy"] >= 0.8
    merged_path = Path(summary["run_dir"]) / "checkpoints" / "merged.pt"
    assert [e.kind for e in events if isinstance(e, CheckpointSaved)][-1] == "merged"

    adapted = MLP(784, [1024, 1024], "relu", 0.0, 10)
    apply_lora(adapted, ["layers.1", "layers.3"], rank=4, alpha=16.0)
    adapted.load_state_dict(checkpoint(summary)["model"])  # the checkpoint has the adapters
    adapted.eval()
    assert adapted.layers[1].lora_B.abs().sum() > 0  # the adapters did train
    x = torch.randn(64, 1, 28, 28)
    with torch.no_grad():
        expected = adapted(x)
        assert torch.allclose(merge_lora(adapted)(x), expected, atol=1e-5)
        fresh = MLP(784, [1024, 1024], "relu", 0.0, 10).eval()
        fresh.load_state_dict(torch.load(merged_path, weights_only=True), strict=True)
        assert torch.allclose(fresh(x), expected, atol=1e-5)


def test_a_lora_run_resumes_exactly(tmp_path):
    settings = config("model.name=mlp", "model.hidden_sizes=[32]", "training.epochs=2",
                      "training.batch_size=128", "finetune.lora_targets=['layers.1']",
                      "finetune.lora_rank=2", "finetune.lora_dropout=0.2")
    whole = train(settings, runs_dir=tmp_path / "whole")
    stopped = train(settings, runs_dir=tmp_path / "parts", control=StopAfter(7))
    assert stopped["status"] == "stopped"
    assert (Path(stopped["run_dir"]) / "checkpoints" / "merged.pt").is_file()
    resumed = train(None, resume_dir=Path(stopped["run_dir"]))
    for key in ("steps_completed", "best_val_loss", "final_val_accuracy", "trainable_params"):
        assert resumed[key] == whole[key], key
    for kind in ("last.pt", "merged.pt"):
        a = torch.load(Path(whole["run_dir"]) / "checkpoints" / kind, weights_only=True)
        b = torch.load(Path(resumed["run_dir"]) / "checkpoints" / kind, weights_only=True)
        for name, tensor in (a["model"] if kind == "last.pt" else a).items():
            assert torch.equal(tensor, (b["model"] if kind == "last.pt" else b)[name]), name


# ---------------------------------------------------------------- acceptance 5: unsafe files


class RunsCode:
    """Unpickling this creates `marker`: what a malicious weights file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_start_weights_that_would_run_code_are_refused(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pt"
    torch.save({"model": {"fc1.weight": RunsCode(marker)}}, path)
    run_file = tmp_path / "run.toml"
    run_file.write_text('[model]\nname = "mlp"\n\n[training]\nepochs = 1\ndevice = "cpu"\n')

    with pytest.raises(BadInput, match="needs code to load"):
        train(config("model.name=mlp", f"finetune.init_from={str(path)!r}"),
              runs_dir=tmp_path / "runs")
    result = subprocess.run(
        [sys.executable, "-m", "core", "train", str(run_file), "--runs-dir",
         str(tmp_path / "runs"), "--set", f"finetune.init_from={str(path)!r}"],
        cwd=REPO, capture_output=True, text=True, timeout=HANG_S)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "evil.pt" in lines[0]
    assert not marker.exists()
    assert run_dirs(tmp_path / "runs") == []

    # The control: loaded the unsafe way, the same file does run its code.
    with open(path, "rb") as f:
        torch.load(f, weights_only=False)
    assert marker.exists()


# ---------------------------------------------------------------- acceptance 6 and 7


def test_lr_multipliers_make_param_groups_that_schedules_scale(tmp_path):
    summary = train(config("model.name=mlp", "model.hidden_sizes=[32]", "training.epochs=2",
                           "training.batch_size=128", "optimizer.lr=0.01",
                           "scheduler.name=step", "scheduler.step_epochs=1",
                           "scheduler.gamma=0.5", "finetune.lr_multipliers={ 'layers.1' = 0.1 }"),
                    runs_dir=tmp_path)
    groups = checkpoint(summary)["optimizer"]["param_groups"]
    assert [(g["lr_multiplier"], len(g["params"])) for g in groups] == [(0.1, 2), (1.0, 2)]
    assert [g["lr"] for g in groups] == pytest.approx([0.01 * 0.1 * 0.25, 0.01 * 0.25])
    assert [g["initial_lr"] for g in groups] == pytest.approx([0.001, 0.01])
    with open(Path(summary["run_dir"]) / "metrics.csv", newline="", encoding="utf-8") as f:
        lrs = {(row["epoch"], float(row["lr"])) for row in csv.DictReader(f)
               if row["split"] == "train"}
    assert lrs == {("1", 0.01), ("2", 0.005)}  # the base rate: the group with multiplier 1


@pytest.mark.parametrize("overrides, match", [
    (["finetune.lr_multipliers={ conv9 = 0.1 }"], r"lr_multipliers: no layer named 'conv9'; "
                                                  r"this model has conv1, conv2, fc1, fc2"),
    (["finetune.train_only=['fc3']"], r"train_only: no layer named 'fc3'"),
    (["finetune.freeze=['conv1']", "finetune.train_only=['fc2']"],
     r"freeze and train_only are both set"),
    (["finetune.lora_targets=['conv']"], r"lora_targets: no layer named 'conv'"),
    (["finetune.unfreeze_every=1"], r"unfreeze_every = 1 needs frozen layers"),
])
def test_bad_finetune_settings_stop_before_a_run_folder_exists(tmp_path, overrides, match):
    with pytest.raises(BadInput, match=match):
        train(config(*overrides), runs_dir=tmp_path / "runs")
    assert run_dirs(tmp_path / "runs") == []


def test_train_only_fc2_trains_only_fc2(tmp_path):
    torch.manual_seed(3)
    weights, start = save_start(tmp_path, SimpleCNN(1, 28, 28, 10))
    summary = train(config("training.epochs=1", "training.batch_size=256",
                           f"finetune.init_from={str(weights)!r}", "finetune.train_only=['fc2']"),
                    runs_dir=tmp_path / "runs")
    assert summary["trainable_params"] == 512 * 10 + 10
    end = checkpoint(summary)["model"]
    for name, tensor in start.items():
        assert torch.equal(end[name], tensor) != name.startswith("fc2."), name


UNFREEZE = ("model.name=mlp", "model.hidden_sizes=[32, 32]", "training.epochs=3",
            "training.batch_size=128", "scheduler.name=cosine",
            "finetune.train_only=['layers.5']", "finetune.unfreeze_every=1",
            "finetune.lr_multipliers={ 'layers.1' = 0.5 }")


def test_gradual_unfreezing_releases_one_block_per_epoch(tmp_path, capsys):
    torch.manual_seed(4)
    weights, start = save_start(tmp_path, MLP(784, [32, 32], "relu", 0.0, 10))
    after_epoch: dict[int, dict] = {}

    def keep_checkpoints(event) -> None:
        if isinstance(event, CheckpointSaved) and event.kind == "last":
            after_epoch[event.epoch] = torch.load(event.path, weights_only=True)["model"]

    events: list = []
    summary = train(config(*UNFREEZE, f"finetune.init_from={str(weights)!r}",
                           "training.checkpoint_every_s=0"),  # a last.pt after every epoch
                    runs_dir=tmp_path / "runs",
                    listeners=[events.append, keep_checkpoints, ConsolePrinter()])
    unfrozen = [e for e in events if isinstance(e, LayersUnfrozen)]
    head, middle, first = 32 * 10 + 10, 32 * 32 + 32, 784 * 32 + 32
    assert unfrozen == [LayersUnfrozen(2, ["layers.3"], head + middle),
                        LayersUnfrozen(3, ["layers.1"], head + middle + first)]
    printed = capsys.readouterr().out
    assert "unfrozen layers.3 for epoch 2; 1,386 parameters trainable now" in printed
    # each LayersUnfrozen comes right before its epoch's first step
    for event in unfrozen:
        following = events[events.index(event) + 1]
        assert isinstance(following, BatchEnd) and following.epoch == event.epoch
    changed = {epoch: {name for name in start if not torch.equal(state[name], start[name])}
               for epoch, state in after_epoch.items()}
    assert changed[1] == {"layers.5.weight", "layers.5.bias"}
    assert changed[2] == changed[1] | {"layers.3.weight", "layers.3.bias"}
    assert changed[3] == changed[2] | {"layers.1.weight", "layers.1.bias"}
    assert summary["trainable_params"] == head + middle + first
    assert summary["epochs_completed"] == 3


@pytest.mark.parametrize("stop_after", [18, 12])  # inside epoch 2; at its very start
def test_resume_across_an_unfreeze_matches_an_uninterrupted_run(tmp_path, stop_after):
    whole_events: list = []
    whole = train(config(*UNFREEZE), runs_dir=tmp_path / "whole",
                  listeners=[whole_events.append])
    stopped = train(config(*UNFREEZE), runs_dir=tmp_path / "parts",
                    control=StopAfter(stop_after))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == stop_after
    events: list = []
    resumed = train(None, resume_dir=Path(stopped["run_dir"]), listeners=[events.append])
    for key in ("steps_completed", "best_val_loss", "final_val_loss", "final_val_accuracy",
                "trainable_params"):
        assert resumed[key] == whole[key], key
    a, b = checkpoint(whole), checkpoint(resumed)
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name
    assert a["optimizer"]["param_groups"] == b["optimizer"]["param_groups"]
    for index, state in a["optimizer"]["state"].items():
        for key, value in state.items():
            assert torch.equal(torch.as_tensor(value),
                               torch.as_tensor(b["optimizer"]["state"][index][key])), (index, key)
    # the resumed run announces only what it unfreezes itself
    announced = [(e.epoch, e.names) for e in events if isinstance(e, LayersUnfrozen)]
    assert announced == ([(3, ["layers.1"])] if stop_after == 18
                         else [(2, ["layers.3"]), (3, ["layers.1"])])
    assert [e.val_loss for e in events if isinstance(e, EpochEnd)] == \
        [e.val_loss for e in whole_events if isinstance(e, EpochEnd)][1:]

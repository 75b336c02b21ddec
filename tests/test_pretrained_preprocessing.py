"""torchvision's pretrained weights get their own preprocessing: the mean, std and image size
their `weights.transforms()` name (read from the weights' metadata, nothing downloaded),
recorded in the run's preprocessing, and followed by evaluation, Predict and export.

Tests never download: the hub cache holds a random resnet18 state_dict under the pretrained
file's name, as test_models_catalogue's offline_hub does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.config import RunConfig
from core.models.builders import weights_preprocessing, without_start_weights
from core.train.loop import train
from tests.run_control import run_dirs

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def test_each_weight_names_its_own_preprocessing_without_downloading():
    assert weights_preprocessing("resnet18", {"weights": "pretrained"}) == {
        "weights": "ResNet18_Weights.IMAGENET1K_V1", "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD, "size": 224, "resize_size": 256}
    # resnet50's default weights are the V2 ones, trained with a resize to 232
    assert weights_preprocessing("resnet50", {"weights": "pretrained"})["resize_size"] == 232
    assert weights_preprocessing("resnet18", {"weights": "none"}) is None
    assert weights_preprocessing("resnet18", {"weights": "file"}) is None  # origin unknown
    assert weights_preprocessing("mlp", {"weights": "pretrained"}) is None


def test_a_checkpoint_rebuild_keeps_the_pretrained_size_without_fetching_weights():
    assert without_start_weights("resnet18", {"weights": "pretrained", "image_size": 0,
                                              "weights_file": ""}) == {
        "weights": "none", "image_size": 224, "weights_file": ""}
    assert without_start_weights("resnet18", {"weights": "pretrained", "image_size": 64,
                                              "weights_file": ""})["image_size"] == 64
    assert without_start_weights("resnet18", {"weights": "file", "image_size": 0,
                                              "weights_file": "x.pth"})["image_size"] == 0


@pytest.fixture
def cached_resnet18(tmp_path, monkeypatch):
    """A private torch hub cache holding a (random) resnet18 under the pretrained file's name."""
    import torchvision

    import core.models.builders

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))

    def offline(url, path):
        raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(core.models.builders, "_download_weights", offline)
    cache = tmp_path / "torch-home" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.manual_seed(1)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(),
               cache / "resnet18-f37072fd.pth")


def _pictures(root, colour: str = "RGB"):
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("bars", "plain"):
        (root / label).mkdir(parents=True)
        for n in range(6):
            pixels = rng.integers(0, 120, (20, 20, 3), dtype=np.uint8)
            if label == "bars":
                pixels[::4] = 230
            Image.fromarray(pixels).convert(colour).save(root / label / f"{n}.png")
    return root


def _resnet_config(folder, *overrides: str) -> RunConfig:
    return RunConfig().with_overrides([
        "model.name=resnet18", "model.weights=pretrained", "data.name=image_folder",
        f"data.folder={str(folder)!r}", "data.image_size=20", "data.val_split=0.25",
        "training.epochs=1", "training.batch_size=4", "training.device=cpu", *overrides])


def test_a_pretrained_resnet18_run_normalises_and_sizes_as_its_weights(tmp_path,
                                                                        cached_resnet18):
    from core.data.memory import InMemoryData
    from core.inference.evaluation import load_run
    from core.models.networks import InputAdapter

    config = _resnet_config(_pictures(tmp_path / "pictures"), "model.image_size=32")
    events: list = []
    train(config, runs_dir=tmp_path / "runs", listeners=[events.append])
    (run_dir,) = run_dirs(tmp_path / "runs")
    stored = json.loads((run_dir / "preprocessing.json").read_text())
    assert stored["mean"] == IMAGENET_MEAN and stored["std"] == IMAGENET_STD
    assert stored["pretrained_weights"]["weights"] == "ResNet18_Weights.IMAGENET1K_V1"
    assert any(note.startswith("images normalised as ResNet18_Weights.IMAGENET1K_V1 was "
                               "trained (mean [0.485, 0.456, 0.406]")
               for note in events[0].data_notes)

    loaded = load_run(run_dir, "last")  # what evaluation, Predict and export use
    assert loaded.preprocessing["mean"] == IMAGENET_MEAN
    assert isinstance(loaded.data, InMemoryData)
    x = loaded.data.val_x[:2]
    expected = (x.float() / 255 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(loaded.data.prepare(x, False), expected, atol=1e-6)
    (adapter,) = [h for h in loaded.model._forward_pre_hooks.values()
                  if isinstance(h, InputAdapter)]
    assert adapter.size == 32  # the run's own setting wins over the weights' 224


def test_pretrained_weights_resize_to_their_size_by_default_and_grey_reads_as_rgb(
        tmp_path, cached_resnet18):
    from core.catalog import DATASETS
    from core.models.build import build_model
    from core.models.networks import InputAdapter

    config = _resnet_config(_pictures(tmp_path / "grey", "L"), "data.color=grey")
    data = DATASETS.get("image_folder").build(config.data.params, 0)
    model, notes = build_model("resnet18", config.model.params, data)
    (adapter,) = [h for h in model._forward_pre_hooks.values() if isinstance(h, InputAdapter)]
    assert adapter.size == 224
    assert "resnet18: grey images repeated to 3 channels; 20x20 images resized to 224x224" in notes
    x = data.train_x[:2]  # (2, 1, 20, 20): each RGB channel's own figures, as repeated
    prepared = data.prepare(x, False)
    assert prepared.shape == (2, 3, 20, 20)
    assert torch.allclose(prepared[:, 2], (x[:, 0].float() / 255 - 0.406) / 0.225, atol=1e-6)

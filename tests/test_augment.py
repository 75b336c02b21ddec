"""The image augmentations beyond shift, flip and rotation (core.data.image_ops through
ImageBatches): colour jitter, random resized crop, TrivialAugment and random erasing,
against values worked out by hand on tiny images, and a digits run with all of them on
that trains and resumes exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from core.catalog import DATASETS
from core.config import RunConfig
from core.data import image_ops
from core.data.image_batches import ImageBatches
from core.errors import BadInput
from core.train.loop import train
from run_control import StopAfter, mlp_config

NEW_PARAMS = ("crop_scale_min", "crop_scale_max", "brightness", "contrast", "saturation", "hue",
              "trivial_augment", "erasing")


def test_brightness_scales_each_image_by_its_drawn_factor():
    x = torch.tensor([[[[0.0, 51.0], [102.0, 204.0]]], [[[0.0, 51.0], [102.0, 204.0]]]])
    batches = ImageBatches([0.0], [1.0], brightness=0.5)
    torch.manual_seed(3)
    out = batches(x, True)
    torch.manual_seed(3)
    factors = 0.5 + torch.rand(2) * 1.0  # uniform in [1 - 0.5, 1 + 0.5]
    for image, factor in zip(out, factors.tolist()):
        expected = torch.tensor([[0.0, 0.2], [0.4, 0.8]]) * factor
        torch.testing.assert_close(image[0], expected.clamp(max=1.0))
    assert batches(x, False).equal(x / 255)  # validation batches are left alone


def test_contrast_saturation_and_hue_by_hand():
    grey = torch.tensor([[[[0.0, 0.5], [0.5, 1.0]]]])  # mean 0.5
    torch.testing.assert_close(image_ops.contrast(grey, torch.tensor([0.5])),
                               torch.tensor([[[[0.25, 0.5], [0.5, 0.75]]]]))
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    torch.testing.assert_close(image_ops.saturation(red, torch.tensor([0.0])).flatten(),
                               torch.full((3,), 0.2989))  # its luma, in every channel
    assert image_ops.saturation(grey, torch.tensor([0.0])).equal(grey)  # grey has none
    turned = image_ops.hue(torch.cat([red, red]), torch.tensor([1 / 3, -1 / 3]))
    torch.testing.assert_close(turned.flatten(1), torch.tensor([[0.0, 1.0, 0.0],
                                                               [0.0, 0.0, 1.0]]))


def test_hue_agrees_with_torchvision():
    from torchvision.transforms import functional as TF

    torch.manual_seed(0)
    x = torch.rand(1, 3, 5, 5)
    torch.testing.assert_close(image_ops.hue(x, torch.tensor([0.2])), TF.adjust_hue(x, 0.2))


def test_a_resized_crop_of_a_known_box_is_that_box_interpolated():
    x = torch.arange(2 * 36, dtype=torch.float32).view(2, 1, 6, 6)
    top, left = torch.tensor([1, 0]), torch.tensor([2, 3])
    h, w = torch.tensor([3, 6]), torch.tensor([2, 3])
    out = image_ops.resized_crops(x, top, left, h, w)
    for i in range(2):
        box = x[i:i + 1, :, top[i]:top[i] + h[i], left[i]:left[i] + w[i]]
        torch.testing.assert_close(out[i:i + 1], F.interpolate(
            box, size=(6, 6), mode="bilinear", align_corners=False))


def test_the_resized_crop_cuts_the_box_drawn_as_torchvision_does():
    x = torch.arange(4 * 64, dtype=torch.float32).view(4, 1, 8, 8)
    batches = ImageBatches([0.0], [1.0], 1.0, crop_scale=(0.2, 0.6))
    torch.manual_seed(5)
    out = batches(x, True)
    torch.manual_seed(5)
    top, left, h, w, found = image_ops.random_boxes(4, 8, 8, (0.2, 0.6), (3 / 4, 4 / 3))
    assert found.all()
    for i in range(4):
        area = int(h[i] * w[i])
        assert 0.2 * 64 * 0.7 <= area <= 0.6 * 64 * 1.3  # the share asked, up to rounding
        assert 3 / 4 * 0.7 <= int(w[i]) / int(h[i]) <= 4 / 3 * 1.5
        box = x[i:i + 1, :, top[i]:top[i] + h[i], left[i]:left[i] + w[i]]
        torch.testing.assert_close(out[i:i + 1], F.interpolate(
            box, size=(8, 8), mode="bilinear", align_corners=False))


def test_erasing_blanks_the_drawn_box_to_the_mean_after_normalising():
    x = torch.full((3, 1, 10, 10), 200.0)
    batches = ImageBatches([0.5], [0.25], erasing=1.0)
    torch.manual_seed(1)
    out = batches(x, True)
    torch.manual_seed(1)
    torch.rand(3)  # who is erased: everyone, with probability 1
    top, left, h, w, found = image_ops.random_boxes(3, 10, 10, (0.02, 0.33), (0.3, 3.3),
                                                    strict=True)
    unchanged = (200 / 255 - 0.5) / 0.25
    for i in range(3):
        inside = torch.zeros(10, 10, dtype=torch.bool)
        inside[top[i]:top[i] + h[i], left[i]:left[i] + w[i]] = True
        assert found[i] and inside.sum() == h[i] * w[i] > 0
        assert (out[i, 0][inside] == 0).all()
        torch.testing.assert_close(out[i, 0][~inside], torch.full(((~inside).sum(),),
                                                                   unchanged))


def test_erase_sets_exactly_the_box():
    x = torch.ones(2, 2, 4, 5)
    out = image_ops.erase(x, torch.tensor([True, False]), torch.tensor([1, 1]),
                          torch.tensor([2, 2]), torch.tensor([2, 2]), torch.tensor([3, 3]))
    expected = torch.ones(4, 5)
    expected[1:3, 2:5] = 0
    assert out[0, 0].equal(expected) and out[0, 1].equal(expected)
    assert out[1].equal(x[1])  # not chosen


@pytest.mark.parametrize("name, share, expected", [
    ("solarize", 0.5, [[0.2, 0.4], [0.4, 0.2]]),  # at or above 0.5 inverted
    ("posterize", 1.0, [[0.0, 0.4], [0.6, 0.8]]),  # 2 bits kept: steps of 64/255
    ("autocontrast", 0.0, [[0.0, 1 / 3], [2 / 3, 1.0]]),
    ("brightness", 0.5 / 0.99, [[0.3, 0.6], [0.9, 1.0]]),  # factor 1.5
    ("translate_x", 0.5 * 224 / 32, [[0.0, 0.2], [0.0, 0.6]]),  # half the side: one pixel
    ("identity", 0.0, [[0.2, 0.4], [0.6, 0.8]]),
])
def test_each_trivial_augment_operation_by_hand(name, share, expected):
    x = torch.tensor([[[[0.2, 0.4], [0.6, 0.8]]]])
    if name == "posterize":
        x = torch.tensor([[[[0.0, 110 / 255], [160 / 255, 210 / 255]]]])
        expected = [[0.0, 64 / 255], [128 / 255, 192 / 255]]
    index = list(image_ops.TRIVIAL_OPS).index(name)
    out = image_ops.trivial_augment(x, torch.tensor([index]), torch.tensor([share]))
    torch.testing.assert_close(out[0, 0], torch.tensor(expected), atol=1e-6, rtol=0)


def test_trivial_augment_sharpness_agrees_with_torchvision():
    from torchvision.transforms import functional as TF

    torch.manual_seed(0)
    x = torch.rand(1, 3, 6, 6)
    index = list(image_ops.TRIVIAL_OPS).index("sharpness")
    out = image_ops.trivial_augment(x, torch.tensor([index]), torch.tensor([0.5]))
    torch.testing.assert_close(out, TF.adjust_sharpness(x, 1 + 0.5 * 0.99))


def test_trivial_augment_draws_one_operation_and_step_per_image():
    torch.manual_seed(2)
    ops, shares = image_ops.draw_trivial(400)
    assert set(ops.tolist()) == set(range(len(image_ops.TRIVIAL_OPS)))
    steps = (shares.abs() * 30).round()
    assert torch.allclose(shares.abs() * 30, steps) and steps.max() == 30
    unsigned = torch.tensor([n not in image_ops.SIGNED for n in image_ops.TRIVIAL_OPS])[ops]
    assert (shares[unsigned] >= 0).all() and (shares[~unsigned] < 0).any()


def test_digits_keep_their_ink_range_under_colour_changes():
    """Digits are stored normalised: black and white are where normalising put them."""
    entry = DATASETS.get("digits", "data")
    params = {**{p.name: p.default for p in entry.params}, "brightness": 0.9, "contrast": 0.9}
    data = entry.build(params, 0)
    batches = data.batch_transform
    x = data.train_x[:64]
    torch.manual_seed(0)
    out = batches(x, True)
    assert out.min() >= batches.fill - 1e-5 and out.max() <= batches.white + 1e-5
    assert not out.equal(x)


def test_every_image_dataset_declares_the_new_augmentations():
    for name in ("digits", "mnist", "cifar10", "image_folder"):
        declared = {p.name for p in DATASETS.get(name, "data").params}
        assert set(NEW_PARAMS) <= declared, name
    entry = DATASETS.get("digits", "data")
    with pytest.raises(BadInput, match="crop_scale_min = 0.8 is above crop_scale_max = 0.5"):
        entry.build({**{p.name: p.default for p in entry.params}, "crop_scale_min": 0.8,
                     "crop_scale_max": 0.5}, 0)


AUGMENTED = ("data.crop_scale_min=0.5", "data.brightness=0.3", "data.contrast=0.3",
             "data.trivial_augment=true", "data.erasing=0.3", "data.random_crop=2")


def test_a_digits_run_with_every_augmentation_trains_and_resumes_exactly(tmp_path):
    config = mlp_config("training.batch_size=64", "training.epochs=2", *AUGMENTED)
    whole = train(config, runs_dir=tmp_path / "whole")
    assert whole["status"] == "completed" and whole["best_val_accuracy"] > 0.5
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(30))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 30
    resumed = train(RunConfig(), resume_dir=Path(stopped["run_dir"]))
    assert resumed["steps_completed"] == whole["steps_completed"]
    a, b = (torch.load(Path(s["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)["model"]
            for s in (whole, resumed))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_the_preview_shows_the_new_augmentations():
    from core.data.preview import preview_data

    entry = DATASETS.get("digits", "data")
    params = {p.name: p.default for p in entry.params}
    plain = preview_data("digits", params, max_images=8)
    for setting in ({"trivial_augment": True}, {"erasing": 1.0}, {"crop_scale_min": 0.3},
                    {"contrast": 0.8}):
        shown = preview_data("digits", {**params, **setting}, max_images=8)
        assert len(shown.augmented_images) == 8, setting
        assert any((a != b).any() for a, b in zip(shown.augmented_images, plain.images)), setting

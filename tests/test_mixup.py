"""MixUp and CutMix ([data] mixup_alpha, cutmix_alpha, mix_prob of the image datasets):
the mixed batch, CutMix's box and its share, the loss of both labels, the accuracy's
dominant label, and a mixed run stopped mid-epoch resuming exactly."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from core.catalog import DATASETS
from core.config import RunConfig
from core.data.image_batches import ImageBatches, Mix, cutmix_box
from core.train.build import build_run
from core.train.loop import mixed_loss, step_gradients, train
from run_control import StopAfter, mlp_config


def test_mixup_blends_each_image_with_its_partner():
    x = torch.tensor([1.0, 3.0, 10.0]).view(3, 1, 1, 1)
    mixed = Mix(torch.tensor([1, 0, 2]), 0.75).apply(x)
    # 0.75 * 1 + 0.25 * 3 = 1.5; 0.75 * 3 + 0.25 * 1 = 2.5; a sample paired with itself stays
    assert mixed.flatten().tolist() == [1.5, 2.5, 10.0]


def test_cutmix_box_is_centred_and_cut_at_the_border():
    # lam 0.75: sides sqrt(0.25) = half the image's, 4 of 8 pixels, 2 either side of the centre
    assert cutmix_box(0.75, 8, 8, 4, 4) == (2, 6, 2, 6)
    # at the corner the box is cut: rows 0..2, columns 5..8, 6 of 64 pixels
    assert cutmix_box(0.75, 8, 8, 0, 7) == (0, 2, 5, 8)


def test_cutmix_pastes_the_partners_box_and_lam_is_the_share_left():
    x = torch.stack([torch.zeros(1, 4, 4), torch.ones(1, 4, 4)])
    mixed = Mix(torch.tensor([1, 0]), 1 - 4 / 16, (1, 3, 0, 2)).apply(x)
    assert mixed[0, 0].tolist() == [[0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]]
    assert mixed[1, 0].tolist() == [[1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1]]
    torch.manual_seed(3)
    plan = ImageBatches([0.0], [1.0], cutmix_alpha=1.0).draw_mix(5, 8, 8)
    top, bottom, left, right = plan.box
    assert plan.lam == pytest.approx(1 - (bottom - top) * (right - left) / 64)


def test_the_loss_of_a_mixed_batch_weighs_both_labels():
    outputs = torch.tensor([[math.log(0.8), math.log(0.2)], [math.log(0.5), math.log(0.5)]])
    targets = torch.tensor([0, 1])
    loss = mixed_loss(F.cross_entropy, outputs, targets, Mix(torch.tensor([1, 0]), 0.7))
    own = (-math.log(0.8) - math.log(0.5)) / 2  # labels 0, 1
    partners = (-math.log(0.2) - math.log(0.5)) / 2  # labels 1, 0
    assert float(loss) == pytest.approx(0.7 * own + 0.3 * partners, rel=1e-6)


def test_accuracy_counts_against_the_dominant_label():
    targets = torch.tensor([4, 7, 9])
    partners = torch.tensor([2, 0, 1])
    assert Mix(partners, 0.6).dominant(targets).tolist() == [4, 7, 9]
    assert Mix(partners, 0.4).dominant(targets).tolist() == [9, 4, 7]


def test_mix_prob_and_alphas_decide_which_batches_mix():
    assert ImageBatches([0.0], [1.0]).draw_mix(4, 8, 8) is None  # both off
    assert ImageBatches([0.0], [1.0], mixup_alpha=0.4, mix_prob=0.0).draw_mix(4, 8, 8) is None
    torch.manual_seed(0)
    plans = [ImageBatches([0.0], [1.0], mixup_alpha=0.4, cutmix_alpha=1.0).draw_mix(4, 8, 8)
             for _ in range(200)]
    cut = sum(p.box is not None for p in plans)
    assert 60 < cut < 140  # one or the other, evenly
    assert all(0.0 <= p.lam <= 1.0 and sorted(p.partners.tolist()) == [0, 1, 2, 3]
               for p in plans)


def test_the_image_datasets_declare_the_mixing_parameters():
    for name in ("digits", "cifar10", "image_folder"):
        names = [p.name for p in DATASETS.get(name, "data").params]
        assert {"mixup_alpha", "cutmix_alpha", "mix_prob"} <= set(names), name


def test_a_training_step_uses_the_mixed_batch_and_both_labels(tmp_path):
    config = mlp_config("data.mixup_alpha=0.4")
    run = build_run(config, resuming=False)
    index = torch.arange(64)
    torch.manual_seed(7)
    data = run.data
    loss, _, targets = step_gradients(run, [(data.train_x[index], data.train_y[index])])
    torch.manual_seed(7)
    x, mix = data.prepare_training(data.train_x[index], data.train_y[index])
    y = data.train_y[index]
    with torch.no_grad():
        outputs = run.model(x)
    expected = (mix.lam * F.cross_entropy(outputs, y)
                + (1 - mix.lam) * F.cross_entropy(outputs, y[mix.partners]))
    assert mix is not None and 0 < mix.lam < 1
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert torch.equal(targets, mix.dominant(y))


def test_a_mixed_run_stopped_mid_epoch_resumes_exactly(tmp_path):
    config = mlp_config("training.batch_size=64", "training.epochs=2", "data.mixup_alpha=0.4",
                        "data.cutmix_alpha=1.0", "data.mix_prob=0.8")
    whole = train(config, runs_dir=tmp_path / "whole")
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(30))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 30
    resumed = train(RunConfig(), resume_dir=Path(stopped["run_dir"]))
    assert resumed["status"] == "completed"
    assert resumed["steps_completed"] == whole["steps_completed"]
    a, b = (torch.load(Path(s["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)["model"]
            for s in (whole, resumed))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_the_preview_shows_the_samples_mixed_with_their_labels():
    from core.data.preview import preview_data

    entry = DATASETS.get("digits", "data")
    params = {p.name: p.default for p in entry.params}
    plain = preview_data("digits", params, max_images=8)
    assert plain.augmented_images == []  # nothing to show without augmentation
    state = torch.get_rng_state()
    mixed = preview_data("digits", {**params, "mixup_alpha": 0.4}, max_images=8)
    assert torch.equal(torch.get_rng_state(), state)  # a preview draws on its own
    assert len(mixed.augmented_images) == 8
    torch.manual_seed(0)
    plan = ImageBatches([0.0], [1.0], mixup_alpha=0.4).draw_mix(8, 28, 28)
    first = plan.partners.tolist()[0]
    assert mixed.augmented_labels[0] == (f"0 {plan.lam:.0%} + {mixed.image_labels[first]} "
                                         f"{1 - plan.lam:.0%}")


def test_the_preview_dialog_has_an_augmented_tab(qtbot):
    from gui.dataset_preview import DataPreviewDialog
    from limits import HANG_MS

    entry = DATASETS.get("digits", "data")
    params = {**{p.name: p.default for p in entry.params}, "cutmix_alpha": 1.0}
    dialog = DataPreviewDialog("digits", params)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.is_loading() and dialog.tabs.count() > 0, timeout=HANG_MS)
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert tabs[:2] == ["Samples", "Augmented"]
    captions = [label.text() for label in dialog.augmented_grid.findChildren(
        type(dialog.summary_label)) if label.pixmap().isNull()]
    assert len(captions) == 32 and " + " in captions[0]

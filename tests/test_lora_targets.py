"""LoRA's targets ticked in the Layers tab (a LoRA column on the model's Linear and Conv2d
layers), and rsLoRA's scaling (alpha / sqrt(rank)) through training, merging and export."""

from __future__ import annotations

import math

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem
from torch import nn

from core.config import RunConfig
from core.finetune.lora import LoRALinear, apply_lora, lora_candidates, merge_lora
from core.train.loop import train
from gui.layers_panel import LORA
from tests.run_control import mlp_config, run_dirs
from tests.test_gui_layers import open_layers, set_config

CHECKED, UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked


def test_rslora_scales_by_the_square_root_of_the_rank_and_merges_alike():
    torch.manual_seed(0)
    base = nn.Linear(6, 4)
    plain, stable = LoRALinear(base, 4, 8.0), LoRALinear(base, 4, 8.0, rslora=True)
    assert plain.scaling == 2.0 and stable.scaling == 8.0 / math.sqrt(4) == 4.0
    model = nn.Sequential(nn.Linear(6, 4))
    apply_lora(model, ["0"], rank=4, alpha=8.0, rslora=True)
    with torch.no_grad():
        model[0].lora_B.normal_()
    x = torch.randn(3, 6)
    expected = model[0].base(x) + 4.0 * x @ model[0].lora_A.T @ model[0].lora_B.T
    assert torch.allclose(model(x), expected, atol=1e-5)
    assert torch.allclose(merge_lora(model)(x), expected, atol=1e-5)


def test_a_run_with_rslora_writes_merged_weights_scaled_by_sqrt_rank(tmp_path):
    config = mlp_config("training.epochs=1", "finetune.lora_targets=['layers.1']",
                        "finetune.lora_rank=4", "finetune.lora_alpha=8.0",
                        "finetune.lora_rslora=true")
    assert RunConfig.from_toml(config.to_toml()).finetune.lora_rslora is True
    train(config, runs_dir=tmp_path)
    (run_dir,) = run_dirs(tmp_path)
    last = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]
    merged = torch.load(run_dir / "checkpoints" / "merged.pt", weights_only=True)
    delta = last["layers.1.lora_B"] @ last["layers.1.lora_A"] * (8.0 / math.sqrt(4))
    assert torch.allclose(merged["layers.1.weight"], last["layers.1.base.weight"] + delta,
                          atol=1e-6)


def test_grouped_convolutions_are_not_offered():
    import torchvision

    model = torchvision.models.mobilenet_v3_small(weights=None)
    names = lora_candidates(model)
    assert "features.0.0" in names and "classifier.0" in names
    assert "features.1.block.0.0" not in names  # depthwise: groups = 16


def _click_lora_box(qtbot, panel, name: str) -> None:
    tree = panel.tree
    item = panel.lora_item(name)
    tree.scrollToItem(item)
    option = QStyleOptionViewItem()
    tree.initViewItemOption(option)
    option.rect = tree.visualRect(tree.indexFromItem(item, LORA))
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option,
                                      tree)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=box.center())


def test_lora_targets_are_ticked_in_the_layers_tab(window, qtbot):
    panel = open_layers(window, qtbot)  # simple_cnn: conv1, conv2, fc1, fc2
    assert [name for name in ("conv1", "conv2", "fc1", "fc2", "pool")
            if panel.lora_item(name) is not None] == ["conv1", "conv2", "fc1", "fc2"]
    assert panel.lora_item("fc1").checkState(LORA) == UNCHECKED
    _click_lora_box(qtbot, panel, "fc1")
    _click_lora_box(qtbot, panel, "conv2")
    assert window.setup_panel.config().finetune.lora_targets == ["conv2", "fc1"]  # model order
    assert panel.item("fc1").checkState(0) == CHECKED  # the freeze tick is another column
    _click_lora_box(qtbot, panel, "fc1")
    assert window.setup_panel.config().finetune.lora_targets == ["conv2"]

    raw = RunConfig().to_dict()
    raw["finetune"]["lora_targets"] = ["fc2"]
    set_config(window, qtbot, raw)  # a run file's targets show as ticks
    qtbot.waitUntil(lambda: panel.lora_item("fc2").checkState(LORA) == CHECKED)
    assert panel.lora_item("conv2").checkState(LORA) == UNCHECKED

"""FLOPs per sample in the model summary (torch's FlopCounterMode) and the Layers tab."""

from __future__ import annotations

import torch
from torch import nn

from core.config import RunConfig
from core.models.summary import format_flops, summarize_module
from gui.layers_panel import LayersPanel
from limits import HANG_MS


def test_flops_per_sample_against_hand_counts():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(18, 3))
    summary = summarize_module(model, torch.randn(2, 1, 5, 5))
    # conv: 2 channels x 3 x 3 outputs, each 9 multiply-adds: 2 * 9 * 18 = 324;
    # linear: 18 x 3 multiply-adds: 2 * 54 = 108 (bias additions are not counted)
    assert summary.flops_per_sample == 324 + 108


def test_flops_read_as_people_read_them():
    assert format_flops(864) == "864 FLOPs"
    assert format_flops(1_234_567) == "1.23 MFLOPs"
    assert format_flops(4_100_000_000) == "4.1 GFLOPs"


def test_the_layers_tab_names_the_flops_per_sample(qtbot, monkeypatch):
    monkeypatch.setattr("gui.layers_panel.summarize_model", lambda config: summarize_module(
        nn.Sequential(nn.Linear(1000, 2000)), torch.randn(2, 1000), "custom", "numbers", 2000))
    layers = LayersPanel(lambda: RunConfig.from_dict({}))
    qtbot.addWidget(layers)
    layers.show()
    layers.set_torch_ready()
    qtbot.waitUntil(lambda: not layers.busy and not layers.tree.isHidden(), timeout=HANG_MS)
    # 1000 x 2000 multiply-adds, 2 FLOPs each
    assert layers.title.text().endswith(
        " One sample's forward pass: 4 MFLOPs (a multiply-add counts 2).")

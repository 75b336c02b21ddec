"""The Layers tab: tick the layers that train, see the counts, and the run trains exactly
those; buttons, partial parents, train_only run files, and start weights from earlier runs."""

from __future__ import annotations

import json
import os

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem
from torch import nn

from core.catalog import CATALOGUES
from core.config import RunConfig
from core.data.memory import DataInfo
from core.models.summary import summarize_module
from gui.layers_panel import LayersPanel
from gui.run_setup import RunSetupPanel
from gui.start_weights import run_checkpoints
from limits import HANG_MS

CHECKED, PARTLY, UNCHECKED = (Qt.CheckState.Checked, Qt.CheckState.PartiallyChecked,
                              Qt.CheckState.Unchecked)


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_layers(window, qtbot) -> LayersPanel:
    """Open the Layers tab the way a user does, and wait until its tree is up to date."""
    click(qtbot, window.setup_panel.layers_button)
    panel = window.layers_panel
    assert window.tabs.currentWidget() is panel
    wait_for_tree(qtbot, panel)
    return panel


def wait_for_tree(qtbot, panel: LayersPanel) -> None:
    qtbot.waitUntil(lambda: not panel.busy and not panel.tree.isHidden(), timeout=HANG_MS)


def click_check_box(qtbot, panel: LayersPanel, name: str) -> None:
    """Click the check box of a layer's row with the mouse, where the style draws it."""
    tree = panel.tree
    item = panel.item(name)
    tree.scrollToItem(item)
    option = QStyleOptionViewItem()
    tree.initViewItemOption(option)
    option.rect = tree.visualRect(tree.indexFromItem(item, 0))
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = tree.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option,
                                      tree)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=box.center())


def states(panel: LayersPanel, names) -> list:
    return [panel.item(name).checkState(0) for name in names]


def set_config(window, qtbot, raw: dict) -> None:
    window.setup_panel.set_config(RunConfig.from_dict(raw))
    qtbot.waitUntil(lambda: not window.layers_panel.busy, timeout=HANG_MS)


def test_unticked_layers_keep_their_weights_in_a_run(window, qtbot, tmp_path):
    # Start weights saved from a fresh simple_cnn, so frozen layers can be compared bit for bit.
    entry = CATALOGUES["model"].get("simple_cnn")
    torch.manual_seed(12345)
    start = entry.build(entry.check_params({}, "model"), DataInfo((1, 28, 28), 10)).state_dict()
    start_file = tmp_path / "start.pt"
    torch.save(start, start_file)

    panel = window.setup_panel
    qtbot.keyClicks(panel.init_from_field.line_edit, str(start_file))
    epochs = panel.training_form.fields["epochs"]
    epochs.lineEdit().selectAll()
    qtbot.keyClicks(epochs, "1")
    panel.device_field.setCurrentIndex(panel.device_field.findText("cpu"))

    layers = open_layers(window, qtbot)
    assert layers.count_label.text() == "Trainable: 1,630,090 of 1,630,090 parameters (100.0%)"
    click_check_box(qtbot, layers, "conv1")
    click_check_box(qtbot, layers, "conv2")
    assert states(layers, ["conv1", "conv2", "fc1", "fc2"]) == [UNCHECKED, UNCHECKED, CHECKED,
                                                              CHECKED]
    label = "Trainable: 1,611,274 of 1,630,090 parameters (98.8%)"
    assert layers.count_label.text() == label
    config = panel.config()
    assert (config.finetune.freeze, config.finetune.train_only) == (["conv1", "conv2"], [])
    assert panel.finetune_form.fields["freeze"].text() == "conv1, conv2"
    wait_for_tree(qtbot, layers)  # the settings' echo of the click changes nothing
    assert layers.count_label.text() == label

    with qtbot.waitSignal(window.run_ended, timeout=HANG_MS):
        click(qtbot, window.start_button)
    assert window.message_bar.isHidden(), window.message_bar.text()
    run_dir = next((tmp_path / "runs").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "completed"
    assert f"{summary['trainable_params']:,} of {summary['total_params']:,}" in label
    trained = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]
    for name in ("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"):
        assert torch.equal(trained[name], start[name]), name
    for name in ("fc1.weight", "fc2.weight"):
        assert not torch.equal(trained[name], start[name]), name


def test_buttons_freeze_all_unfreeze_all_head_and_up_to_the_selected_layer(window, qtbot):
    layers = open_layers(window, qtbot)
    freeze = window.setup_panel.finetune_form.fields["freeze"]
    names = ["conv1", "conv2", "fc1", "fc2"]
    assert not layers.up_to_button.isEnabled()  # nothing selected yet

    click(qtbot, layers.freeze_all_button)
    assert states(layers, names) == [UNCHECKED] * 4
    assert layers.count_label.text().startswith("Trainable: 0 of 1,630,090 parameters (0.0%)")
    assert "Nothing would train" in layers.count_label.text()
    assert window.setup_panel.config().finetune.freeze == names

    click(qtbot, layers.unfreeze_all_button)
    assert states(layers, names) == [CHECKED] * 4
    assert freeze.text() == ""

    click(qtbot, layers.head_button)
    assert states(layers, names) == [UNCHECKED, UNCHECKED, UNCHECKED, CHECKED]
    assert layers.count_label.text() == "Trainable: 5,130 of 1,630,090 parameters (0.3%)"
    assert freeze.text() == "conv1, conv2, fc1"

    layers.tree.setCurrentItem(layers.item("conv2"))
    assert layers.up_to_button.isEnabled()
    click(qtbot, layers.up_to_button)
    assert states(layers, names) == [UNCHECKED, UNCHECKED, CHECKED, CHECKED]
    assert freeze.text() == "conv1, conv2"


def test_a_partly_trainable_parent_shows_the_partial_state(window, qtbot):
    layers = open_layers(window, qtbot)
    set_config(window, qtbot, {"model": {"name": "mlp"}})
    assert not layers.tree.isHidden()
    linear = ["layers.1", "layers.3", "layers.5"]
    assert states(layers, ["layers", *linear]) == [CHECKED] * 4
    relu = layers.item("layers.2")  # no weights: no box
    assert relu.data(0, Qt.ItemDataRole.CheckStateRole) is None
    assert not relu.flags() & Qt.ItemFlag.ItemIsUserCheckable

    click_check_box(qtbot, layers, "layers.1")
    assert states(layers, ["layers", *linear]) == [PARTLY, UNCHECKED, CHECKED, CHECKED]
    assert window.setup_panel.config().finetune.freeze == ["layers.1"]

    click_check_box(qtbot, layers, "layers")  # a partial parent ticked: all of it trains
    assert states(layers, ["layers", *linear]) == [CHECKED] * 4
    click_check_box(qtbot, layers, "layers")
    assert states(layers, ["layers", *linear]) == [UNCHECKED] * 4
    assert window.setup_panel.config().finetune.freeze == ["layers"]


def test_a_run_file_with_train_only_shows_in_the_tree(window, qtbot):
    layers = open_layers(window, qtbot)
    set_config(window, qtbot, {"model": {"name": "mlp"}, "finetune": {"train_only": ["layers.5"]}})
    assert states(layers, ["layers", "layers.1", "layers.3", "layers.5"]) == \
        [PARTLY, UNCHECKED, UNCHECKED, CHECKED]
    assert layers.count_label.text() == "Trainable: 1,290 of 235,146 parameters (0.5%)"
    finetune = window.setup_panel.config().finetune
    assert (finetune.freeze, finetune.train_only) == ([], ["layers.5"])  # untouched until a click

    click_check_box(qtbot, layers, "layers.3")
    finetune = window.setup_panel.config().finetune
    assert (finetune.freeze, finetune.train_only) == (["layers.1"], [])
    assert layers.count_label.text() == "Trainable: 34,186 of 235,146 parameters (14.5%)"


def test_the_tree_follows_the_model_and_reports_bad_settings(window, qtbot):
    layers = open_layers(window, qtbot)
    model = window.setup_panel.pickers["model"]
    model.combo.setCurrentIndex(model.combo.findText("mlp"))
    wait_for_tree(qtbot, layers)
    assert layers.summary.model_name == "mlp"
    assert layers.item("layers.5").text(1) == "Linear"

    sizes = model.forms["mlp"].fields["hidden_sizes"]
    sizes.clear()
    qtbot.keyClicks(sizes, "abc")
    qtbot.waitUntil(lambda: not layers.busy and layers.tree.isHidden())
    assert "hidden_sizes" in layers.message.text() and layers.message.isVisible()
    assert not layers.freeze_all_button.isEnabled()

    sizes.clear()
    qtbot.keyClicks(sizes, "32")
    wait_for_tree(qtbot, layers)
    assert layers.item("layers.1").text(3) == "25,120"  # 784 * 32 + 32
    assert layers.item("layers.1").text(2) == "32"

    set_config(window, qtbot, {"data": {"classes": [3, 5]}})
    assert layers.item("fc2").text(2) == "2"
    loss = window.setup_panel.pickers["loss"].combo
    loss.setCurrentIndex(loss.findText("bce_with_logits"))  # one logit for two classes
    wait_for_tree(qtbot, layers)
    assert layers.item("fc2").text(2) == "1"

    set_config(window, qtbot, {"model": {"name": "simple_cnn"}, "data": {"name": "iris"}})
    qtbot.waitUntil(lambda: not layers.busy)
    assert layers.tree.isHidden()
    assert layers.message.text().startswith("This model cannot be built: simple_cnn needs "
                                            "images")


def test_names_the_model_lacks_are_pointed_out(window, qtbot):
    layers = open_layers(window, qtbot)
    set_config(window, qtbot, {"finetune": {"freeze": ["conv1", "encoder"], "unfreeze_every": 2,
                                            "lora_targets": ["fc1"]}})
    notes = layers.notes.text()
    assert "'encoder'" in notes and "Gradual unfreezing" in notes and "LoRA" in notes
    assert layers.notes.isVisible()
    assert states(layers, ["conv1", "conv2"]) == [UNCHECKED, CHECKED]  # what does fit is shown
    click(qtbot, layers.unfreeze_all_button)
    assert window.setup_panel.config().finetune.freeze == []


def test_the_panel_waits_for_torch(qtbot):
    setup = RunSetupPanel()
    layers = LayersPanel(setup.config)
    qtbot.addWidget(setup)
    qtbot.addWidget(layers)
    layers.show()
    assert layers.message.text() == "Loading PyTorch…" and layers.tree.isHidden()
    layers.set_torch_ready()
    wait_for_tree(qtbot, layers)
    assert [layer.name for layer in layers.summary.layers()] == ["conv1", "conv2", "fc1", "fc2"]


class WithOwnWeights(nn.Module):
    """Weights directly on modules that also have sub-modules (as a class token would)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(4))
        self.body = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
        self.body.shift = nn.Parameter(torch.zeros(3))
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.body(x * self.scale) + self.body.shift)


def test_weights_beside_sub_modules_get_rows_of_their_own(qtbot, monkeypatch):
    monkeypatch.setattr("gui.layers_panel.summarize_model", lambda config: summarize_module(
        WithOwnWeights(), torch.randn(2, 4), "custom", "numbers", 2))
    layers = LayersPanel(lambda: RunConfig.from_dict({}))
    qtbot.addWidget(layers)
    chosen = []
    layers.freeze_chosen.connect(chosen.append)
    layers.show()
    layers.set_torch_ready()
    wait_for_tree(qtbot, layers)
    tree = layers.tree
    assert [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())] == \
        ["scale", "body", "head"]
    assert layers.item("body.shift").text(1) == "Parameter"

    click_check_box(qtbot, layers, "body.shift")
    assert states(layers, ["scale", "body", "body.0", "body.shift", "head"]) == \
        [CHECKED, PARTLY, CHECKED, UNCHECKED, CHECKED]
    click_check_box(qtbot, layers, "scale")
    assert chosen[-1] == ["scale", "body.shift"]
    assert layers.count_label.text() == "Trainable: 23 of 30 parameters (76.7%)"


def make_run(runs_dir, name: str, kinds: tuple[str, ...], mtime: int) -> None:
    checkpoints = runs_dir / name / "checkpoints"
    checkpoints.mkdir(parents=True)
    for kind in kinds:
        path = checkpoints / f"{kind}.pt"
        path.write_bytes(b"")
        os.utime(path, (mtime, mtime))


def test_start_weights_can_come_from_an_earlier_run(qtbot, tmp_path):
    runs = tmp_path / "runs"
    make_run(runs, "20260101-090000-mlp-digits", ("best", "last"), 1_000)
    make_run(runs, "20260102-090000-simple_cnn-digits", ("last",), 3_000)
    make_run(runs, "20260103-090000-simple_cnn-digits", (), 4_000)  # failed before saving
    assert [label for label, _ in run_checkpoints(runs)] == [
        "20260102-090000-simple_cnn-digits · last",
        "20260101-090000-mlp-digits · best", "20260101-090000-mlp-digits · last"]

    setup = RunSetupPanel(runs)
    qtbot.addWidget(setup)
    field = setup.init_from_field
    field.runs_menu.aboutToShow.emit()
    actions = field.runs_menu.actions()
    assert [action.text() for action in actions] == [label for label, _ in run_checkpoints(runs)]
    actions[1].trigger()
    best = runs / "20260101-090000-mlp-digits" / "checkpoints" / "best.pt"
    assert setup.config().finetune.init_from == str(best)


def test_no_earlier_runs_says_so(qtbot, tmp_path):
    setup = RunSetupPanel(tmp_path / "runs")
    qtbot.addWidget(setup)
    setup.init_from_field.runs_menu.aboutToShow.emit()
    [action] = setup.init_from_field.runs_menu.actions()
    assert action.text().startswith("No run with a checkpoint yet") and not action.isEnabled()

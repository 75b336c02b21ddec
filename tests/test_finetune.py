"""Fine-tuning: the article's weights load into simple_cnn; weight files are loaded safely;
freezing goes by whole module names."""

from __future__ import annotations

import pickle

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from core.catalog import CATALOGUES
from core.config import FinetuneSettings
from core.errors import BadInput
from core.data.memory import DataInfo
from core.finetune.freezing import apply_freezing, prepare_finetune, top_level_blocks
from core.finetune.lora import (LoRAConv2d, LoRALinear, apply_lora, lora_candidates, merge_lora,
                                merged_state_dict)
from core.finetune.weights import load_initial_weights, load_weights_file, output_layer
from core.models.build import build_model_for


class ArticleNet(nn.Module):
    """The network exactly as the original article writes it."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(64 * 7 * 7, 512)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 64 * 7 * 7)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


class Opaque:
    """Something that needs code to unpickle."""

    def __init__(self):
        self.weights = torch.ones(3)


def _model(name: str, num_classes: int, params: dict):
    entry = CATALOGUES["model"].get(name)
    return build_model_for(name, entry.check_params(params, "model"),
                           DataInfo((1, 28, 28), num_classes, "image"))[0]


def _simple_cnn(num_classes=10):
    return _model("simple_cnn", num_classes, {})


def _mlp(num_classes=10, **params):
    return _model("mlp", num_classes, params)


def _trainable(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_simple_cnn_has_the_articles_names_and_shapes():
    shapes = {name: tuple(t.shape) for name, t in _simple_cnn().state_dict().items()}
    assert shapes == {
        "conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,),
        "conv2.weight": (64, 32, 3, 3), "conv2.bias": (64,),
        "fc1.weight": (512, 3136), "fc1.bias": (512,),
        "fc2.weight": (10, 512), "fc2.bias": (10,),
    }


def test_articles_state_dict_loads_unchanged_and_computes_the_same(tmp_path):
    torch.manual_seed(123)
    article = ArticleNet().eval()
    path = tmp_path / "article.pt"
    torch.save(article.state_dict(), path)

    model = _simple_cnn()
    load_initial_weights(model, path)
    for name, tensor in article.state_dict().items():
        assert torch.equal(model.state_dict()[name], tensor), name
    x = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model.eval()(x), article(x), atol=1e-6)


def test_a_traindesk_checkpoint_loads_its_model_part(tmp_path):
    source = _mlp(hidden_sizes=[8])
    path = tmp_path / "ckpt.pt"
    torch.save({"model": source.state_dict(), "optimizer": {}, "format": 1}, path)
    target = _mlp(hidden_sizes=[8])
    load_initial_weights(target, path)
    for name, tensor in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], tensor)


def test_weights_of_another_architecture_are_refused_with_the_mismatch_listed(tmp_path):
    path = tmp_path / "mlp.pt"
    torch.save(_mlp().state_dict(), path)
    with pytest.raises(BadInput) as info:
        load_initial_weights(_simple_cnn(), path)
    message = str(info.value)
    assert "do not fit" in message
    assert "missing conv1.weight" in message and "unexpected layers.1.weight" in message


def test_weights_with_other_shapes_list_each_difference(tmp_path):
    path = tmp_path / "wide.pt"
    torch.save(_mlp(hidden_sizes=[16]).state_dict(), path)
    model = _mlp(hidden_sizes=[8])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(BadInput, match=r"shape differs: layers\.1\.weight \(16, 784\) vs "
                                       r"\(8, 784\), layers\.1\.bias \(16,\) vs \(8,\), "
                                       r"layers\.3\.weight \(10, 16\) vs \(10, 8\)"):
        load_initial_weights(model, path)
    for name, tensor in model.state_dict().items():  # nothing was half-loaded
        assert torch.equal(tensor, before[name])


@pytest.mark.parametrize("start_classes, classes", [(10, 5), (5, 10)])
def test_only_the_output_layer_misfitting_replaces_the_head(tmp_path, start_classes, classes):
    torch.manual_seed(1)
    source = _simple_cnn(num_classes=start_classes).state_dict()
    path = tmp_path / "start.pt"
    torch.save(source, path)
    model = _simple_cnn(num_classes=classes)
    fresh_head = {k: v.clone() for k, v in model.state_dict().items() if k.startswith("fc2.")}
    notes = load_initial_weights(model, path)
    assert notes == [f"fc2 replaced: start weights have {start_classes} classes, "
                     f"this dataset {classes}"]
    for name, tensor in model.state_dict().items():
        expected = fresh_head[name] if name.startswith("fc2.") else source[name]
        assert torch.equal(tensor, expected), name


def test_mlp_output_layer_is_its_last_linear(tmp_path):
    path = tmp_path / "start.pt"
    torch.save(_mlp(hidden_sizes=[8, 8]).state_dict(), path)
    model = _mlp(3, hidden_sizes=[8, 8])
    assert output_layer(model) == "layers.5"
    assert load_initial_weights(model, path) == [
        "layers.5 replaced: start weights have 10 classes, this dataset 3"]


def test_same_shapes_load_everything_without_notes(tmp_path):
    path = tmp_path / "start.pt"
    torch.save(_simple_cnn().state_dict(), path)
    assert load_initial_weights(_simple_cnn(), path) == []


def test_load_matching_only_loads_whole_fitting_layers_and_lists_the_rest(tmp_path):
    torch.manual_seed(2)
    source = _mlp(hidden_sizes=[8, 16]).state_dict()
    path = tmp_path / "start.pt"
    torch.save(source, path)
    model = _mlp(hidden_sizes=[8, 32])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(BadInput, match="load_matching_only"):
        load_initial_weights(model, path)
    notes = load_initial_weights(model, path, matching_only=True)
    assert notes == [
        "layers.3 kept fresh: weight (16, 8) in the start weights vs (32, 8), "
        "bias (16,) in the start weights vs (32,)",
        "layers.5 kept fresh: weight (10, 16) in the start weights vs (10, 32)"]
    state = model.state_dict()
    assert torch.equal(state["layers.1.weight"], source["layers.1.weight"])
    assert torch.equal(state["layers.1.bias"], source["layers.1.bias"])
    # layers.5.bias has the same shape, but its layer loads whole or not at all
    for name in ("layers.3.weight", "layers.3.bias", "layers.5.weight", "layers.5.bias"):
        assert torch.equal(state[name], before[name]), name


def test_load_matching_only_lists_missing_and_unused_layers(tmp_path):
    path = tmp_path / "mlp.pt"
    torch.save(_mlp(hidden_sizes=[8]).state_dict(), path)
    with pytest.raises(BadInput, match="no layer of the weights in .* fits this model"):
        load_initial_weights(_simple_cnn(), path, matching_only=True)
    source = _simple_cnn().state_dict()
    partial = {k: v for k, v in source.items() if not k.startswith("conv1.")}
    partial["extra.weight"] = torch.ones(2)
    torch.save(partial, path)
    assert load_initial_weights(_simple_cnn(), path, matching_only=True) == [
        "conv1 kept fresh: weight not in the start weights, bias not in the start weights",
        "not used from the start weights: extra.weight"]


def test_lora_checkpoint_as_start_weights_points_to_merged_pt(tmp_path):
    model = _mlp(hidden_sizes=[8])
    apply_lora(model, ["layers.1"], rank=2, alpha=2.0)
    path = tmp_path / "last.pt"
    torch.save({"model": model.state_dict()}, path)
    with pytest.raises(BadInput, match="LoRA run's adapted weights; start from that run's "
                                       "checkpoints/merged.pt"):
        load_initial_weights(_mlp(hidden_sizes=[8]), path)


def test_missing_and_empty_files_are_bad_input(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        load_weights_file(tmp_path / "nowhere.pt")
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(BadInput, match=r"empty \(0 bytes\)"):
        load_weights_file(empty)


def test_garbage_file_is_bad_input(tmp_path):
    path = tmp_path / "garbage.pt"
    path.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(BadInput, match="garbage.pt"):
        load_weights_file(path)


def test_file_that_needs_code_to_load_is_refused(tmp_path):
    path = tmp_path / "opaque.pt"
    torch.save({"model": Opaque()}, path)
    with pytest.raises(BadInput, match="needs code to load") as info:
        load_weights_file(path)
    assert "\n" not in str(info.value)


def test_plain_pickle_of_an_object_is_refused(tmp_path, monkeypatch, recwarn):
    path = tmp_path / "object.pkl"
    with open(path, "wb") as f:
        pickle.dump(Opaque(), f)
    executed = []
    monkeypatch.setattr(Opaque, "__setstate__", lambda self, state: executed.append(state),
                        raising=False)
    with pytest.raises(BadInput, match="object.pkl"):
        load_weights_file(path)
    assert executed == []  # the object was never rebuilt
    assert [str(w.message) for w in recwarn] == []  # the one-line refusal is all users see


def test_mapping_without_tensors_is_not_a_state_dict(tmp_path):
    path = tmp_path / "numbers.pt"
    torch.save({"lr": 0.1, "epochs": 3}, path)
    with pytest.raises(BadInput, match="holds no state_dict"):
        load_weights_file(path)


class Layers(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Linear(2, 2)
        self.conv10 = nn.Linear(2, 2)
        self.head = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))


def test_freeze_matches_whole_module_names():
    model = Layers()
    apply_freezing(model, ["conv1", "head.2"], [])
    frozen = sorted(name for name, p in model.named_parameters() if not p.requires_grad)
    assert frozen == ["conv1.bias", "conv1.weight", "head.2.bias", "head.2.weight"]
    assert _trainable(model) == 2 * 2 + 2 + 2 * 3 + 3


def test_freeze_unknown_name_lists_the_modules():
    model = Layers()
    with pytest.raises(BadInput, match=r"no layer named 'conv'; this model has conv1, conv10, "
                                       r"head\.0, head\.2"):
        apply_freezing(model, ["conv"], [])
    assert all(p.requires_grad for p in model.parameters())  # nothing frozen on error


def test_freeze_and_train_only_together_are_bad_input():
    model = Layers()
    with pytest.raises(BadInput, match="freeze and train_only are both set"):
        apply_freezing(model, ["conv1"], ["head"])
    assert all(p.requires_grad for p in model.parameters())


def test_train_only_freezes_everything_else():
    model = Layers()
    apply_freezing(model, [], ["head.2", "conv10"])
    trainable = sorted(name for name, p in model.named_parameters() if p.requires_grad)
    assert trainable == ["conv10.bias", "conv10.weight", "head.2.bias", "head.2.weight"]


@pytest.mark.parametrize("setting", ["train_only", "lr_multipliers", "freeze"])
def test_unknown_names_in_any_setting_list_the_layers(setting):
    model = Layers()
    value = {"conv": 0.1} if setting == "lr_multipliers" else ["conv"]
    with pytest.raises(BadInput, match=rf"\[finetune\] {setting}: no layer named 'conv'; this "
                                       r"model has conv1, conv10, head\.0, head\.2"):
        prepare_finetune(model, FinetuneSettings(**{setting: value}), epochs=1)
    assert all(p.requires_grad for p in model.parameters())


def test_unknown_lora_target_lists_the_linear_and_conv_layers():
    model = _simple_cnn()
    with pytest.raises(BadInput, match=r"lora_targets: no layer named 'fc3'; this model's Linear "
                                       r"and Conv2d layers are conv1, conv2, fc1, fc2"):
        prepare_finetune(model, FinetuneSettings(lora_targets=["fc3"]), epochs=1)
    with pytest.raises(BadInput, match=r"'layers' is a Sequential, not a Linear or Conv2d"):
        apply_lora(_mlp(), ["layers"], rank=2, alpha=2.0)
    assert lora_candidates(_mlp(hidden_sizes=[8])) == ["layers.1", "layers.3"]


def test_unfreeze_every_needs_something_frozen():
    with pytest.raises(BadInput, match=r"unfreeze_every = 2 needs frozen layers"):
        prepare_finetune(_simple_cnn(), FinetuneSettings(unfreeze_every=2), epochs=4)


def test_blocks_are_top_level_layers_and_unfreeze_from_the_output_side():
    assert top_level_blocks(_simple_cnn()) == ["conv1", "conv2", "fc1", "fc2"]
    assert top_level_blocks(_mlp(hidden_sizes=[8, 8])) == ["layers.1", "layers.3", "layers.5"]
    model = _simple_cnn()
    plan = prepare_finetune(model, FinetuneSettings(train_only=["fc2"], unfreeze_every=2),
                            epochs=10)
    assert plan.unfreeze_order == ["fc1", "conv2", "conv1"]
    assert [plan.unfrozen_count(e) for e in range(1, 10)] == [0, 0, 1, 1, 2, 2, 3, 3, 3]
    assert plan.unfreeze_for_epoch(2) == []
    assert plan.unfreeze_for_epoch(5) == ["fc1", "conv2"]  # a resumed run catches up at once
    assert plan.unfreeze_for_epoch(5) == []
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "conv2.weight",
                         "conv2.bias"}


def test_lr_multipliers_make_groups_by_the_longest_matching_prefix():
    model = Layers()
    plan = prepare_finetune(model, FinetuneSettings(
        freeze=["conv10"], lr_multipliers={"head": 0.1, "head.2": 0.5, "conv1": 2.0}), epochs=1)
    groups = [(g["lr_multiplier"], [id(p) for p in g["params"]])
              for g in plan.optimizer_groups()]
    named = dict(model.named_parameters())
    assert groups == [
        (2.0, [id(named["conv1.weight"]), id(named["conv1.bias"])]),
        (0.1, [id(named["head.0.weight"]), id(named["head.0.bias"])]),
        (0.5, [id(named["head.2.weight"]), id(named["head.2.bias"])]),
    ]  # conv10 is frozen for good: not in the optimizer


def test_blocks_to_unfreeze_get_their_own_groups_up_front():
    model = _simple_cnn()
    plan = prepare_finetune(model, FinetuneSettings(
        freeze=["conv1", "conv2"], unfreeze_every=1, lr_multipliers={"conv1": 0.1}), epochs=2)
    groups = plan.optimizer_groups()
    named = {id(p): n for n, p in model.named_parameters()}
    assert [(g["lr_multiplier"], [named[id(p)] for p in g["params"]]) for g in groups] == [
        (1.0, ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]),
        (1.0, ["conv2.weight", "conv2.bias"]),  # unfrozen for epoch 2; conv1 never in 2 epochs
    ]
    assert not model.conv2.weight.requires_grad


# ---------------------------------------------------------------- LoRA


def test_lora_linear_starts_as_the_base_and_merges_exactly():
    torch.manual_seed(3)
    base = nn.Linear(20, 30)
    x = torch.randn(5, 20)
    expected = base(x).detach()
    layer = LoRALinear(base, rank=4, alpha=8.0)
    assert torch.equal(layer(x), expected)  # B starts at zero
    assert layer.scaling == 2.0
    assert [n for n, p in layer.named_parameters() if p.requires_grad] == ["lora_A", "lora_B"]
    with torch.no_grad():
        layer.lora_B.normal_()
    merged = layer.merged()
    assert torch.allclose(merged(x), layer(x), atol=1e-5)
    assert not torch.allclose(merged(x), expected, atol=1e-3)
    assert torch.equal(base.weight, layer.base.weight)  # merging copies, the base stays


@pytest.mark.parametrize("conv", [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=3, stride=2, padding=2, dilation=2),
    dict(kernel_size=(3, 5), padding=1, padding_mode="reflect", bias=False),
])
def test_lora_conv_starts_as_the_base_and_merges_exactly(conv):
    torch.manual_seed(4)
    base = nn.Conv2d(3, 8, **conv)
    x = torch.randn(2, 3, 12, 12)
    expected = base(x).detach()
    layer = LoRAConv2d(base, rank=2, alpha=4.0)
    assert torch.equal(layer(x), expected)
    with torch.no_grad():
        layer.lora_B.normal_()
    assert torch.allclose(layer.merged()(x), layer(x), atol=1e-5)
    assert not torch.allclose(layer(x), expected, atol=1e-3)


def test_grouped_convolutions_are_refused():
    model = nn.Sequential(nn.Conv2d(4, 4, 3, groups=2))
    with pytest.raises(BadInput, match="grouped convolution"):
        apply_lora(model, ["0"], rank=2, alpha=2.0)


def test_merged_model_has_the_original_names_and_outputs():
    torch.manual_seed(5)
    model = _simple_cnn()
    original_keys = list(model.state_dict())
    apply_lora(model, ["conv2", "fc1"], rank=4, alpha=4.0, dropout=0.5)
    assert "fc1.lora_A" in model.state_dict() and "fc1.base.weight" in model.state_dict()
    for name in ("conv2", "fc1"):
        with torch.no_grad():
            getattr(model, name).lora_B.normal_(std=0.01)
    model.eval()
    merged = merge_lora(model)
    assert list(merged.state_dict()) == original_keys
    assert isinstance(model.fc1, LoRALinear)  # the adapted model is left as it was
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(merged(x), model(x), atol=1e-5)
    state = merged_state_dict(model)
    assert list(state) == original_keys
    fresh = _simple_cnn().eval()
    fresh.load_state_dict(state, strict=True)
    with torch.no_grad():
        assert torch.allclose(fresh(x), model(x), atol=1e-5)


def test_lora_adapters_train_even_inside_a_frozen_layer():
    model = _mlp(hidden_sizes=[64])
    plan = prepare_finetune(model, FinetuneSettings(
        freeze=["layers.1"], lora_targets=["layers.1"], lora_rank=2), epochs=1)
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == ["layers.1.lora_A", "layers.1.lora_B", "layers.3.bias", "layers.3.weight"]
    assert plan.lora_targets == ["layers.1"]
    assert _trainable(model) == 2 * (784 + 64) + 64 * 10 + 10


@pytest.mark.parametrize("name", ["program.pt2", "renamed.pt"])
def test_an_exported_program_is_refused_whatever_its_name(tmp_path, name):
    # torch's .pt2 loader runs the program's code (CVE-2026-4538): never loaded, by name
    # or by content.
    model = torch.nn.Linear(3, 2)
    program = torch.export.export(model, (torch.randn(1, 3),))
    torch.export.save(program, tmp_path / "program.pt2")
    if name != "program.pt2":
        (tmp_path / "program.pt2").rename(tmp_path / name)
    with pytest.raises(BadInput, match=r"exported program \(\.pt2\).*state_dict"):
        load_weights_file(tmp_path / name)
    torch.save(model.state_dict(), tmp_path / "plain.pt")  # a zip too, and loads
    assert set(load_weights_file(tmp_path / "plain.pt")) == {"weight", "bias"}

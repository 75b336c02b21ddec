"""Fine-tuning: the article's weights load into simple_cnn; weight files are loaded safely;
freezing goes by whole module names."""

from __future__ import annotations

import pickle

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from core.catalog import load_all
from core.errors import BadInput
from core.finetune import count_params, freeze_modules, load_initial_weights, load_weights_file


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


def _simple_cnn(num_classes=10):
    entry = load_all()["model"].get("simple_cnn")
    return entry.build(entry.check_params({}, "model"), (1, 28, 28), num_classes)


def _mlp(**params):
    entry = load_all()["model"].get("mlp")
    return entry.build(entry.check_params(params, "model"), (1, 28, 28), 10)


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
    path = tmp_path / "five_classes.pt"
    torch.save(_simple_cnn(num_classes=5).state_dict(), path)
    model = _simple_cnn(num_classes=10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(BadInput, match=r"shape differs: fc2\.weight \(5, 512\) vs \(10, 512\), "
                                       r"fc2\.bias \(5,\) vs \(10,\)"):
        load_initial_weights(model, path)
    for name, tensor in model.state_dict().items():  # nothing was half-loaded
        assert torch.equal(tensor, before[name])


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
    freeze_modules(model, ["conv1", "head.2"])
    frozen = sorted(name for name, p in model.named_parameters() if not p.requires_grad)
    assert frozen == ["conv1.bias", "conv1.weight", "head.2.bias", "head.2.weight"]
    assert count_params(model) == (2 * 2 + 2 + 2 * 3 + 3, 2 * (2 * 2 + 2) + 2 * 3 + 3 + 3 + 1)


def test_freeze_unknown_name_lists_the_modules():
    model = Layers()
    with pytest.raises(BadInput, match=r"no layer named 'conv'; this model has conv1, conv10, "
                                       r"head\.0, head\.2"):
        freeze_modules(model, ["conv"])
    assert all(p.requires_grad for p in model.parameters())  # nothing frozen on error

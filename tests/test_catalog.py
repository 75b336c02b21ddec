"""Catalogues: entry schemas, `catalog` output, torch-free loading, the model and data builders."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from core.catalog import CATALOGUES
from core.entries import KINDS, Catalogue, Param
from core.cli import main as cli_main
from core.errors import BadInput
from limits import HANG_S

ALL_ENTRIES = [(section, entry) for section, cat in CATALOGUES.items() for entry in cat.entries()]


# ---------------------------------------------------------------- schemas


@pytest.mark.parametrize("section, entry", ALL_ENTRIES,
                         ids=[f"{s}-{e.name}" for s, e in ALL_ENTRIES])
def test_every_entry_has_a_valid_schema(section, entry):
    assert entry.name and entry.name == entry.name.strip()
    assert entry.help.strip(), f"{section} {entry.name} has no help line"
    assert callable(entry.build)
    names = [p.name for p in entry.params]
    assert len(names) == len(set(names)), "duplicate parameter names"
    assert "name" not in names, "`name` is the catalogue choice, not a parameter"
    for p in entry.params:
        assert p.kind in KINDS
        assert p.help.strip(), f"{entry.name}.{p.name} has no help"
        # a default passes its own check, unchanged
        assert p.check(p.default, f"[{section}] {p.name}") == p.default
        if p.minimum is not None and p.maximum is not None:
            assert p.minimum <= p.maximum
        if p.kind in ("int", "float"):
            assert p.minimum is None or p.minimum <= p.default
            assert p.maximum is None or p.default <= p.maximum
        if p.kind == "choice":
            assert p.choices and p.default in p.choices
        else:
            assert not p.choices
        if p.kind in ("int_list", "str_list"):
            assert isinstance(p.default, list)
    # the defaults form a valid set of parameters, in catalogue order
    assert entry.check_params({}, section) == entry.defaults()
    assert list(entry.check_params({}, section)) == names


def test_catalogues_hold_the_names_users_rely_on():
    assert {"simple_cnn", "mlp"} <= set(CATALOGUES["model"].names())
    assert "digits" in CATALOGUES["data"].names()
    assert {"sgd", "adam", "adamw", "rmsprop", "adagrad"} <= set(CATALOGUES["optimizer"].names())
    assert "none" in CATALOGUES["scheduler"].names()
    assert "cross_entropy" in CATALOGUES["loss"].names()
    sgd = CATALOGUES["optimizer"].get("sgd")
    assert sgd.param("momentum").kind == "float" and sgd.param("nesterov").kind == "bool"


def test_param_rejects_a_bad_declaration():
    with pytest.raises(ValueError):
        Param("x", "complex", 0, "help")
    with pytest.raises(ValueError):
        Param("x", "choice", "c", "help", choices=("a", "b"))


def test_catalogue_refuses_a_name_registered_twice_and_lists_choices_for_unknown_ones():
    cat = Catalogue("widget")
    cat.register("a", "first")(lambda params: None)
    cat.register("b", "second")(lambda params: None)
    with pytest.raises(ValueError, match="twice"):
        cat.register("a", "again")(lambda params: None)
    with pytest.raises(BadInput, match=r"\[thing\] name = 'c': unknown widget; choose one of a, b"):
        cat.get("c", "thing")


# ---------------------------------------------------------------- catalog output


def test_catalog_json_parses_and_lists_entries_with_parameters(capsys):
    assert cli_main(["catalog", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"model", "data", "optimizer", "scheduler", "loss"}
    names = {section: [e["name"] for e in entries] for section, entries in data.items()}
    assert {"simple_cnn", "mlp"} <= set(names["model"])
    assert "digits" in names["data"]
    assert {"sgd", "adam", "adamw"} <= set(names["optimizer"])
    assert "cross_entropy" in names["loss"]
    mlp = next(e for e in data["model"] if e["name"] == "mlp")
    hidden = next(p for p in mlp["params"] if p["name"] == "hidden_sizes")
    assert hidden == {"name": "hidden_sizes", "kind": "int_list", "default": [256, 128],
                      "help": hidden["help"], "minimum": 1, "maximum": 65536, "choices": [],
                      "zero_means": "", "unit": ""}
    activation = next(p for p in mlp["params"] if p["name"] == "activation")
    assert activation["choices"] == ["relu", "tanh", "sigmoid", "gelu"]


def test_catalog_text_lists_every_entry(capsys):
    assert cli_main(["catalog"]) == 0
    out = capsys.readouterr().out
    for section, entry in ALL_ENTRIES:
        assert f"[{section}]" in out
        assert entry.name in out
        for p in entry.params:
            assert f"{p.name} = " in out


def test_loading_the_catalogues_does_not_import_torch():
    code = ("import sys; from core.catalog import CATALOGUES; cats = CATALOGUES; "
            "assert 'digits' in cats['data'].names(); "
            "print(sorted(m for m in ('torch', 'torchvision', 'PySide6') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=HANG_S)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------- models


def _build_model(name: str, input_shape=(1, 28, 28), num_classes=10, **params):
    from core.data.memory import DataInfo, kind_of_shape
    from core.models.build import build_model_for

    entry = CATALOGUES["model"].get(name)
    info = DataInfo(input_shape, num_classes, kind_of_shape(input_shape))
    return build_model_for(name, entry.check_params(params, "model"), info)[0]


@pytest.mark.parametrize("activation, module", [("relu", "ReLU"), ("tanh", "Tanh"),
                                                ("sigmoid", "Sigmoid"), ("gelu", "GELU")])
def test_mlp_honours_hidden_sizes_and_activation(activation, module):
    import torch
    from torch import nn

    model = _build_model("mlp", hidden_sizes=[32, 16, 8], activation=activation)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (784, 32), (32, 16), (16, 8), (8, 10)]
    acts = [type(m).__name__ for m in model.modules()
            if isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU))]
    assert acts == [module] * 3
    assert model(torch.zeros(5, 1, 28, 28)).shape == (5, 10)


def test_mlp_without_hidden_layers_is_a_linear_classifier():
    from torch import nn

    model = _build_model("mlp", input_shape=(3, 4, 4), num_classes=2, hidden_sizes=[])
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(48, 2)]


def test_mlp_dropout_only_when_asked():
    from torch import nn

    assert not any(isinstance(m, nn.Dropout) for m in _build_model("mlp").modules())
    with_dropout = _build_model("mlp", dropout=0.5)
    assert [m.p for m in with_dropout.modules() if isinstance(m, nn.Dropout)] == [0.5, 0.5]


def test_simple_cnn_adapts_to_the_number_of_classes_and_refuses_flat_input():
    import torch

    model = _build_model("simple_cnn", num_classes=5)
    assert model.fc2.out_features == 5
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 5)
    with pytest.raises(BadInput, match="simple_cnn needs images"):
        _build_model("simple_cnn", input_shape=(64,))


# ---------------------------------------------------------------- data


def _digits(seed=0, **params):
    entry = CATALOGUES["data"].get("digits")
    return entry.build(entry.check_params(params, "data"), seed)


@pytest.fixture(scope="module")
def digits0():
    return _digits(0)


def test_digits_is_the_1797_scans_at_28x28_single_channel(digits0):
    import torch

    data = digits0
    assert len(data.train_y) + len(data.val_y) == 1797
    assert data.input_shape == (1, 28, 28)
    assert data.val_x.shape[1:] == (1, 28, 28)
    assert data.train_x.dtype == torch.float32 and data.train_y.dtype == torch.int64
    assert data.num_classes == 10 and data.class_names == [str(d) for d in range(10)]
    assert set(data.train_y.tolist()) == set(range(10))


def test_digits_split_is_stratified(digits0):
    import torch

    data = digits0
    all_y = torch.cat([data.train_y, data.val_y])
    for label in range(10):
        in_class = int((all_y == label).sum())
        in_val = int((data.val_y == label).sum())
        assert abs(in_val / in_class - 0.2) < 0.01, (label, in_val, in_class)
    assert abs(len(data.val_y) / 1797 - 0.2) < 0.005


def test_digits_val_split_is_honoured():
    data = _digits(0, val_split=0.5)
    assert abs(len(data.val_y) / 1797 - 0.5) < 0.005


def test_digits_are_normalised_on_the_training_split(digits0):
    assert abs(float(digits0.train_x.mean())) < 1e-4
    assert abs(float(digits0.train_x.std()) - 1.0) < 1e-3
    assert abs(float(digits0.val_x.mean())) < 0.1  # same transform, similar statistics


def test_digits_split_depends_on_the_seed_only(digits0):
    import torch

    again = _digits(0)
    assert torch.equal(again.train_x, digits0.train_x)
    assert torch.equal(again.train_y, digits0.train_y)
    assert torch.equal(again.val_x, digits0.val_x)
    other = _digits(1)
    assert len(other.val_y) == len(digits0.val_y)
    assert not torch.equal(other.val_x, digits0.val_x)
    # a different split, not just a different order: the set of validation images differs
    key0 = {tuple(x.flatten()[::7].tolist()) for x in digits0.val_x}
    key1 = {tuple(x.flatten()[::7].tolist()) for x in other.val_x}
    assert key0 != key1


def test_digits_class_subset_is_relabelled_from_zero():
    data = _digits(0, classes=[9, 5, 7, 6, 8])  # order given does not matter
    assert data.class_names == ["5", "6", "7", "8", "9"]
    assert data.num_classes == 5
    assert set(data.train_y.tolist()) == set(range(5))
    assert set(data.val_y.tolist()) == set(range(5))
    full = _digits(0)
    kept = sum(int((full.train_y == d).sum() + (full.val_y == d).sum()) for d in range(5, 10))
    assert len(data.train_y) + len(data.val_y) == kept


def test_digits_subset_keeps_the_right_images():
    """Labels 0 and 1 of classes=[5, 6] must be the fives and sixes of the full set."""
    import torch

    full = _digits(0)
    subset = _digits(0, classes=[5, 6])
    full_x, full_y = torch.cat([full.train_x, full.val_x]), torch.cat([full.train_y, full.val_y])

    def standardised(x):  # each image as a unit vector, so the two normalisations compare
        flat = x.flatten(1)
        flat = flat - flat.mean(1, keepdim=True)
        return flat / flat.norm(dim=1, keepdim=True)

    for new_label, digit in ((0, 5), (1, 6)):
        mine = standardised(subset.train_x[subset.train_y == new_label])
        originals = standardised(full_x[full_y == digit])
        best = (mine @ originals.T).max(1).values
        assert len(mine) > 100 and bool((best > 0.9999).all()), (digit, float(best.min()))


def test_stratified_split_refuses_a_class_too_small_to_split():
    import numpy as np

    from core.data.memory import stratified_split

    with pytest.raises(BadInput, match="class 1 has only 1 samples"):
        stratified_split(np.array([0, 0, 0, 0, 1]), 0.2, 0)
    train, val = stratified_split(np.array([0] * 10 + [1] * 10), 0.3, 0)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(20))
    assert math.isclose(len(val), 6)


@pytest.mark.parametrize("name, fused", [("sgd", True), ("adam", True), ("adamw", True),
                                         ("adagrad", True), ("rmsprop", None)])
def test_optimizers_use_fused_kernels_where_torch_has_them(name, fused):
    import torch

    entry = CATALOGUES["optimizer"].get(name)
    weights = [torch.nn.Parameter(torch.ones(3, 2)), torch.nn.Parameter(torch.zeros(2))]
    optimizer = entry.build(entry.defaults(), [{"params": weights, "lr_multiplier": 1.0}])
    assert optimizer.param_groups[0].get("fused") == fused
    # one update with fused kernels gives torch's default update, to rounding
    plain = getattr(torch.optim, type(optimizer).__name__)(
        [torch.nn.Parameter(w.detach().clone()) for w in weights],
        **{k: v for k, v in optimizer.defaults.items()
           if k not in ("fused", "foreach", "decoupled_weight_decay")})  # AdamW sets that
    for group in (optimizer.param_groups[0]["params"], plain.param_groups[0]["params"]):
        for w in group:
            w.grad = torch.full_like(w, 0.5)
    optimizer.step()
    plain.step()
    for mine, theirs in zip(optimizer.param_groups[0]["params"], plain.param_groups[0]["params"]):
        assert torch.allclose(mine, theirs, atol=1e-7)


def test_fused_kernels_are_not_asked_for_tensors_they_cannot_update():
    import torch

    from core.train.optimizers import fused

    assert fused([torch.nn.Parameter(torch.ones(2))]) == {"fused": True}
    assert fused([torch.ones(2, dtype=torch.int64)]) == {}
    assert fused([{"params": [torch.ones(2, device="meta")]}]) == {}
    assert fused([]) == {}

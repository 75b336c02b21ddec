"""The model summary: layers, output shapes and parameter counts of the model a run would
train, and trainable counts by the engine's own freezing rule."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.config import RunConfig
from core.errors import BadInput
from core.models.summary import (freeze_prefixes, head_layer, parameters_up_to,
                                summarize_model, summarize_module,
                                trainable_parameters)

SIMPLE_CNN_PARAMS = {"conv1": 320, "conv2": 18496, "fc1": 1606144, "fc2": 5130}


@pytest.fixture(scope="module")
def cnn():
    return summarize_model(RunConfig.from_dict({}))


@pytest.fixture(scope="module")
def mlp():
    return summarize_model(RunConfig.from_dict({"model": {"name": "mlp"}}))


def test_simple_cnn_layers_with_shapes_of_one_sample_and_parameter_counts(cnn):
    # Output shapes leave out the batch dimension: one sample's output.
    rows = [(layer.name, layer.type_name, layer.output_shape, layer.own_params,
             layer.total_params) for layer in cnn.layers()]
    assert rows == [
        ("conv1", "Conv2d", (32, 28, 28), 320, 320),
        ("conv2", "Conv2d", (64, 14, 14), 18496, 18496),
        ("fc1", "Linear", (512,), 1606144, 1606144),
        ("fc2", "Linear", (10,), 5130, 5130),
    ]
    assert cnn.total_params == sum(SIMPLE_CNN_PARAMS.values()) == 1_630_090
    assert (cnn.model_name, cnn.data_name, cnn.input_shape, cnn.num_classes) == \
        ("simple_cnn", "digits", (1, 28, 28), 10)
    assert cnn.root.type_name == "SimpleCNN" and cnn.root.output_shape == (10,)


def test_class_count_follows_the_data():
    summary = summarize_model(RunConfig.from_dict({"data": {"classes": [3, 5, 8]}}))
    assert summary.layer("fc2").output_shape == (3,)
    assert summary.layer("fc2").total_params == 512 * 3 + 3


def test_a_loss_with_one_output_gives_the_model_one_output():
    summary = summarize_model(RunConfig.from_dict({"data": {"classes": [3, 5]},
                                                   "loss": {"name": "bce_with_logits"}}))
    assert summary.layer("fc2").output_shape == (1,)
    assert summary.num_classes == 2


def _trainable_count(summary, freeze, train_only) -> int:
    return summary.count(trainable_parameters(summary, freeze, train_only))


def test_trainable_count_follows_freeze_and_train_only(cnn):
    fc = SIMPLE_CNN_PARAMS["fc1"] + SIMPLE_CNN_PARAMS["fc2"]
    assert _trainable_count(cnn, ["conv1", "conv2"], []) == fc == 1_611_274
    assert _trainable_count(cnn, [], ["fc2"]) == 5130
    assert _trainable_count(cnn, [], []) == cnn.total_params
    assert trainable_parameters(cnn, ["fc1"], []) == {
        "conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc2.weight", "fc2.bias"}
    # Counting changes nothing: the summary's model is left fully trainable.
    assert all(p.requires_grad for p in cnn.model.parameters())


def test_trainable_count_refuses_what_the_trainer_refuses(cnn):
    with pytest.raises(BadInput, match="'conv9'"):
        _trainable_count(cnn, ["conv9"], [])
    with pytest.raises(BadInput, match="both set"):
        _trainable_count(cnn, ["conv1"], ["fc2"])
    assert all(p.requires_grad for p in cnn.model.parameters())


def test_mlp_is_a_tree_under_its_sequential(mlp):
    [layers] = mlp.root.children
    assert (layers.name, layers.type_name, layers.own_params, layers.total_params) == \
        ("layers", "Sequential", 0, 235146)
    rows = [(child.short_name, child.type_name, child.output_shape, child.total_params)
            for child in layers.children]
    assert rows == [
        ("0", "Flatten", (784,), 0),
        ("1", "Linear", (256,), 784 * 256 + 256),
        ("2", "ReLU", (256,), 0),
        ("3", "Linear", (128,), 256 * 128 + 128),
        ("4", "ReLU", (128,), 0),
        ("5", "Linear", (10,), 128 * 10 + 10),
    ]
    assert layers.parameters == tuple(mlp.parameter_sizes)
    assert head_layer(mlp).name == "layers.5"
    assert _trainable_count(mlp, [], ["layers.5"]) == 1290


def test_freeze_prefixes_name_each_frozen_module_once_at_its_highest_level(mlp):
    everything = set(mlp.parameter_sizes)
    assert freeze_prefixes(mlp, everything) == []
    assert freeze_prefixes(mlp, set()) == ["layers"]
    assert freeze_prefixes(mlp, {"layers.5.weight", "layers.5.bias"}) == ["layers.1", "layers.3"]
    assert freeze_prefixes(mlp, everything - {"layers.3.bias"}) == ["layers.3.bias"]


def test_freeze_prefixes_give_back_the_same_trainable_parameters(mlp, cnn):
    for summary in (mlp, cnn):
        names = list(summary.parameter_sizes)
        for keep in (names[::2], names[1::3], names[-2:], names[:1]):
            trainable = set(keep)
            assert trainable_parameters(summary, freeze_prefixes(summary, trainable), []) == \
                trainable


class WithOwnWeights(nn.Module):
    """Weights directly on a module that also has sub-modules (as a class token would)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(4))
        self.body = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.body(x * self.scale))


def test_weights_on_a_module_with_children_are_named_by_their_full_name():
    summary = summarize_module(WithOwnWeights(), torch.randn(2, 4))
    assert summary.root.own_parameters == ("scale",)
    assert summary.layer("body").output_shape == (3,)
    assert summary.layer("body.1").own_params == 6
    trainable = set(summary.parameter_sizes) - {"scale", "body.1.weight"}
    prefixes = freeze_prefixes(summary, trainable)
    assert prefixes == ["scale", "body.1.weight"]
    assert trainable_parameters(summary, prefixes, []) == trainable


def test_freeze_up_to_a_layer_takes_it_and_everything_before(cnn, mlp):
    assert parameters_up_to(cnn, "conv2") == ["conv1.weight", "conv1.bias", "conv2.weight",
                                              "conv2.bias"]
    assert parameters_up_to(mlp, "layers.2") == ["layers.1.weight", "layers.1.bias"]
    assert parameters_up_to(mlp, "layers") == list(mlp.parameter_sizes)


def test_building_a_summary_leaves_the_model_in_training_mode(cnn):
    assert cnn.model.training

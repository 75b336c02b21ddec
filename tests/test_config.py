"""RunConfig: TOML <-> config round trips, defaults, errors that name the key, --set overrides."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.catalog import CATALOGUES
from core.config import (FinetuneSettings, RunConfig, TrainingSettings, apply_overrides,
                         load_config, save_config)
from core.errors import BadInput

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "digits_cnn.toml"


def _load_text(tmp_path: Path, text: str, overrides: list[str] | None = None) -> RunConfig:
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, overrides)


# ---------------------------------------------------------------- round trips


def test_example_round_trips_exactly():
    config = load_config(EXAMPLE)
    text = config.to_toml()
    again = RunConfig.from_toml(text)
    assert again == config
    assert again.to_toml() == text  # the resolved text is a fixed point


def test_non_default_config_round_trips_through_a_file(tmp_path):
    config = RunConfig.from_dict({
        "model": {"name": "mlp", "hidden_sizes": [32, 16, 8], "activation": "tanh",
                  "dropout": 0.25},
        "data": {"name": "digits", "val_split": 0.3, "classes": [5, 6, 7]},
        "optimizer": {"name": "sgd", "lr": 1, "momentum": 0.5, "nesterov": True},
        "scheduler": {"name": "cosine", "min_lr": 1e-5},
        "loss": {"name": "cross_entropy", "label_smoothing": 0.1},
        "training": {"epochs": 7, "batch_size": 33, "device": "cuda:1", "seed": 2**32 - 1},
        # absolute, as load_config stores paths; a backslash and quotes to escape
        "finetune": {"init_from": os.path.normpath(os.path.join(tmp_path, "C:\\weights\\"
                                                                "ünïcode \"quoted\".pt")),
                     "freeze": ["layers.1"]},
    })
    assert config.optimizer.params["lr"] == 1.0 and isinstance(config.optimizer.params["lr"],
                                                                  float)
    path = tmp_path / "sub" / "config.toml"
    save_config(config, path)
    text = path.read_text(encoding="utf-8")
    loaded = load_config(path)
    assert loaded == config
    assert loaded.to_toml() == text
    assert "lr = 1.0" in text  # a float stays a float in the file
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary file left


def test_resolved_text_lists_name_first_then_parameters_in_catalogue_order():
    text = RunConfig.from_dict({"optimizer": {"weight_decay": 0.5, "name": "adam"}}).to_toml()
    block = text.split("[optimizer]\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert block == ["name = \"adam\"", "lr = 0.001", "beta1 = 0.9", "beta2 = 0.999",
                     "weight_decay = 0.5"]


# ---------------------------------------------------------------- defaults


def test_defaults_are_filled_in(tmp_path):
    config = _load_text(tmp_path, '[model]\nname = "mlp"\n')
    assert config.model.params == {"hidden_sizes": [256, 128], "activation": "relu",
                                   "dropout": 0.0}
    assert config.data.name == "digits"
    assert config.data.params == {"val_split": 0.2, "classes": [], "random_crop": 0,
                                  "flip": False, "rotation": 0.0, "mixup_alpha": 0.0,
                                  "cutmix_alpha": 0.0, "mix_prob": 1.0,
                                  "crop_scale_min": 0.0, "crop_scale_max": 1.0,
                                  "brightness": 0.0, "contrast": 0.0, "saturation": 0.0,
                                  "hue": 0.0, "trivial_augment": False, "erasing": 0.0}
    assert config.optimizer.name == "adam"
    assert config.optimizer.params == {"lr": 0.001, "beta1": 0.9, "beta2": 0.999,
                                       "weight_decay": 0.0}
    assert config.scheduler.name == "none" and config.scheduler.params == {}
    assert config.loss.name == "cross_entropy"
    assert config.loss.params == {"label_smoothing": 0.0, "class_weights": "none",
                                  "custom_weights": {}}
    assert config.training == TrainingSettings(epochs=10, batch_size=64, device="auto", seed=0)
    assert config.finetune == FinetuneSettings(init_from="", freeze=[])


def test_empty_file_gives_the_default_run(tmp_path):
    config = _load_text(tmp_path, "")
    assert config.model.name == "simple_cnn" and config.model.params == {"dropout": 0.0}
    assert config == RunConfig.from_dict({})


def test_filled_in_list_defaults_are_copies_not_the_catalogue_default():
    first = RunConfig.from_dict({"model": {"name": "mlp"}})
    first.model.params["hidden_sizes"].append(999)
    first.finetune.freeze.append("layers")
    second = RunConfig.from_dict({"model": {"name": "mlp"}})
    assert second.model.params["hidden_sizes"] == [256, 128]
    assert second.finetune.freeze == []
    assert CATALOGUES["model"].get("mlp").param("hidden_sizes").default == [256, 128]


# ---------------------------------------------------------------- errors

ERROR_CASES = {
    "unknown section": (
        "[trainig]\nepochs = 3\n",
        ["[trainig]", "model", "data", "optimizer", "scheduler", "loss", "training",
         "finetune"]),
    "unknown key in a component": (
        '[model]\nname = "mlp"\nhidden = [3]\n',
        ["[model]", "'hidden'", "mlp", "hidden_sizes", "activation", "dropout"]),
    "unknown key in [training]": (
        "[training]\nepoch = 3\n",
        ["[training]", "'epoch'", "epochs", "batch_size", "device", "seed"]),
    "unknown key in [finetune]": (
        "[finetune]\nfreeze_layers = []\n",
        ["[finetune]", "'freeze_layers'", "init_from", "freeze"]),
    "string for int": (
        '[training]\nepochs = "3"\n', ["[training] epochs", "'3'", "whole number"]),
    "bool for int": (
        "[training]\nepochs = true\n", ["[training] epochs", "True", "whole number"]),
    "float for int": (
        "[training]\nbatch_size = 2.5\n", ["[training] batch_size", "2.5", "whole number"]),
    "bool for float": (
        "[optimizer]\nlr = true\n", ["[optimizer] lr", "a number"]),
    "string in an int list": (
        '[model]\nname = "mlp"\nhidden_sizes = [64, "a"]\n',
        ["[model] hidden_sizes", "list of whole numbers"]),
    "text where a list is expected": (
        '[finetune]\nfreeze = "conv1"\n', ["[finetune] freeze", "list of names"]),
    "int out of range": (
        "[training]\nepochs = 0\n", ["[training] epochs", "between 1 and 100000"]),
    "float out of range": (
        "[data]\nval_split = 0.99\n", ["[data] val_split", "between 0.05 and 0.9"]),
    "list item out of range": (
        "[data]\nclasses = [1, 12]\n", ["[data] classes", "between 0 and 9"]),
    "negative seed": (
        "[training]\nseed = -1\n", ["[training] seed", "between 0 and"]),
    "choice not among choices": (
        '[model]\nname = "mlp"\nactivation = "relu6"\n',
        ["[model] activation", "'relu6'", "relu, tanh, sigmoid, gelu"]),
    "unknown model": (
        '[model]\nname = "resnet"\n', ["[model] name", "'resnet'", "simple_cnn", "mlp"]),
    "unknown optimizer": (
        '[optimizer]\nname = "lamb"\n',
        ["[optimizer] name", "'lamb'", "sgd", "adam", "adamw", "rmsprop", "adagrad"]),
    "unknown scheduler": (
        '[scheduler]\nname = "linear"\n', ["[scheduler] name", "none", "step", "cosine"]),
    "unknown dataset": (
        '[data]\nname = "mnist_typo"\n', ["[data] name", "'mnist_typo'", "digits"]),
    "unknown loss": (
        '[loss]\nname = "mse_typo"\n', ["[loss] name", "cross_entropy"]),
    "name that is not text": (
        "[model]\nname = 3\n", ["[model] name", "catalogue name"]),
    "bad device": (
        '[training]\ndevice = "gpu"\n', ["[training] device", "'gpu'", "auto", "cpu", "cuda",
                                         "cuda:N", "mps"]),
    "bad cuda index": (
        '[training]\ndevice = "cuda:x"\n', ["[training] device", "cuda:N"]),
    "section that is not a table": (
        'model = "mlp"\n', ["[model]", "table"]),
    "key above every section": (
        'epochs = 3\n[model]\nname = "mlp"\n', ["epochs", "training"]),
}


@pytest.mark.parametrize("text, expected", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_bad_run_file_names_section_key_and_accepted_values(tmp_path, text, expected):
    with pytest.raises(BadInput) as info:
        _load_text(tmp_path, text)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


def test_invalid_toml_names_the_file_and_line(tmp_path):
    with pytest.raises(BadInput) as info:
        _load_text(tmp_path, '[model\nname = "mlp"\n')
    message = str(info.value)
    assert "run.toml" in message and "not valid TOML" in message and "line 1" in message


def test_missing_file_says_so(tmp_path):
    with pytest.raises(BadInput, match="does not exist") as info:
        load_config(tmp_path / "nowhere.toml")
    assert "nowhere.toml" in str(info.value)


def test_undecodable_file_is_bad_input(tmp_path):
    path = tmp_path / "run.toml"
    path.write_bytes(b"[model]\nname = \"\xff\xfe\"\n")
    with pytest.raises(BadInput, match="run.toml"):
        load_config(path)


# ---------------------------------------------------------------- --set overrides


def test_set_overrides_an_int():
    config = load_config(EXAMPLE, ["training.epochs=3"])
    assert config.training.epochs == 3
    assert config.optimizer.params["lr"] == 0.001  # the rest is untouched


def test_set_new_catalogue_name_starts_from_that_entrys_defaults():
    base = load_config(EXAMPLE, ["optimizer.beta1=0.5"])
    assert base.optimizer.params["beta1"] == 0.5
    switched = base.with_overrides(['optimizer.name="sgd"'])
    sgd_defaults = CATALOGUES["optimizer"].get("sgd").defaults()
    assert switched.optimizer.name == "sgd"
    assert switched.optimizer.params == sgd_defaults
    assert base.optimizer.name == "adam"  # with_overrides returns a copy


def test_set_name_then_parameter_keeps_both():
    config = RunConfig().with_overrides(["optimizer.name=sgd", "optimizer.lr=0.5"])
    assert config.optimizer.name == "sgd"
    assert config.optimizer.params["lr"] == 0.5
    assert config.optimizer.params["momentum"] == 0.9


def test_set_value_that_is_not_toml_is_taken_as_text():
    config = RunConfig().with_overrides(["training.device=cpu", "model.name=mlp"])
    assert config.training.device == "cpu"
    assert config.model.name == "mlp"


def test_set_accepts_toml_lists_and_bools():
    config = RunConfig().with_overrides(["model.name=mlp", "model.hidden_sizes=[32, 16]",
                                         "optimizer.name=sgd", "optimizer.nesterov=true",
                                         'finetune.freeze=["layers.1"]'])
    assert config.model.params["hidden_sizes"] == [32, 16]
    assert config.optimizer.params["nesterov"] is True
    assert config.finetune.freeze == ["layers.1"]


def test_set_text_for_a_number_is_a_type_error():
    with pytest.raises(BadInput, match=r"\[training\] epochs = 'three': expected a whole number"):
        RunConfig().with_overrides(["training.epochs=three"])


def test_set_unknown_key_is_named():
    with pytest.raises(BadInput, match=r"\[training\] unknown key 'epoch'.*epochs"):
        RunConfig().with_overrides(["training.epoch=3"])


@pytest.mark.parametrize("assignment", ["training.epochs", "epochs=3", "training.=3", "=3"])
def test_set_malformed_assignment_shows_the_form(assignment):
    with pytest.raises(BadInput) as info:
        RunConfig().with_overrides([assignment])
    assert repr(assignment) in str(info.value)
    assert "section.key=value" in str(info.value)


def test_apply_overrides_does_not_change_its_input():
    raw = {"training": {"epochs": 5}}
    out = apply_overrides(raw, ["training.epochs=6", "model.name=mlp"])
    assert raw == {"training": {"epochs": 5}}
    assert out == {"training": {"epochs": 6}, "model": {"name": "mlp"}}


def test_set_into_a_section_that_is_not_a_table_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match=r"\[model\] must be a table"):
        _load_text(tmp_path, 'model = "mlp"\n', ["model.dropout=0.1"])


# ---------------------------------------------------------------- the loss for the data


def _prices_csv(tmp_path: Path) -> Path:
    path = tmp_path / "prices.csv"
    path.write_text("rooms,area,price\n" + "".join(
        f"{i % 5 + 1},{40 + 7 * i},{1000 + 37.5 * i}\n" for i in range(40)), encoding="utf-8")
    return path


@pytest.mark.parametrize("data, loss", [
    ({"name": "digits"}, "cross_entropy"),
    ({"name": "diabetes"}, "mse"),  # the catalogue says: a regression
    ({"name": "csv", "task": "regression", "path": "unread.csv"}, "mse"),  # its setting says
])
def test_a_run_file_without_a_loss_gets_the_one_for_its_data(data, loss):
    assert RunConfig.from_dict({"data": data}).loss.name == loss


def test_a_csv_table_without_a_loss_gets_the_one_its_target_asks_for(tmp_path):
    path = _prices_csv(tmp_path)
    numbers = RunConfig.from_dict({"data": {"name": "csv", "path": str(path)}}, read_data=True)
    assert numbers.loss.name == "mse"  # a numeric target: regression
    classes = RunConfig.from_dict({"data": {"name": "csv", "path": str(path),
                                            "target": "rooms"}}, read_data=True)
    assert classes.loss.name == "cross_entropy"  # five whole numbers: classes
    # The choice is written out, so the run folder's config.toml names it.
    assert RunConfig.from_toml(numbers.to_toml()) == numbers
    # Resolving a form never reads data (the window does this on every change): the task
    # is not known yet, so the loss is left as the default.
    assert RunConfig.from_dict({"data": {"name": "csv", "path": str(path)}}).loss.name == \
        "cross_entropy"


def test_a_named_loss_is_kept_even_when_it_does_not_fit(tmp_path):
    # Training refuses it with a clear BadInput (tests/test_models_catalogue.py); the
    # configuration does not change what the user wrote.
    config = RunConfig.from_dict({"data": {"name": "diabetes"}, "loss": {"name": "l1"}})
    assert config.loss.name == "l1"
    assert RunConfig.from_dict({"data": {"name": "diabetes"},
                                "loss": {"name": "cross_entropy"}}).loss.name == "cross_entropy"


def test_loss_settings_without_a_name_go_to_the_loss_chosen_for_the_data():
    config = RunConfig.from_dict({"loss": {"label_smoothing": 0.1}})
    assert config.loss.name == "cross_entropy" and config.loss.params["label_smoothing"] == 0.1
    with pytest.raises(BadInput, match="unknown key 'label_smoothing' for mse"):
        RunConfig.from_dict({"data": {"name": "diabetes"}, "loss": {"label_smoothing": 0.1}})


def test_loss_for_task_keeps_a_fitting_loss_and_replaces_one_of_the_other_task():
    from core.train.losses import loss_for_task

    assert loss_for_task("cross_entropy", "regression") == "mse"
    assert loss_for_task("l1", "regression") == "l1"
    assert loss_for_task("mse", "classification") == "cross_entropy"
    assert loss_for_task("bce_with_logits", "classification") == "bce_with_logits"
    assert loss_for_task("l1", "auto") == "l1"  # not known yet: left as it is

"""The model catalogue on real data: every model trains on every bundled dataset it fits,
models refuse data they cannot read, torchvision models adapt their input and head and
find their weights offline, the losses and the task's metric (accuracy or R2)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch

from core.catalog import CATALOGUES
from core.config import RunConfig
from core.data.memory import DataInfo
from core.errors import BadInput
from core.events import EpochEnd, RunStarted
from core.models.build import build_model_for
from core.train.loop import train
from run_control import StopAfter, read_metrics

MODELS = CATALOGUES["model"]

# Small widths so that one epoch of each pair takes a second or less on one thread.
SMALL = {
    "simple_cnn": [],
    "lenet5": [],
    "small_cnn": ["model.channels=[8, 16]"],
    "mlp": ["model.hidden_sizes=[16]"],
    "rnn": ["model.hidden_size=16"],
    "lstm": ["model.hidden_size=16"],
    "gru": ["model.hidden_size=16"],
    "transformer": ["model.width=16", "model.heads=2", "model.depth=1"],
    "resnet18": [],
    "mobilenet_v3_small": [],
}
IMAGE_MODELS = [name for name in SMALL if name != "mlp"]
TABLES = {"iris": "classification", "wine": "classification",
          "breast_cancer": "classification", "diabetes": "regression"}
PAIRS = ([(model, "digits") for model in SMALL]
         + [("mlp", table) for table in TABLES])
TORCHVISION = ["resnet18", "resnet34", "resnet50", "mobilenet_v3_small", "mobilenet_v3_large",
               "efficientnet_b0", "convnext_tiny", "vit_b_16"]


def run_config(*overrides: str) -> RunConfig:
    return RunConfig().with_overrides(["training.device=cpu", "training.threads=1",
                                       "training.epochs=1", *overrides])


def test_the_catalogue_holds_every_model_of_the_issue():
    expected = {"simple_cnn", "mlp", "lenet5", "small_cnn", "rnn", "lstm", "gru",
                "transformer", *TORCHVISION}
    assert expected <= set(MODELS.names())
    # each one is tested here, but m5 (raw waveforms only), trained in test_audio_models.py,
    # and the pretrained language models hf_classifier and hf_causal_lm, in
    # test_hf_classifier.py and test_hf_causal_lm.py
    assert set(SMALL) | set(TORCHVISION) | {"m5", "hf_classifier", "hf_causal_lm"} >= \
        set(MODELS.names())


@pytest.mark.parametrize("model, data", PAIRS, ids=[f"{m}-{d}" for m, d in PAIRS])
def test_each_model_trains_one_epoch_on_each_bundled_dataset_it_fits(model, data, tmp_path):
    overrides = [f"model.name={model}", *SMALL[model], f"data.name={data}"]
    if data == "digits":  # three classes keep the bigger models quick
        overrides += ["data.classes=[0, 1, 2]", "training.batch_size=32"]
    else:
        overrides += ["training.batch_size=16"]
    task = TABLES.get(data, "classification")
    if task == "regression":
        overrides.append("loss.name=mse")
    events: list = []
    summary = train(run_config(*overrides), runs_dir=tmp_path, listeners=[events.append])
    assert summary["status"] == "completed" and summary["epochs_completed"] == 1
    assert math.isfinite(summary["final_val_loss"])
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.metric_name == ("r2" if task == "regression" else "accuracy")
    assert summary["metric"] == started.metric_name
    if task == "classification":
        assert 0 <= summary["final_val_accuracy"] <= 1
        assert summary["final_val_metric"] == summary["final_val_accuracy"]
    else:
        assert summary["final_val_accuracy"] is None and summary["final_val_mae"] > 0


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_image_and_sequence_models_refuse_a_table_and_say_what_fits(model):
    entry = MODELS.get(model)
    info = DataInfo((4,), 3, "table")
    with pytest.raises(BadInput, match=rf"^{model} .*a table of 4 columns.*pick .*mlp"):
        build_model_for(model, entry.check_params({}, "model"), info)


@pytest.mark.parametrize("model", ["simple_cnn", "lenet5", "small_cnn", "mlp", "resnet18"])
def test_models_without_embeddings_refuse_texts(model):
    entry = MODELS.get(model)
    info = DataInfo((20,), 2, "tokens", vocab_size=50)
    with pytest.raises(BadInput, match=r"texts as 20 token ids.*rnn, lstm, gru or transformer"):
        build_model_for(model, entry.check_params({}, "model"), info)


def _build(name: str, shape=(1, 28, 28), classes=5, kind="image", vocab=0, **params):
    entry = MODELS.get(name)
    info = DataInfo(shape, classes, kind, vocab_size=vocab)
    return build_model_for(name, entry.check_params(params, "model"), info)[0], info


def test_lenet5_has_the_classic_layers():
    model, _ = _build("lenet5", classes=10)
    assert (model.conv1.out_channels, model.conv2.out_channels) == (6, 16)
    assert [model.fc1.out_features, model.fc2.out_features, model.fc3.out_features] == [
        120, 84, 10]
    assert model.fc1.in_features == 16 * 5 * 5  # 28x28 in: as the original's 32x32
    with pytest.raises(BadInput, match="lenet5 needs images .* at least 12x12"):
        _build("lenet5", shape=(1, 8, 8))


def test_small_cnn_depth_follows_channels_and_batch_norm_is_optional():
    from torch import nn

    model, _ = _build("small_cnn", shape=(3, 32, 32), channels=[4, 8, 16, 32])
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 8, 16, 32]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 4
    assert model.head.in_features == 32 and model.head.out_features == 5
    plain, _ = _build("small_cnn", shape=(3, 32, 32), channels=[4], batch_norm=False,
                      dropout=0.3)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert plain(torch.zeros(2, 3, 32, 32)).shape == (2, 5)
    with pytest.raises(BadInput, match="channels is empty"):
        _build("small_cnn", channels=[])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_models_read_image_rows_and_token_sequences(cell):
    from torch import nn

    model, _ = _build(cell, shape=(3, 10, 12), hidden_size=8, layers=2, bidirectional=True)
    rnn = model.rnn
    assert isinstance(rnn, {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell])
    assert (rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.bidirectional) == (
        36, 8, 2, True)  # a row of 3 channels x 12 pixels per step
    assert model(torch.randn(4, 3, 10, 12)).shape == (4, 5)
    text, _ = _build(cell, shape=(7,), classes=2, kind="tokens", vocab=30, hidden_size=8,
                     embedding_dim=6)
    assert text.embedding.num_embeddings == 30 and text.embedding.padding_idx == 0
    ids = torch.tensor([[5, 6, 7, 0, 0, 0, 0], [5, 6, 7, 8, 9, 10, 11]])
    assert text(ids).shape == (2, 2)


def test_recurrent_text_model_ignores_padding():
    model, _ = _build("lstm", shape=(6,), classes=2, kind="tokens", vocab=20, hidden_size=8)
    model.eval()
    short = torch.tensor([[4, 5, 6, 0, 0, 0]])
    longer_padding = torch.tensor([[4, 5, 6, 0, 0, 0, 0, 0, 0]])
    assert torch.allclose(model(short), model(longer_padding), atol=1e-6)


def test_transformer_patches_images_and_embeds_tokens():
    model, _ = _build("transformer", width=32, heads=4, depth=3)
    assert model.patch_embed.kernel_size == (7, 7)  # auto: a quarter of 28
    assert model.position.shape == (1, 16, 32)
    assert len(model.encoder.layers) == 3
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 5)
    text, _ = _build("transformer", shape=(9,), classes=3, kind="tokens", vocab=40, width=16,
                     heads=2)
    ids = torch.zeros(3, 9, dtype=torch.long)
    ids[0, :4] = torch.tensor([3, 4, 5, 6])  # an empty text (row 1) must not give NaN
    out = text(ids)
    assert out.shape == (3, 3) and torch.isfinite(out).all()
    with pytest.raises(BadInput, match="width = 30 does not divide into heads = 4"):
        _build("transformer", width=30, heads=4)
    with pytest.raises(BadInput, match="patch_size = 32 is larger"):
        _build("transformer", patch_size=32)


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_models_fit_grey_digits_and_size_their_head(name):
    params = {"image_size": 32} if name == "vit_b_16" else {}
    model, info = _build(name, **params)
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, 5)
    assert f"{name}: grey images repeated to 3 channels" in info.notes[0]
    assert "28x28 images resized to 32x32" in info.notes[0]


def test_vit_is_fed_224_pixel_images_by_default():
    model, info = _build("vit_b_16", shape=(3, 32, 32))
    assert model.image_size == 224
    assert info.notes == ["vit_b_16: 32x32 images resized to 224x224"]
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 5)
    with pytest.raises(BadInput, match="multiple of 16"):
        _build("vit_b_16", image_size=40)


def test_colour_images_big_enough_are_left_alone():
    model, info = _build("resnet18", shape=(3, 64, 64))
    assert info.notes == [] and not model._forward_pre_hooks
    with pytest.raises(BadInput, match="reads grey or colour images"):
        _build("resnet18", shape=(4, 64, 64))


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """A private torch hub cache and a downloader that fails as it would offline."""
    import core.models.builders

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    attempts = []

    def offline(url, path):
        attempts.append((url, path))
        raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(core.models.builders, "_download_weights", offline)
    return tmp_path / "torch-home" / "hub" / "checkpoints", attempts


def test_pretrained_weights_offline_say_which_file_to_fetch_and_where(offline_hub):
    cache, attempts = offline_hub
    url = "https://download.pytorch.org/models/mobilenet_v3_small-047dcff4.pth"
    with pytest.raises(BadInput) as caught:
        _build("mobilenet_v3_small", weights="pretrained")
    message = str(caught.value)
    assert "downloading failed (OSError: [Errno 101] Network is unreachable)" in message
    assert f"download {url} and save it as {cache / 'mobilenet_v3_small-047dcff4.pth'}" in message
    assert attempts == [(url, cache / "mobilenet_v3_small-047dcff4.pth")]


def test_pretrained_weights_in_the_hub_cache_load_without_network(offline_hub):
    import torchvision

    cache, attempts = offline_hub
    cache.mkdir(parents=True)
    torch.manual_seed(1)
    imagenet = torchvision.models.mobilenet_v3_small(weights=None)  # stands in for the file
    torch.save(imagenet.state_dict(), cache / "mobilenet_v3_small-047dcff4.pth")
    model, info = _build("mobilenet_v3_small", classes=7, weights="pretrained")
    assert attempts == []
    assert torch.equal(model.features[0][0].weight, imagenet.features[0][0].weight)
    assert model.classifier[3].out_features == 7
    assert any("new head classifier.3 = Linear(1024 -> 7)" in note for note in info.notes)
    assert any("weights loaded from" in note for note in info.notes)


def test_a_weights_file_of_the_right_model_loads_and_a_wrong_one_is_refused(tmp_path):
    import torchvision

    source = torchvision.models.resnet18(weights=None, num_classes=5)
    path = tmp_path / "resnet18-mine.pth"
    torch.save(source.state_dict(), path)
    model, info = _build("resnet18", shape=(3, 32, 32), weights="file",
                         weights_file=str(path))
    assert torch.equal(model.fc.weight, source.fc.weight)  # same classes: the head is kept
    assert not any("new head" in note for note in info.notes)
    torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(),
               tmp_path / "other.pth")
    with pytest.raises(BadInput, match="not a resnet18 state_dict"):
        _build("resnet18", weights="file", weights_file=str(tmp_path / "other.pth"))
    with pytest.raises(BadInput, match="weights_file is empty"):
        _build("resnet18", weights="file")
    with pytest.raises(BadInput, match="does not exist"):
        _build("resnet18", weights="file", weights_file=str(tmp_path / "missing.pth"))


# ---------------------------------------------------------------- accuracy that matters


SEQUENCE_RECIPE = ["data.name=digits", "training.epochs=12", "training.batch_size=32",
                   "optimizer.name=adamw", "scheduler.name=cosine"]


@pytest.mark.slow
@pytest.mark.parametrize("model, lr", [("lstm", 0.003), ("transformer", 0.002)])
def test_sequence_models_with_their_defaults_read_digits_well(model, lr, tmp_path):
    summary = train(run_config(f"model.name={model}", f"optimizer.lr={lr}", *SEQUENCE_RECIPE),
                    runs_dir=tmp_path)
    assert summary["final_val_accuracy"] >= 0.95, summary


def test_mlp_regression_on_diabetes_beats_the_mean_and_reports_r2(tmp_path):
    events: list = []
    config = run_config("model.name=mlp", "model.hidden_sizes=[64]", "data.name=diabetes",
                        "loss.name=mse", "training.epochs=30", "training.batch_size=32",
                        "optimizer.lr=0.003")
    summary = train(config, runs_dir=tmp_path, listeners=[events.append])
    assert summary["metric"] == "r2"
    assert summary["final_val_metric"] > 0.3  # predicting the mean scores 0
    assert summary["best_val_metric"] >= summary["final_val_metric"]
    assert summary["best_val_accuracy"] is None and summary["final_val_accuracy"] is None
    # the diabetes target spans 25..346: an error in its units, not in standard deviations
    assert 20 < summary["final_val_mae"] < 80
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert epochs[-1].val_metric == summary["final_val_metric"]
    assert epochs[-1].val_mae == summary["final_val_mae"]
    run_dir = Path(summary["run_dir"])
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        val_rows = [r for r in csv.DictReader(f) if r["split"] == "val"]
    assert float(val_rows[-1]["accuracy"]) == pytest.approx(summary["final_val_metric"],
                                                            rel=1e-4)


def test_validation_r2_and_mae_match_scikit_learn():
    from sklearn.metrics import mean_absolute_error, r2_score

    from core.train.validation import evaluate

    torch.manual_seed(0)
    x = torch.randn(300, 3)
    y = (x @ torch.tensor([[1.0], [-2.0], [0.5]])) + 0.3 * torch.randn(300, 1)
    model = torch.nn.Linear(3, 1)
    loss, r2, mae = evaluate(model, torch.nn.MSELoss(), x, y, "regression", target_scale=2.0)
    with torch.no_grad():
        predicted = model(x)
    assert r2 == pytest.approx(r2_score(y.numpy(), predicted.numpy()), rel=1e-5)
    assert mae == pytest.approx(2.0 * mean_absolute_error(y.numpy(), predicted.numpy()),
                                rel=1e-5)
    assert loss == pytest.approx(float(torch.nn.functional.mse_loss(predicted, y)), rel=1e-5)


def test_step_metrics_are_each_steps_own():
    from core.metrics import r2_from_sums
    from core.train.readback import read_steps

    losses = [torch.tensor(0.5), torch.tensor(0.25)]
    outputs = [torch.tensor([[2.0, 1.0], [0.0, 1.0]]), torch.tensor([[3.0, 0.0]])]
    targets = [torch.tensor([0, 0]), torch.tensor([1])]
    read_losses, hits = read_steps(losses, outputs, targets, regression=False)
    assert read_losses == [0.5, 0.25] and hits.tolist() == [[1.0], [0.0]]
    predictions = [torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [0.0], [3.0]])]
    values = [torch.tensor([[1.0], [3.0]]), torch.tensor([[1.0], [-1.0], [3.0]])]
    sums = read_steps(losses, predictions, values, regression=True)[1].tolist()
    assert sums == [[1.0, 4.0, 10.0], [2.0, 3.0, 11.0]]
    assert r2_from_sums(*sums[0], 2) == pytest.approx(1 - 1.0 / 2.0)
    assert r2_from_sums(*sums[1], 3) == pytest.approx(1 - 2.0 / (11 - 9 / 3))
    assert r2_from_sums(0.0, 5.0, 25.0, 1) == 0.0  # one target: no spread, no R2


# ---------------------------------------------------------------- losses


def _loss(name: str, info: DataInfo, **params):
    entry = CATALOGUES["loss"].get(name)
    return entry.build(entry.check_params(params, "loss"), info)


def test_cross_entropy_class_weights_balanced_and_custom():
    info = DataInfo((4,), 3, "table", class_names=["a", "b", "c"], class_counts=[10, 30, 60])
    assert _loss("cross_entropy", info).weight is None
    balanced = _loss("cross_entropy", info, class_weights="balanced")
    assert balanced.weight.tolist() == pytest.approx([100 / 30, 100 / 90, 100 / 180])
    custom = _loss("cross_entropy", info, class_weights="custom", custom_weights={"c": 0.5})
    assert custom.weight.tolist() == [1.0, 1.0, 0.5]
    with pytest.raises(BadInput, match="custom_weights names 'z', which is not a class"):
        _loss("cross_entropy", info, class_weights="custom", custom_weights={"z": 2.0})


def test_balanced_weights_make_a_rare_class_count():
    info = DataInfo((1,), 2, "table", class_names=["common", "rare"], class_counts=[90, 10])
    logits = torch.tensor([[2.0, 0.0]] * 9 + [[2.0, 0.0]])
    labels = torch.tensor([0] * 9 + [1])
    plain = _loss("cross_entropy", info)(logits, labels)
    balanced = _loss("cross_entropy", info, class_weights="balanced")(logits, labels)
    assert balanced > plain  # the one missed rare sample weighs nine times a common one


def test_bce_with_logits_takes_one_logit_and_two_classes_only(tmp_path):
    info = DataInfo((4,), 2, "table", class_names=["no", "yes"], class_counts=[30, 10])
    loss = _loss("bce_with_logits", info, class_weights="balanced")
    assert float(loss.pos_weight) == 3.0
    value = loss(torch.tensor([[0.0], [0.0]]), torch.tensor([0, 1]))
    assert float(value) == pytest.approx((math.log(2) + 3 * math.log(2)) / 2)
    with pytest.raises(BadInput, match="bce_with_logits is for two classes; this dataset has 3"):
        _loss("bce_with_logits", DataInfo((4,), 3, "table", class_names=["a", "b", "c"]))
    summary = train(run_config("model.name=mlp", "model.hidden_sizes=[16]",
                               "data.name=breast_cancer", "loss.name=bce_with_logits",
                               "training.epochs=3", "training.batch_size=32"),
                    runs_dir=tmp_path)
    assert summary["final_val_accuracy"] > 0.85
    last = torch.load(Path(summary["run_dir"]) / "checkpoints" / "last.pt", weights_only=True)
    assert last["model"]["layers.3.weight"].shape == (1, 16)  # one output


@pytest.mark.parametrize("loss, data, hint", [
    ("mse", "iris", "pick cross_entropy or bce_with_logits"),
    ("cross_entropy", "diabetes", "pick mse or l1"),
])
def test_a_loss_for_another_task_is_refused_before_training(loss, data, hint, tmp_path):
    with pytest.raises(BadInput, match=rf"\[loss\] {loss} is a \w+ loss but {data} is a .*{hint}"):
        train(run_config("model.name=mlp", f"data.name={data}", f"loss.name={loss}"),
              runs_dir=tmp_path)
    assert not (tmp_path / "runs").exists() and list(tmp_path.iterdir()) == []


def test_l1_trains_a_regression(tmp_path):
    summary = train(run_config("model.name=mlp", "model.hidden_sizes=[32]", "data.name=diabetes",
                               "loss.name=l1", "training.epochs=10", "training.batch_size=32",
                               "optimizer.lr=0.003"), runs_dir=tmp_path)
    assert summary["final_val_metric"] > 0.2


@pytest.mark.parametrize("overrides", [
    ["data.name=diabetes", "loss.name=mse", "model.hidden_sizes=[16]"],  # regression sums
    ["data.classes=[0, 1, 2]", "data.random_crop=3", "data.rotation=15", "data.flip=true",
     "model.hidden_sizes=[16]"],  # augmentation draws
], ids=["regression", "augmented"])
def test_a_stopped_run_resumes_to_the_same_end(tmp_path, overrides):
    config = run_config("model.name=mlp", "training.epochs=2", "training.batch_size=32",
                        *overrides)
    whole = train(config, runs_dir=tmp_path / "whole")
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(7))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 7
    torch.manual_seed(999)  # the resumed run must not depend on the global random state
    resumed = train(None, resume_dir=Path(stopped["run_dir"]))
    for key in ("steps_completed", "best_val_loss", "final_val_loss", "final_val_metric",
                "best_val_metric"):
        assert resumed[key] == whole[key], key
    # every column but elapsed_s, the one a resume cannot replay
    strip = [[{k: v for k, v in row.items() if k != "elapsed_s"} for row in read_metrics(
        Path(result["run_dir"]))] for result in (whole, resumed)]
    assert strip[0] == strip[1]

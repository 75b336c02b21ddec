"""Evaluation in core: a run's checkpoint rebuilt from its folder and measured on its
validation split, and predictions on new inputs prepared like the training data."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.config import RunConfig
from core.errors import BadInput
from core.inference.evaluation import evaluate_run, load_run, sample_image, sample_row
from core.inference.outputs import batched_outputs, class_probabilities, predicted_classes
from core.inference.predict import (input_columns, predict_image, predict_values, prepare_image,
                                    prepare_row)
from core.train.loop import train


def _train(runs_dir: Path, *overrides: str) -> Path:
    config = RunConfig().with_overrides(["model.name=mlp", "model.hidden_sizes=[32]",
                                         "training.device=cpu", *overrides])
    return Path(train(config, runs_dir=runs_dir)["run_dir"])


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("runs"), "training.epochs=3")


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("runs"), "data.name=iris", "training.epochs=40",
                  "training.batch_size=16", "optimizer.lr=0.01")


@pytest.fixture(scope="module")
def diabetes_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("runs"), "data.name=diabetes", "loss.name=mse",
                  "training.epochs=5", "training.batch_size=32", "optimizer.lr=0.01")


def _val_rows(run_dir: Path) -> dict[int, dict]:
    with open(run_dir / "metrics.csv", newline="", encoding="utf-8") as f:
        return {int(row["epoch"]): row for row in csv.DictReader(f) if row["split"] == "val"}


def _summary(run_dir: Path) -> dict:
    import json

    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def test_the_best_checkpoint_scores_what_its_epoch_scored(digits_run):
    loaded = load_run(digits_run, "best")
    result = evaluate_run(loaded)
    summary = _summary(digits_run)
    assert loaded.epoch == summary["best_epoch"]
    logged = float(_val_rows(digits_run)[loaded.epoch]["accuracy"])
    assert result.accuracy == pytest.approx(logged, abs=1e-5)
    last = evaluate_run(load_run(digits_run, "last"))
    assert last.accuracy == pytest.approx(summary["final_val_accuracy"], abs=1e-6)


def test_confusion_matrix_and_per_class_scores_agree_with_scikit_learn(digits_run):
    from sklearn.metrics import confusion_matrix, precision_score, recall_score

    result = evaluate_run(load_run(digits_run))
    assert result.samples == 359 and len(result.confusion) == 10
    assert sum(map(sum, result.confusion)) == result.samples
    assert result.confusion == confusion_matrix(result.targets, result.predictions,
                                                labels=range(10)).tolist()
    precision = precision_score(result.targets, result.predictions, average=None,
                                labels=range(10), zero_division=np.nan)
    recall = recall_score(result.targets, result.predictions, average=None, labels=range(10))
    for k, scores in enumerate(result.per_class):
        assert scores.name == str(k)
        assert scores.support == sum(result.confusion[k])
        assert scores.recall == pytest.approx(recall[k])
        if not math.isnan(precision[k]):
            assert scores.precision == pytest.approx(precision[k])


def test_a_cell_lists_its_samples_most_confident_first(digits_run):
    loaded = load_run(digits_run)
    result = evaluate_run(loaded)
    mistakes = result.mistakes()
    assert len(mistakes) == sum(t != p for t, p in zip(result.targets, result.predictions))
    index, confidence = mistakes[0]
    t, p = result.targets[index], result.predictions[index]
    cell = result.samples_in_cell(t, p)
    assert cell[0] == (index, confidence)
    assert [c for _, c in cell] == sorted((c for _, c in cell), reverse=True)
    assert all(result.targets[i] == t and result.predictions[i] == p for i, _ in cell)
    assert 0.1 <= confidence <= 1.0
    image = sample_image(loaded, index)
    assert image.shape == (28, 28) and image.dtype == np.uint8


def test_regression_reports_errors_in_the_targets_own_units(diabetes_run):
    loaded = load_run(diabetes_run, "last")
    result = evaluate_run(loaded)
    summary = _summary(diabetes_run)
    assert result.task == "regression" and result.confusion == []
    assert result.mae == pytest.approx(summary["final_val_mae"], rel=1e-4)
    assert result.r2 == pytest.approx(summary["final_val_metric"], abs=1e-4)
    from sklearn.datasets import load_diabetes

    targets = load_diabetes().target
    assert min(result.true) >= targets.min() - 1e-6 and max(result.true) <= targets.max() + 1e-6
    assert result.rmse >= result.mae > 0
    from sklearn.metrics import mean_absolute_error, r2_score

    assert result.r2 == pytest.approx(r2_score(result.true, result.predicted), rel=1e-6)
    assert result.mae == pytest.approx(mean_absolute_error(result.true, result.predicted),
                                       rel=1e-6)


def test_a_table_row_is_encoded_as_in_training_and_predicted(iris_run):
    loaded = load_run(iris_run)
    pre = loaded.preprocessing
    assert input_columns(pre) == ["sepal length (cm)", "sepal width (cm)",
                                  "petal length (cm)", "petal width (cm)"]
    # a validation row decoded to the file's units and typed back gives the same input
    row = sample_row(loaded, 0)
    x, notes = prepare_row(", ".join(value for _, value in row), pre)
    assert torch.allclose(x[0], loaded.data.val_x[0], atol=1e-5) and notes == []
    prediction = predict_values(loaded, "5.1, 3.5, 1.4, 0.2")  # a textbook setosa
    assert prediction.top[0][0] == "setosa"
    assert [p for _, p in prediction.top] == sorted((p for _, p in prediction.top),
                                                    reverse=True)
    assert sum(p for _, p in prediction.top) == pytest.approx(1.0, abs=1e-5)
    filled = predict_values(loaded, "5.1, , 1.4, 0.2")
    assert "training mean" in filled.notes[0]
    with pytest.raises(BadInput, match="reads 4"):
        predict_values(loaded, "1, 2, 3")
    with pytest.raises(BadInput, match="not a number"):
        predict_values(loaded, "1, 2, x, 4")
    with pytest.raises(BadInput, match="not images"):
        predict_image(loaded, Path("any.png"))


def test_a_regression_prediction_is_in_the_targets_units(diabetes_run):
    loaded = load_run(diabetes_run)
    row = ", ".join(value for _, value in sample_row(loaded, 3))
    prediction = predict_values(loaded, row)
    result = evaluate_run(loaded)
    assert prediction.value == pytest.approx(result.predicted[3], rel=1e-4)


def _scan_png(tmp_path: Path, pixels: np.ndarray, name: str) -> Path:
    path = tmp_path / name
    Image.fromarray(pixels).save(path)
    return path


def test_an_image_is_prepared_like_the_training_digits(digits_run, tmp_path):
    from sklearn.datasets import load_digits

    loaded = load_run(digits_run)
    pre = loaded.preprocessing  # a scan-like picture is not cleaned up as a drawing
    scans = load_digits().images  # 0..16 ink levels, light ink on dark as the dataset holds
    scan = scans[0]
    light_on_dark = np.round(scan / 16 * 255).astype(np.uint8)
    with Image.open(_scan_png(tmp_path, light_on_dark, "scan.png")) as image:
        x, notes, drawn = prepare_image(image, pre)
    stored = (torch.nn.functional.interpolate(torch.from_numpy(scan / 16.0).float()[None, None],
                                              size=(28, 28), mode="bilinear",
                                              align_corners=False)
              - pre["mean"][0]) / pre["std"][0]
    assert x.shape == (1, 1, 28, 28) and notes == [] and drawn is False
    assert torch.allclose(x, stored, atol=0.01)
    # black ink on white paper, four times larger: inverted and shrunk to the same input
    paper = np.kron(255 - light_on_dark, np.ones((4, 4), dtype=np.uint8))
    with Image.open(_scan_png(tmp_path, paper, "paper.png")) as image:
        inverted, notes, drawn = prepare_image(image, pre)
    assert "inverted" in notes[0]
    assert torch.allclose(inverted, stored, atol=0.02)


def test_predicting_on_an_image_file_gives_the_top_classes(digits_run, tmp_path):
    from sklearn.datasets import load_digits

    loaded = load_run(digits_run)
    scans = load_digits()
    paper = np.kron(255 - np.round(scans.images[10] / 16 * 255).astype(np.uint8),
                    np.ones((10, 10), dtype=np.uint8))
    prediction = predict_image(loaded, _scan_png(tmp_path, paper, "digit.png"), k=3)
    assert len(prediction.top) == 3
    assert {name for name, _ in prediction.top} <= set(loaded.class_names)
    assert prediction.top[0][1] >= prediction.top[1][1] >= prediction.top[2][1]
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(BadInput, match="cannot read broken.png"):
        predict_image(loaded, tmp_path / "broken.png")


def test_bad_folders_and_checkpoints_are_bad_input(digits_run, tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        load_run(tmp_path / "nowhere")
    with pytest.raises(BadInput, match="not a run folder"):
        load_run(tmp_path)
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "config.toml").write_bytes((digits_run / "config.toml").read_bytes())
    with pytest.raises(BadInput, match="no checkpoints/best.pt; the run ended before"):
        load_run(copy)
    (copy / "checkpoints").mkdir()
    (copy / "checkpoints" / "best.pt").write_bytes(b"garbage")
    with pytest.raises(BadInput, match="cannot read checkpoint"):
        load_run(copy)


def test_a_lora_run_is_evaluated_with_its_adapters_merged(tmp_path):
    run = _train(tmp_path, "training.epochs=1", "finetune.lora_targets=[\"layers.1\"]",
                 "finetune.lora_rank=4")
    loaded = load_run(run, "last")
    names = set(loaded.model.state_dict())
    assert "layers.1.weight" in names and not any("lora" in n for n in names)
    assert evaluate_run(loaded).accuracy == pytest.approx(
        _summary(run)["final_val_accuracy"], abs=1e-6)


# ---------------------------------------------------------------- reading outputs


def test_batched_outputs_equal_one_pass_and_keep_the_models_mode():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.5),
                                torch.nn.Linear(8, 2))
    x = torch.randn(10, 3)
    doubled = batched_outputs(model, x, prepare=lambda xb, train: xb * 2, batch=4)
    assert model.training  # back in training mode; dropout was off while reading
    with torch.no_grad():
        expected = model.eval()(x * 2)
    assert doubled.dtype == torch.float32 and torch.allclose(doubled, expected)
    assert batched_outputs(model, x[:0]).shape == (0, 1)


def test_a_single_logit_is_a_two_class_sigmoid():
    logits = torch.tensor([[2.0], [-1.0], [0.0]])
    probabilities = class_probabilities(logits)
    assert probabilities.shape == (3, 2)
    assert torch.allclose(probabilities[:, 1], torch.sigmoid(logits[:, 0]))
    assert torch.allclose(probabilities.sum(1), torch.ones(3))
    assert predicted_classes(logits).tolist() == [1, 0, 0]
    scores = torch.tensor([[0.1, 3.0, 0.2], [5.0, 1.0, 1.0]])
    assert torch.allclose(class_probabilities(scores), torch.softmax(scores, 1))
    assert predicted_classes(scores).tolist() == [1, 0]

"""Predict agrees with training (issue 13, finding 2): a picture that looks like the training
digits goes through exactly the training preprocessing, through `traindesk predict`, so it
gets the prediction the model gives the dataset's own tensor; the cleanup for hand drawings
is a choice (`--drawing`) taken by itself only for a picture that does not look like a scan."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F

from core.cli import main
from core.inference.evaluation import load_run
from core.inference.predict import predict_image, prepare_image
from finished_runs import make_runs

DIGITS = 100


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("runs"), ["cnn"])["cnn"]


def _scans():
    from sklearn.datasets import load_digits

    return load_digits().images[:DIGITS]  # 0..16 ink levels, light on dark


def _reference(run: Path, scans) -> list[str]:
    """The model's own predictions on the dataset's tensor for `scans`."""
    loaded = load_run(run)
    pre = loaded.preprocessing
    x = F.interpolate(torch.from_numpy(scans.astype(np.float32) / 16).unsqueeze(1),
                      size=(28, 28), mode="bilinear", align_corners=False)
    with torch.no_grad():
        predicted = loaded.model((x - pre["mean"][0]) / pre["std"][0]).argmax(1)
    return [loaded.class_names[i] for i in predicted.tolist()]


def _pngs(folder: Path, scans, size: int, method) -> list[str]:
    paths = []
    for i, scan in enumerate(scans):
        picture = Image.fromarray(np.round(scan / 16 * 255).astype(np.uint8))
        if size != 8:
            picture = picture.resize((size, size), method)
        path = folder / f"{size}_{method}_{i:03d}.png"
        picture.save(path)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("size, method, needed", [
    (8, None, 0.99),
    (64, Image.Resampling.NEAREST, 0.97),
    (64, Image.Resampling.BILINEAR, 0.97),
])
def test_saved_digits_get_the_models_own_prediction(digits_run, tmp_path, capsys, size,
                                                    method, needed):
    scans = _scans()
    reference = _reference(digits_run, scans)
    paths = _pngs(tmp_path, scans, size, method)
    assert main(["predict", str(digits_run), *paths, "--json"]) == 0
    labels = [json.loads(line)["label"] for line in capsys.readouterr().out.splitlines()]
    agree = sum(r == label for r, label in zip(reference, labels)) / len(scans)
    assert len(labels) == len(scans) and agree >= needed


def _thin_drawing() -> Image.Image:
    """A "1" drawn with a thin pen, small in the middle of a big white canvas."""
    canvas = np.full((280, 280), 255, dtype=np.uint8)
    canvas[100:180, 139:142] = 0
    return Image.fromarray(canvas)


def test_a_drawing_is_cleaned_up_only_when_it_needs_it_and_on_request(digits_run, tmp_path):
    pre = load_run(digits_run).preprocessing
    scan = Image.fromarray(np.round(_scans()[0] / 16 * 255).astype(np.uint8))
    _, notes, drawn = prepare_image(scan, pre)
    assert drawn is False and notes == []
    _, notes, drawn = prepare_image(_thin_drawing(), pre)
    assert drawn is True and any("drawing" in note for note in notes)
    plain, _, drawn = prepare_image(_thin_drawing(), pre, drawing=False)
    assert drawn is False
    forced, _, drawn = prepare_image(scan, pre, drawing=True)
    assert drawn is True
    # the model's input is shown as the 28x28 the network got, on the pixel scale
    path = tmp_path / "drawing.png"
    _thin_drawing().save(path)
    prediction = predict_image(load_run(digits_run), path)
    assert prediction.model_input.shape == (28, 28) and prediction.model_input.dtype == np.uint8
    assert prediction.drawing is True and prediction.model_input.max() > 100  # strokes seen


def test_the_command_line_can_switch_the_drawing_cleanup(digits_run, tmp_path, capsys):
    path = tmp_path / "drawing.png"
    _thin_drawing().save(path)
    runs = {}
    for choice in ("auto", "on", "off"):
        assert main(["predict", str(digits_run), str(path), "--json", "--drawing", choice]) == 0
        runs[choice] = json.loads(capsys.readouterr().out)["probabilities"]
    assert runs["auto"] == runs["on"] and runs["off"] != runs["on"]

"""Audio features and models: log-mel and MFCC on the device batch by batch, augmentation
of training batches only, the catalogue's models on spectrograms and waveforms, exports
that take raw samples, and `traindesk predict` on recordings (and, since it is one
command for every kind of run, on images, table rows from a CSV and its errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from audio_files import tone, tone_folder, train_tone_run, write_wav
from limits import HANG_S

from core.catalog import DATASETS
from core.data.audio_features import AudioFeatures, dct_matrix, mel_filterbank
from core.errors import BadInput
from core.models.build import build_model

REPO = Path(__file__).resolve().parents[1]
SETTINGS = {"sample_rate": 8000, "duration": 0.5, "features": "log_mel", "n_mels": 40,
            "n_mfcc": 13, "window_ms": 32.0, "hop_ms": 10.0, "log_floor": 0.01}


def _folder_data(tmp_path, **params):
    entry = DATASETS.get("audio_folder")
    params = {"folder": str(tone_folder(tmp_path / "tones")), "sample_rate": 8000,
              "duration": 0.5, **params}
    return entry.build(entry.check_params(params, "data"), 0)


def test_mel_filterbank_covers_the_spectrum_in_order():
    bank = mel_filterbank(256, 8000, 40)
    assert bank.shape == (129, 40) and bank.max() <= 1.0 + 1e-6
    peaks = bank.argmax(0)
    assert torch.all(peaks[1:] >= peaks[:-1])  # bands rise in frequency
    dct = dct_matrix(40, 13)
    assert torch.allclose(dct.T @ dct, torch.eye(13), atol=1e-5)  # orthonormal


def test_log_mel_puts_a_tone_in_its_band():
    features = AudioFeatures(SETTINGS)
    low = torch.from_numpy(tone(300.0, 8000, 0.5, noise=0.0))[None]
    high = torch.from_numpy(tone(2000.0, 8000, 0.5, noise=0.0))[None]
    out = features(torch.cat([low, high]))
    assert out.shape == (2, 1, 51, 40)
    assert out[0, 0, 25].argmax() < out[1, 0, 25].argmax()
    # the log floor keeps silence a quiet constant, not -14 (log 1e-6)
    silent = features(torch.zeros(1, 4000))
    assert torch.allclose(silent, torch.full_like(silent, float(np.log(0.01))))
    mfcc = AudioFeatures({**SETTINGS, "features": "mfcc"})(low)
    assert mfcc.shape == (1, 1, 51, 13)


def test_batches_are_standardised_and_only_training_batches_augmented(tmp_path):
    data = _folder_data(tmp_path, time_shift_ms=50.0, noise_snr_db=10.0, gain_db=6.0,
                        speed=0.1, time_masks=2, freq_masks=2)
    x = data.train_x[:8]
    plain = data.prepare(x, False)
    assert torch.equal(plain, data.prepare(x, False))
    everything = data.prepare(data.train_x, False)
    per_band = everything.mean(dim=(0, 1, 2))
    assert torch.allclose(per_band, torch.zeros_like(per_band), atol=1e-3)
    augmented = data.prepare(x, True)
    assert augmented.shape == plain.shape and not torch.allclose(augmented, plain)
    assert (augmented == 0).sum() > 0  # the SpecAugment masks
    torch.manual_seed(3)
    first = data.prepare(x, True)
    torch.manual_seed(3)
    assert torch.equal(first, data.prepare(x, True))  # drawn from torch's saved generator


def test_waveform_features_feed_m5_and_spectrograms_the_rest(tmp_path):
    spectrograms = _folder_data(tmp_path)
    for name in ("small_cnn", "simple_cnn", "lenet5", "mlp", "lstm", "gru", "transformer",
                 "resnet18"):
        model, _ = build_model(name, {**DATASETS_DEFAULTS(name)}, spectrograms)
        out = model.eval()(spectrograms.prepare(spectrograms.val_x[:2], False))
        assert out.shape == (2, 2), name
    waveforms = _folder_data(tmp_path / "w", features="waveform")
    assert waveforms.input_shape == (1, 4000)
    model, _ = build_model("m5", DATASETS_DEFAULTS("m5"), waveforms)
    assert model.eval()(waveforms.prepare(waveforms.val_x[:2], False)).shape == (2, 2)
    with pytest.raises(BadInput, match="pick m5"):
        build_model("small_cnn", DATASETS_DEFAULTS("small_cnn"), waveforms)
    with pytest.raises(BadInput, match="raw waveforms"):
        build_model("m5", DATASETS_DEFAULTS("m5"), spectrograms)


def DATASETS_DEFAULTS(model: str) -> dict:
    from core.catalog import MODELS

    return MODELS.get(model).check_params({}, "model")


@pytest.fixture(scope="module")
def tone_run(tmp_path_factory):
    return train_tone_run(tmp_path_factory.mktemp("audio_run"))


def test_m5_learns_from_raw_waveforms(tmp_path):
    run = train_tone_run(tmp_path, ("model.name=m5", "model.channels=8", "training.epochs=10"),
                         features="waveform", noise_snr_db=0.0, time_masks=0)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["best_val_metric"] >= 0.75  # two tones, 8 validation recordings


def _predict_cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "core", "predict", *map(str, args)],
                          capture_output=True, text=True, timeout=HANG_S, cwd=cwd)


def test_a_trained_run_hears_new_recordings_from_the_command_line(tone_run, tmp_path):
    low = write_wav(tmp_path / "new_low.wav", tone(305.0, 22050, 0.4, seed=7), 22050, bits=24,
                    channels=2)  # another rate, depth and channel count than training
    high = write_wav(tmp_path / "new_high.wav", tone(1190.0, 8000, 0.8, seed=8), 8000)
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio")
    done = _predict_cli(tone_run, low, broken, high, "--json")
    assert done.returncode == 2, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["input"] for line in lines] == [str(low), str(broken), str(high)]
    assert lines[0]["label"] == "low" and lines[2]["label"] == "high"
    assert sum(lines[0]["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
    assert "not a WAV" in lines[1]["error"] and "label" not in lines[1]
    plain = _predict_cli(tone_run, high)
    assert plain.returncode == 0 and plain.stdout.startswith(f"{high}: high")


def test_predict_reads_a_csv_of_recordings(tone_run, tmp_path):
    write_wav(tmp_path / "a.wav", tone(300.0, 8000, 0.4), 8000)
    (tmp_path / "list.csv").write_text("path,note\na.wav,x\n")
    done = _predict_cli(tone_run, "--csv", tmp_path / "list.csv", "--column", "path",
                        "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["label"] == "low"
    wrong = _predict_cli(tone_run, "--csv", tmp_path / "list.csv", "--column", "nope")
    assert wrong.returncode == 2 and wrong.stderr.startswith("error: --column 'nope'")


def test_predict_on_an_image_run_and_its_errors(tmp_path):
    from finished_runs import make_runs
    from PIL import Image

    run = make_runs(tmp_path / "runs", ["mlp"])["mlp"]
    picture = tmp_path / "digit.png"
    Image.new("L", (8, 8), 0).save(picture)
    done = _predict_cli(run, picture, "--json", "--checkpoint", "last")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["label"] in result["probabilities"] and len(result["probabilities"]) == 10
    texts = _predict_cli(run, "--text", "1,2,3", "--json")
    assert texts.returncode == 2 and "error" in json.loads(texts.stdout)
    nothing = _predict_cli(run)
    assert nothing.returncode == 2 and nothing.stderr.startswith("error: give files")
    missing = _predict_cli(tmp_path / "nope", picture)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_the_example_run_file_is_a_valid_fsdd_run():
    from core.config import load_config

    config = load_config(REPO / "examples" / "spoken_digits.toml")
    assert config.data.name == "fsdd" and config.data.params["split"] == "official"
    assert config.data.params["log_floor"] == pytest.approx(0.01)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_an_exported_audio_model_takes_raw_samples(tone_run, tmp_path, fmt):
    from core.data.audio import load_waveform
    from core.inference.evaluation import load_run
    from core.inference.export import export_model, missing_packages
    from core.inference.predict import predict_audio

    if missing_packages(fmt):
        pytest.skip(f"{fmt} export needs {missing_packages(fmt)}")
    result = export_model(tone_run, fmt, out=tmp_path / f"model.{fmt}")
    assert result.matches
    description = json.loads(result.preprocessing_path.read_text())
    assert description["input"].startswith("a float32 batch of raw samples [N, 4000]")
    assert description["audio"]["sample_rate"] == 8000 and description["audio"]["log_floor"]
    recording = write_wav(tmp_path / "high.wav", tone(1200.0, 8000, 0.4), 8000)
    samples = load_waveform(recording, description["audio"])[0][None].astype(np.float32) / 32767
    if fmt == "onnx":
        from core.inference.export import _run_onnx

        outputs = torch.as_tensor(_run_onnx(result.path, samples)[1])
    else:
        outputs = torch.jit.load(str(result.path))(torch.from_numpy(samples))
    probabilities = outputs.softmax(1)[0]
    expected = dict(predict_audio(load_run(tone_run), recording, 2).top)
    names = description["class_names"]
    assert names[int(probabilities.argmax())] == "high"
    for i, name in enumerate(names):
        assert probabilities[i].item() == pytest.approx(expected[name], abs=1e-4)


def test_predict_reads_table_rows_from_a_csv(tmp_path):
    from finished_runs import make_runs

    run = make_runs(tmp_path / "runs", ["iris"])["iris"]
    columns = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)",
               "petal width (cm)"]
    rows = tmp_path / "flowers.csv"
    rows.write_text(",".join(columns) + ",name\n6.7,3.0,5.2,2.3,a\n5.1,3.5,1.4,0.2,b\n")
    done = _predict_cli(run, "--csv", rows, "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["input"] for line in lines] == [f"{rows}:2", f"{rows}:3"]
    assert [line["label"] for line in lines] == ["virginica", "setosa"]

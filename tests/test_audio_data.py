"""Audio data: reading WAV files of every PCM depth, channel count and rate; bad files
skipped and counted (or one error line), never a traceback; audio_folder's layouts and
splits; the fsdd entry's folder layouts, official split and offline message."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from audio_files import tone, tone_folder, write_raw_wav, write_wav

from core.catalog import DATASETS
from core.data.audio import AudioUnreadable, load_waveform, read_audio, resample
from core.errors import BadInput


def _build(name: str, **params):
    entry = DATASETS.get(name)
    return entry.build(entry.check_params(params, "data"), 0)


@pytest.mark.parametrize("bits", [8, 16, 24, 32])
@pytest.mark.parametrize("channels", [1, 2])
def test_pcm_wav_of_every_depth_reads_back_its_samples(tmp_path, bits, channels):
    wave = tone(440.0, 11025, 0.1, level=0.8)
    path = write_wav(tmp_path / "a.wav", wave, 11025, bits, channels)
    samples, rate, seconds = read_audio(path)
    assert rate == 11025 and samples.shape == (channels, len(wave))
    assert seconds == pytest.approx(0.1, abs=1e-3)
    assert np.allclose(samples[0], wave, atol=2 / 2 ** (bits - 1) + 1e-6)
    assert np.array_equal(samples[0], samples[-1])


def test_float_and_extensible_wavs_read(tmp_path):
    wave = tone(440.0, 8000, 0.05)
    float_path = write_raw_wav(tmp_path / "f.wav", wave.astype("<f4").tobytes(), 8000, 32, 1,
                               tag=3)
    assert np.allclose(read_audio(float_path)[0][0], wave)
    # WAVE_FORMAT_EXTENSIBLE (what most 24-bit recorders write): the real format is inside,
    # in the first two bytes of the sub-format GUID
    pcm = np.round(wave * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 8000, 16000, 2, 16, 22, 16, 4) + \
        struct.pack("<H", 1) + bytes(14)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + \
        struct.pack("<I", len(pcm)) + pcm
    path = tmp_path / "x.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    assert np.allclose(read_audio(path)[0][0], wave, atol=1e-4)


def _bad_files(folder):
    """Each kind of bad audio the issue names, as a file in `folder`."""
    good = np.round(tone(440.0, 8000, 0.2) * 32767).astype("<i2").tobytes()
    files = {
        "zero_length": b"",
        "text": b"this is not a recording, only text named .wav\n",
        "truncated_header": write_raw_wav(folder / "t.tmp", good, 8000, 16, 1).read_bytes()[:30],
        "no_channels": write_raw_wav(folder / "c.tmp", good, 8000, 16, 0).read_bytes(),
        "rate_zero": write_raw_wav(folder / "r.tmp", good, 0, 16, 1).read_bytes(),
        "no_samples": write_raw_wav(folder / "n.tmp", b"", 8000, 16, 1).read_bytes(),
    }
    for tmp in folder.glob("*.tmp"):
        tmp.unlink()
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.wav"
        paths[name].write_bytes(data)
    return paths


def test_each_bad_file_is_one_readable_reason(tmp_path):
    reasons = {}
    for name, path in _bad_files(tmp_path).items():
        with pytest.raises(AudioUnreadable) as caught:
            read_audio(path)
        reasons[name] = str(caught.value)
    assert "empty" in reasons["zero_length"]
    assert "not a WAV" in reasons["text"]
    assert "cut short" in reasons["truncated_header"]
    assert "0 channels" in reasons["no_channels"] and "0 Hz" in reasons["rate_zero"]
    assert "no samples" in reasons["no_samples"]
    assert all("\n" not in r for r in reasons.values())


def test_bad_files_in_a_folder_are_skipped_and_counted(tmp_path):
    root = tone_folder(tmp_path / "data")
    _bad_files(root / "low")
    data = _build("audio_folder", folder=str(root), sample_rate=8000, duration=0.5)
    assert len(data.train_y) + len(data.val_y) == 2 * 3 * 6
    skipped = [n for n in data.notes if "unreadable" in n]
    assert skipped and skipped[0].startswith("6 unreadable audio file(s)")


def test_a_two_hour_recording_costs_only_its_first_seconds(tmp_path):
    rate, hours = 1000, 2
    long = write_wav(tmp_path / "long.wav", np.zeros(rate * 3600 * hours, np.float32) + 0.1,
                     rate, bits=8)
    samples, file_rate, seconds = read_audio(long, max_seconds=1.0)
    assert samples.shape == (1, rate) and seconds == pytest.approx(7200)
    root = tone_folder(tmp_path / "data")
    (root / "low" / "long.wav").write_bytes(long.read_bytes())
    data = _build("audio_folder", folder=str(root), sample_rate=8000, duration=0.5)
    assert any("longer than 0.5 s were cut" in n for n in data.notes)


def test_flac_without_soundfile_is_one_line(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "soundfile", None)  # as if not installed
    root = tone_folder(tmp_path / "data")
    (root / "low" / "x.flac").write_bytes(b"fLaC")
    with pytest.raises(BadInput, match="soundfile"):
        _build("audio_folder", folder=str(root))
    with pytest.raises(AudioUnreadable, match="pip install soundfile"):
        read_audio(root / "low" / "x.flac")


def test_resampling_keeps_the_pitch_and_the_duration():
    wave = tone(1000.0, 44100, 0.5, noise=0.0)
    down = resample(wave, 44100, 8000)
    assert len(down) == 4000
    spectrum = np.abs(np.fft.rfft(down))
    assert np.argmax(spectrum) * 8000 / len(down) == pytest.approx(1000, abs=4)


def test_load_waveform_mixes_resamples_normalises_and_pads(tmp_path):
    path = write_wav(tmp_path / "s.wav", tone(500.0, 16000, 0.25, level=0.25), 16000,
                     channels=2)
    samples, seconds = load_waveform(path, {"sample_rate": 8000, "duration": 0.5,
                                            "normalize_level": True})
    assert samples.dtype == np.int16 and samples.shape == (4000,)
    assert abs(int(samples[:2000].max())) > 30000  # peak-normalised to full scale
    assert not samples[2100:].any()  # padded with silence at the end
    assert seconds == pytest.approx(0.25)


def test_audio_folder_by_subfolders_and_by_file_name(tmp_path):
    by_folder = _build("audio_folder", folder=str(tone_folder(tmp_path / "a")),
                       sample_rate=8000, duration=0.5, val_split=0.25)
    by_name = _build("audio_folder", folder=str(tone_folder(tmp_path / "b", by_folder=False)),
                     labels="file_name", sample_rate=8000, duration=0.5, val_split=0.25)
    for data in (by_folder, by_name):
        assert data.class_names == ["high", "low"] and data.kind == "audio"
        assert str(data.train_x.dtype) == "torch.int16" and data.train_x.shape[1] == 4000
        assert sorted(np.bincount(data.val_y.numpy()).tolist()) == [4, 4]
        assert data.input_shape == (1, 51, 40)  # 0.5 s at a 10 ms hop, 40 mel bands


def test_split_by_speaker_keeps_each_speaker_on_one_side(tmp_path):
    root = tone_folder(tmp_path / "a")
    data = _build("audio_folder", folder=str(root), split="by_group", val_groups=["bob"],
                  sample_rate=8000, duration=0.5)
    assert len(data.val_y) == 12 and len(data.train_y) == 24
    bob_low = load_waveform(root / "low" / "low_bob_0.wav",
                            {"sample_rate": 8000, "duration": 0.5})[0]
    train = data.train_x.numpy()
    assert not any(np.array_equal(bob_low, row) for row in train)
    assert any(np.array_equal(bob_low, row) for row in data.val_x.numpy())
    with pytest.raises(BadInput, match="not among the speakers"):
        _build("audio_folder", folder=str(root), split="by_group", val_groups=["zed"])


def test_separate_validation_folder(tmp_path):
    train = tone_folder(tmp_path / "train", speakers=("ann", "bob"))
    val = tone_folder(tmp_path / "val", speakers=("cid",))
    data = _build("audio_folder", folder=str(train), val_folder=str(val), sample_rate=8000,
                  duration=0.5)
    assert len(data.train_y) == 24 and len(data.val_y) == 12


@pytest.mark.parametrize("problem, message", [
    ("", "folder is empty"), ("missing", "is not a folder"), ("empty", "holds no recordings"),
    ("one_class", "one class"),
])
def test_audio_folder_problems_are_one_line(tmp_path, problem, message):
    (tmp_path / "empty").mkdir()
    write_wav(tmp_path / "one_class" / "a" / "x.wav", tone(300, 8000, 0.1), 8000)
    folder = str(tmp_path / problem) if problem else ""
    with pytest.raises(BadInput, match=message):
        _build("audio_folder", folder=folder)


def _fsdd_copy(folder, speakers=("george", "lucas"), indices=range(7)):
    """A stand-in FSDD: tones named digit_speaker_index.wav, as the dataset names them."""
    for digit in range(10):
        for s, speaker in enumerate(speakers):
            for index in indices:
                write_wav(folder / f"{digit}_{speaker}_{index}.wav",
                          tone(200 + 100 * digit, 8000, 0.3, seed=index + 50 * s), 8000)
    return folder


@pytest.mark.parametrize("layout", ["recordings_inside", "flat"])
def test_fsdd_reads_its_layout_with_the_official_split(tmp_path, layout):
    repo = tmp_path / "free-spoken-digit-dataset"
    _fsdd_copy(repo / "recordings" if layout == "recordings_inside" else repo)
    (repo / "README.md").write_text("not a recording")
    data = _build("fsdd", data_dir=str(repo), download=False)
    assert data.class_names == [str(d) for d in range(10)]
    assert len(data.val_y) == 10 * 2 * 5 and len(data.train_y) == 10 * 2 * 2
    assert data.input_shape == (1, 101, 40)  # 1 s at 8 kHz
    assert any("CC BY-SA 4.0" in n for n in data.notes)


def test_fsdd_by_speaker(tmp_path):
    folder = _fsdd_copy(tmp_path / "fsdd", speakers=("george", "lucas", "yweweler"))
    data = _build("fsdd", data_dir=str(folder), split="by_speaker", val_speakers=["lucas"])
    assert len(data.val_y) == 70 and len(data.train_y) == 140


def test_fsdd_offline_names_what_to_fetch_and_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINDESK_HOME", str(tmp_path / "home"))
    with pytest.raises(BadInput) as caught:
        _build("fsdd", download=False)
    message = str(caught.value)
    assert "github.com/Jakobovski/free-spoken-digit-dataset" in message
    assert str(tmp_path / "home" / "data") in message and "\n" not in message
    with pytest.raises(BadInput, match="holds no FSDD recordings"):
        _build("fsdd", data_dir=str(tmp_path))

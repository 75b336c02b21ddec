"""Test helper: recordings written by the tests themselves (tones and noise as WAV files of
any bit depth, channel count and rate), so no test reads the shared data folder or commits audio."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

# Two "words" told apart by pitch: what a classifier on them must hear.
TONES = {"low": 300.0, "high": 1200.0}


def tone(frequency: float, rate: int, seconds: float, level: float = 0.5,
         noise: float = 0.02, seed: int = 0) -> np.ndarray:
    """A sine at `frequency` with a little white noise, float32 in -1..1."""
    t = np.arange(round(rate * seconds)) / rate
    rng = np.random.default_rng(seed)
    wave = level * np.sin(2 * np.pi * frequency * t) + noise * rng.standard_normal(len(t))
    return np.clip(wave, -1, 1).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int, bits: int = 16,
              channels: int = 1) -> Path:
    """A PCM WAV of `samples` (frames,) float -1..1, repeated to `channels` (the same
    RIFF layout any recorder writes: a 'fmt ' and a 'data' chunk)."""
    frames = np.repeat(samples[:, None], channels, axis=1).reshape(-1)
    if bits == 8:
        data = np.round(frames * 127 + 128).astype(np.uint8).tobytes()
    elif bits == 24:
        values = np.round(frames * (2 ** 23 - 1)).astype(np.int32)
        data = values.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        dtype = {16: "<i2", 32: "<i4"}[bits]
        data = np.round(frames * (2 ** (bits - 1) - 1)).astype(dtype).tobytes()
    return write_raw_wav(path, data, rate, bits, channels)


def write_raw_wav(path: Path, data: bytes, rate: int, bits: int, channels: int,
                  tag: int = 1) -> Path:
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + \
        struct.pack("<I", len(data)) + data
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def tone_folder(root: Path, speakers=("ann", "bob", "cid"), per_speaker: int = 6,
                rate: int = 8000, by_folder: bool = True) -> Path:
    """Recordings of the two tones by three "speakers" (each a different level and noise),
    named label_speaker_index.wav, in class subfolders or all in `root`."""
    for s, speaker in enumerate(speakers):
        for label, frequency in TONES.items():
            for i in range(per_speaker):
                seconds = 0.3 + 0.05 * i
                wave = tone(frequency * (1 + 0.02 * s), rate, seconds, 0.2 + 0.2 * s,
                            seed=100 * s + i)
                folder = root / label if by_folder else root
                write_wav(folder / f"{label}_{speaker}_{i}.wav", wave, rate)
    return root


def train_tone_run(tmp_path: Path, model: tuple = (), **data_params) -> Path:
    """A small_cnn (or `model`, overrides) trained by the real trainer on `tone_folder`
    recordings (which stay in tmp_path: the run reads them again to be evaluated); returns
    the run folder."""
    from core.config import RunConfig
    from core.train.loop import train

    folder = tone_folder(tmp_path / "tones")
    config = RunConfig().with_overrides([
        "training.device=cpu", "training.epochs=8", "training.batch_size=8",
        "model.name=small_cnn", "model.channels=[8, 16]", "optimizer.lr=0.01",
        "data.name=audio_folder", f"data.folder={json.dumps(str(folder))}",
        "data.sample_rate=8000", "data.duration=0.5", "data.val_split=0.25",
        "data.time_shift_ms=20.0", "data.noise_snr_db=20.0", "data.time_masks=1",
        *model, *(f"data.{k}={json.dumps(v)}" for k, v in data_params.items())])
    summary = train(config, runs_dir=tmp_path / "runs")
    assert summary["status"] == "completed"
    return Path(summary["run_dir"])

"""Audio datasets: `audio_folder` (your recordings, one subfolder per class or the label in
the file name) and `fsdd` (the Free Spoken Digit Dataset in its own layout).

Recordings are read once, mixed to mono, resampled to one rate, cut or padded to one
duration and kept as int16 waveforms (half the memory of float16 features, and any
feature setting can be computed from them); the features (log-mel, MFCC or the waveform
itself) and the augmentation are computed batch by batch on the training device by
core/data/audio_features.py.

WAV is read by a small RIFF reader of our own (the standard library's `struct`), not by
`wave`: Python 3.11's `wave` refuses WAVE_FORMAT_EXTENSIBLE, which most 24-bit and
multichannel files use, and float WAVs. FLAC and OGG go through `soundfile` when installed.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from core.data.memory import VAL_SPLIT, InMemoryData, data_dir, stratified_split
from core.entries import Catalogue, Param
from core.errors import BadInput

DATASETS = Catalogue("dataset")

AUDIO_SUFFIXES = {".wav", ".wave", ".flac", ".ogg"}
SOUNDFILE_SUFFIXES = {".flac", ".ogg"}

FEATURES = (
    Param("sample_rate", "int", 16000, "Every recording is resampled to this rate (Hz).",
          minimum=1000, maximum=192000, unit="Hz"),
    Param("duration", "float", 1.0, "Seconds per recording: longer ones are cut, shorter "
          "ones padded with silence at the end.", minimum=0.05, maximum=60.0, unit="s"),
    Param("features", "choice", "log_mel", "What the model hears: log_mel (a log-mel "
          "spectrogram, read as a one-channel image), mfcc (its cepstral coefficients), or "
          "waveform (the raw samples, for m5).", choices=("log_mel", "mfcc", "waveform")),
    Param("n_mels", "int", 40, "Mel bands of the spectrogram.", minimum=4, maximum=256),
    Param("n_mfcc", "int", 20, "mfcc only: cepstral coefficients kept.", minimum=2,
          maximum=128),
    Param("window_ms", "float", 32.0, "Length of each spectrogram frame's window (ms).",
          minimum=2.0, maximum=500.0, unit="ms"),
    Param("hop_ms", "float", 10.0, "Step between frames (ms).", minimum=1.0, maximum=500.0,
          unit="ms"),
    Param("log_floor", "float", 0.01, "Added to the mel power before the log. Too small a "
          "floor (1e-6) makes padded silence and faint noise loud features; 0.01 keeps them "
          "quiet.", minimum=1e-10, maximum=100.0),
    Param("normalize_bands", "bool", True, "Standardise each band with the training "
          "recordings' mean and spread."),
    Param("normalize_level", "bool", True, "Scale each recording so its loudest sample is at "
          "full scale (recordings made at different levels sound alike to the model)."),
)

AUGMENT = (
    Param("time_shift_ms", "float", 0.0, "Augmentation: shift training recordings by up to "
          "this many ms either way (0: off).", minimum=0.0, maximum=10000.0, unit="ms"),
    Param("noise_snr_db", "float", 0.0, "Augmentation: add white noise at a random "
          "signal-to-noise ratio between this and 40 dB (0: off).", minimum=0.0, maximum=60.0,
          unit="dB"),
    Param("gain_db", "float", 0.0, "Augmentation: change the level by up to this many dB "
          "either way (0: off).", minimum=0.0, maximum=40.0, unit="dB"),
    Param("speed", "float", 0.0, "Augmentation: play faster or slower by up to this share "
          "(0.1: 90% to 110%; 0: off).", minimum=0.0, maximum=0.5),
    Param("time_masks", "int", 0, "Augmentation (SpecAugment): blank this many stretches of "
          "frames in each training spectrogram.", minimum=0, maximum=10),
    Param("time_mask_frames", "int", 10, "Widest time mask, in frames.", minimum=1,
          maximum=1000),
    Param("freq_masks", "int", 0, "Augmentation (SpecAugment): blank this many runs of "
          "bands in each training spectrogram.", minimum=0, maximum=10),
    Param("freq_mask_bands", "int", 5, "Widest frequency mask, in bands.", minimum=1,
          maximum=256),
)


# ---------------------------------------------------------------- reading one recording


class AudioUnreadable(ValueError):
    """A file that is not a recording we can read; the message says why in a few words."""


def read_audio(path: Path, max_seconds: float | None = None):
    """(samples float32 (channels, frames) in -1..1, rate, seconds in the file) of a WAV,
    FLAC or OGG file; at most `max_seconds` are read, so a two-hour file costs no more than
    a short one. AudioUnreadable when it is not a recording we can read."""
    path = Path(path)
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        return _read_with_soundfile(path, max_seconds)
    try:
        with open(path, "rb") as f:
            return _read_wav(f, max_seconds)
    except OSError as exc:
        raise AudioUnreadable(f"cannot open it ({exc.strerror or exc})") from None


def _read_wav(f, max_seconds: float | None):
    import numpy as np

    header = f.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        raise AudioUnreadable("not a WAV file (no RIFF/WAVE header)" if header else
                              "the file is empty")
    fmt = None
    while True:
        chunk = f.read(8)
        if len(chunk) < 8:
            raise AudioUnreadable("cut short: the file ends before its audio data")
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"fmt ":
            body = f.read(size + (size & 1))
            if len(body) < 16:
                raise AudioUnreadable("cut short inside its format header")
            tag, channels, rate, _, block, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the real format
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, block, bits)
        elif name == b"data":
            if fmt is None:
                raise AudioUnreadable("its audio data comes before the format header")
            tag, channels, rate, block, bits = fmt
            dtype = _sample_type(tag, bits)
            if channels == 0 or rate == 0:
                raise AudioUnreadable(f"its header says {channels} channels at {rate} Hz")
            frame_bytes = channels * (bits // 8)
            in_file = size // frame_bytes
            wanted = in_file if max_seconds is None else min(in_file,
                                                             math.ceil(max_seconds * rate))
            raw = f.read(wanted * frame_bytes)
            frames = len(raw) // frame_bytes
            if frames == 0:
                raise AudioUnreadable("it holds no samples")
            raw = raw[:frames * frame_bytes]
            if bits == 24:  # three little-endian bytes, sign-extended into an int32
                b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
                values = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8) >> 8
                samples = values.astype(np.float32) / 2 ** 23
            elif dtype == "u1":  # 8-bit WAV is unsigned, silence at 128
                samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
            else:
                values = np.frombuffer(raw, "<" + dtype)
                samples = (values.astype(np.float32) if tag == 3 else
                           values.astype(np.float32) / 2 ** (bits - 1))
            return samples.reshape(-1, channels).T, rate, in_file / rate
        else:
            f.seek(size + (size & 1), 1)


def _sample_type(tag: int, bits: int) -> str:
    if tag == 1 and bits in (8, 16, 24, 32):
        return {8: "u1", 16: "i2", 24: "", 32: "i4"}[bits]
    if tag == 3 and bits in (32, 64):
        return {32: "f4", 64: "f8"}[bits]
    raise AudioUnreadable(f"a WAV encoding we do not read (format {tag}, {bits}-bit); save it "
                          "as 8/16/24/32-bit PCM or float WAV")


def _read_with_soundfile(path: Path, max_seconds: float | None):
    try:
        import soundfile
    except ImportError:
        raise AudioUnreadable(f"{path.suffix} files need the soundfile package (pip install "
                              "soundfile), or convert them to WAV") from None
    try:
        info = soundfile.info(str(path))
        frames = -1 if max_seconds is None else math.ceil(max_seconds * info.samplerate)
        samples, rate = soundfile.read(str(path), frames=frames, dtype="float32",
                                       always_2d=True)
    except Exception as exc:  # libsndfile's errors: not audio, truncated, unknown codec
        raise AudioUnreadable(str(exc).splitlines()[0][:120] if str(exc) else
                              type(exc).__name__) from None
    if samples.size == 0 or rate <= 0:
        raise AudioUnreadable("it holds no samples")
    return samples.T, rate, info.frames / info.samplerate


def resample(samples, rate: int, target: int):
    """Samples (frames,) at `rate` resampled to `target` Hz by Fourier (band-limited)
    resampling, as scipy.signal.resample does: exact for any ratio, with no aliasing when
    the rate goes down, and cheap on clips of a few seconds."""
    import numpy as np

    if rate == target:
        return samples
    length = max(1, round(len(samples) * target / rate))
    spectrum = np.fft.rfft(samples)
    keep = min(len(spectrum), length // 2 + 1)
    return (np.fft.irfft(spectrum[:keep], length) * (length / len(samples))).astype(np.float32)


def load_waveform(path: Path, settings: dict):
    """One recording as int16 samples (rate x duration,) prepared as the run's training
    recordings were: mono, resampled, peak-normalised when asked, cut or padded at the end.
    Returns (samples, seconds in the file); AudioUnreadable when it cannot be read."""
    import numpy as np

    rate, duration = settings["sample_rate"], settings["duration"]
    samples, file_rate, seconds = read_audio(path, duration)
    mono = resample(samples.mean(0), file_rate, rate)
    length = round(rate * duration)
    mono = mono[:length]
    if settings.get("normalize_level", True):
        peak = float(np.abs(mono).max())
        if peak > 0:
            mono = mono / peak
    out = np.zeros(length, dtype=np.int16)
    out[:len(mono)] = np.round(np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)
    return out, seconds


def feature_settings(params: dict) -> dict:
    """The feature and augmentation settings of a dataset's parameters (what
    core.data.audio_features.AudioBatches and the preprocessing description take)."""
    return {p.name: params[p.name] for p in (*FEATURES, *AUGMENT)}


# ---------------------------------------------------------------- a set of recordings


@dataclass
class Recording:
    path: Path
    label: str
    group: str  # the speaker (or another name field), for a split by group


def read_recordings(recordings: list[Recording], classes: list[str], params: dict,
                    root: Path, notes: list[str]):
    """(int16 waveforms (N, samples), int64 labels, kept recordings) of the readable
    recordings; unreadable files are skipped and counted in `notes`, recordings longer than
    the duration counted as cut."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    def load(recording: Recording):
        try:
            return load_waveform(recording.path, params)
        except AudioUnreadable as exc:
            return str(exc)

    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(load, recordings))
    failed = [(r, why) for r, why in zip(recordings, loaded) if isinstance(why, str)]
    kept = [(r, out) for r, out in zip(recordings, loaded) if not isinstance(out, str)]
    if failed:
        first = "; ".join(f"{_relative(r.path, root)}: {why}" for r, why in failed[:3])
        notes.append(f"{len(failed)} unreadable audio file(s) in {root} skipped ({first}"
                     f"{'; ...' if len(failed) > 3 else ''})")
    if not kept:
        raise BadInput(f"no readable recordings in {root}"
                       + (f" ({failed[0][1]})" if failed else "")
                       + "; give WAV files (or FLAC/OGG with soundfile installed)")
    cut = sum(1 for _, (_, seconds) in kept if seconds > params["duration"] + 1e-6)
    if cut:
        notes.append(f"{cut} recording(s) in {root} longer than {params['duration']:g} s were "
                     "cut to it (raise [data] duration to keep more)")
    waves = np.stack([out for _, (out, _) in kept])
    labels = np.asarray([classes.index(r.label) for r, _ in kept], dtype=np.int64)
    return waves, labels, [r for r, _ in kept]


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def audio_files(root: Path) -> list[Path]:
    """The audio files under `root` (any depth), sorted; BadInput when FLAC/OGG files are
    there and soundfile is not installed, rather than skipping them all one by one."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in AUDIO_SUFFIXES)
    compressed = [p for p in files if p.suffix.lower() in SOUNDFILE_SUFFIXES]
    if compressed and not _soundfile_installed():
        raise BadInput(f"{len(compressed)} FLAC/OGG file(s) in {root} need the soundfile "
                       "package: pip install soundfile, or convert them to WAV")
    return files


def _soundfile_installed() -> bool:
    try:
        import soundfile
    except ImportError:
        return False
    return soundfile is not None


def name_field(path: Path, index: int) -> str:
    """Field `index` of the file name split at underscores ("7_george_12.wav", 1: george)."""
    fields = path.stem.split("_")
    return fields[index] if index < len(fields) else ""


def build_audio_data(train: tuple, val: tuple, classes: list[str], params: dict,
                     notes: list[str], preprocessing: dict) -> InMemoryData:
    """InMemoryData of int16 waveforms whose batches become features on the device."""
    import torch

    from core.data.audio_features import AudioBatches

    train_x, train_y = (torch.from_numpy(a) for a in train)
    val_x, val_y = (torch.from_numpy(a) for a in val)
    batches = AudioBatches.fitted(feature_settings(params), train_x)
    return InMemoryData(train_x, train_y, val_x, val_y, classes, kind="audio",
                        batch_transform=batches, notes=notes,
                        model_input_shape=batches.output_shape(train_x.shape[1]),
                        preprocessing={**preprocessing, **batches.describe()})


def split_recordings(recordings: list[Recording], classes: list[str], params: dict,
                     seed: int, val_groups: list[str]):
    """Indices (train, val): by group (no speaker in both) when `params["split"]` is
    by_group, `val_groups` naming the held-out groups (empty: a val_split share of them,
    drawn by the seed); otherwise stratified by class."""
    import numpy as np

    labels = np.asarray([classes.index(r.label) for r in recordings])
    if params["split"] != "by_group":
        return stratified_split(labels, params["val_split"], seed, classes)
    groups = sorted({r.group for r in recordings})
    if len(groups) < 2:
        raise BadInput(f"a split by speaker needs at least two speakers (name field "
                       f"{params.get('group_field', 1)} gives {', '.join(groups) or 'none'}); "
                       "check [data] group_field or split at random")
    if val_groups:
        unknown = [g for g in val_groups if g not in groups]
        if unknown:
            raise BadInput(f"[data] val_groups: {', '.join(unknown)} not among the speakers "
                           f"({', '.join(groups)}); pick from these")
        held = set(val_groups)
    else:
        count = min(len(groups) - 1, max(1, round(len(groups) * params["val_split"])))
        held = set(np.random.default_rng(seed).permutation(groups)[:count].tolist())
    if held == set(groups):
        raise BadInput("[data] val_groups holds out every speaker; leave at least one to train")
    is_val = np.asarray([r.group in held for r in recordings])
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


# ---------------------------------------------------------------- audio_folder


@DATASETS.register(
    "audio_folder",
    "Your own recordings (WAV; FLAC/OGG with soundfile): one subfolder per class, or the "
    "class first in each file name (7_george_12.wav), resampled and cut to one duration.",
    (
        Param("folder", "dir", "", "The folder of recordings."),
        Param("labels", "choice", "folders", "folders: each subfolder's name is its "
              "recordings' class; file_name: the class is the file name's first field, "
              "before an underscore.", choices=("folders", "file_name")),
        Param("val_folder", "dir", "", "A separate folder of validation recordings, laid "
              "out the same way (empty: split the folder)."),
        Param("split", "choice", "random", "random: hold out val_split of each class; "
              "by_group: hold out whole speakers (a name field), so no validation speaker "
              "is heard in training.", choices=("random", "by_group")),
        VAL_SPLIT,
        Param("group_field", "int", 1, "by_group: which underscore-separated field of the "
              "file name names the speaker (0 is the first).", minimum=0, maximum=20),
        Param("val_groups", "str_list", [], "by_group: the speakers to validate on (empty: "
              "a val_split share of them at random)."),
        *FEATURES,
        *AUGMENT,
    ),
    task="classification", gives="audio",
)
def audio_folder(params: dict, seed: int) -> InMemoryData:
    if not params["folder"]:
        raise BadInput("[data] folder is empty: choose the folder of recordings")
    root = Path(params["folder"]).expanduser()
    recordings = _folder_recordings(root, params, "[data] folder")
    classes = sorted({r.label for r in recordings}, key=_natural)
    if len(classes) < 2:
        raise BadInput(f"[data] folder {root} has one class ({classes[0]}); a classifier "
                       "needs at least two")
    notes: list[str] = []
    waves, labels, kept = read_recordings(recordings, classes, params, root, notes)
    if params["val_folder"]:
        val_root = Path(params["val_folder"]).expanduser()
        val_recordings = _folder_recordings(val_root, params, "[data] val_folder")
        unknown = sorted({r.label for r in val_recordings} - set(classes))
        if unknown:
            raise BadInput(f"[data] val_folder {val_root} has classes that {root} lacks: "
                           f"{', '.join(unknown)}; use the same class names in both")
        val_waves, val_labels, _ = read_recordings(val_recordings, classes, params, val_root,
                                                   notes)
        train, val = (waves, labels), (val_waves, val_labels)
    else:
        train_idx, val_idx = split_recordings(kept, classes, params, seed, params["val_groups"])
        train, val = (waves[train_idx], labels[train_idx]), (waves[val_idx], labels[val_idx])
    return build_audio_data(train, val, classes, params, notes, {})


def _folder_recordings(root: Path, params: dict, setting: str) -> list[Recording]:
    if not root.is_dir():
        raise BadInput(f"{setting} {root} is not a folder; choose the folder of recordings")
    files = audio_files(root)
    if not files:
        raise BadInput(f"{setting} {root} holds no recordings (.wav, .flac, .ogg)")
    if params["labels"] == "folders":
        found = [Recording(p, p.relative_to(root).parts[0], name_field(p, params["group_field"]))
                 for p in files if len(p.relative_to(root).parts) > 1]
        if not found:
            raise BadInput(f"{setting} {root} has no class subfolders; put each class's "
                           "recordings in a subfolder named after it, or set labels = "
                           "\"file_name\"")
        return found
    return [Recording(p, name_field(p, 0), name_field(p, params["group_field"])) for p in files]


def _natural(name: str):
    """Sort key putting "2" before "10"."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


# ---------------------------------------------------------------- the Free Spoken Digit Dataset

FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
FSDD_FOLDER = "free-spoken-digit-dataset-1.0.10"
FSDD_CREDIT = ("Free Spoken Digit Dataset, by Zohar Jackson and contributors, CC BY-SA 4.0 "
               "(github.com/Jakobovski/free-spoken-digit-dataset)")
FSDD_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)$")


@DATASETS.register(
    "fsdd",
    "Free Spoken Digit Dataset: spoken digits 0-9, 8 kHz recordings named digit_speaker_"
    "index.wav (official split: index 0-4 validate). CC BY-SA 4.0; downloaded when missing.",
    (
        Param("data_dir", "dir", "", "The dataset's folder (the repository holding "
              "recordings/, or the recordings folder itself; empty: the TrainDesk data "
              "folder, where it is downloaded)."),
        Param("download", "bool", True, "Download the recordings when they are missing "
              "(needs internet; otherwise the error says what to fetch and where)."),
        Param("split", "choice", "official", "official: recordings 0-4 of each speaker and "
              "digit validate, 5-49 train; by_speaker: the speakers in val_speakers "
              "validate, unheard in training.", choices=("official", "by_speaker")),
        Param("val_speakers", "str_list", ["yweweler"], "by_speaker: who validates."),
        *(replace(p, default=8000) if p.name == "sample_rate" else p for p in FEATURES),
        *AUGMENT,
    ),
    task="classification", gives="audio",
)
def fsdd(params: dict, seed: int) -> InMemoryData:
    import numpy as np

    folder = _fsdd_folder(params)
    recordings = []
    for path in audio_files(folder):
        match = FSDD_NAME.match(path.stem)
        if match:
            recordings.append(Recording(path, match[1], match[2]))
    classes = [str(d) for d in range(10)]
    notes = [f"data: {FSDD_CREDIT}"]
    waves, labels, kept = read_recordings(recordings, classes, params, folder, notes)
    if params["split"] == "official":
        is_val = np.asarray([int(FSDD_NAME.match(r.path.stem)[3]) < 5 for r in kept])
        train_idx, val_idx = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    else:
        train_idx, val_idx = split_recordings(kept, classes, {**params, "split": "by_group", "val_split": 0.2},
                                              seed, params["val_speakers"])
    if not len(train_idx) or not len(val_idx):
        raise BadInput(f"{folder}: the {params['split']} split leaves "
                       f"{'no training' if not len(train_idx) else 'no validation'} "
                       "recordings; check the folder holds the whole dataset")
    return build_audio_data((waves[train_idx], labels[train_idx]),
                            (waves[val_idx], labels[val_idx]), classes, params, notes,
                            {"credit": FSDD_CREDIT})


def _fsdd_recordings_in(folder: Path) -> Path | None:
    for candidate in (folder / "recordings", folder):
        if candidate.is_dir() and any(FSDD_NAME.match(p.stem) for p in candidate.glob("*.wav")):
            return candidate
    return None


def _fsdd_folder(params: dict) -> Path:
    """The folder of FSDD's WAV files: data_dir (or its recordings/), else the TrainDesk
    data folder's copy, downloaded there when allowed; BadInput naming what to fetch."""
    if params["data_dir"]:
        given = Path(params["data_dir"]).expanduser()
        found = _fsdd_recordings_in(given)
        if found is None:
            raise BadInput(f"[data] data_dir {given} holds no FSDD recordings "
                           "(digit_speaker_index.wav, directly or in recordings/); point it at "
                           f"a copy of the dataset, or leave it empty to download it")
        return found
    root = data_dir(params)
    found = _fsdd_recordings_in(root / FSDD_FOLDER)
    reason = ""
    if found is None and params["download"]:
        try:
            from torchvision.datasets.utils import download_and_extract_archive

            download_and_extract_archive(FSDD_URL, str(root))
        except Exception as exc:  # offline, a proxy, a full disk: say so and how by hand
            reason = (f"downloading failed ({type(exc).__name__}: "
                      f"{(str(exc).splitlines() or [''])[0][:120]}); ")
        found = _fsdd_recordings_in(root / FSDD_FOLDER)
    if found is None:
        hint = "" if params["download"] else " (or set download = true)"
        raise BadInput(f"fsdd: no recordings in {root / FSDD_FOLDER}; {reason}download "
                       f"{FSDD_URL} and unpack it in {root}{hint}, or set [data] data_dir to "
                       "a copy of the dataset")
    return found

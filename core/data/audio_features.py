"""AudioBatches: int16 waveform batches to model inputs (log-mel, MFCC or the waveform), with
augmentation of training batches, on the device where the batch already is.

`AudioFeatures` is the feature computation as an nn.Module (torch.stft, a mel filterbank
computed here, log with a floor, a DCT for MFCC, per-band standardisation), so the same
code serves training, prediction and an exported model that takes raw samples. Random
draws come from torch's CPU generator, which checkpoints save, so a resumed run hears the
same augmentations (as core/data/image_batches.py does for images).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

INT16_SCALE = 32767.0  # core.data.audio.load_waveform stores samples * this


def frame_sizes(settings: dict) -> tuple[int, int]:
    """(window, hop) in samples."""
    rate = settings["sample_rate"]
    return max(2, round(settings["window_ms"] * rate / 1000)), \
        max(1, round(settings["hop_ms"] * rate / 1000))


def mel_filterbank(n_fft: int, rate: int, n_mels: int) -> torch.Tensor:
    """Triangular filters (n_fft // 2 + 1, n_mels) on the HTK mel scale from 0 Hz to the
    Nyquist frequency, peak 1 (torchaudio's melscale_fbanks with norm=None)."""
    def mel(hz):
        return 2595.0 * torch.log10(1.0 + hz / 700.0)

    def hz(mels):
        return 700.0 * (10 ** (mels / 2595.0) - 1.0)

    bins = torch.linspace(0, rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    edges = hz(torch.linspace(0.0, float(mel(torch.tensor(rate / 2.0))), n_mels + 2,
                              dtype=torch.float64))
    lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins[:, None] - lower) / (centre - lower)
    falling = (upper - bins[:, None]) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


def dct_matrix(n_mels: int, n_mfcc: int) -> torch.Tensor:
    """The orthonormal DCT-II as a (n_mels, n_mfcc) matrix: log-mel @ it gives MFCCs."""
    n = torch.arange(n_mels, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)
    basis = torch.cos(math.pi / n_mels * (n[:, None] + 0.5) * k[None, :]) * math.sqrt(2 / n_mels)
    basis[:, 0] /= math.sqrt(2)
    return basis.float()


class AudioFeatures(nn.Module):
    """Waveforms (N, samples) in -1..1 to what the model reads: (N, 1, frames, bands) for
    log_mel and mfcc (time down, bands across, so recurrent models read frame by frame and
    CNNs see a one-channel image), (N, 1, samples) for waveform."""

    def __init__(self, settings: dict, band_mean=None, band_std=None) -> None:
        super().__init__()
        self.kind = settings["features"]
        self.n_fft, self.hop = frame_sizes(settings)
        self.log_floor = float(settings["log_floor"])
        n_mels = settings["n_mels"]
        bands = settings["n_mfcc"] if self.kind == "mfcc" else n_mels
        if self.kind == "mfcc" and bands > n_mels:
            bands = n_mels
        self.register_buffer("window", torch.hann_window(self.n_fft))
        self.register_buffer("mel", mel_filterbank(self.n_fft, settings["sample_rate"], n_mels))
        self.register_buffer("dct", dct_matrix(n_mels, bands))
        self.register_buffer("band_mean", torch.zeros(bands) if band_mean is None
                             else torch.as_tensor(band_mean, dtype=torch.float32))
        self.register_buffer("band_std", torch.ones(bands) if band_std is None
                             else torch.as_tensor(band_std, dtype=torch.float32))

    @property
    def bands(self) -> int:
        return self.band_mean.shape[0]

    def unnormalised(self, wave: torch.Tensor) -> torch.Tensor:
        """Log-mel or MFCC (N, frames, bands) before the per-band standardisation."""
        spectrum = torch.stft(wave, self.n_fft, self.hop, window=self.window, center=True,
                              pad_mode="constant", return_complex=True)
        power = torch.view_as_real(spectrum).square().sum(-1)  # (N, freq, frames)
        features = torch.log(power.transpose(1, 2) @ self.mel + self.log_floor)
        return features @ self.dct if self.kind == "mfcc" else features

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if self.kind == "waveform":
            return wave.unsqueeze(1)
        return ((self.unnormalised(wave) - self.band_mean) / self.band_std).unsqueeze(1)


class AudioBatches:
    """Callable (x, train) -> model inputs: int16 waveforms (N, samples) to floats,
    augmented when `train` (gain, speed and time shift in one resampling, noise at an SNR),
    then features, then SpecAugment masks on training spectrograms."""

    def __init__(self, settings: dict, band_mean=None, band_std=None) -> None:
        self.settings = dict(settings)
        self.features = AudioFeatures(settings, band_mean, band_std)
        self._on_device: dict[str, AudioFeatures] = {}

    @classmethod
    def fitted(cls, settings: dict, train_x: torch.Tensor, chunk: int = 512) -> AudioBatches:
        """AudioBatches whose per-band standardisation uses the training recordings'
        statistics (when normalize_bands is set and the features are a spectrogram)."""
        if not settings["normalize_bands"] or settings["features"] == "waveform":
            return cls(settings)
        plain = AudioFeatures(settings)
        total = total_sq = None
        count = 0
        with torch.no_grad():
            for start in range(0, len(train_x), chunk):
                feats = plain.unnormalised(train_x[start:start + chunk].float() / INT16_SCALE)
                flat = feats.reshape(-1, feats.shape[-1]).double()
                total = flat.sum(0) if total is None else total + flat.sum(0)
                total_sq = flat.square().sum(0) if total_sq is None else \
                    total_sq + flat.square().sum(0)
                count += flat.shape[0]
        mean = total / count
        std = (total_sq / count - mean.square()).clamp_min(1e-10).sqrt().clamp_min(1e-3)
        return cls(settings, mean.float(), std.float())

    def output_shape(self, samples: int) -> tuple[int, ...]:
        if self.features.kind == "waveform":
            return (1, samples)
        return (1, 1 + samples // self.features.hop, self.features.bands)

    def describe(self) -> dict:
        """The preprocessing as plain values, for prediction and exported models."""
        feats = self.features
        return {"audio": {**self.settings, "samples": round(self.settings["sample_rate"]
                                                            * self.settings["duration"]),
                          "window": feats.n_fft, "hop": feats.hop,
                          "band_mean": feats.band_mean.tolist(),
                          "band_std": feats.band_std.tolist(),
                          "stored": "int16 samples (x 32767), mono, peak-normalised when "
                                    "normalize_level, cut or zero-padded at the end"}}

    @property
    def augments(self) -> bool:
        s = self.settings
        return bool(s["time_shift_ms"] or s["noise_snr_db"] or s["gain_db"] or s["speed"]
                    or s["time_masks"] or s["freq_masks"])

    def module_on(self, device) -> AudioFeatures:
        key = str(device)
        if key not in self._on_device:
            self._on_device[key] = self.features.to(device) if key == "cpu" else \
                AudioFeatures(self.settings, self.features.band_mean,
                              self.features.band_std).to(device)
        return self._on_device[key]

    def __call__(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        wave = x.float() / INT16_SCALE
        train = train and self.augments
        if train:
            wave = self.augment_wave(wave)
        features = self.module_on(wave.device)(wave)
        if train and self.features.kind != "waveform":
            features = self.mask(features)
        return features

    def augment_wave(self, wave: torch.Tensor) -> torch.Tensor:
        s = self.settings
        n, length = wave.shape
        device = wave.device
        if s["gain_db"]:
            gain = 10 ** ((torch.rand(n) * 2 - 1) * s["gain_db"] / 20)
            wave = wave * gain.to(device)[:, None]
        if s["speed"] or s["time_shift_ms"]:
            # One linear resampling does both: output sample t reads the input at
            # t * factor - shift (zeros outside), as grid_sample's bilinear on a 1-pixel row.
            factor = 1 + (torch.rand(n) * 2 - 1) * s["speed"]
            most = round(s["time_shift_ms"] * s["sample_rate"] / 1000)
            shift = torch.randint(-most, most + 1, (n,)).float()
            source = torch.arange(length).float()[None] * factor[:, None] - shift[:, None]
            x_grid = (source * 2 / max(1, length - 1) - 1).to(device)
            grid = torch.stack([x_grid, torch.zeros_like(x_grid)], -1)[:, None]  # (n, 1, L, 2)
            wave = F.grid_sample(wave[:, None, None, :], grid, mode="bilinear",
                                 padding_mode="zeros", align_corners=True).view(n, length)
        if s["noise_snr_db"]:
            snr = s["noise_snr_db"] + torch.rand(n) * max(0.0, 40.0 - s["noise_snr_db"])
            power = wave.square().mean(1)
            scale = (power / 10 ** (snr.to(device) / 10)).sqrt()
            wave = wave + torch.randn(n, length).to(device) * scale[:, None]
        return wave

    def mask(self, features: torch.Tensor) -> torch.Tensor:
        """SpecAugment: zero (the band mean, after standardisation) random stretches of
        frames and runs of bands, each up to the set width, in each spectrogram."""
        s = self.settings
        n, _, frames, bands = features.shape
        keep = torch.ones(n, frames, bands, dtype=torch.bool)
        for count, widest, size, axis in ((s["time_masks"], s["time_mask_frames"], frames, 1),
                                          (s["freq_masks"], s["freq_mask_bands"], bands, 2)):
            positions = torch.arange(size)[None]
            for _ in range(count):
                width = torch.randint(0, min(widest, size) + 1, (n,))
                start = (torch.rand(n) * (size - width + 1)).long()
                hit = (positions >= start[:, None]) & (positions < (start + width)[:, None])
                keep &= ~(hit[:, :, None] if axis == 1 else hit[:, None, :])
        return features * keep.to(features.device)[:, None]

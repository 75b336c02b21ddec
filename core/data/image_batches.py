"""ImageBatches: raw image batches to normalised floats, with augmentation of training batches.

It runs on the device where the batch already is, as a few tensor operations per batch
(one affine resampling for shift, flip and rotation together), so the in-memory data path
stays a matter of index slicing. MixUp and CutMix mix each training batch with a shuffled
copy of itself, one mixing share per batch (timm's "batch" mode), and say how, so the
trainer can weigh the loss of both labels. Random draws come from torch's CPU generator,
which the trainer saves in checkpoints, so a resumed run sees the same augmentations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F


class ImageBatches:
    """Callable (x, train) -> float batch: `x / scale`, augmented when `train`, then
    `(x - mean) / std` per channel.

    `random_crop` shifts by up to that many pixels (the part moved out is lost and the
    border filled with `fill`, as padding and cropping back would); `flip` mirrors half
    the images left-right; `rotation` turns by up to that many degrees either way.
    `mixup_alpha` and `cutmix_alpha` (0: off) are the Beta distributions' parameters of
    MixUp and CutMix (`mix`), applied to a `mix_prob` share of the training batches; with
    both on, each mixed batch gets one or the other, evenly.
    """

    def __init__(self, mean: list[float], std: list[float], scale: float = 255.0,
                 random_crop: int = 0, flip: bool = False, rotation: float = 0.0,
                 fill: float = 0.0, mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0,
                 mix_prob: float = 1.0) -> None:
        self.mean, self.std, self.scale = list(mean), list(std), scale
        self.random_crop, self.flip, self.rotation, self.fill = random_crop, flip, rotation, fill
        self.mixup_alpha, self.cutmix_alpha, self.mix_prob = mixup_alpha, cutmix_alpha, mix_prob
        self._stats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def augments(self) -> bool:
        """Whether training batches change at all: moved (`moves`) or mixed (`mixes`)."""
        return self.moves or self.mixes

    @property
    def moves(self) -> bool:
        return bool(self.random_crop or self.flip or self.rotation)

    def __call__(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        x = x.float()
        if self.scale != 1.0:
            x = x / self.scale
        if train and self.moves:
            x = self.augment(x)
        mean, std = self._device_stats(x.device)
        return (x - mean) / std

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        angle = (torch.rand(n) * 2 - 1) * math.radians(self.rotation)
        mirror = torch.where(torch.rand(n) < 0.5, -1.0, 1.0) if self.flip else torch.ones(n)
        # One pixel is 2/size in the [-1, 1] coordinates that affine_grid uses.
        shift = torch.randint(-self.random_crop, self.random_crop + 1, (2, n)).float()
        cos, sin = angle.cos(), angle.sin()
        theta = torch.stack([
            torch.stack([cos * mirror, -sin, shift[0] * 2 / width], 1),
            torch.stack([sin * mirror, cos, shift[1] * 2 / height], 1),
        ], 1).to(x.device)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        # Whole-pixel shifts and mirrors stay exact with nearest; rotations need bilinear.
        mode = "bilinear" if self.rotation else "nearest"
        moved = F.grid_sample(x - self.fill, grid, mode=mode, padding_mode="zeros",
                              align_corners=False)
        return moved + self.fill

    @property
    def mixes(self) -> bool:
        return bool((self.mixup_alpha or self.cutmix_alpha) and self.mix_prob)

    def mix(self, x: torch.Tensor) -> tuple[torch.Tensor, Mix | None]:
        """A model-ready training batch mixed by MixUp or CutMix, and how (None: this batch
        is left as it is, by `mix_prob` or with both off)."""
        plan = self.draw_mix(len(x), x.shape[2], x.shape[3])
        return (x, None) if plan is None else (plan.apply(x), plan)

    def draw_mix(self, n: int, height: int, width: int) -> Mix | None:
        """The random part of `mix` for a batch of n images of height x width."""
        if not self.mixes or torch.rand(()).item() >= self.mix_prob:
            return None
        cutmix = bool(self.cutmix_alpha) and (
            not self.mixup_alpha or torch.rand(()).item() < 0.5)
        alpha = self.cutmix_alpha if cutmix else self.mixup_alpha
        lam = float(torch.distributions.Beta(alpha, alpha).sample())
        partners = torch.randperm(n)
        if not cutmix:
            return Mix(partners, lam)
        box = cutmix_box(lam, height, width, int(torch.randint(height, ())),
                         int(torch.randint(width, ())))
        top, bottom, left, right = box
        return Mix(partners, 1 - (bottom - top) * (right - left) / (height * width), box)

    def _device_stats(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        key = str(device)
        if key not in self._stats:
            self._stats[key] = (torch.tensor(self.mean, device=device).view(1, -1, 1, 1),
                                torch.tensor(self.std, device=device).view(1, -1, 1, 1))
        return self._stats[key]


@dataclass(frozen=True)
class Mix:
    """How a batch was mixed: sample i became `lam` of itself and 1 - `lam` of sample
    `partners[i]`, blended (MixUp) or, with a `box` (top, bottom, left, right; rows and
    columns, end excluded), with that part of its partner pasted in (CutMix). `lam` is then
    the share of pixels left, the weight of the sample's own label in the loss."""

    partners: torch.Tensor  # a permutation of the batch, on the CPU
    lam: float
    box: tuple[int, int, int, int] | None = None

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        partners = self.partners.to(x.device)
        if self.box is None:
            return x * self.lam + x[partners] * (1 - self.lam)
        top, bottom, left, right = self.box
        mixed = x.clone()
        mixed[:, :, top:bottom, left:right] = x[partners][:, :, top:bottom, left:right]
        return mixed

    def dominant(self, targets: torch.Tensor) -> torch.Tensor:
        """Each sample's larger share's label: what a mixed batch's accuracy counts against."""
        return targets if self.lam >= 0.5 else targets[self.partners.to(targets.device)]


def cutmix_box(lam: float, height: int, width: int, centre_row: int,
               centre_col: int) -> tuple[int, int, int, int]:
    """CutMix's box (top, bottom, left, right) of about 1 - lam of the image around the
    centre, its sides sqrt(1 - lam) of the image's, cut off at the border (so the share
    really pasted is recomputed from the box), as the CutMix paper's code and timm do."""
    ratio = math.sqrt(1 - lam)
    half_h, half_w = int(height * ratio) // 2, int(width * ratio) // 2
    return (max(centre_row - half_h, 0), min(centre_row + half_h, height),
            max(centre_col - half_w, 0), min(centre_col + half_w, width))


def channel_stats(images, max_images: int = 10000) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images (N, C, H, W) on the 0..1 scale, from at most
    `max_images` evenly spaced images (enough for the statistics, cheap on CIFAR's 50,000)."""
    step = max(1, len(images) // max_images)
    sample = torch.as_tensor(images[::step]).float() / 255.0
    mean = sample.mean(dim=(0, 2, 3))
    std = sample.std(dim=(0, 2, 3)).clamp_min(1e-6)
    return mean.tolist(), std.tolist()

"""ImageBatches: raw image batches to normalised floats, with augmentation of training batches.

It runs on the device where the batch already is, as a few tensor operations per batch
(one affine resampling for shift, flip and rotation together), so the in-memory data path
stays a matter of index slicing. Random draws come from torch's CPU generator, which the
trainer saves in checkpoints, so a resumed run sees the same augmentations.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F


class ImageBatches:
    """Callable (x, train) -> float batch: `x / scale`, augmented when `train`, then
    `(x - mean) / std` per channel.

    `random_crop` shifts by up to that many pixels (the part moved out is lost and the
    border filled with `fill`, as padding and cropping back would); `flip` mirrors half
    the images left-right; `rotation` turns by up to that many degrees either way.
    """

    def __init__(self, mean: list[float], std: list[float], scale: float = 255.0,
                 random_crop: int = 0, flip: bool = False, rotation: float = 0.0,
                 fill: float = 0.0) -> None:
        self.mean, self.std, self.scale = list(mean), list(std), scale
        self.random_crop, self.flip, self.rotation, self.fill = random_crop, flip, rotation, fill
        self._stats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def augments(self) -> bool:
        return bool(self.random_crop or self.flip or self.rotation)

    def __call__(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        x = x.float()
        if self.scale != 1.0:
            x = x / self.scale
        if train and self.augments:
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

    def _device_stats(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        key = str(device)
        if key not in self._stats:
            self._stats[key] = (torch.tensor(self.mean, device=device).view(1, -1, 1, 1),
                                torch.tensor(self.std, device=device).view(1, -1, 1, 1))
        return self._stats[key]


def channel_stats(images, max_images: int = 10000) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of uint8 images (N, C, H, W) on the 0..1 scale, from at most
    `max_images` evenly spaced images (enough for the statistics, cheap on CIFAR's 50,000)."""
    step = max(1, len(images) // max_images)
    sample = torch.as_tensor(images[::step]).float() / 255.0
    mean = sample.mean(dim=(0, 2, 3))
    std = sample.std(dim=(0, 2, 3)).clamp_min(1e-6)
    return mean.tolist(), std.tolist()

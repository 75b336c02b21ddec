"""ImageBatches: raw image batches to normalised floats, with augmentation of training batches.

It runs on the device where the batch already is, as a few tensor operations per batch
(one affine resampling for shift, flip and rotation together; one grid_sample for the
random resized crops; colour jitter, TrivialAugment and random erasing per image as masked
tensor operations over the batch, in core.data.image_ops), so the in-memory data path
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

from core.data import image_ops


class ImageBatches:
    """Callable (x, train) -> float batch: `x / scale`, augmented when `train`, then
    `(x - mean) / std` per channel.

    `x / scale` has black at `fill` and white at `white` (0 and 1 for pixels; a dataset
    stored normalised says where they went). Training batches get, in this order:
    `crop_scale` (min, max): a random resized crop per image of that share of its area (min
    0: off), as torchvision's RandomResizedCrop; `random_crop` shifts by up to that many
    pixels (the part moved out is lost and the border filled with `fill`, as padding and
    cropping back would); `flip` mirrors half the images left-right; `rotation` turns by up
    to that many degrees either way; colour jitter of strengths `brightness`, `contrast`,
    `saturation` and `hue` (as torchvision's ColorJitter, in that fixed order); `trivial`:
    one TrivialAugment operation per image (core.data.image_ops); then, after normalising,
    random erasing of a box with probability `erasing` (the erased pixels become 0, the mean,
    as torchvision's RandomErasing). `mixup_alpha` and `cutmix_alpha` (0: off) are the Beta
    distributions' parameters of MixUp and CutMix (`mix`), applied to a `mix_prob` share of
    the training batches; with both on, each mixed batch gets one or the other, evenly.
    """

    def __init__(self, mean: list[float], std: list[float], scale: float = 255.0,
                 random_crop: int = 0, flip: bool = False, rotation: float = 0.0,
                 fill: float = 0.0, mixup_alpha: float = 0.0, cutmix_alpha: float = 0.0,
                 mix_prob: float = 1.0, *, white: float = 1.0, brightness: float = 0.0,
                 contrast: float = 0.0, saturation: float = 0.0, hue: float = 0.0,
                 crop_scale: tuple[float, float] = (0.0, 1.0), trivial: bool = False,
                 erasing: float = 0.0) -> None:
        self.mean, self.std, self.scale = list(mean), list(std), scale
        self.random_crop, self.flip, self.rotation, self.fill = random_crop, flip, rotation, fill
        self.white = white
        self.brightness, self.contrast, self.saturation, self.hue = (brightness, contrast,
                                                                     saturation, hue)
        self.crop_scale, self.trivial, self.erasing = tuple(crop_scale), trivial, erasing
        self.mixup_alpha, self.cutmix_alpha, self.mix_prob = mixup_alpha, cutmix_alpha, mix_prob
        self._stats: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @property
    def augments(self) -> bool:
        """Whether training batches change at all: image by image (`changes_images`) or
        mixed (`mixes`)."""
        return self.changes_images or self.mixes

    @property
    def changes_images(self) -> bool:
        """Whether each training image is changed on its own (everything but mixing)."""
        return bool(self.moves or self.crop_scale[0] or self.recolours or self.trivial
                    or self.erasing)

    @property
    def moves(self) -> bool:
        return bool(self.random_crop or self.flip or self.rotation)

    @property
    def recolours(self) -> bool:
        return bool(self.brightness or self.contrast or self.saturation or self.hue)

    def __call__(self, x: torch.Tensor, train: bool) -> torch.Tensor:
        x = x.float()
        if self.scale != 1.0:
            x = x / self.scale
        if train and self.changes_images:
            x = self.augment(x)
        mean, std = self._device_stats(x.device)
        x = (x - mean) / std
        if train and self.erasing:
            x = self.erase(x)
        return x

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        """The augmentation before normalising: resized crop, moves, colours, TrivialAugment."""
        if self.crop_scale[0]:
            x = self.resized_crop(x)
        if self.moves:
            x = self.move(x)
        if self.recolours or self.trivial:
            span = self.white - self.fill  # colour operations work on black 0, white 1
            x01 = (x - self.fill) / span
            if self.recolours:
                x01 = self.jitter(x01)
            if self.trivial:
                x01 = image_ops.trivial_augment(x01, *image_ops.draw_trivial(len(x)))
            x = x01 * span + self.fill
        return x

    def resized_crop(self, x: torch.Tensor) -> torch.Tensor:
        """Each image's random box (RandomResizedCrop's draw) resized to the whole image."""
        n, _, height, width = x.shape
        top, left, h, w, found = image_ops.random_boxes(n, height, width, self.crop_scale,
                                                        image_ops.CROP_RATIO)
        fallback = image_ops.crop_fallback(height, width)
        top, left, h, w = (torch.where(found, value, default) for value, default in
                           zip((top, left, h, w), fallback))
        return image_ops.resized_crops(x, top, left, h, w)

    def move(self, x: torch.Tensor) -> torch.Tensor:
        """Shift, flip and turn every image, in one affine resampling."""
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

    def jitter(self, x: torch.Tensor) -> torch.Tensor:
        """ColorJitter on images in 0..1: a factor per image and setting, drawn for every
        setting that is on."""
        n = len(x)
        if self.brightness:
            x = image_ops.brightness(x, image_ops.jitter_factors(n, self.brightness))
        if self.contrast:
            x = image_ops.contrast(x, image_ops.jitter_factors(n, self.contrast))
        if self.saturation:
            x = image_ops.saturation(x, image_ops.jitter_factors(n, self.saturation))
        if self.hue:
            x = image_ops.hue(x, (torch.rand(n) * 2 - 1) * self.hue)
        return x

    def erase(self, x: torch.Tensor) -> torch.Tensor:
        """RandomErasing on normalised images: each with probability `erasing` gets a random
        box set to 0 (where no drawn box fits, none)."""
        n, _, height, width = x.shape
        chosen = torch.rand(n) < self.erasing
        top, left, h, w, found = image_ops.random_boxes(
            n, height, width, image_ops.ERASE_SCALE, image_ops.ERASE_RATIO, strict=True)
        return image_ops.erase(x, chosen & found, top, left, h, w)

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
    sums = ChannelSums()
    for start in range(0, len(images), step * ChannelSums.CHUNK):
        sums.add(images[start:start + step * ChannelSums.CHUNK:step])
    return sums.stats()


class ChannelSums:
    """Per-channel pixel count, sum and sum of squares of uint8 images, added up chunk by
    chunk as exact integers: the statistics do not depend on how the images came in (a
    streamed folder decodes them a chunk at a time), and no float copy of them all is
    made (2,000 images at 224x224 would be 1.2 GB)."""

    CHUNK = 32  # images turned into int64 at a time: 38 MB at 3 x 224 x 224

    def __init__(self) -> None:
        self.count = 0
        self.sum = self.squares = None

    def add(self, images) -> None:
        for start in range(0, len(images), self.CHUNK):
            x = torch.as_tensor(images[start:start + self.CHUNK]).to(torch.int64)
            total, squares = x.sum(dim=(0, 2, 3)), x.square().sum(dim=(0, 2, 3))
            self.count += x.numel() // x.shape[1]
            self.sum = total if self.sum is None else self.sum + total
            self.squares = squares if self.squares is None else self.squares + squares

    def stats(self) -> tuple[list[float], list[float]]:
        """(mean, std) per channel on the 0..1 scale; the std as torch.std has it (n - 1)."""
        n = self.count
        total, squares = self.sum.double(), self.squares.double()
        variance = (squares - total * total / n) / max(n - 1, 1)
        mean = total / n / 255.0
        std = (variance.clamp_min(0).sqrt() / 255.0).clamp_min(1e-6)
        return mean.tolist(), std.tolist()

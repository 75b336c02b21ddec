"""Per-sample image operations on a whole batch at once, for ImageBatches' augmentation:
colour jitter, torchvision's RandomResizedCrop and RandomErasing boxes, and TrivialAugment's
random operation. Images are floats (N, C, H, W) on any device with black at 0 and white at
1 (ImageBatches maps its pixel range there and back). Random draws come from torch's CPU
generator, as many per batch whatever they turn out to be, so a resumed run repeats them.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

# torchvision's rgb_to_grayscale weights (ITU-R 601-2 luma)
LUMA = (0.2989, 0.587, 0.114)
# torchvision's RandomResizedCrop aspect ratios, RandomErasing's area shares and ratios
CROP_RATIO = (3 / 4, 4 / 3)
ERASE_SCALE, ERASE_RATIO = (0.02, 0.33), (0.3, 3.3)
BOX_ATTEMPTS = 10  # tries for a box that fits, as torchvision makes
# TrivialAugmentWide's operations and their largest magnitude (31 steps from 0 to it, one
# drawn per sample; signed ones get a random sign). Translation is a share of the side
# (torchvision: 32 px whatever the size, a seventh of a 224 px image). Equalize is left
# out: a histogram per image and channel has no cheap batched form.
TRIVIAL_OPS = {"identity": 0.0, "shear_x": 0.99, "shear_y": 0.99, "translate_x": 32 / 224,
               "translate_y": 32 / 224, "rotate": 135.0, "brightness": 0.99, "color": 0.99,
               "contrast": 0.99, "sharpness": 0.99, "posterize": 6.0, "solarize": 1.0,
               "autocontrast": 0.0}
SIGNED = {"shear_x", "shear_y", "translate_x", "translate_y", "rotate", "brightness", "color",
          "contrast", "sharpness"}
GEOMETRIC = ("shear_x", "shear_y", "translate_x", "translate_y", "rotate")
MAGNITUDE_BINS = 31


def grey(x: torch.Tensor) -> torch.Tensor:
    """Each image's luminance (N, 1, H, W): the image itself when it has one channel."""
    if x.shape[1] != 3:
        return x[:, :1]
    r, g, b = x.unbind(1)
    return (LUMA[0] * r + LUMA[1] * g + LUMA[2] * b).unsqueeze(1)


def per_sample(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(N,) values as (N, 1, 1, 1) on x's device and dtype, to scale each image."""
    return values.to(x.device, x.dtype).view(-1, 1, 1, 1)


def blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """factor * x + (1 - factor) * other, in 0..1 (torchvision's _blend)."""
    f = per_sample(factor, x)
    return (f * x + (1 - f) * other).clamp(0, 1)


def brightness(x, factor):
    return blend(x, torch.zeros_like(x), factor)


def contrast(x, factor):
    return blend(x, grey(x).mean(dim=(1, 2, 3), keepdim=True), factor)


def saturation(x, factor):
    """Blend with the grey image: no change to a grey (one-channel) image."""
    return x if x.shape[1] != 3 else blend(x, grey(x), factor)


def hue(x, shift):
    """Turn each colour image's hue by `shift` (N,) of a full turn; grey images stay."""
    if x.shape[1] != 3:
        return x
    h, s, v = rgb_to_hsv(x).unbind(1)
    h = (h + per_sample(shift, x)[:, 0]) % 1.0
    return hsv_to_rgb(torch.stack([h, s, v], 1))


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """torchvision's _rgb2hsv: hue, saturation, value in 0..1."""
    r, g, b = x.unbind(1)
    high, low = x.max(1).values, x.min(1).values
    span = high - low
    same = high == low
    s = span / torch.where(same, torch.ones_like(high), high)
    divisor = torch.where(same, torch.ones_like(span), span)
    rc, gc, bc = (high - r) / divisor, (high - g) / divisor, (high - b) / divisor
    hr = (high == r) * (bc - gc)
    hg = ((high == g) & (high != r)) * (2.0 + rc - bc)
    hb = ((high != g) & (high != r)) * (4.0 + gc - rc)
    h = ((hr + hg + hb) / 6.0 + 1.0) % 1.0
    return torch.stack([h, s, high], 1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """torchvision's _hsv2rgb."""
    h, s, v = x.unbind(1)
    i = torch.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(torch.int64) % 6
    p = (v * (1 - s)).clamp(0, 1)
    q = (v * (1 - s * f)).clamp(0, 1)
    t = (v * (1 - s * (1 - f))).clamp(0, 1)
    sector = i.unsqueeze(1) == torch.arange(6, device=x.device).view(1, -1, 1, 1)
    a1 = torch.stack((v, q, p, p, t, v), 1)
    a2 = torch.stack((t, v, v, q, p, p), 1)
    a3 = torch.stack((p, p, t, v, v, q), 1)
    table = torch.stack((a1, a2, a3), 1)  # (N, 3, 6, H, W)
    return torch.einsum("nkhw,nckhw->nchw", sector.to(x.dtype), table)


def jitter_factors(n: int, strength: float) -> torch.Tensor:
    """ColorJitter's factors for n images: uniform in [max(0, 1 - s), 1 + s]."""
    low = max(0.0, 1 - strength)
    return low + torch.rand(n) * (1 + strength - low)


def random_boxes(n: int, height: int, width: int, scale: tuple[float, float],
                 ratio: tuple[float, float], strict: bool = False):
    """torchvision's box draw for n images at once (RandomResizedCrop.get_params, or with
    `strict` RandomErasing.get_params): up to BOX_ATTEMPTS tries of an area share in
    `scale` and an aspect ratio (width / height; height / width when `strict`, as
    RandomErasing has it) log-uniform in `ratio`, the first that fits kept. Returns (top,
    left, box height, box width, found), each (n,) on the CPU; where none fits, `found` is
    False and the box is the whole image."""
    area = height * width
    shares = scale[0] + torch.rand(n, BOX_ATTEMPTS) * (scale[1] - scale[0])
    log_low, log_high = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(log_low + torch.rand(n, BOX_ATTEMPTS) * (log_high - log_low))
    w = torch.sqrt(shares * area * aspect).round().long()
    h = torch.sqrt(shares * area / aspect).round().long()
    if strict:
        h, w = w, h
        fits = (h < height) & (w < width)
    else:
        fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    place = torch.rand(n, BOX_ATTEMPTS, 2)
    found = fits.any(1)
    first = fits.int().argmax(1)
    pick = torch.arange(n)
    h = torch.where(found, h[pick, first], torch.full((n,), height))
    w = torch.where(found, w[pick, first], torch.full((n,), width))
    top = (place[pick, first, 0] * (height - h + 1)).long().clamp(max=height - h)
    left = (place[pick, first, 1] * (width - w + 1)).long().clamp(max=width - w)
    return top, left, h, w, found


def crop_fallback(height: int, width: int) -> tuple[int, int, int, int]:
    """RandomResizedCrop's box when no draw fits: the central crop of the widest aspect
    ratio allowed, (top, left, height, width)."""
    in_ratio = width / height
    if in_ratio < CROP_RATIO[0]:
        w, h = width, int(round(width / CROP_RATIO[0]))
    elif in_ratio > CROP_RATIO[1]:
        h, w = height, int(round(height * CROP_RATIO[1]))
    else:
        h, w = height, width
    return (height - h) // 2, (width - w) // 2, h, w


def resized_crops(x: torch.Tensor, top, left, h, w) -> torch.Tensor:
    """Each image's box (top, left, h, w; (N,) each) resized to the whole image, bilinear:
    exactly F.interpolate(box, size, mode="bilinear", align_corners=False) of each box
    (no antialiasing), in one grid_sample over the batch."""
    n, _, height, width = x.shape

    def source(start, size, out):
        # output pixel j reads box pixel (j + 0.5) * size / out - 0.5, held inside the box
        # as interpolate holds it; then in grid_sample's [-1, 1] coordinates
        j = torch.arange(out, dtype=torch.float64).view(1, -1)
        start, size = start.double().view(-1, 1), size.double().view(-1, 1)
        pixel = torch.minimum(torch.maximum(start + (j + 0.5) * size / out - 0.5, start),
                              start + size - 1)
        return (2 * pixel + 1) / out - 1

    rows, cols = source(top, h, height), source(left, w, width)
    grid = torch.stack([cols[:, None, :].expand(n, height, width),
                        rows[:, :, None].expand(n, height, width)], -1)
    return F.grid_sample(x, grid.to(x.device, x.dtype), mode="bilinear",
                         padding_mode="border", align_corners=False)


def erase(x: torch.Tensor, chosen, top, left, h, w, value: float = 0.0) -> torch.Tensor:
    """x with each `chosen` image's box (top, left, h, w) set to `value`."""
    n, _, height, width = x.shape
    rows = torch.arange(height).view(1, -1)
    cols = torch.arange(width).view(1, -1)
    inside_rows = (rows >= top.view(-1, 1)) & (rows < (top + h).view(-1, 1))
    inside_cols = (cols >= left.view(-1, 1)) & (cols < (left + w).view(-1, 1))
    mask = (inside_rows[:, :, None] & inside_cols[:, None, :]) & chosen.view(-1, 1, 1)
    return x.masked_fill(mask.to(x.device)[:, None], value)


def draw_trivial(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """TrivialAugment's draw for n images: (operation index into TRIVIAL_OPS, signed
    magnitude as a share 0..1 of the operation's largest), one per image."""
    ops = torch.randint(len(TRIVIAL_OPS), (n,))
    steps = torch.randint(MAGNITUDE_BINS, (n,)).float() / (MAGNITUDE_BINS - 1)
    signs = torch.where(torch.rand(n) < 0.5, -1.0, 1.0)
    signed = torch.tensor([name in SIGNED for name in TRIVIAL_OPS])[ops]
    return ops, torch.where(signed, steps * signs, steps)


def trivial_augment(x: torch.Tensor, ops: torch.Tensor, shares: torch.Tensor) -> torch.Tensor:
    """Apply to each image its operation `ops[i]` at `shares[i]` of that operation's
    largest magnitude (draw_trivial), as torchvision's TrivialAugmentWide does (geometry
    with nearest pixels, the border black; shears and turns about the centre)."""
    out = x.clone()
    names = list(TRIVIAL_OPS)
    for index, name in enumerate(names):
        chosen = (ops == index).nonzero().flatten()
        if name == "identity" or not len(chosen):
            continue
        magnitude = shares[chosen] * TRIVIAL_OPS[name]
        where = chosen.to(x.device)
        out[where] = _trivial_op(name, x[where], magnitude)
    return out


def _trivial_op(name: str, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """One TrivialAugment operation on the images x at magnitudes m (N,)."""
    if name in GEOMETRIC:
        return _affine(x, name, m)
    if name == "brightness":
        return brightness(x, 1 + m)
    if name == "color":
        return saturation(x, 1 + m)
    if name == "contrast":
        return contrast(x, 1 + m)
    if name == "sharpness":
        return sharpness(x, 1 + m)
    if name == "posterize":
        return posterize(x, 8 - m.round().long())
    if name == "solarize":
        return solarize(x, 1 - m)
    return autocontrast(x)


def _affine(x: torch.Tensor, name: str, m: torch.Tensor) -> torch.Tensor:
    """Shear, shift or turn each image about its centre by m (N,), nearest pixels, the
    border black. m: a shear factor, a share of the side, or degrees."""
    n, _, height, width = x.shape
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    if name == "shear_x":  # x_in = x + m * y, in pixels
        theta[:, 0, 1] = -m * height / width
    elif name == "shear_y":
        theta[:, 1, 0] = -m * width / height
    elif name == "translate_x":  # a share of the side is 2 * share in [-1, 1] coordinates
        theta[:, 0, 2] = -2 * m
    elif name == "translate_y":
        theta[:, 1, 2] = -2 * m
    else:
        angle = torch.deg2rad(m)
        theta[:, 0, 0], theta[:, 0, 1] = angle.cos(), -angle.sin() * height / width
        theta[:, 1, 0], theta[:, 1, 1] = angle.sin() * width / height, angle.cos()
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def sharpness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """torchvision's adjust_sharpness: blend with the image smoothed by the 3x3 kernel
    [[1 1 1] [1 5 1] [1 1 1]] / 13, whose border pixels are the image's own."""
    channels = x.shape[1]
    kernel = torch.ones(3, 3, dtype=x.dtype, device=x.device)
    kernel[1, 1] = 5.0
    kernel = (kernel / kernel.sum()).expand(channels, 1, 3, 3)
    smooth = x.clone()
    smooth[:, :, 1:-1, 1:-1] = F.conv2d(x, kernel, groups=channels)
    return blend(x, smooth, factor)


def posterize(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """Keep the top `bits` (N,) bits of each 8-bit pixel value."""
    step = per_sample(2.0 ** (8 - bits.float()), x)
    return torch.floor(torch.floor(x * 255 + 0.5) / step) * step / 255


def solarize(x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """Invert the pixels at or above `threshold` (N,), 0..1."""
    return torch.where(x >= per_sample(threshold, x), 1 - x, x)


def autocontrast(x: torch.Tensor) -> torch.Tensor:
    """Stretch each image's channels to the full 0..1 range (a flat channel stays)."""
    low = x.amin(dim=(2, 3), keepdim=True)
    high = x.amax(dim=(2, 3), keepdim=True)
    flat = high <= low
    scale = torch.where(flat, torch.ones_like(high), 1 / (high - low).clamp_min(1e-12))
    return torch.where(flat, x, (x - low) * scale).clamp(0, 1)

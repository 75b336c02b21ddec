"""What each image augmentation costs a training batch: ImageBatches on one batch of
CIFAR-sized uint8 images (256 x 3 x 32 x 32) with one augmentation on at a time, against
normalising alone, on the CPU (or the device named by --device). Median of --repeats rounds, each round timing every setting once.

    python -m benchmarks.augment_cost [--device cuda] [--repeats 30]
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks.common import machine, summarize

SETTINGS = {
    "normalise only": {},
    "shift, flip (random_crop 4, flip)": {"random_crop": 4, "flip": True},
    "random resized crop (0.35..1)": {"crop_scale": (0.35, 1.0)},
    "colour jitter (0.4, 0.4, 0.4, 0.1)": {"brightness": 0.4, "contrast": 0.4,
                                           "saturation": 0.4, "hue": 0.1},
    "TrivialAugment": {"trivial": True},
    "random erasing (0.25)": {"erasing": 0.25},
}


def main() -> None:
    import torch

    from core.data.image_batches import ImageBatches

    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    device = torch.device(args.device)
    x = torch.randint(0, 256, (256, 3, 32, 32), dtype=torch.uint8, device=device)
    transforms = {}
    for name, settings in SETTINGS.items():
        settings = dict(settings)
        crop_scale = settings.pop("crop_scale", (0.0, 1.0))
        transforms[name] = ImageBatches([0.5] * 3, [0.25] * 3, crop_scale=crop_scale,
                                        **settings)
    times: dict[str, list[float]] = {name: [] for name in SETTINGS}
    # round after round over the settings, so a busy moment of the machine falls on all
    for round_number in range(args.repeats + 3):
        for name, batches in transforms.items():
            start = time.perf_counter()
            out = batches(x, True)
            if device.type == "cuda":
                torch.cuda.synchronize()
            if round_number >= 3:  # warm-up rounds dropped
                times[name].append((time.perf_counter() - start) * 1000)
            assert out.shape == x.shape
    results = {name: summarize(values) for name, values in times.items()}
    for name, result in results.items():
        print(f"{name:40s} {result['median']:7.2f} ms a batch (median)")
    print(json.dumps({"machine": machine(), "device": str(device), "ms": {
        k: round(v["median"], 2) for k, v in results.items()}}))


if __name__ == "__main__":
    main()

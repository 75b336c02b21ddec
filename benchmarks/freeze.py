"""Benchmark 4: what freezing saves. simple_cnn on digits with conv1 and conv2 frozen
against the same run with every layer trainable.

Same data, batch size, seed and thread count; the two take turns within each repeat.
Time per epoch counts the training steps only (validation and checkpoints excluded), from
the run's own samples-per-second figure.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import summarize


def epoch_ms(freeze: list[str], epochs: int) -> tuple[float, int]:
    """(milliseconds of training steps per epoch, trainable parameters) of one run."""
    from core.config import RunConfig
    from core.events import RunStarted
    from core.train.loop import train

    config = RunConfig.from_dict({
        "model": {"name": "simple_cnn"}, "data": {"name": "digits"},
        "training": {"device": "cpu", "batch_size": 64, "epochs": epochs},
        "finetune": {"freeze": freeze},
    })
    samples: list[int] = []

    def count_samples(event) -> None:
        if isinstance(event, RunStarted):
            samples.append(event.train_samples)

    with tempfile.TemporaryDirectory() as runs:
        summary = train(config, runs_dir=Path(runs), listeners=[count_samples])
    return 1000 * samples[0] / summary["samples_per_s"], summary["trainable_params"]


def run(repeats: int = 3, epochs: int = 3) -> list[dict]:
    trainable_ms, frozen_ms = [], []
    for _ in range(repeats):  # alternate: the machine's speed drifts between runs
        ms, all_params = epoch_ms([], epochs)
        trainable_ms.append(ms)
        ms, frozen_params = epoch_ms(["conv1", "conv2"], epochs)
        frozen_ms.append(ms)
    trainable, frozen = summarize(trainable_ms), summarize(frozen_ms)
    return [{
        "benchmark": f"freezing conv1+conv2, simple_cnn, digits, batch 64, {epochs} epochs",
        "all trainable ms/epoch": trainable, "conv1+conv2 frozen ms/epoch": frozen,
        "speed-up (median)": trainable["median"] / frozen["median"],
        "trainable params (all / frozen)": f"{all_params:,} / {frozen_params:,}",
    }]


if __name__ == "__main__":
    for row in run():
        print(row)

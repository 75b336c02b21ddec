"""Benchmark 1: TrainDesk's engine against a hand-written PyTorch loop.

Same model, data tensors, batch size, seed and thread count. TrainDesk runs with its
event stream (a listener shaped like the GUI's bridge) and its run folder switched on.
Throughput is samples per second over the training steps (validation excluded on both
sides); the whole-run wall time, checkpoints included, is reported beside it.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from benchmarks.common import summarize, training_parts


def raw_loop(config, epochs: int, validate: bool = False) -> float:
    """The loop a user would write: samples per second over training steps. With
    `validate`, it also evaluates on the validation split after each epoch (untimed), as
    TrainDesk does, so the two loops do the same work between epochs."""
    import torch

    from core.trainer import evaluate

    data, model, optimizer, loss_fn = training_parts(config)
    batch_size, n = config.training.batch_size, len(data.train_y)
    seconds, samples = 0.0, 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(n)
        start = time.perf_counter()
        for b in range(math.ceil(n / batch_size)):
            index = order[b * batch_size:(b + 1) * batch_size]
            x, y = data.train_x[index], data.train_y[index]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            samples += len(y)
        seconds += time.perf_counter() - start
        if validate:
            evaluate(model, loss_fn, data.val_x, data.val_y)
    return samples / seconds


class GuiLikeListener:
    """Does what the GUI's bridge does with events: keeps every point in lists."""

    def __init__(self) -> None:
        self.points: list[tuple[int, float]] = []

    def __call__(self, event) -> None:
        from core.events import BatchEnd

        if isinstance(event, BatchEnd):
            self.points.append((event.step, event.loss))


def traindesk_loop(config, epochs: int) -> tuple[float, float]:
    """(samples per second over training steps, whole-run wall seconds)."""
    from core.trainer import train

    config.training.epochs = epochs
    with tempfile.TemporaryDirectory() as runs:
        start = time.perf_counter()
        summary = train(config, runs_dir=Path(runs), listeners=[GuiLikeListener()])
        return summary["samples_per_s"], time.perf_counter() - start


def run(repeats: int = 3, epochs: int = 5) -> list[dict]:
    from core.config import RunConfig

    rows = []
    for model in ("simple_cnn", "mlp"):
        def config():
            return RunConfig.from_dict({"model": {"name": model}, "data": {"name": "digits"},
                                        "training": {"device": "cpu", "batch_size": 64}})

        # Alternate the two within each repeat: the machine's speed drifts between runs.
        raw, raw_validating, ours, walls = [], [], [], []
        for _ in range(repeats):
            raw.append(raw_loop(config(), epochs))
            raw_validating.append(raw_loop(config(), epochs, validate=True))
            rate, wall = traindesk_loop(config(), epochs)
            ours.append(rate)
            walls.append(wall)
        raw_stats, ours_stats = summarize(raw), summarize(ours)
        validating_stats = summarize(raw_validating)
        rows.append({
            "benchmark": f"engine vs raw loop, {model}, digits, batch 64, {epochs} epochs",
            "raw samples/s": raw_stats, "raw + validation samples/s": validating_stats,
            "traindesk samples/s": ours_stats,
            "ratio (median)": ours_stats["median"] / raw_stats["median"],
            "ratio to raw + validation (median)":
                ours_stats["median"] / validating_stats["median"],
            "traindesk whole run s (median)": summarize(walls)["median"],
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

"""Benchmark 1: TrainDesk's engine against a hand-written PyTorch loop.

Same model, data tensors, batch size, seed and thread count. TrainDesk runs with its
event stream (a listener shaped like the GUI's bridge) and its run folder switched on.
Throughput is samples per second over the training steps (validation and checkpoints
excluded on both sides, but not their effect on the steps that follow them).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from benchmarks.common import summarize, training_parts


def raw_loop(config, epochs: int, validate: bool = False, fused: bool = False) -> float:
    """The loop a user would write: samples per second over training steps. With
    `validate`, it also evaluates on the validation split after each epoch (untimed), as
    TrainDesk does, so the two loops do the same work between epochs; with `fused`, its
    Adam uses the fused kernels TrainDesk picks, which isolates the engine's own cost."""
    import torch

    from core.train.loop import evaluate

    data, model, optimizer, loss_fn = training_parts(config, fused)
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
    """(samples per second over training steps, whole-run wall seconds): TrainDesk's own
    figure (summary's samples_per_s), timed as the raw loop is, from step to step."""
    from core.train.loop import train

    config.training.epochs = epochs
    with tempfile.TemporaryDirectory() as runs:
        start = time.perf_counter()
        summary = train(config, runs_dir=Path(runs), listeners=[GuiLikeListener()])
        return summary["samples_per_s"], time.perf_counter() - start


# Epochs per contender and repeat: enough training time (about a second at least) that one
# untimed moment of the machine does not decide the figure.
EPOCHS = {"simple_cnn": 5, "mlp": 30}


def run(repeats: int = 3) -> list[dict]:
    from core.config import RunConfig

    rows = []
    for model, epochs in EPOCHS.items():
        def config():
            return RunConfig.from_dict({"model": {"name": model}, "data": {"name": "digits"},
                                        "training": {"device": "cpu", "batch_size": 64}})

        # The contenders take turns within each repeat, in an order that reverses from one
        # repeat to the next, because this machine's speed drifts by 10-20% over minutes;
        # the ratio is the median of each repeat's own ratio.
        contenders = {
            "raw": lambda: raw_loop(config(), epochs),
            "raw + validation": lambda: raw_loop(config(), epochs, validate=True),
            "raw + validation, fused adam": lambda: raw_loop(config(), epochs, validate=True,
                                                             fused=True),
            "traindesk": lambda: traindesk_loop(config(), epochs)[0],
        }
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        for measure in contenders.values():  # once untimed: first-call costs are not theirs
            measure()
        for repeat in range(repeats):
            order = list(contenders) if repeat % 2 == 0 else list(reversed(contenders))
            for name in order:
                rates[name].append(contenders[name]())
        ratios = [ours / raw for ours, raw in zip(rates["traindesk"], rates["raw"])]
        ratios_validating = [ours / raw for ours, raw in zip(rates["traindesk"],
                                                              rates["raw + validation"])]
        ratios_same_kernels = [ours / raw for ours, raw in zip(
            rates["traindesk"], rates["raw + validation, fused adam"])]
        rows.append({
            "benchmark": f"engine vs raw loop, {model}, digits, batch 64, {epochs} epochs",
            "raw samples/s": summarize(rates["raw"]),
            "raw + validation samples/s": summarize(rates["raw + validation"]),
            "raw + validation, fused adam samples/s":
                summarize(rates["raw + validation, fused adam"]),
            "traindesk samples/s": summarize(rates["traindesk"]),
            "ratio to raw": summarize(ratios),
            "ratio to raw + validation": summarize(ratios_validating),
            # the engine's own cost: the same loop with the same optimizer kernels
            "ratio to raw + validation, fused adam": summarize(ratios_same_kernels),
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

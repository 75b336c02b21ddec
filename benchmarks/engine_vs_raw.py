"""Benchmark 1: TrainDesk's engine against a hand-written PyTorch loop.

Two comparisons. `run()`: the training steps alone, same model, data tensors, batch size,
seed and thread count. TrainDesk runs with its event stream (a listener shaped like the
GUI's bridge) and its run folder switched on. Throughput is samples per second over the
training steps (validation and checkpoints excluded on both sides, but not their effect on
the steps that follow them).

`whole_process()`: what a user compares. `traindesk train` on the example run file at its
defaults against the hand-written loop at torch's defaults (its thread count, its Adam),
each a fresh process timed from start to exit, start-up included:

    python -m benchmarks.engine_vs_raw --whole-process [--repeats 3] [--epochs 8]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import summarize, training_parts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "digits_cnn.toml"  # simple_cnn on the digits, batch 64, adam


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


# The loop a user writes for the example's run, as a script of its own: the example's data
# and model (TrainDesk's builders, so that both train on the same tensors and network),
# then torch at its defaults: its own thread count, Adam as the tutorials write it, a shuffled
# pass over the training data and the validation accuracy printed after each epoch.
HAND_LOOP = r"""
import math, sys
import torch
from core.catalog import DATASETS
from core.config import load_config
from core.models.build import build_model

config = load_config(sys.argv[1])
epochs = int(sys.argv[2])
torch.manual_seed(config.training.seed)
data = DATASETS.get(config.data.name).build(config.data.params, config.training.seed)
model, _ = build_model(config.model.name, config.model.params, data, config.loss.name)
optimizer = torch.optim.Adam(model.parameters(), lr=config.optimizer.params["lr"])
loss_fn = torch.nn.CrossEntropyLoss()
batch_size, n = config.training.batch_size, len(data.train_y)
for epoch in range(epochs):
    model.train()
    order = torch.randperm(n)
    for b in range(math.ceil(n / batch_size)):
        index = order[b * batch_size:(b + 1) * batch_size]
        x, y = data.prepare(data.train_x[index], True), data.train_y[index]
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        outputs = model(data.prepare(data.val_x, False))
        accuracy = (outputs.argmax(1) == data.val_y).float().mean().item()
    print(f"epoch {epoch + 1} val loss {loss_fn(outputs, data.val_y).item():.4f} "
          f"accuracy {accuracy:.1%} ({torch.get_num_threads()} threads)")
"""


def timed_process(command: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process, from start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def whole_process(repeats: int = 3, epochs: int = 8) -> list[dict]:
    """`traindesk train` at its defaults against the hand loop at torch's, whole process."""
    entry_point = Path(sys.executable).with_name("traindesk")
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "TRAINDESK_HOME": home}
        contenders = {
            "traindesk train": [str(entry_point), "train", str(EXAMPLE), "--set",
                                f"training.epochs={epochs}", "--runs-dir",
                                str(Path(home) / "runs")],
            "hand loop": [sys.executable, "-c", HAND_LOOP, str(EXAMPLE), str(epochs)],
        }
        walls: dict[str, list[float]] = {name: [] for name in contenders}
        cpus: dict[str, list[float]] = {name: [] for name in contenders}
        for repeat in range(repeats):  # turns, in an order reversed every other repeat
            order = list(contenders) if repeat % 2 == 0 else list(reversed(contenders))
            for name in order:
                wall, cpu = timed_process(contenders[name], env)
                walls[name].append(wall)
                cpus[name].append(cpu)
    # > 1: traindesk train finishes first; per repeat, so both saw the same moment's machine
    ratios = [hand / ours for hand, ours in zip(walls["hand loop"], walls["traindesk train"])]
    return [{
        "benchmark": f"whole process: traindesk train at its defaults vs the hand loop at "
                     f"torch's, simple_cnn, digits, {epochs} epochs",
        "traindesk train wall s": summarize(walls["traindesk train"]),
        "traindesk train CPU s": summarize(cpus["traindesk train"]),
        "hand loop wall s": summarize(walls["hand loop"]),
        "hand loop CPU s": summarize(cpus["hand loop"]),
        "speed ratio (hand wall / traindesk wall)": summarize(ratios),
    }]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--whole-process", action="store_true",
                        help="traindesk train against the hand loop, start-up included")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    rows = whole_process(args.repeats, args.epochs) if args.whole_process else run(args.repeats)
    for row in rows:
        print(row)

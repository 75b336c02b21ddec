"""The learning-rate range test (Smith 2015; fastai's `lr_find`, Lightning's Tuner): train
a fresh copy of the run for a few hundred steps while the learning rate grows exponentially,
follow the smoothed loss, stop once it diverges, and suggest the rate where it falls best.

Nothing is written: the run is built from its config as training would build it (start
weights read, never changed), trained on the side and dropped, so no run folder, checkpoint
or weight file changes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Callable

from core.rng import holding_global_rng
from core.config import RunConfig
from core.errors import BadInput, TrainingFailed
from core.train.failures import describe_failure

# fastai's defaults: an exponential moving average of the loss with this factor (debiased),
# and a stop once the smoothed loss exceeds the best one by this factor.
SMOOTHING = 0.98
DIVERGED = 4.0
# The share of the loss's whole fall over the ramp after which it has begun to fall: the
# valley is looked for from there (suggestions)
FALL_BEGUN = 0.05


@dataclass
class LrFinding:
    """The range test's record: the rate of each step, its loss and the smoothed loss, and
    the suggested rate (fastai's valley) beside the steepest descent's."""

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggested_lr: float | None  # None when too few steps were taken to judge
    steepest_lr: float | None
    diverged: bool  # the loss blew up before the last rate

    def as_dict(self) -> dict:
        return asdict(self)


@holding_global_rng
def find_lr(config: RunConfig, start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 200,
            should_stop: Callable[[], bool] = lambda: False) -> LrFinding:
    """Run the range test on `config`'s model and data: `steps` optimisation steps from
    `start_lr` to `end_lr` (each parameter group keeps its lr multiplier), as [training]
    sets them (batch size, accumulation, precision, device). BadInput for bad bounds."""
    if not 0 < start_lr < end_lr:
        raise BadInput(f"the learning-rate range must grow: start {start_lr:g}, end "
                       f"{end_lr:g}; give 0 < start < end, e.g. 1e-7 and 10")
    if steps < 10:
        raise BadInput(f"the range test needs at least 10 steps, not {steps}")
    from core.train.build import build_run
    from core.train.loop import epoch_order

    run = build_run(config)
    run.scheduler = None  # the ramp is the schedule
    training = config.training
    size, accumulate = training.batch_size, training.accumulate_steps
    batches = _batches(run, size, accumulate, epoch_order, training.seed)
    run.model.train()
    run.finetuning.hold_frozen_norms()
    try:
        lrs, losses, smoothed, diverged = _ramp(run, training, batches, start_lr, end_lr,
                                                steps, should_stop)
    except Exception as exc:  # the model, the data or the device broke
        raise TrainingFailed(describe_failure(exc, training.batch_size)) from None
    finally:
        run.data.close()  # a streamed folder's worker processes
    return LrFinding(lrs, losses, smoothed, *suggestions(lrs, smoothed), diverged)


def _ramp(run, training, batches, start_lr: float, end_lr: float, steps: int,
          should_stop: Callable[[], bool]):
    """The ramp's steps: (rates, losses, smoothed losses, diverged)."""
    from core.train.loop import step_gradients

    clip_params = [p for group in run.optimizer.param_groups for p in group["params"]]
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    average, best, diverged = 0.0, math.inf, False
    for i in range(steps):
        if should_stop():
            break
        lr = start_lr * (end_lr / start_lr) ** (i / (steps - 1))
        for group in run.optimizer.param_groups:
            group["lr"] = lr * group.get("lr_multiplier", 1.0)
        run.optimizer.zero_grad(set_to_none=True)
        stepped = step_gradients(run, next(batches))
        if stepped is None:  # a streamed folder's batch of unreadable files only
            continue
        loss = stepped[0]
        run.precision.step(run.optimizer, clip_params, training.grad_clip)
        value = float(loss)  # one read a step: the test needs each loss to know when to stop
        if not math.isfinite(value):
            diverged = True
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * value
        current = average / (1 - SMOOTHING ** (i + 1))
        lrs.append(lr)
        losses.append(value)
        smoothed.append(current)
        best = min(best, current)
        if current > DIVERGED * best:
            diverged = True
            break
    return lrs, losses, smoothed, diverged


def _batches(run, size: int, accumulate: int, epoch_order, seed: int):
    """The training batches ((inputs, targets) pairs), a step's worth (`accumulate` of them)
    at a time, epoch after epoch in the training run's own order."""
    epoch = 1
    while True:
        order = epoch_order(len(run.data.train_y), seed, epoch, run.device)
        reading = run.data.training_batches([order[b * size:(b + 1) * size]
                                             for b in range(run.batches_per_epoch)])
        for first in range(0, run.batches_per_epoch, accumulate):
            last = min(first + accumulate, run.batches_per_epoch)
            yield [next(reading) for _ in range(first, last)]
        epoch += 1


def suggestions(lrs: list[float], smoothed: list[float]) -> tuple[float | None, float | None]:
    """(valley, steepest) over the smoothed losses, without the first tenth of the steps
    and the last five (fastai's trim: the start is noise, the end divergence).

    valley (fastai's default since 2.5): the longest stretch over which the loss keeps
    falling, and a rate half way down it, more robust than steepest (the most negative
    slope against log lr), which one noisy step can pull anywhere. Unlike fastai, the
    stretch starts only once the loss has really begun to fall (by FALL_BEGUN of its whole
    fall): over a long flat start a loss creeping down by a hair counts as falling, and
    pulled the suggestion for the example (simple_cnn on digits) a decade low, to 1.8e-4,
    where 15 epochs reach 96.7%; from where it begins it suggests 1.66e-3, where they reach
    98.3% (the example's 1e-3: 98.1%; docs/performance.md)."""
    start, end = len(lrs) // 10, len(lrs) - 5
    if end - start < 3:
        return None, None
    lrs, losses = lrs[start:end], smoothed[start:end]
    fall = losses[0] - min(losses)
    begun = next((i for i, loss in enumerate(losses) if losses[0] - loss > FALL_BEGUN * fall), 0)
    if len(losses) - begun >= 3:
        lrs, losses = lrs[begun:], losses[begun:]
    n = len(losses)
    slopes = [(losses[i + 1] - losses[i - 1]) / math.log(lrs[i + 1] / lrs[i - 1])
              for i in range(1, n - 1)]
    steepest = lrs[1 + min(range(len(slopes)), key=slopes.__getitem__)]
    # longest decreasing subsequence ending at each step, as fastai's valley
    run_length = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and run_length[i] < run_length[j] + 1:
                run_length[i] = run_length[j] + 1
        if run_length[max_end] < run_length[i]:
            max_end = i
            max_start = max_end - run_length[max_end]
    third = (max_end - max_start) / 3
    # fastai's start is one before the stretch; from the first step that is -1, not the end
    return lrs[max(max_start + int(third) + int(third / 2), 0)], steepest


def ascii_plot(finding: LrFinding, width: int = 60, rows: int = 16) -> list[str]:
    """The smoothed loss against log lr as text lines: one line per rate band, a bar as
    long as the loss (the suggestion marked), for a terminal."""
    if not finding.lrs:
        return []
    lrs, losses = finding.lrs, finding.smoothed
    low, high = min(losses), max(losses)
    picks = sorted({round(i * (len(lrs) - 1) / (rows - 1)) for i in range(rows)})
    marked = (min(picks, key=lambda i: abs(math.log(lrs[i] / finding.suggested_lr)))
              if finding.suggested_lr else None)
    lines = [f"{'lr':>10}  {'loss':>8}"]
    for i in picks:
        bar = "#" * max(1, round((losses[i] - low) / max(high - low, 1e-12) * width))
        mark = "  <- suggested" if i == marked else ""
        lines.append(f"{lrs[i]:>10.2e}  {losses[i]:>8.4f}  {bar}{mark}")
    return lines

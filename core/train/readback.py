"""The step read-back queue: training steps leave their loss and outputs on the device, and
they are read back in bursts, not step by step.

Reading back is worth doing in bursts, not once an epoch: each read costs a fixed few
hundred microseconds, which epochs of a few milliseconds would pay every time, while a
read every step would make the GPU wait for the host (docs/architecture.md, "The event
stream and the host sync"; docs/performance.md).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Union

from core.events import BatchEnd, EpochEnd
from core.metrics import perplexity, r2_from_sums
from core.train.failures import NonFiniteLoss
from core.inference.outputs import predicted_classes

if TYPE_CHECKING:
    import numpy as np
    import torch

    from core.train.progress import Progress

# Step values are read back from the device in bulk this often: often enough for a live
# curve, rarely enough that a GPU is never made to wait for the host.
LOG_INTERVAL_S = 0.1


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs more, every step
class PendingStep:
    """A step taken whose loss and metric are still on the device."""

    step: int
    epoch: int
    loss: torch.Tensor  # detached, 0-d
    outputs: torch.Tensor  # detached model outputs
    # For a batch mixed by MixUp or CutMix, each sample's larger share's label: the step's
    # accuracy counts against it (the loss weighs both labels).
    targets: torch.Tensor
    lr: float
    elapsed_s: float


class ReadBack:
    """Steps and epoch ends waiting to be reported, in order. An EpochEnd waits with
    placeholders for its training loss and metric, filled in from the epoch's sums in
    Progress once its last step is read back."""

    def __init__(self, progress: Progress, total_steps: int, task: str,
                 emit: Callable, after_flush: Callable[[], None], lr_setting: object,
                 reduce_steps: Callable | None = None) -> None:
        """`task` is the data's (its metric's sums are kept); `emit` reports events;
        `after_flush` runs after each burst (the run folder hands its rows to the OS);
        `lr_setting` is named in the non-finite loss message.
        `reduce_steps` (several processes: core.train.distributed) sums the steps' figures
        across ranks; the ranks then agree when to flush, so add_step never does."""
        self.progress, self.total_steps = progress, total_steps
        self.regression = task == "regression"
        self.from_loss = task == "language_modeling"  # the metric is the loss's perplexity
        self.emit, self.after_flush, self.lr_setting = emit, after_flush, lr_setting
        self.reduce_steps = reduce_steps
        self.interval = LOG_INTERVAL_S if reduce_steps is None else math.inf
        self.pending: list[Union[PendingStep, EpochEnd]] = []
        self.last_flush = time.perf_counter()

    def add_step(self, step: PendingStep, now: float) -> None:
        """Queue a step; read the queue back when LOG_INTERVAL_S has passed since the last."""
        self.pending.append(step)
        if now - self.last_flush >= self.interval:
            self.flush()

    def add_epoch_end(self, end: EpochEnd) -> None:
        """Queue an epoch's end, reported after its steps with their training figures."""
        self.pending.append(end)

    def flush(self) -> None:
        """Read the pending steps' losses and metrics back in one transfer and report them,
        and each epoch end among them with its training loss and metric. NonFiniteLoss at
        the first step whose loss is not a number."""
        items, self.pending = self.pending, []  # taken: a failing listener repeats nothing
        steps = [item for item in items if isinstance(item, PendingStep)]
        if steps:
            losses, sums = read_steps([s.loss for s in steps], [s.outputs for s in steps],
                                      [s.targets for s in steps], self.regression,
                                      self.from_loss)
            counts = [len(s.targets) for s in steps]
            if self.reduce_steps is not None:
                losses, sums, counts = self.reduce_steps(losses, sums, counts)
            read = iter(zip(losses, sums.tolist(), counts))
        for item in items:
            if isinstance(item, EpochEnd):
                self.emit(self._with_training_figures(item))
            else:
                self._report_step(item, *next(read))
        if items:
            self.after_flush()
        self.last_flush = time.perf_counter()

    def _report_step(self, pending: PendingStep, loss: float, row: list[float],
                     n: int) -> None:
        """Add one read-back step of `n` samples to its epoch's sums and report it as a
        BatchEnd."""
        if not math.isfinite(loss):
            raise NonFiniteLoss(
                f"the loss became {loss} at step {pending.step} (epoch {pending.epoch}); "
                f"training stopped. Lower [optimizer] lr (now {self.lr_setting}) and start again")
        progress = self.progress
        progress.epoch_loss_sum += loss * n
        progress.epoch_samples += n
        if self.regression:
            sq_error, target_sum, target_sq_sum = row
            progress.epoch_sq_error += sq_error
            progress.epoch_target_sum += target_sum
            progress.epoch_target_sq_sum += target_sq_sum
            metric = r2_from_sums(sq_error, target_sum, target_sq_sum, n)
        elif self.from_loss:
            metric = perplexity(loss)
        else:
            progress.epoch_correct += round(row[0])
            metric = round(row[0]) / n
        self.emit(BatchEnd(pending.step, pending.epoch, self.total_steps, loss, metric,
                           pending.lr, pending.elapsed_s, progress.samples_per_s(),
                           progress.tokens_per_s()))

    def _with_training_figures(self, end: EpochEnd) -> EpochEnd:
        """`end` with its training loss and metric from the epoch's sums (every step of the
        epoch is read back by now), which then start again for the next epoch."""
        progress = self.progress
        samples = max(progress.epoch_samples, 1)
        train_loss = progress.epoch_loss_sum / samples
        train_metric = (r2_from_sums(progress.epoch_sq_error, progress.epoch_target_sum,
                                     progress.epoch_target_sq_sum, samples) if self.regression
                        else perplexity(train_loss) if self.from_loss
                        else progress.epoch_correct / samples)
        progress.epoch_loss_sum, progress.epoch_correct, progress.epoch_samples = 0.0, 0, 0
        progress.epoch_sq_error = progress.epoch_target_sum = progress.epoch_target_sq_sum = 0.0
        return dataclasses.replace(end, train_loss=train_loss, train_metric=train_metric)


def kept_outputs(task: str, outputs: torch.Tensor) -> torch.Tensor:
    """What a training step keeps of its (detached) outputs until the read-back: all of a
    classifier's or regression's, none of a language model's (its logits, batch x tokens x
    vocabulary, can be gigabytes; its metric comes from the loss): an empty (N, 0)."""
    return outputs.new_empty((len(outputs), 0)) if task == "language_modeling" else outputs


def read_steps(losses: list[torch.Tensor], outputs: list[torch.Tensor],
               targets: list[torch.Tensor], regression: bool,
               from_loss: bool = False) -> tuple[list[float], np.ndarray]:
    """(losses, sums) of a burst of steps, read back from the device in one transfer: each
    step's loss as a float, and an array (steps, k) of its metric's sums: hits (k = 1) for a
    classification; squared errors, targets and squared targets (k = 3) for a regression;
    none (k = 0) when the metric comes `from_loss` (a language model's perplexity).

    A few kernels over all the steps' samples at once, then numpy adds them up per step:
    far fewer small operations than per-step kernels, which at the end of every short
    epoch measurably slowed training (docs/performance.md)."""
    import numpy as np
    import torch

    if from_loss:
        return torch.stack(losses).float().cpu().tolist(), np.zeros((len(losses), 0))
    outputs_all, targets_all = torch.cat(outputs), torch.cat(targets)
    if regression:
        values = torch.cat([(outputs_all.float() - targets_all).square(), targets_all,
                            targets_all.square()], dim=1)
    else:
        values = (predicted_classes(outputs_all) == targets_all).float().unsqueeze(1)
    host = torch.cat([torch.stack(losses).float(), values.flatten()]).cpu().numpy()
    steps, width = len(losses), values.shape[1]
    per_sample = host[steps:].astype(np.float64).reshape(-1, width)
    starts = np.cumsum([0] + [len(t) for t in targets[:-1]])
    return host[:steps].tolist(), np.add.reduceat(per_sample, starts, axis=0)

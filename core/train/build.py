"""Everything a run is built from its RunConfig: data on the device, model, optimizer,
schedule, loss and precision, as one typed Run."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from core.catalog import DATASETS, OPTIMIZERS, SCHEDULERS
from core.config import RunConfig
from core.errors import BadInput
from core.metrics import metric_of_task
from core.train.precision import Precision
from core.train.tracker import check_best_metric

if TYPE_CHECKING:
    import torch

    from core.data.memory import InMemoryData
    from core.finetune.freezing import Finetuning


@dataclass
class Run:
    """Everything built from a config: data on the device, model, optimizer, schedule, loss."""

    device: torch.device
    data: InMemoryData
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any  # a torch.optim.lr_scheduler scheduler, or None for a constant lr
    scheduler_per_epoch: bool  # steps after each epoch's validation, not after each step
    scheduler_on_val_loss: bool  # reduce_on_plateau: steps on the validation loss
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    steps_per_epoch: int  # optimisation steps: batches_per_epoch / accumulate_steps, rounded up
    batches_per_epoch: int
    finetuning: Finetuning  # gradual unfreezing, frozen norms, LoRA
    lr_group: int  # the optimizer group whose lr is reported (multiplier 1.0 if any)
    precision: Precision  # as trained: the setting, or what [training] fast chose
    init_notes: list[str] = field(default_factory=list)  # what the start weights did not
    # fill, in readable lines
    data_notes: list[str] = field(default_factory=list)  # what was left out of the data,
    # and how the model was fitted to it, in readable lines
    # DistributedDataParallel around `model` on several processes (core.train.distributed),
    # which the training steps call; None on one process. Checkpoints save `model` itself.
    wrapped: Any = None
    data_seconds: float = 0.0  # building the dataset (reading, decoding, encoding)

    @property
    def stepped_model(self) -> torch.nn.Module:
        """The module a training step calls: the DDP wrapper when there is one."""
        return self.model if self.wrapped is None else self.wrapped
    memory: Any = None  # core.train.memory_estimate.MemoryEstimate, made as a run starts

    @property
    def metric(self) -> str:
        """The task's metric: "accuracy", or "r2" for a regression."""
        return metric_of_task(self.data.task)

    @property
    def lr(self) -> float:
        """The learning rate reported for the run (of group `lr_group`)."""
        return self.optimizer.param_groups[self.lr_group]["lr"]

    def weights_state(self) -> dict:
        """The model's weights as checkpoints keep them: all of them, or for a QLoRA run
        only those the optimizer updates (the 4-bit base is read again from its source)."""
        if not self.finetuning.qlora:
            return self.model.state_dict()
        from core.finetune.qlora import trained_names, trained_state_dict

        return trained_state_dict(self.model, trained_names(self.model, self.optimizer))

    def load_weights(self, weights: dict, where: str) -> None:
        """Put weights saved by `weights_state` (from `where`, for messages) into the model."""
        if not self.finetuning.qlora:
            self.model.load_state_dict(weights)
            return
        from core.finetune.qlora import load_trained, trained_names

        load_trained(self.model, weights, trained_names(self.model, self.optimizer), where)

    def trainable_count(self) -> int:
        """Parameters that training changes (gradual unfreezing raises it as it goes)."""
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)


def build_run(config: RunConfig, resuming: bool = False) -> Run:
    """Build everything a run needs; on `resuming` the start weights are not read (the
    checkpoint replaces them). BadInput when the settings cannot be used."""
    import numpy as np
    import torch

    from core.device import resolve_device
    from core.finetune.freezing import prepare_finetune
    from core.finetune.weights import load_initial_weights
    from core.models.build import build_model
    from core.train.losses import build_loss

    training = config.training
    torch.set_num_threads(cpu_threads(training.threads))
    torch.manual_seed(training.seed)
    np.random.seed(training.seed % 2**32)
    device = resolve_device(training.device)
    precision = Precision(training.precision, device)  # refused before the data is built
    if config.finetune.qlora:
        from core.finetune.qlora import qlora_problem

        problem = qlora_problem(training.device, device.type == "cuda")
        if problem:
            raise BadInput(problem)
    started = time.perf_counter()
    data = DATASETS.get(config.data.name).build(config.data.params, training.seed)
    data_seconds = time.perf_counter() - started
    if training.batch_size > len(data.train_y):
        raise BadInput(f"[training] batch_size = {training.batch_size} is larger than the "
                       f"{len(data.train_y)} training samples; use at most {len(data.train_y)}")
    check_best_metric(training, data.task, data.num_classes)
    loss_fn = build_loss(config.loss.name, config.loss.params, data, config.data.name)
    model, model_notes = build_model(config.model.name, config.model.params, data,
                                     config.loss.name,
                                     quantize_on=device if config.finetune.qlora else None)
    init_notes = []
    if config.finetune.init_from and not resuming:
        init_notes = load_initial_weights(model, config.finetune.init_from,
                                          config.finetune.load_matching_only)
    finetuning = prepare_finetune(model, config.finetune, training.epochs)
    model.to(device)
    if training.fast:  # channels_last, mixed precision, torch.compile: core/train/fast.py
        from core.train.fast import apply_fast

        data, chosen, fast_notes = apply_fast(model, data, device, precision.name)
        precision = Precision(chosen, device)
        model_notes = [*model_notes, *fast_notes]
    loss_fn.to(device)  # class weights are tensors
    batches_per_epoch = training_steps(len(data.train_y), training.batch_size)
    steps_per_epoch = math.ceil(batches_per_epoch / training.accumulate_steps)
    optimizer, lr_group = _optimizer(config, finetuning)
    scheduler, per_epoch = _scheduler(config, optimizer, steps_per_epoch)
    return Run(device, data.to(device), model, optimizer, scheduler, bool(per_epoch),
               per_epoch == "val_loss", loss_fn, steps_per_epoch, batches_per_epoch,
               finetuning, lr_group,
               precision, init_notes, [*data.notes, *model_notes], data_seconds=data_seconds)


def _optimizer(config: RunConfig, finetuning: Finetuning) -> tuple[Any, int]:
    """(optimizer, the group whose lr is reported). Frozen parameters are not given to the
    optimizer (no state, no weight decay on them), except those gradual unfreezing releases
    later (see Finetuning.optimizer_groups)."""
    groups = finetuning.optimizer_groups()
    optimizer = OPTIMIZERS.get(config.optimizer.name).build(config.optimizer.params, groups)
    for group in optimizer.param_groups:  # before the scheduler records each group's start lr
        group["lr"] *= group["lr_multiplier"]
    return optimizer, next((i for i, g in enumerate(groups) if g["lr_multiplier"] == 1.0), 0)


def _scheduler(config: RunConfig, optimizer, steps_per_epoch: int) -> tuple[Any, Any]:
    """(scheduler, how it steps: False after each step, True after each epoch, "val_loss"
    after each epoch on the validation loss)."""
    schedule = SCHEDULERS.get(config.scheduler.name)
    scheduler = schedule.build(config.scheduler.params, optimizer,
                               steps_per_epoch * config.training.epochs, steps_per_epoch)
    return scheduler, schedule.extra.get("per_epoch", False)


def training_steps(samples: int, batch_size: int) -> int:
    """Batches in one epoch: one per batch_size samples, the last one
    smaller, except that a last batch of a single sample is left out (BatchNorm cannot
    train on one: "Expected more than 1 value per channel"). The sample order is a function
    of seed and epoch (loop.epoch_order), so the sample left out changes from epoch to
    epoch and a resumed run still replays exactly."""
    steps = math.ceil(samples / batch_size)
    return steps - 1 if samples % batch_size == 1 and steps > 1 else steps


def cpu_threads(setting: int, window: bool = False) -> int:
    """Threads for CPU work: `setting`, or for 0 (auto) OMP_NUM_THREADS where the
    environment sets it (torchrun sets 1 when it starts several ranks on one machine), else
    every core this process may use (its CPU affinity: taskset, a container's cpuset), less
    one when the caller is the `window`. Measured on 2 cores (docs/performance.md, issues 21
    and benchmark 3): every core made the command line 1.5x faster than one, while in the
    window the mlp's p99 event latency rose from 8.6 ms to 15.8-23 ms, over the 16 ms target."""
    if setting:
        return setting
    from_environment = os.environ.get("OMP_NUM_THREADS", "")
    if from_environment.isdigit() and int(from_environment) > 0:
        return int(from_environment)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else os.cpu_count() or 1
    return max(1, cores - 1) if window else cores

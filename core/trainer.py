"""The training loop, top to bottom: build the run from a RunConfig, train, validate,
checkpoint, and report every moment as an event to the listeners.

No thread assumptions: the caller decides where this runs (GUI thread, command line,
a child process) and steers it through a RunControl.
"""

from __future__ import annotations

import itertools
import math
import os
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from core.catalog import DATASETS, LOSSES, MODELS, OPTIMIZERS, SCHEDULERS
from core.config import RunConfig
from core.control import RunControl, StopRequested
from core.errors import BadInput, TrainingFailed
from core.events import (BatchEnd, CheckpointSaved, EpochEnd, Listener, RunFailed,
                         RunFinished, RunStarted)
from core.runfolder import RunFolder, default_runs_dir

# Step values are read back from the device in bulk this often: often enough for a live
# curve, rarely enough that a GPU is never made to wait for the host.
LOG_INTERVAL_S = 0.1
EVAL_BATCH_SIZE = 1024


@dataclass
class Progress:
    """Where a run stands; saved in every checkpoint so a resumed run continues exactly."""

    epoch: int = 1  # the epoch being trained (1-based)
    batch: int = 0  # batches of that epoch already done
    step: int = 0  # optimisation steps done in the whole run
    best_val_loss: float = math.inf
    best_val_accuracy: float = 0.0
    best_epoch: int = 0
    final_val_loss: float | None = None
    final_val_accuracy: float | None = None
    train_seconds: float = 0.0  # time spent in training steps, for samples per second
    elapsed_s: float = 0.0  # wall time of the run so far, validation and saving included
    samples_seen: int = 0
    epoch_loss_sum: float = 0.0  # sums over the current epoch's steps, for its mean
    epoch_correct: int = 0
    epoch_samples: int = 0


def train(config: RunConfig, runs_dir: Path | None = None, listeners: Iterable[Listener] = (),
          control: RunControl | None = None, resume_dir: Path | None = None) -> dict:
    """Run one training run and return its summary (also written to the run folder).

    With `resume_dir`, `config` is ignored: the run folder's own config and last
    checkpoint are used and the run continues where it stopped. Raises BadInput before
    anything is written when the configuration or its files cannot be used, and
    TrainingFailed (after recording the failure) when training itself breaks.
    """
    import torch

    control = control or RunControl()
    if resume_dir is not None:
        folder = RunFolder.open_existing(Path(resume_dir))
        config = folder.config()
    run = _build(config)
    progress = Progress()
    if resume_dir is not None:
        progress = _restore(run, folder.last_checkpoint)
    else:
        folder = RunFolder.create(Path(runs_dir or default_runs_dir()), config)
    listeners = [folder.record, *listeners]

    def emit(event) -> None:
        for listener in listeners:
            listener(event)

    trainable = sum(p.numel() for p in run.model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in run.model.parameters())
    summary = {
        "status": "running", "model": config.model.name, "data": config.data.name,
        "device": str(run.device), "threads": torch.get_num_threads(),
        "trainable_params": trainable, "total_params": total,
        "run_dir": str(folder.path),
    }
    folder.write_summary({**summary, **_summary_numbers(progress)})
    emit(RunStarted(str(folder.path), str(run.device), config.training.epochs,
                    run.steps_per_epoch, len(run.data.train_y), len(run.data.val_y),
                    trainable, total, list(run.data.class_names)))
    status, error, details = "completed", None, ""
    try:
        _fit(run, config, progress, folder, control, emit)
    except StopRequested:
        status = "interrupted" if control.interrupted else "stopped"
    except KeyboardInterrupt:
        status = "interrupted"
    except _NonFiniteLoss as exc:
        status, error = "failed", str(exc)
    except Exception as exc:  # the model, the data or the device broke: report, keep the app
        status, error = "failed", _describe_failure(exc, config)
        details = traceback.format_exc()
    if status in ("stopped", "interrupted"):
        try:
            _save(run, progress, folder, "last", emit)
        except TrainingFailed as exc:  # the disk is full or gone; the older checkpoint stays
            status, error = "failed", str(exc)
    summary.update(status=status, **_summary_numbers(progress))
    if error:
        summary["error"] = error
    folder.write_summary(summary)
    folder.close()
    if status == "failed":
        emit(RunFailed(error, dict(summary), details))
        raise TrainingFailed(error)
    emit(RunFinished(status, dict(summary)))
    return summary


class _NonFiniteLoss(Exception):
    pass


@dataclass
class _Run:
    """Everything built from a config: data on the device, model, optimizer, schedule, loss."""

    device: object
    data: object
    model: object
    optimizer: object
    scheduler: object
    scheduler_per_epoch: bool
    loss_fn: object
    steps_per_epoch: int


def _build(config: RunConfig) -> _Run:
    import numpy as np
    import torch

    from core.device import resolve_device
    from core.finetune import freeze_modules, load_initial_weights

    seed = config.training.seed
    torch.set_num_threads(cpu_threads(config.training.threads))
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    device = resolve_device(config.training.device)
    data = DATASETS.get(config.data.name).build(config.data.params, seed)
    n_train = len(data.train_y)
    batch_size = config.training.batch_size
    if batch_size > n_train:
        raise BadInput(f"[training] batch_size = {batch_size} is larger than the {n_train} "
                       f"training samples; use at most {n_train}")
    model = MODELS.get(config.model.name).build(config.model.params, data.input_shape,
                                                data.num_classes)
    if config.finetune.init_from:
        load_initial_weights(model, config.finetune.init_from)
    freeze_modules(model, config.finetune.freeze)
    model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise BadInput("[finetune] freeze covers every layer, so nothing would train; "
                       "leave at least one layer unfrozen")
    # Frozen parameters are not given to the optimizer: no state, no weight decay on them.
    optimizer = OPTIMIZERS.get(config.optimizer.name).build(config.optimizer.params, trainable)
    steps_per_epoch = math.ceil(n_train / batch_size)
    schedule = SCHEDULERS.get(config.scheduler.name)
    scheduler = schedule.build(config.scheduler.params, optimizer,
                               steps_per_epoch * config.training.epochs)
    loss_fn = LOSSES.get(config.loss.name).build(config.loss.params)
    return _Run(device, data.to(device), model, optimizer, scheduler,
                bool(schedule.extra.get("per_epoch")), loss_fn, steps_per_epoch)


def cpu_threads(setting: int) -> int:
    """Threads for CPU work: `setting`, or for 0 all cores but one. Measured on 2 cores
    (docs/performance.md): the spare core keeps the GUI's p99 event latency under 16 ms."""
    return setting or max(1, (os.cpu_count() or 1) - 1)


def _epoch_order(n: int, seed: int, epoch: int, device):
    """The shuffled sample order of one epoch, a function of seed and epoch only, so a
    resumed run replays exactly the batches an uninterrupted run would see."""
    import torch

    generator = torch.Generator().manual_seed(seed * 100003 + epoch)
    return torch.randperm(n, generator=generator).to(device)


def _fit(run: _Run, config: RunConfig, progress: Progress, folder: RunFolder,
         control: RunControl, emit) -> None:
    import torch

    data, model, optimizer, loss_fn = run.data, run.model, run.optimizer, run.loss_fn
    epochs, batch_size = config.training.epochs, config.training.batch_size
    n_train = len(data.train_y)
    total_steps = run.steps_per_epoch * epochs
    # Steps not yet read back from the device: (step, epoch, loss, logits, labels, lr, t).
    pending: list[tuple] = []
    last_log = time.perf_counter()
    run_start = time.perf_counter() - progress.elapsed_s

    def flush() -> None:
        """Read the pending steps' losses and accuracies in one host sync and report them."""
        nonlocal last_log
        if not pending:
            return
        # Accuracy of every pending step from one argmax and one cumulative sum, rather than
        # three small kernels per step; losses and hit counts come back in one host sync.
        hits = torch.cat([p[3] for p in pending]).argmax(1) == torch.cat([p[4] for p in pending])
        cumulative = torch.cat([hits.new_zeros(1, dtype=torch.long), hits.long().cumsum(0)])
        ends = list(itertools.accumulate(len(p[4]) for p in pending))
        starts = [0, *ends[:-1]]
        counts = cumulative[torch.tensor(ends, device=hits.device)] - cumulative[
            torch.tensor(starts, device=hits.device)]
        values = torch.cat([torch.stack([p[2] for p in pending]).float(), counts.float()]).tolist()
        losses, corrects = values[:len(pending)], [round(c) for c in values[len(pending):]]
        for (step, epoch, _, _, y, lr, t), loss, correct in zip(pending, losses, corrects):
            if not math.isfinite(loss):
                pending.clear()
                raise _NonFiniteLoss(
                    f"the loss became {loss} at step {step} (epoch {epoch}); training stopped. "
                    f"Lower [optimizer] lr (now {config.optimizer.params.get('lr')}) and start again"
                )
            progress.epoch_loss_sum += loss * len(y)
            progress.epoch_correct += correct
            progress.epoch_samples += len(y)
            emit(BatchEnd(step, epoch, total_steps, loss, correct / len(y), lr, t,
                          progress.samples_seen / max(progress.train_seconds, 1e-9)))
        pending.clear()
        last_log = time.perf_counter()

    while progress.epoch <= epochs:
        epoch = progress.epoch
        model.train()
        order = _epoch_order(n_train, config.training.seed, epoch, run.device)
        mark = time.perf_counter()  # training time runs from mark to mark, flushes included
        try:
            for batch in range(progress.batch, run.steps_per_epoch):
                if control.paused:
                    flush()  # show every finished step before waiting
                control.checkpoint()
                index = order[batch * batch_size:(batch + 1) * batch_size]
                x, y = data.train_x[index], data.train_y[index]
                optimizer.zero_grad(set_to_none=True)
                logits = model(x)
                loss = loss_fn(logits, y)
                loss.backward()
                optimizer.step()
                lr = optimizer.param_groups[0]["lr"]
                if run.scheduler is not None and not run.scheduler_per_epoch:
                    run.scheduler.step()
                progress.step += 1
                progress.batch = batch + 1
                progress.samples_seen += len(y)
                now = time.perf_counter()
                progress.train_seconds += now - mark
                mark = now
                pending.append((progress.step, epoch, loss.detach(), logits.detach(), y, lr,
                                now - run_start))
                if now - last_log >= LOG_INTERVAL_S:
                    flush()
        finally:
            flush()  # also when stopping: every step taken is logged before the checkpoint
            progress.train_seconds += time.perf_counter() - mark
            progress.elapsed_s = time.perf_counter() - run_start
        if run.scheduler is not None and run.scheduler_per_epoch:
            run.scheduler.step()
        val_loss, val_accuracy = evaluate(model, loss_fn, data.val_x, data.val_y)
        if not math.isfinite(val_loss):
            raise _NonFiniteLoss(f"the validation loss became {val_loss} in epoch {epoch}; "
                                 "lower [optimizer] lr and start again")
        samples = max(progress.epoch_samples, 1)
        train_loss = progress.epoch_loss_sum / samples
        train_accuracy = progress.epoch_correct / samples
        is_best = val_loss < progress.best_val_loss
        if is_best:
            progress.best_val_loss, progress.best_epoch = val_loss, epoch
        progress.best_val_accuracy = max(progress.best_val_accuracy, val_accuracy)
        progress.final_val_loss, progress.final_val_accuracy = val_loss, val_accuracy
        progress.epoch, progress.batch = epoch + 1, 0
        progress.epoch_loss_sum, progress.epoch_correct, progress.epoch_samples = 0.0, 0, 0
        progress.elapsed_s = time.perf_counter() - run_start
        emit(EpochEnd(epoch, epochs, progress.step, train_loss, train_accuracy, val_loss,
                      val_accuracy, optimizer.param_groups[0]["lr"], progress.elapsed_s,
                      progress.samples_seen / max(progress.train_seconds, 1e-9), is_best))
        _save(run, progress, folder, "last", emit)
        if is_best:
            _save(run, progress, folder, "best", emit)
        folder.write_summary({**folder.read_summary(), "status": "running",
                              **_summary_numbers(progress)})


def evaluate(model, loss_fn, x, y) -> tuple[float, float]:
    """Mean loss and accuracy of `model` on (x, y), in eval mode, batched."""
    import torch

    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    with torch.no_grad():
        for start in range(0, len(y), EVAL_BATCH_SIZE):
            xb, yb = x[start:start + EVAL_BATCH_SIZE], y[start:start + EVAL_BATCH_SIZE]
            logits = model(xb)
            total_loss += loss_fn(logits, yb) * len(yb)
            correct += (logits.argmax(1) == yb).sum()
    model.train(was_training)
    n = max(len(y), 1)
    return total_loss.item() / n, correct.item() / n


def _save(run: _Run, progress: Progress, folder: RunFolder, kind: str, emit) -> None:
    """Write a checkpoint of plain types (loadable with weights_only=True), atomically."""
    import torch

    state = {
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict() if run.scheduler is not None else {},
        "progress": dict(vars(progress)),
        "torch_rng": torch.get_rng_state(),
        "class_names": list(run.data.class_names),
        "format": 1,
    }
    path = folder.last_checkpoint if kind == "last" else folder.best_checkpoint
    try:
        folder.save_checkpoint(path, state)
    except OSError as exc:
        raise TrainingFailed(f"could not save the {kind} checkpoint to {path} ({exc.strerror}); "
                             "the previous checkpoint is intact; free disk space") from None
    emit(CheckpointSaved(str(path), progress.epoch - (1 if progress.batch == 0 else 0), kind))


def _restore(run: _Run, checkpoint: Path) -> Progress:
    import torch

    if not checkpoint.is_file():
        raise BadInput(f"{checkpoint} is missing, so this run cannot be resumed; start it again "
                       "with traindesk train on its config.toml")
    try:
        state = torch.load(checkpoint, map_location=run.device, weights_only=True)
        run.model.load_state_dict(state["model"])
        run.optimizer.load_state_dict(state["optimizer"])
        if run.scheduler is not None:
            run.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        return Progress(**state["progress"])
    except Exception as exc:
        raise BadInput(f"cannot resume from {checkpoint}: {exc}") from None


def _summary_numbers(progress: Progress) -> dict:
    def finite(value):
        return value if value is not None and math.isfinite(value) else None

    return {
        "epochs_completed": progress.epoch - 1,
        "steps_completed": progress.step,
        "best_epoch": progress.best_epoch or None,
        "best_val_loss": finite(progress.best_val_loss),
        "best_val_accuracy": progress.best_val_accuracy if progress.best_epoch else None,
        "final_val_loss": finite(progress.final_val_loss),
        "final_val_accuracy": progress.final_val_accuracy,
        "duration_s": round(progress.elapsed_s, 3),
        "samples_per_s": round(progress.samples_seen / progress.train_seconds, 1)
        if progress.train_seconds else None,
    }


def _describe_failure(exc: Exception, config: RunConfig) -> str:
    import torch

    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower():
        return (f"out of memory with batch_size {config.training.batch_size}; lower "
                "[training] batch_size or pick a smaller model")
    if isinstance(exc, TrainingFailed):
        return str(exc)
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}".rstrip(": ")

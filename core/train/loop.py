"""The training loop, top to bottom: build the run from a RunConfig, train, validate,
checkpoint, and report every moment as an event to the listeners.

No thread assumptions: the caller decides where this runs (GUI thread, command line,
a child process) and steers it through a RunControl.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import socket
import time
import traceback
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from core.catalog import DATASETS, OPTIMIZERS, SCHEDULERS
from core.config import RunConfig
from core.control import RunControl, StopRequested
from core.errors import BadInput, TrainingFailed
from core.events import (BatchEnd, CheckpointSaved, EpochEnd, LayersUnfrozen, Listener,
                         RunFailed, RunFinished, RunStarted)
from core.runs.folder import RunFolder, default_runs_dir, process_alive

# Mixed precision (bf16, fp16) runs on these device types only.
MIXED_PRECISION_DEVICES = ("cuda",)

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
    best_val_accuracy: float = 0.0  # the task's metric: accuracy, or R2 for a regression
    best_epoch: int = 0
    final_val_loss: float | None = None
    final_val_accuracy: float | None = None
    train_seconds: float = 0.0  # time spent in training steps, for samples per second
    elapsed_s: float = 0.0  # wall time of the run so far, validation and saving included
    samples_seen: int = 0
    epoch_loss_sum: float = 0.0  # sums over the current epoch's steps, for its mean
    epoch_correct: int = 0
    epoch_samples: int = 0
    # A regression's sums over the current epoch, for its R2: squared errors, targets and
    # squared targets.
    epoch_sq_error: float = 0.0
    epoch_target_sum: float = 0.0
    epoch_target_sq_sum: float = 0.0
    final_val_mae: float | None = None  # regression: in the target's own units
    # Early stopping: the best_metric value the last real improvement (by more than
    # min_delta) reached, the epochs since, and whether the run ended early.
    early_stopping_best: float | None = None
    epochs_without_improvement: int = 0
    stopped_early: bool = False


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
        previous = folder.read_summary()
        if previous.get("status") == "running" and process_alive(previous):
            raise BadInput(f"{folder.path} is still being trained by process "
                           f"{previous.get('pid')}; stop that run first (or wait for it)")
        config = folder.config()
    try:
        run = _build(config, resuming=resume_dir is not None)
    except (BadInput, TrainingFailed):
        raise
    except Exception as exc:  # the model or dataset code broke while being built
        raise TrainingFailed(_describe_failure(exc, config), traceback.format_exc()) from None
    progress = Progress()
    if resume_dir is not None:
        progress = _restore(run, folder.last_checkpoint)
        run.init_notes = previous.get("init_notes", [])
        # A killed run may have logged steps after its last checkpoint; they are trained again
        folder.continue_metrics(progress.step)
    else:
        folder = RunFolder.create(Path(runs_dir or default_runs_dir()), config)
    listeners = [folder.record, *listeners]

    def emit(event) -> None:
        for listener in listeners:
            listener(event)

    trainable = _trainable_count(run.model)
    total = sum(p.numel() for p in run.model.parameters())
    summary = {
        "status": "running", "model": config.model.name, "data": config.data.name,
        "device": str(run.device), "threads": torch.get_num_threads(),
        "trainable_params": trainable, "total_params": total,
        "init_notes": list(run.init_notes), "data_notes": list(run.data_notes),
        "run_dir": str(folder.path), "best_metric": config.training.best_metric,
        "precision": run.precision,
        # who is training it: a run left "running" by a process that is gone was killed
        "pid": os.getpid(), "host": socket.gethostname(),
    }
    folder.write_summary({**summary, **_summary_numbers(progress, run.metric)})
    emit(RunStarted(str(folder.path), str(run.device), config.training.epochs,
                    run.steps_per_epoch, len(run.data.train_y), len(run.data.val_y),
                    trainable, total, list(run.data.class_names), list(run.init_notes),
                    metric_name=run.metric, data_notes=list(run.data_notes),
                    resumed_from_step=progress.step))
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
    if status == "failed" and run.device.type == "cuda":
        torch.cuda.empty_cache()  # after an out-of-memory error the next run starts clean
    if status in ("stopped", "interrupted"):
        try:
            _save_held_best(run, folder, emit)
            _save(run, progress, folder, "last", emit)
        except TrainingFailed as exc:  # the disk is full or gone; the older checkpoint stays
            status, error = "failed", str(exc)
    elif status == "failed":
        with contextlib.suppress(TrainingFailed):  # keep the best epoch the run reached
            _save_held_best(run, folder, emit)
    if status != "failed" and run.finetuning.lora_targets:
        try:
            _save_merged(run, progress, folder, emit)
        except TrainingFailed as exc:
            status, error = "failed", str(exc)
    # gradual unfreezing may have changed the trainable count since the start
    summary.update(status=status, trainable_params=_trainable_count(run.model),
                   **_summary_numbers(progress, run.metric))
    if error:
        summary["error"] = error
    try:
        folder.write_summary(summary)
    except OSError:  # the disk is full or gone: the events still tell the user
        pass
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
    scheduler_per_epoch: bool  # steps after each epoch's validation, not after each step
    scheduler_on_val_loss: bool  # reduce_on_plateau: steps on the validation loss
    loss_fn: object
    steps_per_epoch: int
    finetuning: object  # core.finetune.freezing.Finetuning: unfreezing, frozen norms, LoRA
    lr_group: int  # the optimizer group whose lr is reported (multiplier 1.0 if any)
    init_notes: list  # what the start weights did not fill, in readable lines
    metric: str = "accuracy"  # the task's metric: "accuracy" or "r2" (regression)
    data_notes: list = field(default_factory=list)  # what was left out of the data, and how
    # the model was fitted to it, in readable lines
    autocast_dtype: object = None  # torch.bfloat16 or torch.float16 with mixed precision
    scaler: object = None  # torch.amp.GradScaler for fp16
    precision: str = "fp32"  # as trained: the setting, or what [training] fast chose
    # A best epoch's checkpoint state not yet written (checkpoint_every_s had not passed)
    held_best: dict | None = None
    best_buffers: dict | None = None  # the tensors held_best's weights are copied into

    def autocast(self):
        """The forward pass's context: autocast for mixed precision, else nothing."""
        import torch

        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)


def _build(config: RunConfig, resuming: bool = False) -> _Run:
    """Build everything a run needs; on `resuming` the start weights are not read (the
    checkpoint replaces them)."""
    import numpy as np
    import torch

    from core.device import resolve_device
    from core.finetune.freezing import load_initial_weights, prepare_finetune
    from core.train.losses import build_loss
    from core.models.build import build_model

    seed = config.training.seed
    torch.set_num_threads(cpu_threads(config.training.threads))
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    device = resolve_device(config.training.device)
    precision = config.training.precision
    autocast_dtype, scaler = _mixed_precision(precision, device)
    data = DATASETS.get(config.data.name).build(config.data.params, seed)
    n_train = len(data.train_y)
    batch_size = config.training.batch_size
    if batch_size > n_train:
        raise BadInput(f"[training] batch_size = {batch_size} is larger than the {n_train} "
                       f"training samples; use at most {n_train}")
    loss_fn = build_loss(config.loss.name, config.loss.params, data, config.data.name)
    model, model_notes = build_model(config.model.name, config.model.params, data,
                                     config.loss.name)
    init_notes = []
    if config.finetune.init_from and not resuming:
        init_notes = load_initial_weights(model, config.finetune.init_from,
                                          config.finetune.load_matching_only)
    finetuning = prepare_finetune(model, config.finetune, config.training.epochs)
    model.to(device)
    if config.training.fast:  # channels_last, mixed precision, torch.compile: core/fast.py
        from core.train.fast import apply_fast

        data, precision, fast_notes = apply_fast(model, data, device, precision)
        autocast_dtype, scaler = _mixed_precision(precision, device)
        model_notes = [*model_notes, *fast_notes]
    # Frozen parameters are not given to the optimizer (no state, no weight decay on them),
    # except those gradual unfreezing releases later (see Finetuning.optimizer_groups).
    groups = finetuning.optimizer_groups()
    optimizer = OPTIMIZERS.get(config.optimizer.name).build(config.optimizer.params, groups)
    for group in optimizer.param_groups:  # before the scheduler records each group's start lr
        group["lr"] *= group["lr_multiplier"]
    lr_group = next((i for i, g in enumerate(groups) if g["lr_multiplier"] == 1.0), 0)
    steps_per_epoch = math.ceil(n_train / batch_size)
    schedule = SCHEDULERS.get(config.scheduler.name)
    scheduler = schedule.build(config.scheduler.params, optimizer,
                               steps_per_epoch * config.training.epochs, steps_per_epoch)
    per_epoch = schedule.extra.get("per_epoch", False)
    loss_fn.to(device)  # class weights are tensors
    return _Run(device, data.to(device), model, optimizer, scheduler, bool(per_epoch),
                per_epoch == "val_loss", loss_fn, steps_per_epoch, finetuning,
                lr_group, init_notes, "r2" if data.task == "regression" else "accuracy",
                [*data.notes, *model_notes], autocast_dtype, scaler, precision=precision)


def _mixed_precision(precision: str, device):
    """(autocast dtype, GradScaler) for `precision`: (None, None) for fp32; bf16 autocasts;
    fp16 autocasts and scales the loss so small gradients do not flush to zero."""
    import torch

    if precision == "fp32":
        return None, None
    if device.type not in MIXED_PRECISION_DEVICES:
        raise BadInput(f"[training] precision = {precision!r} needs a CUDA GPU, and this run "
                       f"trains on {device}; use precision = \"fp32\" (or device = \"cuda\" on "
                       "a machine with an NVIDIA GPU)")
    if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise BadInput(f"[training] precision = 'bf16': this GPU ({device}) does not support "
                       "bfloat16; use precision = \"fp16\"")
    if precision == "bf16":
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler(device.type)


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
    regression = data.task == "regression"
    # Steps not yet read back from the device, (step, epoch, loss, logits, labels, lr, t),
    # and the ends of epochs among them (EpochEnd, training figures to fill in), in order. Reading back is worth
    # doing in bursts, not once an epoch: each read costs a fixed few hundred microseconds,
    # which epochs of a few milliseconds would pay every time (docs/performance.md).
    pending: list = []
    last_log = last_save = time.perf_counter()
    run_start = time.perf_counter() - progress.elapsed_s

    def flush() -> None:
        """Read the pending steps' losses and metrics back in one transfer and report them,
        and each epoch end among them with its training loss and metric."""
        nonlocal last_log
        items = pending[:]
        pending.clear()  # taken, so a listener that fails leaves nothing to report twice
        steps = [p for p in items if not isinstance(p, EpochEnd)]
        if steps:
            losses, sums = _read_steps([p[2] for p in steps], [p[3] for p in steps],
                                       [p[4] for p in steps], regression)
            read = iter(zip(losses, sums.tolist()))
        for item in items:
            if isinstance(item, EpochEnd):
                emit(_with_training_figures(item, progress, regression))
                continue
            (step, epoch, _, _, y, lr, t), (loss, row) = item, next(read)
            if not math.isfinite(loss):
                raise _NonFiniteLoss(
                    f"the loss became {loss} at step {step} (epoch {epoch}); training stopped. "
                    f"Lower [optimizer] lr (now {config.optimizer.params.get('lr')}) and start again"
                )
            progress.epoch_loss_sum += loss * len(y)
            progress.epoch_samples += len(y)
            if regression:
                sq_error, target_sum, target_sq_sum = row
                progress.epoch_sq_error += sq_error
                progress.epoch_target_sum += target_sum
                progress.epoch_target_sq_sum += target_sq_sum
                metric = r2_score(sq_error, target_sum, target_sq_sum, len(y))
            else:
                progress.epoch_correct += round(row[0])
                metric = round(row[0]) / len(y)
            emit(BatchEnd(step, epoch, total_steps, loss, metric, lr, t,
                          progress.samples_seen / max(progress.train_seconds, 1e-9)))
        if items:
            folder.flush_metrics()
        last_log = time.perf_counter()

    training = config.training
    clip_params = [p for group in optimizer.param_groups for p in group["params"]]
    scaler = run.scaler
    try:
        while progress.epoch <= epochs and not progress.stopped_early:
            epoch = progress.epoch
            unfrozen = run.finetuning.unfreeze_for_epoch(epoch)
            if unfrozen:
                flush()  # the previous epoch's steps and end are reported first
                emit(LayersUnfrozen(epoch, unfrozen, _trainable_count(model)))
            model.train()
            run.finetuning.hold_frozen_norms()  # frozen BatchNorm keeps its running statistics
            order = _epoch_order(n_train, training.seed, epoch, run.device)
            mark = time.perf_counter()  # training time runs from mark to mark, reports included
            try:
                for batch in range(progress.batch, run.steps_per_epoch):
                    control.checkpoint(before_pause=flush)  # show every finished step, then wait
                    index = order[batch * batch_size:(batch + 1) * batch_size]
                    x, y = data.prepare(data.train_x[index], True), data.train_y[index]
                    optimizer.zero_grad(set_to_none=True)
                    with run.autocast():
                        logits = model(x)
                        loss = loss_fn(logits, y)
                    if scaler is not None:  # fp16: scale the loss, unscale before clipping
                        scaler.scale(loss).backward()
                        if training.grad_clip:
                            scaler.unscale_(optimizer)
                            torch.nn.utils.clip_grad_norm_(clip_params, training.grad_clip)
                        scaler.step(optimizer)  # skipped when the gradients overflowed
                        scaler.update()
                    else:
                        loss.backward()
                        if training.grad_clip:
                            torch.nn.utils.clip_grad_norm_(clip_params, training.grad_clip)
                        optimizer.step()
                    lr = optimizer.param_groups[run.lr_group]["lr"]
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
                progress.train_seconds += time.perf_counter() - mark
                progress.elapsed_s = time.perf_counter() - run_start
            with run.autocast():
                val_loss, val_accuracy, val_mae = evaluate(model, loss_fn, data.val_x, data.val_y,
                                                           data.task, data.prepare,
                                                           data.target_scale)
            if not math.isfinite(val_loss):
                flush()  # a non-finite training loss is named first, with its step
                raise _NonFiniteLoss(f"the validation loss became {val_loss} in epoch {epoch}; "
                                     "lower [optimizer] lr and start again")
            if run.scheduler is not None and run.scheduler_per_epoch:
                if run.scheduler_on_val_loss:
                    run.scheduler.step(val_loss)
                else:
                    run.scheduler.step()
            by_metric = training.best_metric == "val_metric"
            # R2 can be below zero, so the first epoch sets the best rather than comparing with 0
            is_best = (progress.best_epoch == 0 or
                       (val_accuracy > progress.best_val_accuracy if by_metric
                        else val_loss < progress.best_val_loss))
            if is_best:
                progress.best_epoch = epoch
            progress.best_val_loss = min(progress.best_val_loss, val_loss)
            progress.best_val_accuracy = (val_accuracy if epoch == 1
                                          else max(progress.best_val_accuracy, val_accuracy))
            _count_early_stopping(progress, val_accuracy if by_metric else val_loss, by_metric,
                                  training.early_stopping_min_delta)
            progress.final_val_loss, progress.final_val_accuracy = val_loss, val_accuracy
            progress.final_val_mae = val_mae
            progress.epoch, progress.batch = epoch + 1, 0
            progress.elapsed_s = time.perf_counter() - run_start
            # sent with the training loss and metric once its last steps are read back
            pending.append(EpochEnd(
                epoch, epochs, progress.step, math.nan, math.nan, val_loss, val_accuracy,
                optimizer.param_groups[run.lr_group]["lr"], progress.elapsed_s,
                progress.samples_seen / max(progress.train_seconds, 1e-9), is_best,
                val_mae=val_mae))
            stopping_early = bool(training.early_stopping_patience and epoch < epochs and
                                  progress.epochs_without_improvement
                                  >= training.early_stopping_patience)
            # Checkpoints are written at most every checkpoint_every_s: writing one costs a
            # few milliseconds and slows the steps after it (cold caches), which short epochs
            # would pay every time. A best epoch between writes is held in memory until then.
            save_now = (epoch == epochs or stopping_early or not training.checkpoint_every_s
                        or time.perf_counter() - last_save >= training.checkpoint_every_s)
            if save_now:
                flush()  # every event before the checkpoint's; its progress sums complete
            if is_best:
                run.held_best = None
                if save_now:
                    _save(run, progress, folder, "best", emit)
                else:
                    _hold_best(run, progress)
            if stopping_early:
                _restore_best_weights(run, progress, folder)
            if save_now:
                _save_held_best(run, folder, emit)
                _save(run, progress, folder, "last", emit)
                # the summary describes the run as far as last.pt holds it, for a killed run
                folder.write_summary({**folder.read_summary(), "status": "running",
                                      "trainable_params": _trainable_count(model),
                                      **_summary_numbers(progress, run.metric)})
                last_save = time.perf_counter()
    finally:
        flush()  # at the end, and when stopping or failing: every step taken is reported


def _with_training_figures(end: EpochEnd, progress: Progress, regression: bool) -> EpochEnd:
    """`end` with its training loss and metric from the epoch's sums (every step of the
    epoch is read back by now), which then start again for the next epoch."""
    samples = max(progress.epoch_samples, 1)
    train_loss = progress.epoch_loss_sum / samples
    train_metric = (r2_score(progress.epoch_sq_error, progress.epoch_target_sum,
                             progress.epoch_target_sq_sum, samples) if regression
                    else progress.epoch_correct / samples)
    progress.epoch_loss_sum, progress.epoch_correct, progress.epoch_samples = 0.0, 0, 0
    progress.epoch_sq_error = progress.epoch_target_sum = progress.epoch_target_sq_sum = 0.0
    return dataclasses.replace(end, train_loss=train_loss, train_metric=train_metric)


def _count_early_stopping(progress: Progress, value: float, higher_is_better: bool,
                          min_delta: float) -> None:
    """Count the epochs since `value` (the best_metric) last improved by more than min_delta."""
    best = progress.early_stopping_best
    improved = best is None or (value > best + min_delta if higher_is_better
                                else value < best - min_delta)
    if improved:
        progress.early_stopping_best, progress.epochs_without_improvement = value, 0
    else:
        progress.epochs_without_improvement += 1


def _restore_best_weights(run: _Run, progress: Progress, folder: RunFolder) -> None:
    """Early stopping: put the best epoch's weights (held, or best.pt) back into the model,
    so that last.pt, merged.pt and the final scores are the best model's, and end the run."""
    import torch

    state = run.held_best or torch.load(folder.best_checkpoint, map_location=run.device,
                                        weights_only=True)
    run.model.load_state_dict(state["model"])
    data = run.data
    with run.autocast():
        (progress.final_val_loss, progress.final_val_accuracy,
         progress.final_val_mae) = evaluate(run.model, run.loss_fn, data.val_x, data.val_y,
                                            data.task, data.prepare, data.target_scale)
    progress.stopped_early = True


def evaluate(model, loss_fn, x, y, task: str = "classification", prepare=None,
             target_scale: float = 1.0) -> tuple[float, float, float | None]:
    """(mean loss, metric, MAE) of `model` on (x, y), in eval mode, batched. The metric is
    accuracy for a classification and R2 for a regression, whose MAE is in the target's
    own units (errors times `target_scale`); a classification's MAE is None. `prepare`
    turns stored inputs into model inputs, as InMemoryData.prepare does."""
    import torch

    regression = task == "regression"
    was_training = model.training
    model.eval()
    total_loss = torch.zeros((), device=x.device)
    sums = torch.zeros(3, device=x.device)  # hits, or squared and absolute errors
    with torch.no_grad():
        for start in range(0, len(y), EVAL_BATCH_SIZE):
            xb, yb = x[start:start + EVAL_BATCH_SIZE], y[start:start + EVAL_BATCH_SIZE]
            if prepare is not None:
                xb = prepare(xb, False)
            outputs = model(xb)
            total_loss += loss_fn(outputs, yb) * len(yb)
            if regression:
                error = outputs.float() - yb
                sums[0] += error.square().sum()
                sums[1] += error.abs().sum()
            else:
                sums[0] += (predicted_classes(outputs) == yb).sum()
        if regression:
            sums[2] = (y - y.mean()).square().sum()
    model.train(was_training)
    n = max(len(y), 1)
    loss, first, second, spread = [total_loss.item(), *sums.tolist()]
    if regression:
        r2 = 1 - first / spread if spread > 0 else 0.0
        return loss / n, r2, second / n * target_scale
    return loss / n, first / n, None


def predicted_classes(outputs):
    """Class indices from model outputs: the highest score, or for a single logit (a
    two-class model trained with bce_with_logits) class 1 when the logit is positive.
    max(1).indices is argmax (the first of equal scores) at half its cost on the CPU."""
    return outputs.max(1).indices if outputs.shape[1] > 1 else (outputs[:, 0] > 0).long()


def r2_score(sq_error: float, target_sum: float, target_sq_sum: float, n: int) -> float:
    """R2 from sums: 1 - squared errors / squared deviations of the targets from their mean;
    0 when the targets do not vary (a batch of one)."""
    spread = target_sq_sum - target_sum * target_sum / max(n, 1)
    return 1 - sq_error / spread if spread > 1e-12 else 0.0


def _read_steps(losses: list, outputs: list, targets: list, regression: bool):
    """(losses, sums) of a burst of steps, read back from the device in one transfer: each
    step's loss as a float, and an array (steps, k) of its metric's sums: hits (k = 1) for a
    classification; squared errors, targets and squared targets (k = 3) for a regression.

    A few kernels over all the steps' samples at once, then numpy adds them up per step:
    far fewer small operations than per-step kernels, which at the end of every short
    epoch measurably slowed training (docs/performance.md)."""
    import numpy as np
    import torch

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


def _checkpoint_state(run: _Run, progress: Progress, kind: str) -> dict:
    """The run's state as plain types (loadable with weights_only=True). "last" holds what a
    resume needs; "best" only the best weights and where they were (evaluation, export and
    fine-tuning read those; a resume never starts from best.pt). The tensors are the live
    ones: see _hold_best."""
    import torch

    state = {"model": run.model.state_dict(), "progress": dict(vars(progress)),
             "class_names": list(run.data.class_names), "format": 1}
    if kind == "last":
        state.update({
            "optimizer": run.optimizer.state_dict(),
            "scheduler": run.scheduler.state_dict() if run.scheduler is not None else {},
            "scaler": run.scaler.state_dict() if run.scaler is not None else {},
            "torch_rng": torch.get_rng_state(),
        })
    return state


def _hold_best(run: _Run, progress: Progress) -> None:
    """Keep the best epoch's checkpoint in memory until the next write. Its weights are
    copied into the same buffers each time: allocating a fresh copy at every best epoch
    measurably slowed the steps after it (docs/performance.md)."""
    state = _checkpoint_state(run, progress, "best")
    weights, buffers = state["model"], run.best_buffers
    if buffers is None or any(name not in buffers or buffers[name].shape != tensor.shape
                              for name, tensor in weights.items()):
        buffers = run.best_buffers = {name: tensor.detach().clone()
                                      for name, tensor in weights.items()}
    else:
        for name, tensor in weights.items():
            buffers[name].copy_(tensor)
    run.held_best = {**state, "model": buffers}


def _save(run: _Run, progress: Progress, folder: RunFolder, kind: str, emit) -> None:
    """Write the run's state now as the `kind` ("last" or "best") checkpoint."""
    _write_checkpoint(folder, kind, _checkpoint_state(run, progress, kind), emit)


def _save_held_best(run: _Run, folder: RunFolder, emit) -> None:
    """Write the best epoch held in memory, if any, as best.pt."""
    if run.held_best is not None:
        _write_checkpoint(folder, "best", run.held_best, emit)
        run.held_best = None


def _write_checkpoint(folder: RunFolder, kind: str, state: dict, emit) -> None:
    """Write `state` atomically; a disk error becomes TrainingFailed, the old file intact."""
    path = folder.last_checkpoint if kind == "last" else folder.best_checkpoint
    try:
        folder.save_checkpoint(path, state)
    except OSError as exc:
        raise TrainingFailed(f"could not save the {kind} checkpoint to {path} "
                             f"({_disk_problem(exc)}); the previous checkpoint is intact; "
                             f"{_disk_remedy(exc)}") from None
    progress = state["progress"]
    emit(CheckpointSaved(str(path), progress["epoch"] - (1 if progress["batch"] == 0 else 0),
                         kind))


def _save_merged(run: _Run, progress: Progress, folder: RunFolder, emit) -> None:
    """Write a LoRA run's merged weights: a plain state_dict with the model's own names."""
    from core.finetune.lora import merged_state_dict

    path = folder.merged_checkpoint
    try:
        folder.save_checkpoint(path, merged_state_dict(run.model))
    except OSError as exc:
        raise TrainingFailed(f"could not save the merged weights to {path} "
                             f"({_disk_problem(exc)}); last.pt holds the adapted model; "
                             f"{_disk_remedy(exc)}") from None
    emit(CheckpointSaved(str(path), progress.epoch - (1 if progress.batch == 0 else 0),
                         "merged"))


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
        if run.scaler is not None and state.get("scaler"):
            run.scaler.load_state_dict(state["scaler"])
        torch.set_rng_state(state["torch_rng"].cpu())
        progress = Progress(**state["progress"])
    except Exception as exc:
        raise BadInput(f"cannot resume from {checkpoint}: {exc}") from None
    # The blocks gradual unfreezing had released when the checkpoint was written (their
    # optimizer groups exist from the start); an epoch not yet begun unfreezes in _fit.
    run.finetuning.unfreeze_for_epoch(progress.epoch if progress.batch else progress.epoch - 1)
    return progress


def _trainable_count(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _summary_numbers(progress: Progress, metric: str = "accuracy") -> dict:
    """The summary's numbers. `metric` names the task's metric ("accuracy" or "r2"):
    best_val_metric and final_val_metric hold it; best_val_accuracy and final_val_accuracy
    only for a classification (None for a regression, which adds final_val_mae)."""
    def finite(value):
        return value if value is not None and math.isfinite(value) else None

    best_metric = progress.best_val_accuracy if progress.best_epoch else None
    classification = metric == "accuracy"
    return {
        "epochs_completed": progress.epoch - 1,
        "steps_completed": progress.step,
        "best_epoch": progress.best_epoch or None,
        "best_val_loss": finite(progress.best_val_loss),
        "best_val_accuracy": best_metric if classification else None,
        "final_val_loss": finite(progress.final_val_loss),
        "final_val_accuracy": progress.final_val_accuracy if classification else None,
        "metric": metric,
        "best_val_metric": best_metric,
        "final_val_metric": progress.final_val_accuracy,
        **({} if classification else {"final_val_mae": progress.final_val_mae}),
        "stopped_early": progress.stopped_early,
        "duration_s": round(progress.elapsed_s, 3),
        "samples_per_s": round(progress.samples_seen / progress.train_seconds, 1)
        if progress.train_seconds else None,
    }


def _describe_failure(exc: Exception, config: RunConfig) -> str:
    import torch

    text = str(exc).lower()
    if (isinstance(exc, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in text
            or "can't allocate memory" in text or "not enough memory" in text):
        return (f"out of memory with batch_size {config.training.batch_size}; lower "
                "[training] batch_size or pick a smaller model")
    if isinstance(exc, TrainingFailed):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:  # metrics or summary
        where = f" {exc.filename}" if exc.filename else ""
        return (f"could not write{where} ({_disk_problem(exc)}); the last checkpoint is "
                f"intact; {_disk_remedy(exc)}, then resume the run")
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first_line}".rstrip(": ")


WRITE_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EACCES,
                errno.EPERM, errno.EROFS}


def _disk_problem(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full"
    return exc.strerror or str(exc)


def _disk_remedy(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make the run folder writable"
    return "free disk space"

"""The training loop, top to bottom: build the run from a RunConfig, then fit it as named
moments (fit, epoch, training step, validation, end of epoch), reporting every moment as
an event to the listeners.

What each moment uses has one job and its own module: build (the Run), precision (forward
context and backward/step), readback (the steps' values, read from the device in bursts),
tracker (best epoch, early stopping), checkpoints (when and what is written), summary
(summary.json). No thread assumptions: the caller decides where this runs (GUI thread,
command line, a child process) and steers it through a RunControl.
"""

from __future__ import annotations

import contextlib
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from core.config import RunConfig
from core.control import RunControl, StopRequested
from core.errors import BadInput, TrainingFailed
from core.events import (Broadcast, EpochEnd, LayersUnfrozen, Listener, RunFailed,
                         RunFinished, RunStarted)
from core.files import printable, write_problem, write_remedy
from core.inference.evaluation import stored_description
from core.runs.folder import (RunFolder, check_data_files, data_fingerprints,
                               default_runs_dir)
from core.runs.tensorboard import TENSORBOARD_DIR, TensorBoardWriter
from core.train.build import Run, build_run, cpu_threads
from core.train.checkpoints import Checkpoints, restore
from core.train.distributed import Alone, skip_final_flush
from core.train.failures import NonFiniteLoss, describe_failure
from core.rng import holding_global_rng
from core.train.memory_estimate import estimate_run_memory
from core.train.progress import Progress, token_lengths
from core.train.readback import PendingStep, ReadBack, kept_outputs
from core.train.summary import RunSummary, divergence_fields
from core.train.tracker import Tracker
from core.train import validation
from core.train.validation import evaluate

# The names callers use: train() itself; the benchmarks time evaluate() and set threads
# the way a run does.
__all__ = ["train", "evaluate", "cpu_threads"]


@holding_global_rng  # from the seed to the end of the run (core/rng.py)
def train(config: RunConfig, runs_dir: Path | None = None, listeners: Iterable[Listener] = (),
          control: RunControl | None = None, resume_dir: Path | None = None,
          sweep: dict | None = None, world: Alone | None = None) -> dict:
    """Run one training run and return its summary (also written to the run folder).

    With `resume_dir`, `config` is ignored: the run folder's own config and last
    checkpoint are used and the run continues where it stopped. `sweep` ({"id", "point"})
    tags a run of a sweep in summary.json (a resumed run keeps its tag). Raises BadInput before
    anything is written when the configuration or its files cannot be used, and
    TrainingFailed (after recording the failure) when training itself breaks. A listener
    that raises is reported and removed; the run goes on (core.events.Broadcast).
    `world`: this process's rank of a torchrun launch (core.train.distributed); only its
    rank 0 writes the folder and tells `listeners`.
    """
    control, world = control or RunControl(), world or Alone()
    if resume_dir is not None:
        # the folder is locked before anything is built
        opened = _reopened(Path(resume_dir), world)
    else:
        opened = _created(config, runs_dir, world)
    folder, config, run, progress = opened.folder, opened.config, opened.run, opened.progress
    run.wrapped = world.wrap(run.model, config)
    try:
        emit = Broadcast([folder.record], [*listeners, *_run_writers(config, folder)]
                         if world.is_main else [])
        summary = _started_summary(opened, sweep)
        if world.world_size > 1:  # how many processes trained it (from the next write on)
            summary.fields["processes"] = world.world_size
        emit(_run_started(run, folder, config, progress))
        fit = _Fit(run, config, progress, folder, control, emit, summary, world)
        status, error, details = fit.attempt()
        if _aborted(opened, status):
            folder.discard()  # stopped before its first step: nothing to keep or resume
            summary.update(progress, run, status)
            summary.fields["run_dir"] = None
        else:
            status, error = fit.save_at_end(status, error)
            _final_summary(summary, opened, status, error, details)
    finally:
        run.data.close()  # a streamed folder's worker processes
        folder.close()  # its metrics, and its lock
    if status == "failed":
        emit(RunFailed(error, dict(summary.fields), details))
        raise TrainingFailed(error)
    emit(RunFinished(status, dict(summary.fields)))
    return summary.fields


def _aborted(opened: _Opened, status: str) -> bool:
    """A new run stopped before its first training step (Stop pressed while it was being
    prepared): its folder holds no training, so it is removed rather than left to be listed
    and offered for resuming (issue 13). A failed run keeps its folder and error.txt."""
    return (not opened.resumed and opened.progress.step == 0
            and status in ("stopped", "interrupted"))


@dataclass
class _Opened:
    """A run ready to fit: its locked folder, configuration, built Run and progress."""

    folder: RunFolder
    config: RunConfig
    run: Run
    progress: Progress
    resumed: bool = False
    previous: dict = field(default_factory=dict)  # a resumed run's earlier summary


def _reopened(path: Path, world: Alone) -> _Opened:
    """The run folder at `path`, locked, with its own config, its data files checked and
    its last checkpoint restored; the lock is released again when this fails."""
    folder = world.main_folder(lambda: _reopen(path))
    try:
        config = folder.config()
        check_data_files(config, folder.data_files())
        run = _build(config, resuming=True)
        progress = restore(run, folder.last_checkpoint)
        previous = folder.read_summary()
        run.init_notes = _lines(previous.get("init_notes"))
        # A killed run may have logged steps after its last checkpoint; they are trained again
        _preparing_write(folder, folder.continue_metrics, progress.step)
    except BaseException:
        folder.close()
        raise
    return _Opened(folder, config, run, progress, resumed=True, previous=previous)


def _created(config: RunConfig, runs_dir: Path | None, world: Alone) -> _Opened:
    """A new run: paths made absolute and data files fingerprinted, the run built (BadInput
    before anything is written), then its folder created and locked."""
    config = config.with_absolute_paths(Path.cwd())
    data_files = data_fingerprints(config)
    run = _build(config, resuming=False)
    folder = world.main_folder(
        lambda: RunFolder.create(Path(runs_dir or default_runs_dir()), config, data_files))
    return _Opened(folder, config, run, Progress())


def _started_summary(opened: _Opened, sweep: dict | None) -> RunSummary:
    """summary.json as the run starts (a resumed run keeps when it began and its sweep tag),
    and for a new run the preprocessing that lets Predict and export work without its data."""
    folder, run, previous = opened.folder, opened.run, opened.previous
    summary = RunSummary(opened.config, run, folder)
    if isinstance(previous.get("started"), str):  # when it began, and when it resumed
        summary.fields.update(started=previous["started"], resumed=summary.fields["started"])
    if isinstance(previous.get("sweep"), dict):
        sweep = previous["sweep"]
    if sweep is not None:
        summary.fields["sweep"] = sweep
    new = not opened.resumed
    _preparing_write(folder, folder.write_summary, summary.update(opened.progress, run),
                     new=new)
    if new:
        _preparing_write(folder, folder.write_preprocessing,
                         stored_description(run.data, opened.config), new=True)
    return summary


def _final_summary(summary: RunSummary, opened: _Opened, status: str, error: str | None,
                   details: str) -> None:
    """summary.json as the run ends, with error.txt beside it for a failed run, the
    divergence flags and, for a classification, the final model's class averages."""
    folder, run, config, progress = opened.folder, opened.run, opened.config, opened.progress
    summary.update(progress, run, status, error)
    if status == "failed":
        with contextlib.suppress(OSError):  # the summary still holds the one line
            folder.write_error(error, details)
    else:
        summary.fields.update(divergence_fields(folder, run))
    if status != "failed" and run.data.task == "classification" and progress.epoch > 1:
        # the final model's class averages, once: one more pass over the validation data
        summary.fields.update(validation.class_report(run, config.training.top_k))
    # image files a streamed folder met that could not be read, skipped as they were met
    summary.fields["data_notes"] = [*run.data_notes, *run.data.unreadable_notes()]
    with contextlib.suppress(OSError):  # the disk is full or gone: the events still tell
        folder.write_summary(summary.fields)


def _run_writers(config: RunConfig, folder: RunFolder) -> list[Listener]:
    """The listeners that write the run's files for other tools: TensorBoard's event files
    unless [training] tensorboard is off. Listeners, so a failing one never fails the run."""
    if not config.training.tensorboard:
        return []
    return [TensorBoardWriter(folder.path / TENSORBOARD_DIR, config)]


def _reopen(path: Path) -> RunFolder:
    """The run folder to resume, locked: BadInput while another process trains it."""
    folder = RunFolder.open_existing(path)
    folder.lock()
    return folder


def _preparing_write(folder: RunFolder, write: Callable, value, new: bool = False) -> None:
    """A write before training starts: a full disk, or a folder that is read-only or gone,
    is bad input, and a `new` run's folder is removed again (it holds nothing yet)."""
    try:
        write(value)
    except OSError as exc:
        if new:
            folder.discard()
        raise BadInput(f"cannot write the run folder {printable(folder.path)} "
                       f"({write_problem(exc)}); {write_remedy(exc)}") from None


def _lines(value) -> list[str]:
    """A list of text lines read back from a summary.json; [] for anything else."""
    return [printable(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _build(config: RunConfig, resuming: bool) -> Run:
    """build_run, with the model's or dataset's own code breaking reported as TrainingFailed."""
    try:
        run = build_run(config, resuming)
    except (BadInput, TrainingFailed):
        raise
    except Exception as exc:  # the model or dataset code broke while being built
        raise TrainingFailed(describe_failure(exc, config.training.batch_size, building=True),
                             traceback.format_exc()) from None
    _estimate_memory(run, config)
    return run


def _estimate_memory(run: Run, config: RunConfig) -> None:
    """The run's memory estimate (run.memory, for an out-of-memory message), and a note on
    the console and in the window when it does not fit; a model whose probe pass breaks
    gets no estimate and fails as it would have at its first step."""
    try:
        run.memory = estimate_run_memory(run.model, run.data, config, run.device,
                                         run.precision.autocast)
    except Exception:  # the first training step reports the model's own error
        return
    if not run.memory.fits:
        run.data_notes.append(run.memory.warning())


def _run_started(run: Run, folder: RunFolder, config: RunConfig,
                 progress: Progress) -> RunStarted:
    data = run.data
    return RunStarted(str(folder.path), str(run.device), config.training.epochs,
                      run.steps_per_epoch, len(data.train_y), len(data.val_y),
                      run.trainable_count(), sum(p.numel() for p in run.model.parameters()),
                      list(data.class_names), list(run.init_notes), metric_name=run.metric,
                      data_notes=list(run.data_notes), resumed_from_step=progress.step,
                      best_metric=config.training.best_metric, top_k=config.training.top_k)


def epoch_order(n: int, seed: int, epoch: int, device):
    """The shuffled sample order of one epoch, a function of seed and epoch only, so a
    resumed run replays exactly the batches an uninterrupted run would see."""
    import torch

    generator = torch.Generator().manual_seed(seed * 100003 + epoch)
    return torch.randperm(n, generator=generator).to(device)


def step_gradients(run: Run, batches: list, weight: float = 1.0):
    """Forward and backward passes over the training samples of one optimisation step, a
    batch per (stored inputs, targets) pair in `batches` (InMemoryData.training_batches;
    more than one: gradient accumulation), the loss scaled by `weight` for the backward
    pass (a rank's share: core.train.distributed). Returns the step's (loss, outputs,
    targets), detached; the loss is the mean over all the samples. None when the batches
    hold no sample (a streamed folder's batch of unreadable files only)."""
    batches = [batch for batch in batches if len(batch[1])]
    if len(batches) <= 1:
        return _forward_backward(run, *batches[0], weight) if batches else None
    import torch

    # Each batch's mean loss weighted by its share of the step's samples: the gradients
    # added up are those of one batch of all of them.
    total = sum(len(y) for _, y in batches)
    parts = [_forward_backward(run, x, y, weight * len(y) / total) for x, y in batches]
    loss = sum(part[0] * (len(part[2]) / total) for part in parts)
    return (loss, torch.cat([part[1] for part in parts]), torch.cat([part[2] for part in parts]))


def _forward_backward(run: Run, x, y, weight: float):
    """Forward and backward pass on stored training inputs `x` with targets `y`, the loss
    scaled by `weight` for the backward pass: (loss, outputs, targets), detached."""
    x, mix = run.data.prepare_training(x, y)
    with run.precision.autocast():
        outputs = run.stepped_model(x)
        loss = run.loss_fn(outputs, y) if mix is None else mixed_loss(run.loss_fn, outputs, y, mix)
    run.precision.backward(loss if weight == 1.0 else loss * weight)
    # A mixed batch's accuracy counts each sample against its larger share's label.
    return (loss.detach(), kept_outputs(run.data.task, outputs.detach()),
            y if mix is None else mix.dominant(y))


def mixed_loss(loss_fn: Callable, outputs, targets, mix):
    """The loss of a batch mixed by MixUp or CutMix (core.data.image_batches.Mix):
    lam * loss(own labels) + (1 - lam) * loss(partners' labels), as both papers train."""
    partner_targets = targets[mix.partners.to(targets.device)]
    return mix.lam * loss_fn(outputs, targets) + (1 - mix.lam) * loss_fn(outputs, partner_targets)


class _Fit:
    """Fitting one run: its epochs as named moments, over the objects that do the work."""

    def __init__(self, run: Run, config: RunConfig, progress: Progress, folder: RunFolder,
                 control: RunControl, emit: Callable, summary: RunSummary,
                 world: Alone) -> None:
        self.run, self.config, self.progress = run, config, progress
        self.folder, self.control, self.emit, self.summary = folder, control, emit, summary
        self.world = world
        self.training = training = config.training
        self.tracker = Tracker.of(training, run.metric)
        self.checkpoints = Checkpoints(run, folder, emit, training.checkpoint_every_s)
        self.readback = ReadBack(progress, run.steps_per_epoch * training.epochs,
                                 run.data.task, emit, folder.flush_metrics,
                                 config.optimizer.params.get("lr"),
                                 None if world.world_size == 1 else world.reduce_steps)
        self.run_start = time.perf_counter() - progress.elapsed_s
        self.clip_params = [p for group in run.optimizer.param_groups for p in group["params"]]
        self.token_lengths = token_lengths(run.data)  # None unless the samples are texts
        self.token_order = None  # the epoch's order on the CPU, for counting tokens

    def attempt(self) -> tuple[str, str | None, str]:
        """Fit, and say how it ended: (status, error line or None, traceback or "")."""
        try:
            self.fit()
        except StopRequested:
            return "interrupted" if self.control.interrupted else "stopped", None, ""
        except KeyboardInterrupt:
            return "interrupted", None, ""
        except NonFiniteLoss as exc:
            return "failed", str(exc), ""
        except Exception as exc:  # the model, the data or the device broke: report, keep the app
            self.run.data.close()  # first: a data worker that died must not raise again here
            return ("failed", describe_failure(exc, self.training.batch_size, self.run.memory),
                    traceback.format_exc())
        return "completed", None, ""

    def fit(self) -> None:
        """Train epoch after epoch until the last, or early stopping ends the run."""
        progress = self.progress
        try:
            while progress.epoch <= self.training.epochs and not progress.stopped_early:
                self.epoch(progress.epoch)
        finally:
            if not skip_final_flush(self.world):
                self.readback.flush()  # at the end, and when stopping or failing: every step

    def epoch(self, epoch: int) -> None:
        """One epoch: its training steps, validation, then what an epoch's end does."""
        self.begin_epoch(epoch)
        self.train_epoch(epoch)
        self.end_epoch(epoch, *self.validate(epoch))

    def begin_epoch(self, epoch: int) -> None:
        """Gradual unfreezing's blocks for this epoch; the model in training mode."""
        run = self.run
        unfrozen = run.finetuning.unfreeze_for_epoch(epoch)
        if unfrozen:
            self.readback.flush()  # the previous epoch's steps and end are reported first
            self.emit(LayersUnfrozen(epoch, unfrozen, run.trainable_count()))
            run.wrapped = self.world.wrap(run.model, self.config)  # DDP's parameters change
        run.model.train()
        run.finetuning.hold_frozen_norms()  # frozen BatchNorm keeps its running statistics

    def train_epoch(self, epoch: int) -> None:
        """The epoch's training steps from where it stands (a resumed run mid-epoch)."""
        run, progress, control = self.run, self.progress, self.control
        order = epoch_order(len(run.data.train_y), self.training.seed, epoch, run.device)
        if self.token_lengths is not None:
            self.token_order = order.cpu()  # one copy an epoch; none at all on the CPU
        firsts = range(progress.batch, run.batches_per_epoch, self.training.accumulate_steps)
        steps = [self.step_indices(order, first) for first in firsts]
        # this rank's batches of the rest of the epoch, read ahead when streamed from disk
        reading = run.data.training_batches([part for _, parts, _ in steps for part in parts])
        self.mark = time.perf_counter()  # training time runs from mark to mark, reports included
        try:
            # A stop takes effect between optimisation steps only, so no checkpoint ever
            # holds half-added gradients and a resume replays whole steps.
            for first, step in zip(firsts, steps):
                # show every step, then wait; on several processes all stop at one step
                self.world.before_step(control, self.readback)
                self.train_step(epoch, first, step, reading)
        finally:
            progress.train_seconds += time.perf_counter() - self.mark
            progress.elapsed_s = time.perf_counter() - self.run_start

    def step_indices(self, order, first: int) -> tuple[list, list, float]:
        """The sample indices of the optimisation step from batch `first` in the epoch's
        `order`: its batches (accumulate_steps of them, fewer at the epoch's end) of all
        ranks, this rank's part of each, and the weight of this rank's loss."""
        size = self.training.batch_size
        last = min(first + self.training.accumulate_steps, self.run.batches_per_epoch)
        batches = [order[b * size:(b + 1) * size] for b in range(first, last)]
        return (batches, *self.world.shard(batches))

    def train_step(self, epoch: int, first: int, step: tuple, reading) -> None:
        """One optimisation step on the epoch's batches from `first`, whose indices `step`
        holds (step_indices) and whose samples are the next of `reading`; its values stay
        on the device until the read-back queue fetches them."""
        run, progress, optimizer = self.run, self.progress, self.run.optimizer
        batches, parts, weight = step
        last = first + len(batches)
        optimizer.zero_grad(set_to_none=True)
        stepped = step_gradients(run, [next(reading) for _ in parts], weight)  # this rank's part
        if stepped is None:  # nothing could be read: the step is left out
            progress.batch = last
            return
        loss, outputs, y = stepped
        run.precision.step(optimizer, self.clip_params, self.training.grad_clip)
        lr = optimizer.param_groups[run.lr_group]["lr"]  # the lr this step used
        if run.scheduler is not None and not run.scheduler_per_epoch:
            run.scheduler.step()
        progress.step += 1
        progress.batch = last
        progress.samples_seen += sum(len(batch) for batch in batches)  # of all ranks
        if self.token_lengths is not None:
            size = self.training.batch_size
            progress.tokens_seen += int(self.token_lengths[
                self.token_order[first * size:last * size]].sum())
        now = time.perf_counter()
        progress.train_seconds += now - self.mark
        self.mark = now
        self.readback.add_step(PendingStep(progress.step, epoch, loss, outputs, y, lr,
                                           now - self.run_start), now)

    def validate(self, epoch: int) -> tuple[float, float, float | None, dict]:
        """(loss, metric, MAE, class scores) on the validation data; NonFiniteLoss if the
        loss is not a number. A per-epoch schedule steps here."""
        run = self.run
        val_loss, val_metric, val_mae, val_scores = validation.validate(run, self.training.top_k)
        if not math.isfinite(val_loss):
            self.readback.flush()  # a non-finite training loss is named first, with its step
            raise NonFiniteLoss(f"the validation loss became {val_loss} in epoch {epoch}; "
                                "lower [optimizer] lr and start again")
        if run.scheduler is not None and run.scheduler_per_epoch:
            if run.scheduler_on_val_loss:
                run.scheduler.step(val_loss)
            else:
                run.scheduler.step()
        return val_loss, val_metric, val_mae, val_scores

    def end_epoch(self, epoch: int, val_loss: float, val_metric: float,
                  val_mae: float | None, val_scores: dict) -> None:
        """Record the epoch's scores, queue its EpochEnd, and save what is due."""
        progress, epochs = self.progress, self.training.epochs
        is_best = self.tracker.record(progress, epoch, val_loss, val_metric, val_scores)
        progress.final_val_loss, progress.final_val_metric = val_loss, val_metric
        progress.final_val_mae = val_mae
        progress.epoch, progress.batch = epoch + 1, 0
        progress.elapsed_s = time.perf_counter() - self.run_start
        # sent with the training loss and metric once its last steps are read back
        self.readback.add_epoch_end(EpochEnd(
            epoch, epochs, progress.step, math.nan, math.nan, val_loss, val_metric,
            self.run.lr, progress.elapsed_s, progress.samples_per_s(), is_best,
            val_mae=val_mae, val_scores=val_scores))
        stopping_early = self.tracker.should_stop(progress, epoch, epochs)
        self.save_epoch(is_best, stopping_early, final=epoch == epochs or stopping_early)
        if stopping_early:
            self.restore_best_weights()

    def save_epoch(self, is_best: bool, stopping_early: bool, final: bool) -> None:
        """An epoch's end: best.pt for a best epoch (or held), and when due last.pt and the
        summary, which then describes the run as far as last.pt holds it."""
        write_now = self.world.agree(self.checkpoints.due(final))  # by every rank, or none
        if write_now:
            self.readback.flush()  # every event before the checkpoint's; its sums complete
        if is_best:
            self.checkpoints.best(self.progress, write_now)
        if stopping_early:
            return  # written after the best weights are back (restore_best_weights)
        if write_now:
            self.save_last()

    def save_last(self) -> None:
        """Write the held best epoch, last.pt and the summary (for a killed run)."""
        self.checkpoints.save_held_best()
        self.checkpoints.save(self.progress, "last")
        self.folder.write_summary(self.summary.update(self.progress, self.run))

    def restore_best_weights(self) -> None:
        """Early stopping: put the best epoch's weights back into the model, so that last.pt,
        merged.pt and the final scores are the best model's, and end the run."""
        progress = self.progress
        if self.world.is_main:  # best.pt is rank 0's to read; the others get its weights
            self.run.load_weights(self.checkpoints.best_weights(), "best.pt")
        self.world.broadcast_model(self.run.model)
        (progress.final_val_loss, progress.final_val_metric,
         progress.final_val_mae, _) = validation.validate(self.run)
        progress.stopped_early = True
        self.save_last()

    def save_at_end(self, status: str, error: str | None) -> tuple[str, str | None]:
        """What an ended run still writes: a stopped run its state, a failed one the best
        epoch it reached, a LoRA run its merged weights. A disk that fails here fails the run."""
        run = self.run
        if status == "failed" and run.device.type == "cuda":
            import torch

            torch.cuda.empty_cache()  # after an out-of-memory error the next run starts clean
        try:
            if status in ("stopped", "interrupted"):
                self.checkpoints.save_held_best()
                self.checkpoints.save(self.progress, "last")
            elif status == "failed":
                with contextlib.suppress(TrainingFailed):  # keep the best epoch reached
                    self.checkpoints.save_held_best()
            if status != "failed" and run.finetuning.lora_targets and not run.finetuning.qlora:
                self.checkpoints.save_merged(self.progress)
        except TrainingFailed as exc:  # the disk is full or gone; the older checkpoint stays
            return "failed", str(exc)
        return status, error

"""Writing and restoring checkpoints: last.pt (what a resume needs), best.pt (the best
epoch's weights, held in memory between writes), and a LoRA run's merged.pt. A QLoRA run's
checkpoints hold only the weights that train (Run.weights_state), and it writes no merged.pt:
its 4-bit base cannot take the adapters, so evaluation and export merge them into the base
at full precision (core/inference/evaluation.py).

Checkpoints are written at most every [training] checkpoint_every_s: writing one costs a
few milliseconds and slows the steps after it (cold caches), which short epochs would pay
every time. A best epoch between writes is held in memory until then.
"""

from __future__ import annotations

import errno
import time
from pathlib import Path
from typing import Callable

from core.errors import BadInput, TrainingFailed
from core.files import printable, write_problem, write_remedy
from core.events import CheckpointSaved
from core.runs.folder import RunFolder, checkpoint_epoch
from core.train.build import Run
from core.train.progress import Progress


class Checkpoints:
    """The run's checkpoints in its folder, and when the next one is due."""

    def __init__(self, run: Run, folder: RunFolder, emit: Callable, every_s: float) -> None:
        self.run, self.folder, self.emit, self.every_s = run, folder, emit, every_s
        self.held_best: dict | None = None  # a best epoch's state not yet written
        self._best_buffers: dict | None = None  # the tensors held_best's weights live in
        self.last_write = time.perf_counter()

    def due(self, final: bool) -> bool:
        """Whether an epoch's end writes checkpoints now: always at the `final` epoch, else
        once checkpoint_every_s has passed since the last write (0: every epoch)."""
        return (final or not self.every_s
                or time.perf_counter() - self.last_write >= self.every_s)

    def best(self, progress: Progress, write_now: bool) -> None:
        """A new best epoch: write best.pt now, or hold it in memory until the next write."""
        self.held_best = None
        if write_now:
            self.save(progress, "best")
        else:
            self._hold_best(progress)

    def save(self, progress: Progress, kind: str) -> None:
        """Write the run's state now as the `kind` ("last" or "best") checkpoint."""
        self._write(kind, self._state(progress, kind))
        if kind == "last":
            self.last_write = time.perf_counter()

    def save_held_best(self) -> None:
        """Write the best epoch held in memory, if any, as best.pt."""
        if self.held_best is not None:
            self._write("best", self.held_best)
            self.held_best = None

    def best_weights(self) -> dict:
        """The best epoch's model state: held in memory, or read back from best.pt."""
        import torch

        if self.held_best is not None:
            return self.held_best["model"]
        return torch.load(self.folder.best_checkpoint, map_location=self.run.device,
                          weights_only=True)["model"]

    def save_merged(self, progress: Progress) -> None:
        """Write a LoRA run's merged weights: a plain state_dict with the model's own names."""
        from core.finetune.lora import merged_state_dict

        path = self.folder.merged_checkpoint
        try:
            self.folder.save_checkpoint(path, merged_state_dict(self.run.model))
        except OSError as exc:
            raise TrainingFailed(f"could not save the merged weights to {path} "
                                 f"({write_problem(exc)}); last.pt holds the adapted model; "
                                 f"{write_remedy(exc)}") from None
        self.emit(CheckpointSaved(str(path), checkpoint_epoch(progress.as_dict()), "merged"))

    def _state(self, progress: Progress, kind: str) -> dict:
        """The run's state as plain types (loadable with weights_only=True). "last" holds
        what a resume needs; "best" only the best weights and where they were (evaluation,
        export and fine-tuning read those; a resume never starts from best.pt). The tensors
        are the live ones: see _hold_best."""
        import torch

        run = self.run
        state = {"model": run.weights_state(), "progress": progress.as_dict(),
                 "class_names": list(run.data.class_names), "format": 1}
        if kind == "last":
            state.update({
                "optimizer": run.optimizer.state_dict(),
                "scheduler": run.scheduler.state_dict() if run.scheduler is not None else {},
                "scaler": run.precision.state_dict(),
                "torch_rng": torch.get_rng_state(),
            })
        return state

    def _hold_best(self, progress: Progress) -> None:
        """Keep the best epoch's checkpoint in memory until the next write. Its weights are
        copied into the same buffers each time: allocating a fresh copy at every best epoch
        measurably slowed the steps after it (docs/performance.md)."""
        state = self._state(progress, "best")
        weights, buffers = state["model"], self._best_buffers
        if buffers is None or any(name not in buffers or buffers[name].shape != tensor.shape
                                  for name, tensor in weights.items()):
            buffers = self._best_buffers = {name: tensor.detach().clone()
                                            for name, tensor in weights.items()}
        else:
            for name, tensor in weights.items():
                buffers[name].copy_(tensor)
        self.held_best = {**state, "model": buffers}

    def _write(self, kind: str, state: dict) -> None:
        """Write `state` atomically; a disk error becomes TrainingFailed, the old file intact."""
        folder = self.folder
        path = folder.last_checkpoint if kind == "last" else folder.best_checkpoint
        try:
            folder.save_checkpoint(path, state)
        except OSError as exc:
            kept = ("" if exc.errno == errno.ENOENT
                    else "the previous checkpoint is intact; ")
            raise TrainingFailed(f"could not save the {kind} checkpoint to {printable(path)} "
                                 f"({write_problem(exc)}); {kept}{write_remedy(exc)}") from None
        self.emit(CheckpointSaved(str(path), checkpoint_epoch(state["progress"]), kind))


def restore(run: Run, checkpoint: Path) -> Progress:
    """Put last.pt's state back into `run` (weights, optimizer, schedule, loss scale, random
    state) and return its Progress. Checkpoints of earlier versions resume too."""
    import torch

    if not checkpoint.is_file():
        raise BadInput(f"{checkpoint} is missing, so this run cannot be resumed; start it again "
                       "with traindesk train on its config.toml")
    try:
        state = torch.load(checkpoint, map_location=run.device, weights_only=True)
        run.load_weights(state["model"], str(checkpoint))
        run.optimizer.load_state_dict(state["optimizer"])
        if run.scheduler is not None:
            run.scheduler.load_state_dict(state["scheduler"])
        run.precision.load_state_dict(state.get("scaler") or {})
        torch.set_rng_state(state["torch_rng"].cpu())
        progress = Progress.from_checkpoint(state["progress"])
    except Exception as exc:
        raise BadInput(f"cannot resume from {checkpoint}: {exc}") from None
    # The blocks gradual unfreezing had released when the checkpoint was written (their
    # optimizer groups exist from the start); an epoch not yet begun unfreezes in the loop.
    run.finetuning.unfreeze_for_epoch(checkpoint_epoch(progress.as_dict()))
    return progress

"""A run's summary.json: kept in memory for the whole run and rewritten from there at each
checkpoint and at the end (never read back from disk to be rewritten)."""

from __future__ import annotations

import math
import os
import platform
import socket
from datetime import datetime

from core.config import RunConfig
from core.runs.folder import RunFolder
from core.train.build import Run
from core.train.progress import Progress


class RunSummary:
    """The summary of one run as it goes; `fields` is what summary.json holds."""

    def __init__(self, config: RunConfig, run: Run, folder: RunFolder) -> None:
        import torch

        self.metric = run.metric
        self.fields = {
            "status": "running", "model": config.model.name, "data": config.data.name,
            "device": str(run.device), "threads": torch.get_num_threads(),
            "trainable_params": run.trainable_count(),
            "total_params": sum(p.numel() for p in run.model.parameters()),
            "init_notes": list(run.init_notes), "data_notes": list(run.data_notes),
            "run_dir": str(folder.path), "best_metric": config.training.best_metric,
            "precision": run.precision.name,
            # who is training it: a run left "running" by a process that is gone was killed
            "pid": os.getpid(), "host": socket.gethostname(),
            # what produced it, to reproduce it or explain a difference later
            "started": datetime.now().astimezone().isoformat(timespec="seconds"),
            "device_name": device_name(run.device), "versions": versions(),
        }

    def update(self, progress: Progress, run: Run, status: str = "running",
               error: str | None = None) -> dict:
        """Bring the summary up to `progress`; the trainable count too, which gradual
        unfreezing changes as the run goes. Returns the fields."""
        self.fields.update(status=status, trainable_params=run.trainable_count(),
                           **summary_numbers(progress, self.metric))
        if error:
            self.fields["error"] = error
        return self.fields


def versions() -> dict:
    """The versions that made a run: TrainDesk, torch, torchvision, Python and CUDA (None
    without it)."""
    import torch

    import core

    try:
        import torchvision
        vision = torchvision.__version__
    except ImportError:
        vision = None
    return {"traindesk": core.__version__, "torch": torch.__version__,
            "torchvision": vision, "python": platform.python_version(),
            "cuda": torch.version.cuda}


def device_name(device) -> str:
    """The device's own name: the GPU's model, or the CPU's."""
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (mps)"
    return platform.processor() or platform.machine() or "cpu"


def divergence_fields(folder: RunFolder, run: Run) -> dict:
    """{"diverged": the hint's kind, "diverged_hint": what to do} when the run's curves
    (all of them, a resumed run's earlier epochs too) show a loss that exploded or an
    accuracy at chance level (core.runs.hints.divergence), else {}: such a run is no
    success, however many epochs it completed, and the run history marks it."""
    from core.runs.curves import read_curves
    from core.runs.hints import divergence

    try:
        folder.flush_metrics()
        curves = read_curves(folder.path)
    except OSError:  # the disk is full or gone: the run's other records still tell
        return {}
    classes = len(run.data.class_names) if run.metric == "accuracy" else None
    hint = divergence(curves.epoch_train_loss.tolist(), curves.val_loss.tolist(),
                      float(curves.loss[0]) if len(curves.loss) else None,
                      curves.val_metric.tolist(), classes)
    return {"diverged": hint.kind, "diverged_hint": hint.text} if hint else {}


def summary_numbers(progress: Progress, metric: str = "accuracy") -> dict:
    """The summary's numbers. `metric` names the task's metric ("accuracy" or "r2"):
    best_val_metric and final_val_metric hold it; best_val_accuracy and final_val_accuracy
    only for a classification (None for a regression, which adds final_val_mae). The keys
    are a contract: the run history, the command line and scripts read them."""
    def finite(value):
        return value if value is not None and math.isfinite(value) else None

    best_metric = progress.best_val_metric if progress.best_epoch else None
    classification = metric == "accuracy"
    return {
        "epochs_completed": progress.epoch - 1,
        "steps_completed": progress.step,
        "best_epoch": progress.best_epoch or None,
        "best_val_loss": finite(progress.best_val_loss),
        "best_val_accuracy": best_metric if classification else None,
        "final_val_loss": finite(progress.final_val_loss),
        "final_val_accuracy": progress.final_val_metric if classification else None,
        "metric": metric,
        "best_val_metric": best_metric,
        "final_val_metric": progress.final_val_metric,
        **({} if classification else {"final_val_mae": progress.final_val_mae}),
        "stopped_early": progress.stopped_early,
        "duration_s": round(progress.elapsed_s, 3),
        "samples_per_s": round(progress.samples_seen / progress.train_seconds, 1)
        if progress.train_seconds else None,
    }

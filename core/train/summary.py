"""A run's summary.json: kept in memory for the whole run and rewritten from there at each
checkpoint and at the end (never read back from disk to be rewritten)."""

from __future__ import annotations

import math
import os
import socket

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

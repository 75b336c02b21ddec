"""A run's summary.json: kept in memory for the whole run and rewritten from there at each
checkpoint and at the end (never read back from disk to be rewritten)."""

from __future__ import annotations

import math
import os
import platform
import socket
import sys
from datetime import datetime
from pathlib import Path

from core.config import RunConfig
from core.metrics import score_of
from core.runs.folder import RunFolder
from core.train.build import Run
from core.train.progress import Progress


class RunSummary:
    """The summary of one run as it goes; `fields` is what summary.json holds."""

    def __init__(self, config: RunConfig, run: Run, folder: RunFolder) -> None:
        import torch

        self.metric = run.metric
        # a class score that [training] best_metric ranks by ("val_macro_f1"): its best
        # epoch's value is kept as best_val_macro_f1 (core.metrics.CLASS_SCORES)
        self.ranked_by_score = config.training.best_metric if score_of(
            config.training.best_metric) else None
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
            # bytes the run was estimated to need, and had free, as it started
            "memory_estimate": run.memory.as_dict() if run.memory else None,
            # where time and memory went: building the dataset (this process's, when resumed),
            # and the most memory the process has held so far (updated as the run goes)
            "data_seconds": round(run.data_seconds, 3), "peak_rss_mb": peak_rss_mb(),
        }

    def update(self, progress: Progress, run: Run, status: str = "running",
               error: str | None = None) -> dict:
        """Bring the summary up to `progress`; the trainable count too, which gradual
        unfreezing changes as the run goes. Returns the fields."""
        self.fields.update(status=status, trainable_params=run.trainable_count(),
                           peak_rss_mb=peak_rss_mb(), **summary_numbers(progress, self.metric))
        if self.ranked_by_score:
            self.fields[f"best_{self.ranked_by_score}"] = (progress.best_val_score
                                                           if progress.best_epoch else None)
        if error:
            self.fields["error"] = error
        return self.fields


def peak_rss_mb() -> float | None:
    """The most memory this process has held at once so far (its peak resident set), in MiB;
    None on Windows, which has no getrusage. In the window the process is the whole app."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def versions() -> dict:
    """The versions that made a run: TrainDesk, torch, torchvision, Python and CUDA (None
    without it)."""
    import torch

    import core

    return {"traindesk": core.__version__, "torch": torch.__version__,
            "torchvision": torchvision_version(), "python": platform.python_version(),
            "cuda": torch.version.cuda}


def torchvision_version() -> str | None:
    """torchvision's __version__, read from its version.py when it has one: importing
    torchvision to ask took 0.3 s of a 7 s run that never uses it (docs/performance.md,
    benchmark 1). None when torchvision is not installed."""
    import importlib.util
    import re

    spec = importlib.util.find_spec("torchvision")
    if spec is None:
        return None
    for folder in spec.submodule_search_locations or []:
        try:
            text = (Path(folder) / "version.py").read_text(encoding="utf-8")
        except OSError:
            continue
        found = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", text, re.MULTILINE)
        if found:
            return found.group(1)
    import torchvision  # no readable version.py (a frozen app's archive)

    return torchvision.__version__


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
        # the scores of the epoch best.pt holds (best_metric decides which epoch that is)
        "best_epoch_val_loss": finite(progress.best_epoch_val_loss),
        "best_epoch_val_metric": progress.best_epoch_val_metric,
        "final_val_metric": progress.final_val_metric,
        **({"final_val_mae": progress.final_val_mae} if metric == "r2" else {}),
        "stopped_early": progress.stopped_early,
        "duration_s": round(progress.elapsed_s, 3),
        "samples_per_s": round(progress.samples_seen / progress.train_seconds, 1)
        if progress.train_seconds else None,
        # texts' tokens (padding not counted) per second; None for other data
        "tokens_per_s": round(progress.tokens_seen / progress.train_seconds, 1)
        if progress.train_seconds and progress.tokens_seen else None,
    }

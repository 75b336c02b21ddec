"""Which epoch is the best so far and when to stop early: one improvement rule
(core.metrics.is_improvement) on the value [training] best_metric names, as fastai's
TrackerCallback and Keras's callbacks share theirs."""

from __future__ import annotations

from dataclasses import dataclass

from core.config import TrainingSettings
from core.metrics import is_improvement
from core.train.progress import Progress


@dataclass(frozen=True)
class Tracker:
    """Follows [training] best_metric ("val_loss" or "val_metric") through Progress."""

    by_metric: bool  # best_metric = "val_metric": higher is better
    min_delta: float  # early stopping: a smaller gain is not an improvement
    patience: int  # early stopping: epochs without improvement before stopping; 0 = off

    @classmethod
    def of(cls, training: TrainingSettings) -> Tracker:
        """The tracker a run's [training] settings ask for."""
        return cls(training.best_metric == "val_metric", training.early_stopping_min_delta,
                   training.early_stopping_patience)

    def record(self, progress: Progress, epoch: int, val_loss: float, val_metric: float) -> bool:
        """Enter one validated epoch into `progress` (best and final scores, early stopping's
        count); whether it is the best epoch so far, the one best.pt holds."""
        value = val_metric if self.by_metric else val_loss
        best = None
        if progress.best_epoch:
            best = progress.best_val_metric if self.by_metric else progress.best_val_loss
        is_best = is_improvement(value, best, self.by_metric)
        if is_best:
            progress.best_epoch = epoch
        progress.best_val_loss = min(progress.best_val_loss, val_loss)
        progress.best_val_metric = (val_metric if epoch == 1
                                    else max(progress.best_val_metric, val_metric))
        if is_improvement(value, progress.early_stopping_best, self.by_metric, self.min_delta):
            progress.early_stopping_best, progress.epochs_without_improvement = value, 0
        else:
            progress.epochs_without_improvement += 1
        return is_best

    def should_stop(self, progress: Progress, epoch: int, epochs: int) -> bool:
        """Whether early stopping ends the run after `epoch` (never after the last one)."""
        return bool(self.patience and epoch < epochs
                    and progress.epochs_without_improvement >= self.patience)

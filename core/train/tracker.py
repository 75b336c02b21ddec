"""Which epoch is the best so far and when to stop early: one improvement rule
(core.metrics.is_improvement) on the value [training] best_metric names, as fastai's
TrackerCallback and Keras's callbacks share theirs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.config import TrainingSettings
from core.errors import BadInput
from core.i18n import translatable
from core.metrics import higher_is_better, is_improvement, score_of
from core.train.progress import Progress

NEEDS_CLASSES = translatable(
    "Messages", "[training] best_metric = {choice} ranks a classification, and this data is "
    "a regression; choose val_loss or val_metric")
TOP_K_TOO_LARGE = translatable(
    "Messages", "[training] best_metric = val_top_k_accuracy needs more classes than "
    "[training] top_k = {k}, and the data has {classes}; lower top_k")


@dataclass(frozen=True)
class Tracker:
    """Follows [training] best_metric through Progress: "val_loss" (lower is better),
    "val_metric" or a class score such as "val_macro_f1" (higher is better)."""

    by_metric: bool  # any best_metric but val_loss: higher is better
    score: str | None  # the class score best_metric names (core.metrics.CLASS_SCORES)
    min_delta: float  # early stopping: a smaller gain is not an improvement
    patience: int  # early stopping: epochs without improvement before stopping; 0 = off
    lower_metric: bool = False  # the task's metric is better lower (perplexity)

    @classmethod
    def of(cls, training: TrainingSettings, metric: str = "accuracy") -> Tracker:
        """The tracker a run's [training] settings ask for, on the task's `metric`. A
        metric that is better lower (perplexity, exp of the validation loss) ranks epochs
        as the validation loss does, so val_metric then follows the loss."""
        lower = not higher_is_better(metric)
        return cls(training.best_metric != "val_loss" and not lower,
                   score_of(training.best_metric), training.early_stopping_min_delta,
                   training.early_stopping_patience, lower)

    def record(self, progress: Progress, epoch: int, val_loss: float, val_metric: float,
               val_scores: dict | None = None) -> bool:
        """Enter one validated epoch into `progress` (best and final scores, early stopping's
        count); whether it is the best epoch so far, the one best.pt holds. `val_scores`:
        the epoch's class scores (core.train.validation.validate), when best_metric ranks
        by one."""
        score = (val_scores or {}).get(self.score) if self.score else None
        if self.score:
            value = math.nan if score is None else score
        else:
            value = val_metric if self.by_metric else val_loss
        best = None
        if progress.best_epoch:
            best = (progress.best_val_score if self.score else
                    progress.best_val_metric if self.by_metric else progress.best_val_loss)
        is_best = is_improvement(value, best, self.by_metric)
        if is_best:
            progress.best_epoch = epoch
            progress.best_epoch_val_loss, progress.best_epoch_val_metric = val_loss, val_metric
            progress.best_val_score = score
        progress.best_val_loss = min(progress.best_val_loss, val_loss)
        progress.best_val_metric = (val_metric if epoch == 1 else (
            min if self.lower_metric else max)(progress.best_val_metric, val_metric))
        if is_improvement(value, progress.early_stopping_best, self.by_metric, self.min_delta):
            progress.early_stopping_best, progress.epochs_without_improvement = value, 0
        else:
            progress.epochs_without_improvement += 1
        return is_best

    def should_stop(self, progress: Progress, epoch: int, epochs: int) -> bool:
        """Whether early stopping ends the run after `epoch` (never after the last one)."""
        return bool(self.patience and epoch < epochs
                    and progress.epochs_without_improvement >= self.patience)


def check_best_metric(training: TrainingSettings, task: str, classes: int) -> None:
    """BadInput when [training] best_metric names a class score the data cannot have: any
    for a regression, the top-k accuracy with top_k classes or fewer (every sample would
    count)."""
    score = score_of(training.best_metric)
    if score and task != "classification":
        raise BadInput(NEEDS_CLASSES.format(choice=training.best_metric))
    if score == "top_k_accuracy" and training.top_k >= classes:
        raise BadInput(TOP_K_TOO_LARGE.format(k=training.top_k, classes=classes))

"""Where a run stands: saved in every checkpoint so a resumed run continues exactly."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

# Keys that checkpoints written before the metric fields were renamed still carry: the
# value is the task's metric (accuracy, or R2) under its old name.
_OLD_KEYS = {"best_val_accuracy": "best_val_metric", "final_val_accuracy": "final_val_metric"}


@dataclass
class Progress:
    """Where a run stands; saved in every checkpoint so a resumed run continues exactly."""

    epoch: int = 1  # the epoch being trained (1-based)
    batch: int = 0  # batches of that epoch already done
    step: int = 0  # optimisation steps done in the whole run
    best_val_loss: float = math.inf
    best_val_metric: float = 0.0  # the task's metric: accuracy, or R2 for a regression
    best_epoch: int = 0
    # The best epoch's own scores (best.pt's): best_val_loss and best_val_metric are each the
    # best over all epochs, which may be two different epochs.
    best_epoch_val_loss: float | None = None
    best_epoch_val_metric: float | None = None
    # The best epoch's class score when [training] best_metric ranks by one (macro F1,
    # balanced or top-k accuracy); the best over all epochs too, as best.pt is ranked by it.
    best_val_score: float | None = None
    final_val_loss: float | None = None
    final_val_metric: float | None = None
    train_seconds: float = 0.0  # time spent in training steps, for samples per second
    elapsed_s: float = 0.0  # wall time of the run so far, validation and saving included
    samples_seen: int = 0
    tokens_seen: int = 0  # texts' tokens in those samples (padding not counted); 0 for others
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

    @classmethod
    def from_checkpoint(cls, saved: dict) -> Progress:
        """The Progress a checkpoint's "progress" dict holds, also from checkpoints written
        before the metric fields were renamed. TypeError on an unknown key."""
        return cls(**{_OLD_KEYS.get(key, key): value for key, value in saved.items()})

    def as_dict(self) -> dict:
        """Plain values for a checkpoint (loadable with weights_only=True)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def samples_per_s(self) -> float:
        """Training throughput so far: samples over the time spent in training steps."""
        return self.samples_seen / max(self.train_seconds, 1e-9)

    def tokens_per_s(self) -> float:
        """Tokens trained on per second so far; nan for a run whose samples are not texts."""
        return self.tokens_seen / max(self.train_seconds, 1e-9) if self.tokens_seen else math.nan


def token_lengths(data):
    """Each training text's length in tokens, padding left out, as a CPU tensor (the loop
    adds up a step's from the epoch's order on the CPU, so counting never waits for a GPU);
    None for data that is not token ids (images, tables, audio, data streamed from disk)."""
    from core.data.text import NO_TOKEN

    x = getattr(data, "train_x", None)
    if not data.kind.endswith("tokens") or x is None or x.dim() != 2 or x.is_floating_point():
        return None
    padding = 0 if data.kind == "tokens" else NO_TOKEN  # our vocabularies pad with id 0
    return x.ne(padding).sum(1).cpu()


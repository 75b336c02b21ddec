"""A run's metric, decided once: which metric a task has, how it is computed from sums, how
it is named and shown, and when an epoch counts as better than the best so far.

Torch-free and Qt-free: the trainer, evaluation, the run history, the command line and the
window all take these rules from here.
"""

from __future__ import annotations

import math

# The metric of each task: the share of right answers, the coefficient of determination,
# or for a language model (instruction tuning) the perplexity of its responses.
METRIC_OF_TASK = {"classification": "accuracy", "regression": "r2",
                  "language_modeling": "perplexity"}
# Metrics for which a lower value is better (every other metric: higher is better).
LOWER_IS_BETTER = {"perplexity"}
# exp() of a loss above this overflows a float: the perplexity is then reported as inf.
MAX_EXPONENT = 700.0

# Below this spread of the targets (sum of squared deviations from their mean) R2 is
# undefined (every target alike); it is reported as 0, "no better than the mean".
R2_MIN_SPREAD = 1e-12


def metric_of_task(task: str) -> str:
    """"accuracy" for a classification, "r2" for a regression, "perplexity" for a
    language model."""
    return METRIC_OF_TASK[task]


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` is better (accuracy, R2; not perplexity)."""
    return metric not in LOWER_IS_BETTER


def perplexity(loss: float) -> float:
    """A language model's perplexity from its mean cross-entropy per token (in nats):
    exp(loss), the number of equally likely tokens it is as unsure as; inf past overflow."""
    return math.exp(loss) if loss <= MAX_EXPONENT else math.inf


def r2_from_sums(sq_error: float, target_sum: float, target_sq_sum: float, n: int) -> float:
    """R2 from sums over n samples: 1 - squared errors / squared deviations of the targets
    from their mean (0 when the targets do not vary)."""
    spread = target_sq_sum - target_sum * target_sum / max(n, 1)
    return 1 - sq_error / spread if spread > R2_MIN_SPREAD else 0.0


# A classification's scores that [training] best_metric can rank epochs by besides the
# loss and accuracy ("val_macro_f1", ...), computed on the validation data every epoch and
# kept in metrics.csv's columns of the same names.
CLASS_SCORES = ("macro_f1", "balanced_accuracy", "top_k_accuracy")
SCORE_LABELS = {"macro_f1": "macro F1", "balanced_accuracy": "balanced accuracy",
                "top_k_accuracy": "top-{k} accuracy"}


# The scores runs can be sorted by (traindesk sweep --metric), each a run's best: the task's
# metric, the validation loss, a classification's class scores (metrics.csv) and a language
# model's perplexity (its metric).
RUN_SCORES = ("val_metric", "val_loss", *(f"val_{name}" for name in CLASS_SCORES), "perplexity")


def score_rises(score: str, metric: str) -> bool:
    """Whether a larger value of a RUN_SCORES `score` is better in a run whose task metric
    is `metric`: not for the loss or perplexity, for val_metric as for its metric."""
    if score in ("val_loss", "perplexity"):
        return False
    return higher_is_better(metric) if score == "val_metric" else True


def score_of(best_metric: str) -> str | None:
    """The class score a [training] best_metric ranks by ("val_macro_f1" -> "macro_f1"),
    None for "val_loss" and "val_metric"."""
    name = best_metric.removeprefix("val_")
    return name if name in CLASS_SCORES else None


def score_label(name: str, top_k: int = 5) -> str:
    """A class score's name as people read it: "macro F1", "top-5 accuracy"."""
    return SCORE_LABELS[name].format(k=top_k)


def top_k_hits(scores, targets, k: int):
    """Per sample, whether its true class is among the `k` highest of its `scores` (a
    tensor (N, classes) of logits or probabilities, on any device): a bool tensor (N,).
    None when there are k classes or fewer, where every sample would count. The one rule
    behind the top-k accuracy of validation, summary.json and the Evaluation tab."""
    if scores.shape[1] <= k:
        return None
    return (scores.topk(k, dim=1).indices == targets[:, None]).any(1)


def metric_label(name: str) -> str:
    """The metric's name as people read it: "accuracy" or "R2"."""
    return "accuracy" if name == "accuracy" else name.upper() if name == "r2" else name


def metric_scale(name: str) -> float:
    """What a stored value is multiplied by for display: accuracy in percent, R2 as it is."""
    return 100.0 if name == "accuracy" else 1.0


def metric_axis_label(name: str) -> str:
    """A plot axis: "accuracy (%)" or "R2"."""
    return "accuracy (%)" if name == "accuracy" else metric_label(name)


def format_metric(name: str, value: float | None) -> str:
    """"97.5%" for an accuracy (a share), "0.512" for R2, "-" when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.1%}" if name == "accuracy" else f"{value:.3f}"


def is_improvement(value: float, best: float | None, higher_is_better: bool,
                   min_delta: float = 0.0) -> bool:
    """Whether `value` beats `best` by more than `min_delta`, in the direction that is
    better (a loss falls, a metric rises). With no best yet, any finite value is better.
    The one rule behind best.pt, early stopping and the best epoch of a run's history."""
    if not math.isfinite(value):
        return False
    if best is None or not math.isfinite(best):
        return True
    return value - best > min_delta if higher_is_better else best - value > min_delta


def class_scores(confusion: list[list[int]]) -> list[tuple[float | None, float | None,
                                                           float | None, int]]:
    """(precision, recall, F1, support) of each class from a confusion matrix (`confusion[t][p]`
    counts samples of true class t predicted as p). Precision is None for a class never
    predicted, recall for one with no samples; F1 is then 0 if the other is known, else None."""
    scores = []
    for k, row in enumerate(confusion):
        hits, support = row[k], sum(row)
        predicted = sum(r[k] for r in confusion)
        precision = hits / predicted if predicted else None
        recall = hits / support if support else None
        f1 = (2 * precision * recall / (precision + recall) if precision and recall
              else 0.0 if precision is not None or recall is not None else None)
        scores.append((precision, recall, f1, support))
    return scores


def class_averages(confusion: list[list[int]]) -> dict[str, float | None]:
    """Macro F1 (the mean F1 of the classes that occur, as true or predicted), weighted F1
    (each class's F1 weighted by its samples) and balanced accuracy (the mean recall of the
    classes with samples), as scikit-learn computes them; None without samples."""
    scores = class_scores(confusion)
    occurring = [f1 for _, _, f1, _ in scores if f1 is not None]
    total = sum(support for *_, support in scores)
    recalls = [recall for _, recall, _, _ in scores if recall is not None]
    return {
        "macro_f1": sum(occurring) / len(occurring) if occurring else None,
        "weighted_f1": (sum((f1 or 0.0) * support for _, _, f1, support in scores) / total
                        if total else None),
        "balanced_accuracy": sum(recalls) / len(recalls) if recalls else None,
    }

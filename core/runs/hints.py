"""Plain-language hints drawn from a run's curves, for people who do not read loss curves
for a living: overfitting, underfitting, a loss that stopped being a number, a loss that
exploded and a metric that stayed at chance level (a run that diverged: not a success,
even when it ran all its epochs).

Pure functions over the epoch history (lists of floats), so the window, a notebook or a
report can ask the same question and get the same answer."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from core.i18n import translatable

# How many epochs the validation loss must have risen from its best before we call it
# overfitting, and by how much (relative) it must be above that best by then.
OVERFIT_EPOCHS = 2
OVERFIT_RISE = 0.05
# Underfitting: the training loss over the last UNDERFIT_WINDOW epochs fell by less than
# UNDERFIT_FLAT (relative) and is still above UNDERFIT_HIGH times where it started.
UNDERFIT_WINDOW = 3
UNDERFIT_FLAT = 0.03
UNDERFIT_HIGH = 0.5
# A loss that exploded: an epoch's loss above EXPLODED_RATIO times where it started, or
# above EXPLODED_BOUND whatever the start (standardised targets and cross-entropy start
# near 1; a loss of a million means the weights flew apart), and the last epoch's loss
# not back below the start (a spike the run recovered from is no failure).
EXPLODED_RATIO = 100.0
EXPLODED_BOUND = 1e6
# Chance level: after CHANCE_EPOCHS validated epochs the validation accuracy is no better
# than guessing, 1/classes + CHANCE_MARGIN.
CHANCE_EPOCHS = 3
CHANCE_MARGIN = 0.05
EXPLODED = translatable(
    "Messages", "The loss reached {peak}: the steps were far too large and the model learned "
    "nothing useful. Lower the learning rate (try a tenth of it), or clip gradients, and "
    "start again.")
EXPLODED_FROM = translatable(
    "Messages", "The loss reached {peak} from {start}: the steps were far too large and the "
    "model learned nothing useful. Lower the learning rate (try a tenth of it), or clip "
    "gradients, and start again.")
NON_FINITE_ERROR = re.compile(r"loss became (nan|inf|-inf)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Hint:
    kind: str  # "overfitting" | "underfitting" | "non_finite" | "exploded" | "chance"
    title: str
    text: str  # one or two sentences with what to try


def curve_hints(train_loss: list[float], val_loss: list[float], initial_loss: float | None = None,
                error: str | None = None, val_metric: list[float] | None = None,
                classes: int | None = None) -> list[Hint]:
    """Hints for a run whose epochs so far had these mean training and validation losses.

    `initial_loss` is the loss before learning had an effect (the first logged step; the
    first epoch's training loss when not given). `error` is the run's failure message, if
    any: a loss that became nan or inf is recognised in it as well as in the losses.
    `val_metric` and `classes`: a classifier's validation accuracy per epoch and its number
    of classes, to tell an accuracy that stayed at chance level.
    """
    hints = []
    if _non_finite(train_loss, val_loss, error):
        hints.append(Hint(
            "non_finite", translatable("Messages", "The loss is not a number any more"),
            translatable("Messages", "The loss became infinite or NaN: the steps were too "
                         "large. Lower the learning rate (try a tenth of it) and start again.")))
        return hints
    diverged = divergence(train_loss, val_loss, initial_loss, val_metric, classes)
    if diverged is not None:
        return [diverged]
    pairs = [(t, v) for t, v in zip(train_loss, val_loss) if math.isfinite(t) and math.isfinite(v)]
    if is_overfitting([t for t, _ in pairs], [v for _, v in pairs]):
        best = min(range(len(pairs)), key=lambda i: pairs[i][1]) + 1
        hints.append(Hint(
            "overfitting",
            translatable("Messages", "Overfitting: the model is memorising the training data"),
            translatable("Messages", "The validation loss has been rising since epoch {best} "
                         "while the training loss keeps falling. Stop earlier (the best "
                         "checkpoint is kept), or add weight decay, dropout or data "
                         "augmentation, or train fewer epochs.").format(best=best)))
    elif is_underfitting([t for t, _ in pairs], [v for _, v in pairs], initial_loss):
        hints.append(Hint(
            "underfitting",
            translatable("Messages", "Underfitting: the model is not learning much"),
            translatable("Messages", "Both losses are flat and still high. Try a bigger model "
                         "(more or wider layers), more epochs, or a higher learning rate.")))
    return hints


def divergence(train_loss: list[float], val_loss: list[float],
               initial_loss: float | None = None, val_metric: list[float] | None = None,
               classes: int | None = None) -> Hint | None:
    """The hint for a run that diverged (its loss exploded) or learned nothing (its accuracy
    stayed at chance level), else None. The trainer records it in summary.json, so the run
    history can mark such a run however many epochs it completed."""
    finite = [v for v in (*train_loss, *val_loss) if math.isfinite(v)]
    last = [v for v in (*train_loss[-1:], *val_loss[-1:]) if math.isfinite(v)]
    start = initial_loss if initial_loss is not None and math.isfinite(initial_loss) \
        else (train_loss[0] if train_loss and math.isfinite(train_loss[0]) else None)
    if finite and last:
        peak = max(finite)
        exploded = peak > EXPLODED_BOUND or (start is not None and start > 0
                                              and peak > EXPLODED_RATIO * start)
        if exploded and (start is None or max(last) > start):
            # two whole templates rather than an optional piece, so each translates whole
            text = (EXPLODED_FROM.format(peak=f"{peak:.3g}", start=f"{start:.3g}")
                    if start is not None else EXPLODED.format(peak=f"{peak:.3g}"))
            return Hint("exploded", translatable("Messages", "The loss exploded"), text)
    if val_metric and classes and classes >= 2 and len(val_metric) >= CHANCE_EPOCHS:
        now = val_metric[-1]
        if math.isfinite(now) and now <= 1.0 / classes + CHANCE_MARGIN:
            return Hint(
                "chance", translatable("Messages", "The accuracy stayed at chance level"),
                translatable("Messages", "After {epochs} epochs the validation accuracy is "
                             "{accuracy}, what guessing among {classes} classes gets. Lower "
                             "the learning rate, and check the data: do the labels match the "
                             "inputs?").format(epochs=len(val_metric), accuracy=f"{now:.0%}",
                                               classes=classes))
    return None


def is_overfitting(train_loss: list[float], val_loss: list[float]) -> bool:
    """The validation loss reached its lowest at least OVERFIT_EPOCHS epochs ago and is now
    clearly above it (by OVERFIT_RISE), while the training loss went on falling. (Not asking
    for a rise in the very last epoch keeps the verdict steady from epoch to epoch.)"""
    if len(val_loss) < OVERFIT_EPOCHS + 2:
        return False
    best = min(range(len(val_loss)), key=val_loss.__getitem__)
    last = len(val_loss) - 1
    if last - best < OVERFIT_EPOCHS:
        return False
    return val_loss[last] > val_loss[best] * (1 + OVERFIT_RISE) and \
        train_loss[last] < train_loss[best]


def is_underfitting(train_loss: list[float], val_loss: list[float],
                    initial_loss: float | None = None) -> bool:
    """Over the last UNDERFIT_WINDOW epochs neither loss fell by UNDERFIT_FLAT (relative),
    and the training loss is still above UNDERFIT_HIGH times the initial loss."""
    if len(train_loss) < UNDERFIT_WINDOW + 1:
        return False
    start = initial_loss if initial_loss is not None and math.isfinite(initial_loss) \
        else train_loss[0]
    if start <= 0:
        return False

    def flat(values: list[float]) -> bool:
        before, now = values[-UNDERFIT_WINDOW - 1], values[-1]
        return before - now < UNDERFIT_FLAT * abs(before)

    return flat(train_loss) and flat(val_loss) and train_loss[-1] > UNDERFIT_HIGH * start


def _non_finite(train_loss: list[float], val_loss: list[float], error: str | None) -> bool:
    if error and NON_FINITE_ERROR.search(error):
        return True
    return any(not math.isfinite(v) for v in (*train_loss, *val_loss))

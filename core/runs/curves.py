"""A run's curves as arrays: smoothing of the training loss (TensorBoard's debiased
exponential moving average) and reading a finished or running run's metrics.csv back into
the series the window draws. numpy only; no torch, no Qt."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from core.metrics import CLASS_SCORES, higher_is_better, is_improvement, score_of
from core.runs.folder import TRAIN, TRAIN_EPOCH, VAL


class Smoother:
    """TensorBoard's smoothing: an exponential moving average with weight `weight` (0 keeps
    the raw values, 0.99 is very smooth), debiased so the first points are not pulled
    towards zero. Values are fed in chunks; each chunk costs O(its length), and the state
    carries over, so a live curve is smoothed incrementally. Non-finite values are passed
    through and do not enter the average."""

    def __init__(self, weight: float) -> None:
        if not 0.0 <= weight < 1.0:
            raise ValueError(f"smoothing weight {weight} is outside [0, 1)")
        self.weight = weight
        self._last = 0.0  # the biased average so far
        self._count = 0  # finite values averaged so far

    def feed(self, values) -> np.ndarray:
        """The smoothed values of `values` (a 1-D array), continuing from earlier feeds."""
        values = np.asarray(values, dtype=np.float64)
        if self.weight == 0.0 or len(values) == 0:
            return values.copy()
        finite = np.isfinite(values)
        x = values[finite]
        w = self.weight
        biased = np.empty_like(x)
        # In closed form, biased[j] = w^(j+1) * (last + (1-w) * sum_{i<=j} x[i] / w^(i+1)):
        # a cumulative sum, computed in blocks short enough that 1/w^n stays far from
        # overflowing (numpy only: scipy's lfilter takes ~0.2 s to import on the GUI thread).
        block = max(1, min(4096, int(300 / -math.log(w))))
        last = self._last
        for start in range(0, len(x), block):
            chunk = x[start:start + block]
            powers = np.power(w, np.arange(1, len(chunk) + 1))
            values_out = powers * (last + (1 - w) * np.cumsum(chunk / powers))
            biased[start:start + len(chunk)] = values_out
            last = float(values_out[-1])
        out = values.copy()
        out[finite] = biased / (1 - np.power(w, self._count + 1 + np.arange(len(x))))
        self._last = last
        self._count += len(x)
        return out


def smooth(values, weight: float) -> np.ndarray:
    """The whole series smoothed at once (see Smoother)."""
    return Smoother(weight).feed(values)


def _empty() -> np.ndarray:
    return np.empty(0)


@dataclass
class RunCurves:
    """What a run's metrics.csv holds, as numpy arrays: per training step (`step`, `epoch`,
    `loss`, `metric`, `lr`, `elapsed_s`) and per validated epoch (`val_epoch`, `val_step`,
    `val_loss`, `val_metric`, `val_lr`, `val_elapsed_s`, and the epoch's training loss and
    metric `epoch_train_loss`, `epoch_train_metric`). `epoch_position` places each step on
    an epoch axis (epoch 1 ends at 1.0)."""

    step: np.ndarray = field(default_factory=_empty)
    epoch: np.ndarray = field(default_factory=_empty)
    loss: np.ndarray = field(default_factory=_empty)
    metric: np.ndarray = field(default_factory=_empty)
    lr: np.ndarray = field(default_factory=_empty)
    elapsed_s: np.ndarray = field(default_factory=_empty)
    val_epoch: np.ndarray = field(default_factory=_empty)
    val_step: np.ndarray = field(default_factory=_empty)
    val_loss: np.ndarray = field(default_factory=_empty)
    val_metric: np.ndarray = field(default_factory=_empty)
    val_lr: np.ndarray = field(default_factory=_empty)
    val_elapsed_s: np.ndarray = field(default_factory=_empty)
    epoch_train_loss: np.ndarray = field(default_factory=_empty)
    epoch_train_metric: np.ndarray = field(default_factory=_empty)
    # a classification's class scores per validated epoch (NaN where not recorded)
    val_macro_f1: np.ndarray = field(default_factory=_empty)
    val_balanced_accuracy: np.ndarray = field(default_factory=_empty)
    val_top_k_accuracy: np.ndarray = field(default_factory=_empty)

    @property
    def epoch_position(self) -> np.ndarray:
        return epoch_positions(self.step, self.epoch)

    def up_to_step(self, step: int) -> RunCurves:
        """The curves as they stood after `step` (a checkpoint a run resumes from)."""
        steps, epochs = self.step <= step, self.val_step <= step
        return RunCurves(**{f.name: getattr(self, f.name)[epochs if f.name.startswith(
            ("val_", "epoch_train_")) else steps] for f in fields(self)})

    def best_epochs(self, best_metric: str, metric: str = "accuracy") -> np.ndarray:
        """For each validated epoch, whether it was the best so far by [training]
        best_metric ("val_loss", "val_metric" or a class score such as "val_macro_f1"):
        the trainer's rule, core.metrics (a task `metric` better lower, perplexity, ranks
        as the validation loss does, as core.train.tracker.Tracker does)."""
        by_metric = best_metric != "val_loss" and higher_is_better(metric)
        if score_of(best_metric):
            values = getattr(self, best_metric)  # the val_<score> series
        else:
            values = self.val_metric if by_metric else self.val_loss
        flags, best = [], None
        for value in values.tolist():
            flags.append(is_improvement(value, best, by_metric))
            best = value if flags[-1] else best
        return np.asarray(flags, dtype=bool)


def epoch_positions(steps: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """Each step's place on an epoch axis: epoch e's k-th of n steps sits at e - 1 + k/n."""
    steps = np.asarray(steps, dtype=np.float64)
    epochs = np.asarray(epochs, dtype=np.float64)
    positions = np.empty_like(steps)
    for epoch in np.unique(epochs):
        mask = epochs == epoch
        first = steps[mask].min() - 1
        count = steps[mask].max() - first
        positions[mask] = epoch - 1 + (steps[mask] - first) / count
    return positions


_COLUMNS = ("step", "epoch", "loss", "accuracy", "lr", "elapsed_s")


def read_curves(run_dir: Path, batch_size: int | None = None,
                train_samples: int | None = None) -> RunCurves:
    """The curves in `run_dir`/metrics.csv; rows that cannot be read (a line cut short by a
    crash) are skipped. OSError when the file cannot be opened.

    An epoch's training loss and metric are the trainer's own, from its "train_epoch" row.
    Folders written before those rows existed get them from the steps (steps_epoch_means):
    weighted by batch size when `batch_size` and `train_samples` are given, else alike."""
    rows: dict[str, list[tuple[float, ...]]] = {TRAIN: [], TRAIN_EPOCH: [], VAL: []}
    scores: list[list[float]] = []  # the class scores of each VAL row
    with open(Path(run_dir) / "metrics.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                values = tuple(float(row[column]) for column in _COLUMNS)
            except (TypeError, ValueError, KeyError):
                continue
            rows.get(row.get("split"), rows[TRAIN]).append(values)
            if row.get("split") == VAL:
                scores.append([_optional(row.get(name)) for name in CLASS_SCORES])
    t, e, v = (np.asarray(rows[kind], dtype=np.float64).reshape(-1, len(_COLUMNS))
               for kind in (TRAIN, TRAIN_EPOCH, VAL))
    curves = RunCurves(step=t[:, 0], epoch=t[:, 1], loss=t[:, 2], metric=t[:, 3], lr=t[:, 4],
                       elapsed_s=t[:, 5], val_step=v[:, 0], val_epoch=v[:, 1],
                       val_loss=v[:, 2], val_metric=v[:, 3], val_lr=v[:, 4],
                       val_elapsed_s=v[:, 5])
    by_score = np.asarray(scores, dtype=np.float64).reshape(-1, len(CLASS_SCORES))
    for i, name in enumerate(CLASS_SCORES):
        setattr(curves, f"val_{name}", by_score[:, i])
    if len(e):
        recorded = dict(zip(e[:, 1].tolist(), e[:, 2:4].tolist()))
        figures = np.asarray([recorded.get(epoch, (math.nan, math.nan))
                              for epoch in curves.val_epoch.tolist()]).reshape(-1, 2)
    else:
        figures = steps_epoch_means(curves, batch_size, train_samples)
    curves.epoch_train_loss, curves.epoch_train_metric = figures[:, 0], figures[:, 1]
    return curves


def _optional(text: str | None) -> float:
    """A class score's cell: its value, or NaN when empty or absent (older folders)."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def steps_epoch_means(curves: RunCurves, batch_size: int | None = None,
                      train_samples: int | None = None) -> np.ndarray:
    """(validated epochs, 2): each validated epoch's training loss and metric rebuilt from
    its steps, for run folders written before metrics.csv recorded them. The steps are
    weighted by their batch's size (the last batch of an epoch may be smaller) when
    `batch_size` and `train_samples` say it, else alike. The loss comes out as the trainer
    had it, up to metrics.csv's rounding; a regression's R2 is approximated by the
    weighted mean of the steps' R2."""
    weights = np.ones_like(curves.step)
    if batch_size and train_samples:
        steps_per_epoch = -(-train_samples // batch_size)
        last_batch = train_samples - (steps_per_epoch - 1) * batch_size
        weights = np.where(curves.step % steps_per_epoch == 0, last_batch, batch_size)
    means = []
    for epoch in curves.val_epoch.tolist():
        mine = curves.epoch == epoch
        total = weights[mine].sum()
        means.append((float(weights[mine] @ curves.loss[mine] / total),
                      float(weights[mine] @ curves.metric[mine] / total)) if total
                     else (math.nan, math.nan))
    return np.asarray(means, dtype=np.float64).reshape(-1, 2)

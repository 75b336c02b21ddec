"""A run's curves as arrays: smoothing of the training loss (TensorBoard's debiased
exponential moving average) and reading a finished or running run's metrics.csv back into
the series the window draws. numpy only; no torch, no Qt."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


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


@dataclass
class RunCurves:
    """What a run's metrics.csv holds, as numpy arrays: per training step (`step`, `epoch`,
    `loss`, `metric`, `lr`) and per validation epoch (`val_epoch`, `val_step`, `val_loss`,
    `val_metric`, `val_lr`). `epoch_position` places each step on an epoch axis (epoch 1
    ends at 1.0)."""

    step: np.ndarray = field(default_factory=lambda: np.empty(0))
    epoch: np.ndarray = field(default_factory=lambda: np.empty(0))
    loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    metric: np.ndarray = field(default_factory=lambda: np.empty(0))
    lr: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_epoch: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_step: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_metric: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_lr: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def epoch_position(self) -> np.ndarray:
        return epoch_positions(self.step, self.epoch)

    def train_loss_per_epoch(self) -> np.ndarray:
        """The mean step loss of each validated epoch (a close stand-in for the trainer's
        sample-weighted mean; only the last batch of an epoch may be smaller)."""
        means = []
        for epoch in self.val_epoch:
            losses = self.loss[self.epoch == epoch]
            means.append(float(losses.mean()) if len(losses) else math.nan)
        return np.asarray(means)


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


def read_curves(run_dir: Path) -> RunCurves:
    """The curves in `run_dir`/metrics.csv; rows that cannot be read (a line cut short by a
    crash) are skipped. OSError when the file cannot be opened."""
    train: list[tuple[float, ...]] = []
    val: list[tuple[float, ...]] = []
    with open(Path(run_dir) / "metrics.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                values = (float(row["step"]), float(row["epoch"]), float(row["loss"]),
                          float(row["accuracy"]), float(row["lr"]))
            except (TypeError, ValueError, KeyError):
                continue
            (val if row.get("split") == "val" else train).append(values)
    t = np.asarray(train, dtype=np.float64).reshape(-1, 5)
    v = np.asarray(val, dtype=np.float64).reshape(-1, 5)
    return RunCurves(step=t[:, 0], epoch=t[:, 1], loss=t[:, 2], metric=t[:, 3], lr=t[:, 4],
                     val_step=v[:, 0], val_epoch=v[:, 1], val_loss=v[:, 2], val_metric=v[:, 3],
                     val_lr=v[:, 4])

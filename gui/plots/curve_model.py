"""The curves of a run as data, whatever draws them: the live plots fill one CurveModel from
the training events, the compared plots one per run from its metrics.csv
(core.runs.curves.RunCurves). What the hover readout names and what a CSV export writes are
computed here, once, from these models; the widgets only draw.

numpy only, no Qt: columns grow in arrays that double their capacity, so an append costs
amortised O(1) and drawing takes views of the arrays instead of converting lists each time.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from core.metrics import metric_axis_label, metric_scale
from core.runs.curves import RunCurves, Smoother, epoch_positions

STEP_COLUMNS = ("step", "epoch", "loss", "metric", "lr", "elapsed_s")
# val_score: the class score [training] best_metric ranks by (macro F1, balanced or top-k
# accuracy: a share), NaN when it ranks by the loss or the metric
EPOCH_COLUMNS = ("epoch", "step", "train_loss", "val_loss", "train_metric", "val_metric",
                 "elapsed_s", "val_score")
X_AXES = ("step", "epoch", "time")  # what the curves can be drawn against; time in seconds
METRIC_COLUMNS = ("train_metric", "val_metric", "val_score")  # as computed: a share, or R2
PLOT_KEYS = ("steps", "epoch_loss", "epoch_metric", "lr")


class Columns:
    """Named float columns that grow together, row by row or many rows at once."""

    def __init__(self, names: Sequence[str], capacity: int = 1024) -> None:
        self.names = tuple(names)
        self._data = {name: np.empty(capacity) for name in self.names}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, name: str) -> np.ndarray:
        """A view of the column (valid until the next append)."""
        return self._data[name][:self._size]

    def extend(self, **columns: Iterable[float]) -> None:
        """Append rows: every column's values, all of one length."""
        arrays = {name: np.asarray(columns[name], dtype=np.float64).reshape(-1)
                  for name in self.names}
        end = self._size + len(arrays[self.names[0]])
        capacity = len(self._data[self.names[0]])
        if end > capacity:
            capacity = max(end, 2 * capacity)
            for name in self.names:
                self._data[name] = np.resize(self._data[name], capacity)
        for name, values in arrays.items():
            self._data[name][self._size:end] = values
        self._size = end

    def clear(self) -> None:
        self._size = 0


class CurveModel:
    """One run's curves: a row per training step (step, epoch, loss, metric, lr, seconds
    since the run began) and a row per validated epoch (epoch, the step it ended at, training
    and validation loss and metric, seconds). Metrics are stored as computed (a share, or
    R2) and scaled for display by core.metrics. The smoothed training loss is kept up to
    date incrementally."""

    def __init__(self, name: str = "", metric_name: str = "accuracy",
                 score_name: str | None = None) -> None:
        self.name = name  # the run's folder name (the CSV's "run" column)
        self.metric_name = metric_name
        self.score_name = score_name  # core.metrics.CLASS_SCORES: the val_score column's
        self.steps = Columns(STEP_COLUMNS)
        self.epochs = Columns(EPOCH_COLUMNS)
        self.best_epoch: int | None = None
        self.steps_per_epoch = 0  # 0: unknown, epoch positions come from the step rows
        self._smoother: Smoother | None = None
        self._smoothed = np.empty(0)
        self._smoothed_count = 0

    @classmethod
    def from_run_curves(cls, curves: RunCurves, name: str = "", metric_name: str = "accuracy",
                        score_name: str | None = None) -> CurveModel:
        """The model of a run read from its folder (core.runs.curves.read_curves)."""
        model = cls(name, metric_name, score_name)
        scores = (getattr(curves, f"val_{score_name}") if score_name
                  else np.full(len(curves.val_epoch), np.nan))
        model.steps.extend(step=curves.step, epoch=curves.epoch, loss=curves.loss,
                           metric=curves.metric, lr=curves.lr, elapsed_s=curves.elapsed_s)
        model.epochs.extend(epoch=curves.val_epoch, step=curves.val_step,
                            train_loss=curves.epoch_train_loss, val_loss=curves.val_loss,
                            train_metric=curves.epoch_train_metric,
                            val_metric=curves.val_metric, elapsed_s=curves.val_elapsed_s,
                            val_score=scores)
        return model

    def clear(self) -> None:
        self.steps.clear()
        self.epochs.clear()
        self.best_epoch = None
        self.steps_per_epoch = 0
        self._smoother = None
        self._smoothed_count = 0

    # Growing

    def add_steps(self, batches: Sequence) -> None:
        """Append core.events.BatchEnd events, oldest first."""
        n = len(batches)
        self.steps.extend(step=np.fromiter((b.step for b in batches), float, n),
                          epoch=np.fromiter((b.epoch for b in batches), float, n),
                          loss=np.fromiter((b.loss for b in batches), float, n),
                          metric=np.fromiter((b.metric for b in batches), float, n),
                          lr=np.fromiter((b.lr for b in batches), float, n),
                          elapsed_s=np.fromiter((b.elapsed_s for b in batches), float, n))

    def add_epoch(self, event) -> None:
        """Append a core.events.EpochEnd; an epoch that was best becomes the best epoch."""
        self.epochs.extend(epoch=[event.epoch], step=[event.step],
                           train_loss=[event.train_loss], val_loss=[event.val_loss],
                           train_metric=[event.train_metric], val_metric=[event.val_metric],
                           elapsed_s=[event.elapsed_s],
                           val_score=[_or_nan(event.val_scores.get(self.score_name))
                                      if self.score_name else np.nan])
        if event.is_best:
            self.best_epoch = event.epoch

    # Derived series

    def smoothed_loss(self, weight: float) -> np.ndarray:
        """The training loss smoothed with `weight` (0: raw); only new steps are smoothed
        when the weight is the one asked for last."""
        loss = self.steps["loss"]
        if weight <= 0:
            return loss
        if self._smoother is None or self._smoother.weight != weight \
                or self._smoothed_count > len(loss):
            self._smoother, self._smoothed_count = Smoother(weight), 0
            self._smoothed = np.empty(max(1024, len(loss)))
        if self._smoothed_count < len(loss):
            fresh = self._smoother.feed(loss[self._smoothed_count:])
            if len(loss) > len(self._smoothed):
                self._smoothed = np.resize(self._smoothed, max(len(loss), 2 * len(self._smoothed)))
            self._smoothed[self._smoothed_count:len(loss)] = fresh
            self._smoothed_count = len(loss)
        return self._smoothed[:len(loss)]

    def step_x(self, by: str) -> np.ndarray:
        """Where each step sits on an x axis by "step", by "epoch" (epoch 1 ends at 1.0) or
        by "time" (seconds since the run began, as metrics.csv's elapsed_s)."""
        steps = self.steps["step"]
        if by == "step":
            return steps
        if by == "time":
            return self.steps["elapsed_s"]
        if self.steps_per_epoch:
            return steps / self.steps_per_epoch
        return epoch_positions(steps, self.steps["epoch"])

    def epoch_x(self, by: str) -> np.ndarray:
        """Where each validated epoch sits: its number, the step it ended at, or when."""
        return self.epochs[{"epoch": "epoch", "time": "elapsed_s"}.get(by, "step")]

    def shown(self, column: str) -> np.ndarray:
        """An epoch column as shown: a metric scaled for display (accuracy in %)."""
        values = self.epochs[column]
        return values * metric_scale(self.metric_name) if column in METRIC_COLUMNS else values

    def initial_loss(self) -> float | None:
        return float(self.steps["loss"][0]) if len(self.steps) else None


# What the readout names and what a CSV holds: the same for one live run or several compared.

EPOCH_PLOT_COLUMNS = {"epoch_loss": ("val_loss", "train_loss"),
                      "epoch_metric": ("val_metric", "train_metric", "val_score")}


def _or_nan(value: float | None) -> float:
    return np.nan if value is None else value


def hover_series(key: str, models: Sequence[tuple[str, CurveModel]], x_by: str,
                 smoothing: float, epoch_columns: Sequence[str] = ("val", "train")) -> list:
    """What the readout can name in plot `key`, as drawn: (label, x, y, [(name, values)]),
    the other axis first among the extras. `models` pairs each run with its legend label
    ("" for the one live run); `epoch_columns` says which epoch curves are drawn."""
    found = []
    for label, model in models:
        prefix = f"{label}: " if label else ""
        if key in ("steps", "lr"):
            x = model.step_x(x_by)
            other = ("epoch", model.steps["epoch"]) if x_by != "epoch" \
                else ("step", model.steps["step"])
            if key == "lr":
                found.append((f"{prefix}lr", x, model.steps["lr"], [other]))
            elif smoothing > 0:
                found.append((f"{prefix}smoothed loss", x, model.smoothed_loss(smoothing),
                              [other, ("raw", model.steps["loss"])]))
            else:
                found.append((f"{prefix}loss", x, model.steps["loss"], [other]))
            continue
        x = model.epoch_x(x_by)
        other = ("epoch", model.epochs["epoch"]) if x_by != "epoch" \
            else ("step", model.epochs["step"])
        what = "loss" if key == "epoch_loss" else metric_axis_label(model.metric_name)
        for split in epoch_columns:
            column = f"{split}_{'loss' if key == 'epoch_loss' else 'metric'}"
            words = "validation" if split == "val" else "training"
            found.append((f"{prefix}{words} {what}", x, model.shown(column), [other]))
    return found


def plot_table(key: str, models: Sequence[CurveModel], smoothing: float) -> tuple[list, list]:
    """The full data behind plot `key` (not the downsampled view), header and rows, one
    row per point and a "run" column first: the same columns for one run or several."""
    if key in ("steps", "lr"):
        header = ["run", "step", "epoch"] + (
            ["lr"] if key == "lr" else ["loss", f"smoothed_loss ({smoothing:.2f})"])
    else:
        metrics = {model.metric_name for model in models}
        value = "loss" if key == "epoch_loss" else metrics.pop() if len(metrics) == 1 \
            else "metric"
        header = ["run", "epoch", "step", f"train_{value}", f"val_{value}"]
    rows: list[list] = []
    for model in models:
        if key == "steps":
            columns = [model.steps["step"], model.steps["epoch"], model.steps["loss"],
                       model.smoothed_loss(smoothing)]
        elif key == "lr":
            columns = [model.steps["step"], model.steps["epoch"], model.steps["lr"]]
        else:
            kind = "loss" if key == "epoch_loss" else "metric"
            columns = [model.epochs["epoch"], model.epochs["step"],
                       model.epochs[f"train_{kind}"], model.epochs[f"val_{kind}"]]
        rows += [[model.name, *values] for values in zip(*columns)]
    return header, rows

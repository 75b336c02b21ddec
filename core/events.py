"""The trainer's event stream: plain, immutable records sent to every listener.

Listeners are callables taking one event. The GUI's training thread turns events into
Qt signals, the command line prints them, the run folder records them. Events carry
plain Python numbers only, so they can cross threads and, later, processes.

A listener cannot break a run: one that raises is reported (ListenerFailed, and a line on
stderr) and removed (Broadcast). The run folder's recorder is the exception: a run that
cannot write its folder fails, as it must.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable, Union


@dataclass(frozen=True)
class RunStarted:
    run_dir: str
    device: str
    epochs: int
    steps_per_epoch: int
    train_samples: int
    val_samples: int
    trainable_params: int
    total_params: int
    class_names: list[str] = field(default_factory=list)
    # Readable lines about the start weights, e.g. "fc2 replaced: start weights have 10
    # classes, this dataset 5"; empty when everything loaded or the run starts fresh.
    notes: list[str] = field(default_factory=list)
    # The task's metric in BatchEnd.metric, EpochEnd.train_metric and val_metric:
    # "accuracy" (a share, 0..1) for a classification, "r2" for a regression.
    metric_name: str = "accuracy"
    # Readable lines about the data and how the model was fitted to it, e.g. "3 unreadable
    # image files skipped", "grey images repeated to 3 channels".
    data_notes: list[str] = field(default_factory=list)
    # Steps the run had done before this start: 0 for a new run, the checkpoint's step for
    # a resumed one (its earlier points are in metrics.csv up to this step).
    resumed_from_step: int = 0
    # [training] best_metric and top_k: what ranks the epochs (a class score such as
    # "val_macro_f1" is drawn beside the metric) and the k of the top-k accuracy
    best_metric: str = "val_loss"
    top_k: int = 5


@dataclass(frozen=True)
class BatchEnd:
    """One optimisation step. Values are read from the device in bulk at the logging rate,
    so several BatchEnd events arrive together."""

    step: int  # 1-based count of steps over the whole run
    epoch: int  # 1-based
    total_steps: int
    loss: float
    metric: float  # the run's metric (RunStarted.metric_name): accuracy, or R2
    lr: float
    elapsed_s: float
    samples_per_s: float
    tokens_per_s: float = math.nan  # texts' tokens (padding not counted); nan for other data


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    epochs: int
    step: int
    train_loss: float
    train_metric: float  # the run's metric (RunStarted.metric_name): accuracy, or R2
    val_loss: float
    val_metric: float
    lr: float
    elapsed_s: float
    samples_per_s: float
    is_best: bool
    val_mae: float | None = None  # a regression's mean absolute error, in the target's units
    # A classification's class scores on the validation data (core.metrics.CLASS_SCORES:
    # macro F1, balanced and top-k accuracy, shares 0..1; None where undefined)
    val_scores: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class LayersUnfrozen:
    """Gradual unfreezing released these blocks at the start of `epoch`."""

    epoch: int
    names: list[str]
    trainable_params: int  # trainable parameters from now on


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    epoch: int
    kind: str  # "last", "best", or "merged" (a LoRA run's merged weights, at its end)


@dataclass(frozen=True)
class RunFinished:
    """The run ended without error: status is completed, stopped or interrupted."""

    status: str
    summary: dict


@dataclass(frozen=True)
class RunFailed:
    error: str  # one readable line
    summary: dict
    details: str = ""  # the traceback, for an expandable "details" view


@dataclass(frozen=True)
class ListenerFailed:
    """A listener raised and receives no more events; the run goes on."""

    listener: str  # the listener's repr
    error: str  # one readable line


Event = Union[RunStarted, BatchEnd, EpochEnd, LayersUnfrozen, CheckpointSaved, RunFinished,
              RunFailed, ListenerFailed]
Listener = Callable[[Event], None]


class Broadcast:
    """Sends each event to the `required` listeners, whose exceptions propagate (the run
    folder's recorder: a run that cannot record itself fails), then to the others. One of
    those that raises is removed and reported to the rest and on stderr, once."""

    def __init__(self, required: Iterable[Listener], listeners: Iterable[Listener]) -> None:
        self.required = list(required)
        self.listeners = list(listeners)

    def __call__(self, event: Event) -> None:
        for listener in self.required:
            listener(event)
        for listener in list(self.listeners):
            if listener not in self.listeners:
                continue  # removed while this event was being sent
            try:
                listener(event)
            except Exception as exc:  # a bug in the listener, not in the run
                self._remove(listener, exc)

    def _remove(self, listener: Listener, exc: Exception) -> None:
        self.listeners.remove(listener)
        first_line = (str(exc).strip().splitlines() or [""])[0]
        note = ListenerFailed(repr(listener), f"{type(exc).__name__}: {first_line}".rstrip(": "))
        print(f"traindesk: listener {note.listener} removed after it raised {note.error}",
              file=sys.stderr)
        self(note)

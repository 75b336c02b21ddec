"""The trainer's event stream: plain, immutable records sent to every listener.

Listeners are callables taking one event. The GUI's training thread turns events into
Qt signals, the command line prints them, the run folder records them. Events carry
plain Python numbers only, so they can cross threads and, later, processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union


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


@dataclass(frozen=True)
class BatchEnd:
    """One optimisation step. Values are read from the device in bulk at the logging rate,
    so several BatchEnd events arrive together."""

    step: int  # 1-based count of steps over the whole run
    epoch: int  # 1-based
    total_steps: int
    loss: float
    accuracy: float
    lr: float
    elapsed_s: float
    samples_per_s: float


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    epochs: int
    step: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    lr: float
    elapsed_s: float
    samples_per_s: float
    is_best: bool


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    epoch: int
    kind: str  # "last" or "best"


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


Event = Union[RunStarted, BatchEnd, EpochEnd, CheckpointSaved, RunFinished, RunFailed]
Listener = Callable[[Event], None]

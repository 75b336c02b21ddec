"""Loss catalogue. Builders get the checked parameters and, as `info`, the DataInfo of the
dataset (class names and training counts, for class weights) and return a loss module.

Each entry says the task it serves (`task` in its extra), which the trainer checks against
the dataset's; `outputs=1` marks a loss that wants one output per sample (a binary
classifier's single logit) rather than one per class.
"""

from __future__ import annotations

from core.entries import Catalogue, Param
from core.data.memory import DataInfo
from core.errors import BadInput

LOSSES = Catalogue("loss")

# The loss a dataset of each task gets when none was chosen, or the chosen one serves the
# other task.
USUAL_LOSS = {"classification": "cross_entropy", "regression": "mse",
              "language_modeling": "token_cross_entropy"}

CLASS_WEIGHTS_HELP = ("none: every sample counts the same; balanced: weigh each class by "
                      "the inverse of its share of the training samples")


@LOSSES.register(
    "cross_entropy",
    "Cross entropy on class scores (logits): the loss for classification.",
    (
        Param("label_smoothing", "float", 0.0, "Share of the target spread over all classes.",
              minimum=0.0, maximum=0.9),
        Param("class_weights", "choice", "none", CLASS_WEIGHTS_HELP + "; custom: the table "
              "below.", choices=("none", "balanced", "custom")),
        Param("custom_weights", "float_map", {}, 'With class_weights = custom: a weight per '
              'class name, e.g. { "cat" = 2.0 }; classes not named weigh 1.', minimum=0.0,
              maximum=1e6),
    ),
    task="classification",
)
def cross_entropy(params: dict, info: DataInfo | None = None):
    import torch
    from torch import nn

    weights = class_weights(params, info)
    return nn.CrossEntropyLoss(weight=None if weights is None else torch.tensor(weights),
                               label_smoothing=params["label_smoothing"])


def class_weights(params: dict, info: DataInfo | None) -> list[float] | None:
    """One weight per class for the chosen `class_weights`, or None for equal weights."""
    choice = params["class_weights"]
    if choice == "none":
        return None
    if info is None or not info.class_names:
        raise BadInput("[loss] class_weights needs the dataset's classes; it cannot be used here")
    if choice == "balanced":
        counts = info.class_counts
        total, k = sum(counts), len(counts)
        # scikit-learn's "balanced": n_samples / (n_classes * count); an absent class weighs 0
        return [total / (k * n) if n else 0.0 for n in counts]
    unknown = [name for name in params["custom_weights"] if name not in info.class_names]
    if unknown:
        raise BadInput(f"[loss] custom_weights names {', '.join(map(repr, unknown))}, which "
                       f"is not a class; the classes are {', '.join(info.class_names[:20])}")
    return [params["custom_weights"].get(name, 1.0) for name in info.class_names]


@LOSSES.register(
    "bce_with_logits",
    "Binary cross entropy on one logit per sample: the loss for two-class problems (the "
    "model gets a single output, the second class's score).",
    (Param("class_weights", "choice", "none", CLASS_WEIGHTS_HELP + ".",
           choices=("none", "balanced")),),
    task="classification", outputs=1,
)
def bce_with_logits(params: dict, info: DataInfo | None = None):
    from core.train.loss_functions import BinaryCrossEntropy

    if info is not None and len(info.class_names) != 2:
        raise BadInput(f"[loss] bce_with_logits is for two classes; this dataset has "
                       f"{len(info.class_names)}; pick cross_entropy")
    pos_weight = None
    if params["class_weights"] == "balanced":
        negatives, positives = info.class_counts
        pos_weight = negatives / max(positives, 1)
    return BinaryCrossEntropy(pos_weight)


@LOSSES.register("mse", "Mean squared error: the usual loss for regression (predicting "
                 "numbers).", task="regression")
def mse(params: dict, info: DataInfo | None = None):
    from torch import nn

    return nn.MSELoss()


@LOSSES.register("l1", "Mean absolute error: a regression loss less swayed by outliers "
                 "than mse.", task="regression")
def l1(params: dict, info: DataInfo | None = None):
    from torch import nn

    return nn.L1Loss()


@LOSSES.register("token_cross_entropy", "Cross entropy of each next token of the responses "
                 "(the prompt's tokens are not scored), averaged over those tokens: the loss "
                 "for instruction tuning a language model.", task="language_modeling")
def token_cross_entropy(params: dict, info: DataInfo | None = None):
    from core.train.loss_functions import TokenCrossEntropy

    return TokenCrossEntropy()


def build_loss(name: str, params: dict, data, data_name: str):
    """The loss `name` for `data` (an InMemoryData); BadInput when it serves another task."""
    entry = LOSSES.get(name, "loss")
    task = entry.extra.get("task")
    if task and task != data.task:
        fitting = [e.name for e in LOSSES.entries() if e.extra.get("task") == data.task]
        raise BadInput(f"[loss] {name} is a {task} loss but {data_name} is a {data.task} "
                       f"dataset; pick {' or '.join(fitting)}")
    return entry.build(params, data.info())


def loss_for_task(current_loss: str, task: str | None) -> str:
    """The loss for a dataset of `task`: `current_loss` when it serves that task (or the task
    is not known yet, as for a csv table whose task is read from its file), else the usual
    loss of the task, mse or cross_entropy. The window switches the loss with this when a
    dataset is picked, and a run file without a [loss] name gets its loss from it."""
    if task not in USUAL_LOSS or LOSSES.get(current_loss, "loss").extra.get("task") == task:
        return current_loss
    return USUAL_LOSS[task]

"""Validation: a model's loss and metric on held-out data, in eval mode, batched; for a
classification also its class scores (macro F1, balanced and top-k accuracy), which
[training] best_metric can rank epochs by."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from core.data.memory import readable_targets
from core.inference.outputs import batched_outputs, class_probabilities, predicted_classes
from core.metrics import CLASS_SCORES, class_averages, r2_from_sums, top_k_hits

if TYPE_CHECKING:
    import torch

    from core.train.build import Run


def validate(run: Run, top_k: int | None = None
             ) -> tuple[float, float, float | None, dict[str, float | None]]:
    """(loss, metric, MAE, class scores) of the run's model on its validation data, in the
    run's precision. With `top_k` a classification's class scores are computed too
    ({name: value} for core.metrics.CLASS_SCORES, None where undefined); else {}. A
    language model's metric is its perplexity (language_model_figures)."""
    data = run.data
    if data.task == "language_modeling":
        return language_model_figures(run)
    with run.precision.autocast():
        outputs = batched_outputs(run.model, data.val_x, data.prepare)
        return _figures(outputs, run.loss_fn, readable_targets(data.val_x, data.val_y),
                        data.task, data.target_scale,
                        data.num_classes, top_k)


# A language model is validated in batches of about this many logits (examples x tokens x
# vocabulary): its outputs for a whole split would not fit in memory.
LOGITS_PER_BATCH = 1 << 25


def language_model_figures(run: Run) -> tuple[float, float, None, dict]:
    """(loss, perplexity, None, {}) of a language model on its validation data: the mean
    cross entropy over every scored (response) token of the split, and its exp. One
    read-back at the end (and trim_padding's per batch)."""
    import torch

    from core.metrics import perplexity
    from core.train.loss_functions import token_loss_sums

    data, model = run.data, run.model
    batch = max(1, LOGITS_PER_BATCH // max(data.val_x.shape[1] * data.vocab_size, 1))
    total = torch.zeros((), device=data.val_x.device)
    count = torch.zeros((), dtype=torch.int64, device=data.val_x.device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), run.precision.autocast():
            for start in range(0, len(data.val_x), batch):
                x = data.prepare(data.val_x[start:start + batch], False)
                part, tokens = token_loss_sums(model(x), data.val_y[start:start + batch])
                total, count = total + part.float(), count + tokens
    finally:
        model.train(was_training)
    loss = (total / count.clamp(min=1)).item()
    return loss, perplexity(loss), None, {}


def evaluate(model: torch.nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
             task: str = "classification", prepare: Callable | None = None,
             target_scale: float = 1.0) -> tuple[float, float, float | None]:
    """(mean loss, metric, MAE) of `model` on (x, y), in eval mode, batched
    (core.inference.outputs.batched_outputs). The metric is accuracy for a classification
    and R2 for a regression, whose MAE is in the target's own units (errors times
    `target_scale`); a classification's MAE is None. `prepare` turns stored inputs into
    model inputs, as InMemoryData.prepare does. One read-back from the device at the end."""
    outputs = batched_outputs(model, x, prepare)
    return _figures(outputs, loss_fn, readable_targets(x, y), task, target_scale)[:3]


def _figures(outputs: torch.Tensor, loss_fn: Callable, y: torch.Tensor, task: str,
             target_scale: float, classes: int = 0, top_k: int | None = None
             ) -> tuple[float, float, float | None, dict[str, float | None]]:
    """validate's figures from the model's outputs, read back from the device at once."""
    import torch

    n = max(len(y), 1)
    with torch.no_grad():
        loss = loss_fn(outputs, y)
        if task != "regression":
            predicted = predicted_classes(outputs)
            parts = [loss.float().view(1), (predicted == y).sum().float().view(1)]
            if top_k is not None:
                parts += _class_counts(outputs, predicted, y, classes, top_k)
            values = torch.cat(parts).tolist()
            scores = {} if top_k is None else _class_scores(values[2:], classes, len(y))
            return values[0], values[1] / n, None, scores
        # the targets taken from their mean: R2 does not change, and float32 sums lose
        # nothing to the offset
        error, centered = outputs - y, y - y.mean()
        values = torch.stack([loss.float(), error.square().sum(), error.abs().sum(),
                              centered.sum(), centered.square().sum()]).tolist()
    loss, sq_error, abs_error, target_sum, target_sq_sum = values
    return (loss, r2_from_sums(sq_error, target_sum, target_sq_sum, n),
            abs_error / n * target_scale, {})


def _class_counts(outputs, predicted, targets, classes: int, top_k: int) -> list:
    """On the device, as float vectors: the confusion matrix (classes * classes, row-major:
    true class by predicted class) and the number of top-k hits (-1: top-k undefined)."""
    import torch

    confusion = torch.bincount(targets * classes + predicted, minlength=classes * classes)
    hits = top_k_hits(class_probabilities(outputs), targets, top_k)
    count = hits.sum() if hits is not None else torch.tensor(-1, device=outputs.device)
    return [confusion.float(), count.float().view(1)]


def _class_scores(counts: list[float], classes: int, n: int) -> dict[str, float | None]:
    """The class scores (core.metrics.CLASS_SCORES) from _class_counts's values read back."""
    confusion, top = _read_counts(counts, classes, n)
    averages = class_averages(confusion)
    scores = {**averages, "top_k_accuracy": top}
    return {name: scores[name] for name in CLASS_SCORES}


def _read_counts(counts: list[float], classes: int, n: int) -> tuple[list[list[int]],
                                                                      float | None]:
    """(confusion matrix, top-k accuracy or None) from _class_counts's values read back."""
    confusion = [[int(c) for c in counts[row * classes:(row + 1) * classes]]
                 for row in range(classes)]
    hits = counts[classes * classes]
    return confusion, (hits / n if hits >= 0 and n else None)


def class_report(run: Run, top_k: int) -> dict:
    """summary.json's classification scores of the run's model on its validation data:
    macro and weighted F1 and balanced accuracy (core.metrics.class_averages) and the
    top-k accuracy (None with k classes or fewer, where every sample would count)."""
    import torch

    data = run.data
    with run.precision.autocast():
        outputs = batched_outputs(run.model, data.val_x, data.prepare)
    targets, classes = readable_targets(data.val_x, data.val_y), data.num_classes
    with torch.no_grad():
        counts = torch.cat(_class_counts(outputs, predicted_classes(outputs), targets, classes,
                                         top_k)).tolist()
    confusion, top = _read_counts(counts, classes, len(targets))
    averages = class_averages(confusion)
    return {"top_k": top_k, **{f"final_val_{name}": value for name, value in averages.items()},
            "final_val_top_k_accuracy": top}

"""Validation: a model's loss and metric on held-out data, in eval mode, batched."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from core.inference.outputs import batched_outputs, class_probabilities, predicted_classes
from core.metrics import class_averages, r2_from_sums

if TYPE_CHECKING:
    import torch

    from core.train.build import Run


def validate(run: Run) -> tuple[float, float, float | None]:
    """(loss, metric, MAE) of the run's model on its validation data, in the run's precision."""
    data = run.data
    with run.precision.autocast():
        return evaluate(run.model, run.loss_fn, data.val_x, data.val_y, data.task,
                        data.prepare, data.target_scale)


def evaluate(model: torch.nn.Module, loss_fn: Callable, x: torch.Tensor, y: torch.Tensor,
             task: str = "classification", prepare: Callable | None = None,
             target_scale: float = 1.0) -> tuple[float, float, float | None]:
    """(mean loss, metric, MAE) of `model` on (x, y), in eval mode, batched
    (core.inference.outputs.batched_outputs). The metric is accuracy for a classification
    and R2 for a regression, whose MAE is in the target's own units (errors times
    `target_scale`); a classification's MAE is None. `prepare` turns stored inputs into
    model inputs, as InMemoryData.prepare does. One read-back from the device at the end."""
    import torch

    outputs = batched_outputs(model, x, prepare)
    n = max(len(y), 1)
    with torch.no_grad():
        loss = loss_fn(outputs, y)
        if task != "regression":
            hits = (predicted_classes(outputs) == y).sum()
            loss, hits = torch.stack([loss.float(), hits.float()]).tolist()
            return loss, hits / n, None
        # the targets taken from their mean: R2 does not change, and float32 sums lose
        # nothing to the offset
        error, centered = outputs - y, y - y.mean()
        values = torch.stack([loss.float(), error.square().sum(), error.abs().sum(),
                              centered.sum(), centered.square().sum()]).tolist()
    loss, sq_error, abs_error, target_sum, target_sq_sum = values
    return loss, r2_from_sums(sq_error, target_sum, target_sq_sum, n), abs_error / n * target_scale


def class_report(run: Run, top_k: int) -> dict:
    """summary.json's classification scores of the run's model on its validation data:
    macro and weighted F1 and balanced accuracy (core.metrics.class_averages) and the
    top-k accuracy (None with k classes or fewer, where every sample would count)."""
    import torch

    data = run.data
    with run.precision.autocast():
        outputs = batched_outputs(run.model, data.val_x, data.prepare)
    targets, classes = data.val_y, data.num_classes
    cells = targets * classes + predicted_classes(outputs)
    confusion = torch.bincount(cells, minlength=classes * classes).view(classes, classes)
    top = None
    if classes > top_k and len(targets):
        likeliest = class_probabilities(outputs).topk(top_k, dim=1).indices
        top = (likeliest == targets[:, None]).any(1).double().mean().item()
    averages = class_averages(confusion.tolist())
    return {"top_k": top_k, **{f"final_val_{name}": value for name, value in averages.items()},
            "final_val_top_k_accuracy": top}

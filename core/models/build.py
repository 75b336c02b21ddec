"""A catalogue model fitted to a dataset, exactly as the trainer builds it (evaluation,
export, the Layers tab and benchmarks build it the same way)."""

from __future__ import annotations

from core.catalog import LOSSES, MODELS


def build_model(name: str, params: dict, data, loss_name: str = "cross_entropy"):
    """The catalogue model `name` fitted to `data` (an InMemoryData) as the trainer builds it:
    its outputs sized for the task and the loss (one logit for bce_with_logits). Returns
    (model, notes), the notes saying how the model was fitted to the data."""
    info = data.info()
    if LOSSES.get(loss_name, "loss").extra.get("outputs") == 1:
        info.num_classes = 1
    model = MODELS.get(name, "model").build(params, info.input_shape, info.num_classes, info=info)
    return model, info.notes

"""Loss catalogue. Builders get the checked parameters and return a loss module."""

from __future__ import annotations

from core.catalog import LOSSES, Param


@LOSSES.register(
    "cross_entropy",
    "Cross entropy on class scores (logits): the loss for classification.",
    (Param("label_smoothing", "float", 0.0, "Share of the target spread over all classes.",
           minimum=0.0, maximum=0.9),),
)
def cross_entropy(params: dict):
    from torch import nn

    return nn.CrossEntropyLoss(label_smoothing=params["label_smoothing"])

"""Loss modules the catalogue needs beyond torch's own (kept apart so the catalogue loads
without torch)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class BinaryCrossEntropy(nn.Module):
    """Binary cross entropy with logits for a model with one output: logits (N, 1) and the
    class indices 0/1 (N,) a classification dataset gives."""

    def __init__(self, pos_weight: float | None = None) -> None:
        super().__init__()
        self.register_buffer("pos_weight", None if pos_weight is None
                             else torch.tensor(pos_weight))

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits.squeeze(1), target.to(logits.dtype),
                                                  pos_weight=self.pos_weight)

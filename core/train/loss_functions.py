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


# Labels of the tokens a language model is not scored on (the prompt, the padding).
IGNORED = -100


def token_loss_sums(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor,
                                                                         torch.Tensor]:
    """(summed cross entropy, number of scored tokens) of a causal language model's logits
    (N, L, vocabulary) against labels (N, W >= L), IGNORED where not scored: position t
    predicts token t + 1. The labels are cut to the logits' length (a batch's ids are cut to
    its longest example, core.data.text.trim_padding; past it every label is IGNORED).
    No read-back: both stay on the device."""
    labels = labels[:, 1:logits.shape[1]]
    scores = logits[:, :-1]
    total = F.cross_entropy(scores.reshape(-1, scores.shape[-1]).float(), labels.reshape(-1),
                            ignore_index=IGNORED, reduction="sum")
    return total, labels.ne(IGNORED).sum()


class TokenCrossEntropy(nn.Module):
    """The mean cross entropy of the scored (response) tokens of a batch, each token
    counting the same whatever its example's length."""

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        total, count = token_loss_sums(logits, labels)
        return total / count.clamp(min=1)

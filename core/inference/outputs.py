"""Reading a model's outputs, decided once: running a model over many stored samples in
batches, and what its outputs mean for a classification (a single output is one logit of
a two-class model trained with bce_with_logits; more outputs are one score per class).

The trainer's validation, evaluation, prediction and export all take these rules from
here. No Qt; torch is imported inside the functions.
"""

from __future__ import annotations

# Samples per forward pass when a model reads a whole split without gradients: large
# enough that small models are not slowed by per-batch overhead on a GPU, small enough
# for the activations of an image model to fit in memory.
INFERENCE_BATCH = 1024


def batched_outputs(model, x, prepare=None, batch: int = INFERENCE_BATCH):
    """The model's outputs on stored inputs `x` (N, ...), `batch` samples at a time, in eval
    mode (the model's mode is restored after) and without gradients. Each batch is moved
    to the model's device and, when `prepare` is given, turned into model inputs by
    `prepare(xb, False)` (InMemoryData.prepare: no augmentation). Returns (N, outputs) as
    float32 on the model's device; (0, 1) for no samples. A streamed image folder
    (core.data.streaming.ImageFiles) is read by its workers, and its unreadable files have
    no row: core.data.memory.readable_targets gives the targets that match."""
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs = []
    try:
        with torch.no_grad():
            for xb in _stored_batches(x, batch):
                xb = xb.to(device)
                if prepare is not None:
                    xb = prepare(xb, False)
                outputs.append(model(xb).float())
    finally:
        model.train(was_training)
    return torch.cat(outputs) if outputs else torch.zeros(0, 1, device=device)


def _stored_batches(x, batch: int):
    """`x` in order, `batch` samples at a time: slices of a tensor, or a streamed folder's
    readable images as its workers decode them."""
    if hasattr(x, "in_order"):
        return x.in_order(batch)
    return (x[start:start + batch] for start in range(0, len(x), batch))


def predicted_classes(outputs):
    """Class indices from a classifier's outputs (N, K): the highest score, or for a single
    logit (K = 1) class 1 when the logit is positive. max(1).indices is argmax (the first
    of equal scores) at half its cost on the CPU."""
    return outputs.max(1).indices if outputs.shape[1] > 1 else (outputs[:, 0] > 0).long()


def class_probabilities(outputs):
    """Class probabilities (N, classes) from a classifier's outputs (N, K): the softmax of
    the scores, or for a single logit (K = 1) its sigmoid as class 1 and the complement as
    class 0."""
    import torch

    if outputs.shape[1] == 1:
        p = torch.sigmoid(outputs[:, 0])
        return torch.stack([1 - p, p], 1)
    return torch.softmax(outputs, 1)

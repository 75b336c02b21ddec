"""A catalogue model fitted to a dataset, exactly as the trainer builds it (evaluation,
export, the Layers tab and benchmarks build it the same way)."""

from __future__ import annotations

from core.catalog import LOSSES, MODELS


def build_model(name: str, params: dict, data, loss_name: str = "cross_entropy"):
    """The catalogue model `name` fitted to `data` (an InMemoryData) as the trainer builds it:
    its outputs sized for the task and the loss (one logit for bce_with_logits). Returns
    (model, notes), the notes saying how the model was fitted to the data.

    A model that reads texts with its own tokenizer (an entry with `reads_text`, e.g.
    hf_classifier) first has `data`'s texts encoded afresh with that tokenizer, in place,
    so the trainer, evaluation, prediction and export all batch the ids the model reads."""
    if MODELS.get(name, "model").extra.get("reads_text"):
        from core.data.text import use_model_tokenizer
        from core.models.hf import load_tokenizer, model_folder

        use_model_tokenizer(data, load_tokenizer(model_folder(params["source"])),
                            params["source"])
    return build_model_for(name, params, data.info(), loss_name)


def build_model_for(name: str, params: dict, info, loss_name: str = "cross_entropy"):
    """`build_model` from a DataInfo (what a dataset tells a model) instead of the data
    itself: for callers that know the samples' shape and kind but hold no tensors."""
    if LOSSES.get(loss_name, "loss").extra.get("outputs") == 1:
        info.num_classes = 1
    model = MODELS.get(name, "model").build(params, info)
    return model, info.notes

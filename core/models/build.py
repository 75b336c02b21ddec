"""A catalogue model fitted to a dataset, exactly as the trainer builds it (evaluation,
export, the Layers tab and benchmarks build it the same way)."""

from __future__ import annotations

from core.catalog import LOSSES, MODELS
from core.errors import BadInput
from core.models.builders import (SAMPLE_KINDS, describe_samples, use_weights_preprocessing,
                                  weights_preprocessing)


def build_model(name: str, params: dict, data, loss_name: str = "cross_entropy",
                quantize_on=None):
    """The catalogue model `name` fitted to `data` (an InMemoryData) as the trainer builds it:
    its outputs sized for the task and the loss (one logit for bce_with_logits). Returns
    (model, notes), the notes saying how the model was fitted to the data.

    A model that reads texts with its own tokenizer (an entry with `reads_text`, e.g.
    hf_classifier) first has `data`'s texts encoded afresh with that tokenizer, in place,
    so the trainer, evaluation, prediction and export all batch the ids the model reads.
    `quantize_on`: load a Hugging Face model's Linear layers in 4 bits onto this torch
    device, for QLoRA (core/finetune/qlora.py); None loads it at full precision."""
    if MODELS.get(name, "model").extra.get("reads_text"):
        from core.data.text import use_model_tokenizer
        from core.models.hf import load_tokenizer, model_folder

        use_model_tokenizer(data, load_tokenizer(model_folder(params["source"])),
                            params["source"])
    built = build_model_for(name, params, data.info(), loss_name, quantize_on)
    use_weights_preprocessing(data, weights_preprocessing(name, params))  # torchvision's
    return built


def build_model_for(name: str, params: dict, info, loss_name: str = "cross_entropy",
                    quantize_on=None):
    """`build_model` from a DataInfo (what a dataset tells a model) instead of the data
    itself: for callers that know the samples' shape and kind but hold no tensors."""
    problem = input_problem(name, info.kind, describe_samples(info))
    if problem:
        raise BadInput(problem)
    if LOSSES.get(loss_name, "loss").extra.get("outputs") == 1:
        info.num_classes = 1
    # only the Hugging Face builders take quantize_on (config.py refuses qlora elsewhere)
    extra = {"quantize_on": quantize_on} if quantize_on is not None else {}
    model = MODELS.get(name, "model").build(params, info, **extra)
    return model, info.notes


def models_reading(kind: str) -> list[str]:
    """The models that read samples of `kind`, in catalogue order."""
    return [entry.name for entry in MODELS.entries() if kind in entry.extra.get("reads", ())]


def input_problem(name: str, kind: str, gives: str = "") -> str:
    """Why model `name` cannot take samples of `kind` (a dataset's `gives`, a DataInfo's
    kind), or "" when it can, or when either side is undeclared. `gives` describes the
    samples for the message (describe_samples); the kind's name by default."""
    reads = MODELS.get(name, "model").extra.get("reads")
    kind = "tokens" if kind == "hf_tokens" else kind  # texts in a model's own tokenizer
    if reads is None or kind not in SAMPLE_KINDS or kind in reads:
        return ""
    return (f"{name} needs {_either([SAMPLE_KINDS[k] for k in reads])}; this dataset gives "
            f"{gives or SAMPLE_KINDS[kind]}; pick {_either(models_reading(kind)[:4])}")


def _either(words: list[str]) -> str:
    """"a", "a or b", "a, b or c"."""
    return " or ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)

"""QLoRA (Dettmers et al. 2023): LoRA adapters trained over a base model whose Linear
layers are held in 4 bits (NF4, with double quantisation and bf16 computation), loaded by
transformers' BitsAndBytesConfig and prepared with peft's prepare_model_for_kbit_training.
TrainDesk's own adapters (core/finetune/lora.py) sit on top, so the layer names, the
Layers tab and `[finetune] lora_targets` are those of a LoRA run.

Only what trains is saved: the 4-bit base weights never change and are read again from
`[model] source` when a run resumes, so checkpoints hold the adapters and the layers that
train beside them (`trained_state_dict`). Evaluation, Predict and export rebuild the base at
full precision and merge the adapters into it (core/inference/evaluation.py).

bitsandbytes' 4-bit layers are meant for CUDA. Whether QLoRA can run is told without
importing it (`qlora_problem`: importlib's find_spec), so the window can grey its tick box at
once, and a run that cannot is refused before its data is read.
"""

from __future__ import annotations

import importlib.util
import sys

from core.errors import BadInput
from core.i18n import translatable

# NF4 stores each weight in half a byte; each block of 64 weights has a scale (absmax),
# itself quantised to one byte by double quantisation, with a float32 scale per 256 blocks.
NF4_BLOCK = 64
NF4_BYTES_PER_PARAM = 0.5 + 1 / NF4_BLOCK + 4 / (NF4_BLOCK * 256)
QLORA_MODELS = ("hf_classifier", "hf_causal_lm")
# bitsandbytes' 4-bit layers also run on the CPU, slowly: tests/test_qlora.py sets this so
# that QLoRA trains for real on computers without a GPU. Never set for users.
CPU_FOR_TESTS = False


def bitsandbytes_installed() -> bool:
    """Whether bitsandbytes can be imported, told without importing it (it loads CUDA
    libraries, which takes seconds)."""
    return importlib.util.find_spec("bitsandbytes") is not None


def qlora_problem(device: str, cuda_found: bool) -> str:
    """Why QLoRA cannot train here with `[training] device = device`, or "" when it can.
    `cuda_found`: a CUDA GPU is there (the resolved device is one, or the window's device
    probe listed one)."""
    if not bitsandbytes_installed() and getattr(sys, "frozen", False):
        # an installed app cannot take a package: say where QLoRA can run instead
        return translatable("Messages", "QLoRA needs the bitsandbytes package and an NVIDIA "
                            "GPU, which this installed TrainDesk does not carry; use TrainDesk "
                            "installed with pip on a computer with an NVIDIA GPU (`pip install "
                            "traindesk bitsandbytes`), or turn [finetune] qlora off for plain "
                            "LoRA")
    if not bitsandbytes_installed():
        return translatable("Messages", "QLoRA needs the bitsandbytes package, which is not "
                            "installed; install it with `pip install bitsandbytes` (on a "
                            "computer with an NVIDIA GPU), or turn [finetune] qlora off for "
                            "plain LoRA")
    if CPU_FOR_TESTS:
        return ""
    if device in ("cpu", "mps"):
        return translatable("Messages", "QLoRA needs a CUDA GPU and [training] device is "
                            "{device}; choose device = \"auto\" or \"cuda\", or turn "
                            "[finetune] qlora off for plain LoRA").format(device=device)
    if not cuda_found:
        return translatable("Messages", "QLoRA needs a CUDA GPU and there is none here; "
                            "train on a computer with an NVIDIA GPU, or turn [finetune] qlora "
                            "off for plain LoRA")
    return ""


def check_qlora_settings(model_name: str, finetune) -> None:
    """BadInput for QLoRA settings that cannot work whatever the computer: it needs LoRA
    adapters to train and a Hugging Face model to quantise."""
    if not finetune.qlora:
        return
    if model_name not in QLORA_MODELS:
        raise BadInput(f"[finetune] qlora loads a Hugging Face model in 4 bits; model "
                       f"{model_name} is not one: pick {' or '.join(QLORA_MODELS)}, or set "
                       "qlora = false")
    if not finetune.lora_targets:
        raise BadInput("[finetune] qlora trains LoRA adapters over the 4-bit model, and "
                       "lora_targets is empty: tick layers in the Layers tab's LoRA column "
                       "(e.g. lora_targets = [\"model.layers.0.self_attn.q_proj\"]), or set "
                       "qlora = false")


def quantization_config(keep: list[str]):
    """transformers' BitsAndBytesConfig for QLoRA: NF4, double quantisation, bf16 compute;
    the modules named in `keep` stay at full precision (`full_precision_heads`)."""
    import torch
    import transformers

    return transformers.BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16, llm_int8_skip_modules=list(keep))


def full_precision_heads(model) -> list[str]:
    """The top-level modules of a transformers model outside its base model: the heads
    (lm_head, a classifier or score layer), which QLoRA leaves at full precision. A new
    classification head has no weights in the folder to quantise, and must train; and
    transformers' own rule (the last parameter's module) misses a head whose last
    parameter is a bias."""
    return [name for name, child in model.named_children()
            if name != model.base_model_prefix and any(True for _ in child.parameters())]


def prepare_4bit(model) -> None:
    """peft's prepare_model_for_kbit_training on a just loaded 4-bit model, keeping the
    layers that are not 4-bit trainable: peft freezes every parameter (it expects its own
    adapters to be the only thing that trains), while TrainDesk's [finetune] freeze and
    train_only decide that, as in a LoRA run (a new classification head must train). The
    4-bit layers stay frozen whole, biases included: bitsandbytes casts a bias to the
    compute dtype (bf16) in place as it runs, which an optimizer's float32 state would
    not follow."""
    from peft import prepare_model_for_kbit_training

    quantised = {id(p) for m in model.modules() if is_4bit_linear(m) for p in m.parameters()}
    trainable = {name for name, p in model.named_parameters()
                 if p.requires_grad and id(p) not in quantised}
    # Gradient checkpointing stays [model] gradient_checkpointing's (core.models.hf).
    prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    for name, p in model.named_parameters():
        if name in trainable:
            p.requires_grad_(True)
    for module in model.modules():
        # bitsandbytes repacks a 4-bit weight for its CPU kernel at the first no-grad
        # evaluation pass, and that kernel has no backward: training after validation
        # would then pass no gradient through the layer. Only reached on the CPU.
        if hasattr(module, "support_avx512bf16_for_cpu"):
            module.support_avx512bf16_for_cpu = False


def is_4bit_linear(module) -> bool:
    """Whether `module` is bitsandbytes' Linear4bit, told without importing bitsandbytes."""
    kind = type(module)
    return kind.__name__ == "Linear4bit" and kind.__module__.startswith("bitsandbytes")


def trained_names(model, optimizer) -> set[str]:
    """The names of `model`'s parameters that `optimizer` updates (the adapters and what
    trains beside them, gradual unfreezing's later blocks included)."""
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    return {name for name, p in model.named_parameters() if id(p) in held}


def trained_state_dict(model, names: set[str]) -> dict:
    """The part of `model`'s state_dict a QLoRA checkpoint keeps: the parameters in `names`.
    The 4-bit base is left out: it is read again from the model's source."""
    return {key: tensor for key, tensor in model.state_dict().items() if key in names}


def load_trained(model, weights: dict, names: set[str], where: str) -> None:
    """Put a QLoRA checkpoint's weights (`trained_state_dict`) into `model`: every saved
    tensor must find its place, and every one of `names` must be there."""
    result = model.load_state_dict(weights, strict=False)
    missing = sorted(names & set(result.missing_keys))
    if result.unexpected_keys or missing:
        wrong = (result.unexpected_keys or missing)[0]
        raise BadInput(f"{where} does not fit this QLoRA run's model ({len(missing)} trained "
                       f"weights missing, {len(result.unexpected_keys)} unknown, e.g. "
                       f"{wrong}); it was written by another run")


def load_adapters(model, weights: dict, where: str) -> None:
    """Put a QLoRA checkpoint's weights into the run's model rebuilt at full precision with
    its LoRA adapters (evaluation, Predict, export): every saved tensor must find its place
    and every adapter must be in the checkpoint; the rest is the source's."""
    result = model.load_state_dict(weights, strict=False)
    adapters = [key for key in result.missing_keys if ".lora_" in key]
    if result.unexpected_keys or adapters:
        wrong = (result.unexpected_keys or adapters)[0]
        raise BadInput(f"{where} does not fit this QLoRA run's model ({wrong} "
                       f"{'unknown' if result.unexpected_keys else 'missing'}); pick the "
                       "run's own best.pt or last.pt")


def qlora_weight_bytes(model) -> int:
    """The memory `model`'s weights and buffers take loaded for QLoRA. A model loaded so
    (the trainer's) is counted as it is, with the 4-bit layers' quantisation constants; one
    at full precision (the window's, which loads nothing in 4 bits) as it would be: about
    0.52 byte per weight of each Linear layer transformers quantises (NF4_BYTES_PER_PARAM),
    4 bytes for everything else (prepare_model_for_kbit_training keeps the rest in float32)."""
    from torch import nn

    buffers = sum(b.numel() * b.element_size() for b in model.buffers())
    layers = [m for m in model.modules() if is_4bit_linear(m)]
    if layers:
        stored = sum(p.numel() * p.element_size() for p in model.parameters())
        return stored + buffers + sum(_quant_state_bytes(m.weight) for m in layers)
    from transformers.pytorch_utils import Conv1D

    heads = full_precision_heads(model)
    quantised = {id(module.weight) for name, module in model.named_modules()
                 if (type(module) is nn.Linear or isinstance(module, Conv1D))
                 and not any(name == head or name.startswith(head + ".") for head in heads)}
    return buffers + int(sum(p.numel() * (NF4_BYTES_PER_PARAM if id(p) in quantised else 4)
                             for p in model.parameters()))


def _quant_state_bytes(weight) -> int:
    """The bytes of a 4-bit weight's quantisation constants (block scales, their own
    scales and the code books), which live beside the weight, not as parameters."""
    import torch

    state = getattr(weight, "quant_state", None)
    if state is None:
        return 0
    return sum(t.numel() * t.element_size() for t in state.as_dict(packed=True).values()
               if torch.is_tensor(t))

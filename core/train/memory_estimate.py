"""Memory a run will need, estimated before it starts, against what its device has free.

Five parts, in bytes: the data the run holds (datasets live in memory, on the training
device when it is a GPU), the weights, their gradients (trainable parameters only), the
optimizer's state (Adam and AdamW keep two numbers per trainable parameter, SGD with
momentum and Adagrad one, RMSprop one to three) and the activations kept for the backward
pass. The activations are measured, not guessed from the model's kind: one forward pass
on two training samples (for texts, the two longest) records the tensors autograd saves
(`saved_tensors_hooks`), which is then scaled to the batch size. It is an estimate: the
allocator's caching and fragmentation, the backward pass's own temporaries and the CUDA
context are not in it, so a run within ~10% of the free memory can still run out.

No Qt here: the window computes it in a background job, the trainer at every start (a
note on the console and in the window when it does not fit, and the out-of-memory message).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from core.rng import holding_global_rng
from core.i18n import translatable

if TYPE_CHECKING:
    import torch

    from core.config import RunConfig

GB = 1e9
PROBE_SAMPLES = 2  # enough to scale from, and the two longest texts where lengths differ
HEADROOM = 0.9  # the share of free memory advice aims at: the estimate leaves things out


def _optimizer_states(name: str, params: dict) -> int:
    """The optimizer's state per trainable parameter, in copies of the parameter."""
    if name in ("adam", "adamw"):
        return 2
    if name == "sgd":
        return 1 if params.get("momentum", 0) else 0
    if name == "rmsprop":
        return 1 + bool(params.get("momentum", 0)) + bool(params.get("centered", False))
    return 1  # adagrad's sums, and a safe guess for any optimizer registered later


@dataclass
class MemoryEstimate:
    """What a run needs (bytes) against what its device has free."""

    device: str
    data: int
    weights: int
    gradients: int
    optimizer: int
    activations: int  # for a whole batch of batch_size
    available: int | None  # free on the device for this run; None when unknown
    batch_size: int
    advice: list[str] = field(default_factory=list)  # what to change, when it does not fit

    @property
    def total(self) -> int:
        return self.data + self.weights + self.gradients + self.optimizer + self.activations

    @property
    def fits(self) -> bool:
        return self.available is None or self.total <= self.available

    def line(self) -> str:
        """"≈ 1.4 GB of 12.0 GB free (cpu)": what the window shows before Start."""
        if self.available is None:
            return f"≈ {format_gb(self.total)} ({self.device}; free memory unknown)"
        return f"≈ {format_gb(self.total)} of {format_gb(self.available)} free ({self.device})"

    def parts(self) -> str:
        """The estimate's parts in one line."""
        return (f"data {format_gb(self.data)}, weights {format_gb(self.weights)}, "
                f"gradients {format_gb(self.gradients)}, optimizer state "
                f"{format_gb(self.optimizer)}, activations {format_gb(self.activations)} at "
                f"batch_size {self.batch_size}")

    def warning(self) -> str:
        """One line for a run that does not fit: how much, of what, and what to change."""
        return translatable("Messages", "memory: this run needs {need} ({parts}); to fit: "
                            "{advice}").format(need=self.line(), parts=self.parts(),
                                               advice="; or ".join(self.advice))

    def as_dict(self) -> dict:
        """Plain values for summary.json (bytes)."""
        return {**asdict(self), "total": self.total, "fits": self.fits}


def format_gb(size: int) -> str:
    """Bytes as GB: 12.0 GB, 0.35 GB, <0.01 GB."""
    if size >= GB:
        return f"{size / GB:.1f} GB"
    return f"{size / GB:.2f} GB" if size >= 0.01 * GB else "<0.01 GB"


def available_memory(device) -> int | None:
    """Bytes free now on `device`: the GPU's free memory (torch.cuda.mem_get_info), the
    computer's available RAM for the CPU (/proc/meminfo's MemAvailable, else free pages);
    None where it cannot be told (mps)."""
    import torch

    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type != "cpu":
        return None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # Windows and macOS have no such names
        return None


def estimate_run_memory(model: torch.nn.Module, data, config: RunConfig, device,
                        autocast=None, resident: bool = True) -> MemoryEstimate:
    """Estimate a built run's memory. `model` and `data` are built (as the trainer builds
    them); `autocast` is the run's forward context (core.train.precision), if any.
    `resident`: model and data already sit on `device`, so the memory they take is counted
    as available to this run (the trainer's case; the window's job builds them on the CPU,
    which counts them resident only when the run trains on the CPU too)."""
    import torch

    training = config.training
    trainable = [p for p in model.parameters() if p.requires_grad]
    if config.finetune.qlora:  # 4-bit Linear layers: about half a byte per weight
        from core.finetune.qlora import qlora_weight_bytes

        weights = qlora_weight_bytes(model)
    else:
        weights = sum(p.numel() * p.element_size() for p in model.parameters())
        weights += sum(b.numel() * b.element_size() for b in model.buffers())
    gradients = sum(p.numel() * p.element_size() for p in trainable)
    optimizer = gradients * _optimizer_states(config.optimizer.name, config.optimizer.params)
    # a streamed image folder's images are on disk (core.data.streaming), not in memory
    data_bytes = sum(t.numel() * t.element_size() for t in
                     (data.train_x, data.train_y, data.val_x, data.val_y) if torch.is_tensor(t))
    per_sample = activation_bytes_per_sample(model, data, autocast)
    activations = per_sample * training.batch_size
    available = available_memory(device)
    if available is not None and (resident or device.type == "cpu"):
        available += weights + data_bytes
    estimate = MemoryEstimate(str(device), data_bytes, weights, gradients, optimizer,
                              activations, available, training.batch_size)
    if not estimate.fits:
        estimate.advice = _advice(estimate, per_sample, model, data, config, device)
    return estimate


def activation_bytes_per_sample(model: torch.nn.Module, data, autocast=None) -> int:
    """Bytes autograd keeps for the backward pass per training sample, measured on a forward
    pass of PROBE_SAMPLES samples (the longest texts for token data). The model's buffers
    (BatchNorm statistics) and torch's random state are left as they were. An estimate:
    BatchNorm in evaluation mode keeps a few numbers per channel fewer than in training,
    and dropout written as a function of a module's mode (not an nn.Dropout) is left out.
    The model's outputs count twice (themselves, and the loss's float copy of them)."""
    import contextlib

    import torch

    n = min(PROBE_SAMPLES, len(data.train_y))
    index = _probe_index(data, n)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in params:  # a weight saved for backward is not new memory
            seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    # Evaluation mode, but dropout as in training (its masks are kept for backward):
    # BatchNorm then normalises with its running statistics, which stay as they are.
    modes = {module: module.training for module in model.modules()}
    # A compiled model would compile for the probe's batch shape: run it uncompiled.
    forward = model._call_impl if getattr(model, "_compiled_call_impl", None) else model
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    rng_devices = [device] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=rng_devices), \
                torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), \
                (autocast or contextlib.nullcontext)():
            model.eval()
            for module in model.modules():
                if isinstance(module, torch.nn.Dropout):
                    module.train()
            x = data.prepare(data.train_x[index], True)
            outputs = forward(x)
            if isinstance(outputs, torch.Tensor) and outputs.untyped_storage().data_ptr() \
                    not in seen:
                # The outputs live on into the loss, which keeps its own float copy (a
                # cross-entropy's log-softmax): for a language model's logits, gigabytes.
                seen[outputs.untyped_storage().data_ptr()] = outputs.untyped_storage().nbytes()
                seen[-1] = outputs.numel() * 4
            del outputs
    finally:
        for module, training in modes.items():
            module.training = training
    return math.ceil(sum(seen.values()) / max(n, 1))


def _probe_index(data, n: int):
    """The training samples the probe runs: the n longest texts for token data (what a full
    batch can hold), else the first n."""
    import torch

    from core.data.text import NO_TOKEN

    x = data.train_x
    if data.kind in ("tokens", "hf_tokens") and x.dim() == 2:
        empty = NO_TOKEN if data.kind == "hf_tokens" else 0
        lengths = x.ne(empty).sum(1)
        return torch.topk(lengths, n).indices
    return torch.arange(n, device=x.device)


def _advice(estimate: MemoryEstimate, per_sample: int, model, data, config: RunConfig,
            device) -> list[str]:
    """What to change so the run fits, most effective first."""
    training, advice = config.training, []
    fixed = estimate.total - estimate.activations
    room = (estimate.available or 0) * HEADROOM - fixed
    fitting_batch = int(room // per_sample) if per_sample and room > 0 else 0
    if 1 <= fitting_batch < training.batch_size:
        advice.append(translatable("Messages", "lower [training] batch_size to {batch} (raise "
                                   "[training] accumulate_steps to keep the samples per "
                                   "step)").format(batch=fitting_batch))
    if estimate.gradients > estimate.weights / 10:
        from core.finetune.lora import lora_candidates
        from core.finetune.weights import output_layer

        head = output_layer(model)
        if lora_candidates(model) and head:
            advice.append(translatable(
                "Messages", "train LoRA adapters ([finetune] lora_targets) and only the head "
                "besides ([finetune] train_only = [\"{head}\"]): gradients and optimizer state "
                "shrink to theirs").format(head=head))
    if data.kind in ("tokens", "hf_tokens") and "max_length" in config.data.params:
        advice.append(translatable("Messages", "lower [data] max_length (now {length}): "
                                   "activations grow with it").format(
            length=config.data.params["max_length"]))
    if device.type == "cuda" and training.precision == "fp32":
        advice.append(translatable("Messages", "set [training] precision = \"bf16\" (or "
                                   "\"fp16\") to about halve the activations"))
    if estimate.available is not None and fixed > estimate.available * HEADROOM:
        advice.append(translatable("Messages", "pick a smaller model or less data: data, "
                                   "weights, gradients and optimizer state alone need "
                                   "{size}").format(size=format_gb(fixed)))
    return advice or [translatable("Messages", "lower [training] batch_size")]


@holding_global_rng
def estimate_memory(config: RunConfig) -> MemoryEstimate:
    """The memory estimate of a run not built yet: its data and model built on the CPU as
    the trainer builds them (start weights left out: they change no sizes), for the
    window's line before Start. BadInput when the settings cannot be used."""
    import torch

    from core.catalog import DATASETS
    from core.device import resolve_device
    from core.finetune.freezing import prepare_finetune
    from core.models.build import build_model
    from core.models.builders import without_start_weights

    device = resolve_device(config.training.device)
    data = DATASETS.get(config.data.name).build(config.data.params, config.training.seed)
    # torchvision's pretrained weights are not fetched for this: they change no sizes
    params = without_start_weights(config.model.name, config.model.params)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.training.seed)
        model, _ = build_model(config.model.name, params, data, config.loss.name)
    prepare_finetune(model, config.finetune, config.training.epochs)
    return estimate_run_memory(model, data, config, device, resident=False)

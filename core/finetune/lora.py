"""LoRA: low-rank adapters on Linear and Conv2d layers, and merging them back.

An adapted layer computes base(x) + scaling * B(A(dropout(x))) with the base layer frozen,
A (rank x inputs) drawn like a fresh layer's weights and B (outputs x rank) starting at
zero, so an adapted model starts out computing exactly what the base model computes.
`scaling` is alpha / rank, or alpha / sqrt(rank) with rsLoRA (Kalajdzievski 2023, "A Rank
Stabilization Scaling Factor for Fine-Tuning with LoRA"), which keeps the update's size
steady as the rank grows, so higher ranks learn rather than stall. Only A and B train:
rank * (inputs + outputs) numbers per layer instead of inputs * outputs.

`merge_lora` folds each adapter into its base weight (W + scaling * B @ A) and returns a
plain model whose state_dict has the original model's names, so it loads into a fresh
model of the same architecture with strict=True.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

from core.errors import BadInput


def lora_scaling(alpha: float, rank: int, rslora: bool = False) -> float:
    """What an adapter's update is multiplied by: alpha / rank, or alpha / sqrt(rank) (rsLoRA)."""
    return alpha / math.sqrt(rank) if rslora else alpha / rank


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable low-rank update."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0,
                 rslora: bool = False) -> None:
        super().__init__()
        self.base = base.requires_grad_(False)
        self.rank, self.alpha, self.scaling = rank, alpha, lora_scaling(alpha, rank, rslora)
        # a 4-bit base (QLoRA) stores its weight packed in bytes: its adapter trains in float32
        dtype = base.weight.dtype if base.weight.is_floating_point() else torch.float32
        like = {"device": base.weight.device, "dtype": dtype}
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features, **like))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, **like))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as nn.Linear draws its weight
        self.lora_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = F.linear(F.linear(self.lora_dropout(x), self.lora_A), self.lora_B)
        return self.base(x) + update * self.scaling

    def delta_weight(self) -> torch.Tensor:
        """scaling * B @ A, shaped like the base weight."""
        return (self.lora_B @ self.lora_A) * self.scaling

    def merged(self) -> nn.Linear:
        """A plain nn.Linear computing what this adapted layer computes (in eval mode)."""
        layer = copy.deepcopy(self.base)
        with torch.no_grad():
            layer.weight += self.delta_weight()
        return layer.requires_grad_(True)


class LoRAConv2d(nn.Module):
    """A frozen nn.Conv2d plus a trainable low-rank update.

    A is a convolution with the base layer's kernel, stride, padding and dilation into
    `rank` channels; B is a 1x1 convolution from those to the base layer's outputs. The
    two together are one convolution with kernel B @ A, which is what merging adds.
    """

    def __init__(self, base: nn.Conv2d, rank: int, alpha: float, dropout: float = 0.0,
                 rslora: bool = False) -> None:
        super().__init__()
        if base.groups != 1:
            raise BadInput(f"LoRA needs an ordinary convolution; this one has groups = "
                           f"{base.groups}; pick another layer in [finetune] lora_targets")
        self.base = base.requires_grad_(False)
        self.rank, self.alpha, self.scaling = rank, alpha, lora_scaling(alpha, rank, rslora)
        like = {"device": base.weight.device, "dtype": base.weight.dtype}
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_channels, *base.kernel_size, **like))
        self.lora_B = nn.Parameter(torch.zeros(base.out_channels, rank, **like))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # as nn.Conv2d draws its weight
        self.lora_dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The base layer's own _conv_forward applies its stride, padding (mode included)
        # and dilation to A, so the adapter sees exactly the positions the base layer sees.
        low = self.base._conv_forward(self.lora_dropout(x), self.lora_A, None)
        update = F.conv2d(low, self.lora_B[:, :, None, None])
        return self.base(x) + update * self.scaling

    def delta_weight(self) -> torch.Tensor:
        """scaling * B @ A, shaped like the base kernel (out, in, kh, kw)."""
        return (self.lora_B @ self.lora_A.flatten(1)).view_as(self.base.weight) * self.scaling

    def merged(self) -> nn.Conv2d:
        """A plain nn.Conv2d computing what this adapted layer computes (in eval mode)."""
        layer = copy.deepcopy(self.base)
        with torch.no_grad():
            layer.weight += self.delta_weight()
        return layer.requires_grad_(True)


ADAPTERS = {nn.Linear: LoRALinear, nn.Conv2d: LoRAConv2d}
LORA_TYPES = tuple(ADAPTERS.values())


def _adapter_for(module: nn.Module):
    """The adapter class for `module`, or None: plain nn.Linear and nn.Conv2d, and
    bitsandbytes' 4-bit Linear of a QLoRA run (its forward is nn.Linear's contract)."""
    from core.finetune.qlora import is_4bit_linear

    return LoRALinear if is_4bit_linear(module) else ADAPTERS.get(type(module))


def lora_candidates(model: nn.Module) -> list[str]:
    """Names of the layers LoRA can adapt: plain nn.Linear and nn.Conv2d modules (grouped
    convolutions left out), what the Layers tab offers as LoRA tick boxes."""
    return [name for name, module in model.named_modules() if _adapter_for(module)
            and getattr(module, "groups", 1) == 1]


def apply_lora(model: nn.Module, targets: list[str], rank: int, alpha: float,
               dropout: float = 0.0, rslora: bool = False) -> list[str]:
    """Replace each named Linear or Conv2d layer of `model` in place by its LoRA adapter.

    Returns the adapted names. Raises BadInput, changing nothing, for a name the model
    does not have or a layer that is not a plain Linear or Conv2d.
    """
    check_lora_targets(model, targets)
    for name in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        base = getattr(parent, child)
        setattr(parent, child, _adapter_for(base)(base, rank, alpha, dropout, rslora))
    return list(targets)


def check_lora_targets(model: nn.Module, targets: list[str]) -> None:
    """BadInput for a target the model does not have or that LoRA cannot adapt."""
    modules = dict(model.named_modules())
    candidates = ", ".join(lora_candidates(model)) or "none"
    for name in targets:
        module = modules.get(name) if name else None
        if module is None:
            raise BadInput(f"[finetune] lora_targets: no layer named {name!r}; this model's "
                           f"Linear and Conv2d layers are {candidates}")
        if _adapter_for(module) is None:
            # Subclasses are refused too: a parent may read their weight directly
            # (nn.MultiheadAttention does), which would bypass the adapter.
            raise BadInput(f"[finetune] lora_targets: {name!r} is a {type(module).__name__}, "
                           f"not a Linear or Conv2d layer; choose among {candidates}")
        if isinstance(module, nn.Conv2d) and module.groups != 1:
            raise BadInput(f"[finetune] lora_targets: {name!r} is a grouped convolution "
                           f"(groups = {module.groups}), which LoRA cannot adapt; choose "
                           f"another layer")
        if targets.count(name) > 1:
            raise BadInput(f"[finetune] lora_targets: {name!r} is listed twice; list it once")


def lora_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The adapted layers of `model` by name (empty when it has none)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LORA_TYPES)}


def lora_base_parameters(model: nn.Module) -> set[int]:
    """ids of the frozen base parameters inside the adapted layers (they never train)."""
    return {id(p) for m in lora_layers(model).values() for p in m.base.parameters()}


def merge_lora(model: nn.Module) -> nn.Module:
    """A copy of `model` with every adapter merged into a plain layer; `model` is unchanged.

    The copy's state_dict has the names the model had before `apply_lora`.
    """
    merged = copy.deepcopy(model)
    for name, layer in lora_layers(merged).items():
        parent_name, _, child = name.rpartition(".")
        setattr(merged.get_submodule(parent_name), child, layer.merged())
    return merged


def merged_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The merged model's state_dict, on the CPU: what `checkpoints/merged.pt` holds.

    Built from the adapted model's own state_dict, without copying the whole model.
    """
    layers = lora_layers(model)
    merged = {}
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            owner = next((name for name in layers if key.startswith(name + ".")), None)
            if owner is None:
                merged[key] = tensor.detach().cpu()
                continue
            part = key[len(owner) + 1:]
            if not part.startswith("base."):
                continue  # lora_A, lora_B: folded into the weight below
            if part == "base.weight":
                tensor = tensor + layers[owner].delta_weight()
            merged[f"{owner}.{part[len('base.'):]}"] = tensor.detach().cpu()
    return merged

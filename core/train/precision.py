"""The numeric precision of training: one forward context and one backward/clip/step path
whatever the precision, as Lightning's precision plugins and nanoGPT do.

fp32 trains as it is; bf16 autocasts the forward pass; fp16 autocasts and scales the loss
so that small gradients do not flush to zero. The GradScaler is always there, enabled only
for fp16: disabled, its calls pass straight through to backward() and optimizer.step().
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterable

from core.errors import BadInput

if TYPE_CHECKING:
    import torch

# Mixed precision (bf16, fp16) runs on these device types only.
MIXED_PRECISION_DEVICES = ("cuda",)


class Precision:
    """Autocast and loss scaling for one precision setting on one device."""

    def __init__(self, name: str, device: torch.device) -> None:
        """BadInput when `name` ("fp32", "bf16", "fp16") cannot run on `device`."""
        import torch

        self.name = name
        self.device_type = device.type
        self.dtype = _autocast_dtype(name, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=name == "fp16")
        # one reusable no-op context: fp32 steps allocate nothing for it
        self._no_autocast = contextlib.nullcontext()

    def autocast(self):
        """The forward pass's context: autocast for mixed precision, else nothing."""
        import torch

        if self.dtype is None:
            return self._no_autocast
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """Backward pass, adding to the gradients (scaled for fp16)."""
        self.scaler.scale(loss).backward()

    def step(self, optimizer: torch.optim.Optimizer, clip_params: Iterable[torch.Tensor],
             grad_clip: float) -> None:
        """Optional gradient clipping (to norm `grad_clip`, 0 = off) and the optimizer step
        on the gradients added up since the last. fp16 clips the unscaled gradients and skips
        the step when they overflowed."""
        import torch

        if grad_clip:
            self.scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(clip_params, grad_clip)
        self.scaler.step(optimizer)
        self.scaler.update()

    def state_dict(self) -> dict:
        """The loss scale's state for a checkpoint ({} unless fp16)."""
        return self.scaler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        """Restore the loss scale of a checkpoint (nothing to restore unless fp16)."""
        if self.scaler.is_enabled() and state:
            self.scaler.load_state_dict(state)


def _autocast_dtype(name: str, device: torch.device):
    """The dtype the forward pass autocasts to (None for fp32), or BadInput."""
    import torch

    if name == "fp32":
        return None
    if device.type not in MIXED_PRECISION_DEVICES:
        raise BadInput(f"[training] precision = {name!r} needs a CUDA GPU, and this run "
                       f"trains on {device}; use precision = \"fp32\" (or device = \"cuda\" on "
                       "a machine with an NVIDIA GPU)")
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise BadInput(f"[training] precision = 'bf16': this GPU ({device}) does not support "
                       "bfloat16; use precision = \"fp16\"")
    return torch.bfloat16 if name == "bf16" else torch.float16

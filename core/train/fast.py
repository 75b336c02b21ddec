"""The `[training] fast` option: speed-ups that leave the model and its checkpoints as they are.

On a CUDA GPU: the channels_last memory layout for convolutions over images (the layout
cuDNN's Tensor Core kernels read directly), mixed precision when precision is left at
fp32 (bf16 where the GPU has it natively, else fp16 with loss scaling), and torch.compile
where it can work. On the CPU only channels_last, which measured faster there for
simple_cnn (1.2x), small_cnn and lenet5 on the digits, though resnet18 on grey images
lost about 10% (docs/performance.md); on Apple's GPU nothing, as nothing was measured.

`plan_fast` decides from plain facts, so every branch is tested on the CPU; `apply_fast`
gathers the facts for the run's device and applies the plan.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from dataclasses import dataclass, replace
from pathlib import Path

import torch

# Every model.compile() in a process shares one cache of compiled code (dynamo's, on the
# wrapper around Module._call_impl), of 8 entries by default: in a GUI session the fifth
# different model trained and validated would silently train uncompiled (measured with
# torch 2.14). Room for a long session instead.
COMPILE_CACHE_ENTRIES = 64


@dataclass(frozen=True)
class FastPlan:
    """What `fast` does for one run, and one line for the user per thing done or skipped."""

    channels_last: bool
    precision: str  # the precision to train in: the setting, or the mixed one fast chose
    compile: bool
    notes: tuple[str, ...]


def plan_fast(device_type: str, precision: str, *, conv_images: bool,
              bf16_supported: bool = False, frozen: bool = False, triton: bool = False,
              c_toolchain: bool = False) -> FastPlan:
    """The plan for training on `device_type` ("cuda", "cpu", "mps") with the `precision`
    setting. `conv_images`: the model convolves image inputs (4-D batches). The rest only
    matter on CUDA: native bf16, a frozen (installed) app, Triton for the GPU, and the C
    compiler and Python headers Triton builds its kernel launchers with."""
    if device_type == "cpu" and conv_images:
        return FastPlan(True, precision, False, (
            "fast: convolutions use the channels_last memory layout (faster on the CPU too)",
            "fast: mixed precision and torch.compile apply on a CUDA GPU only; off on the CPU"))
    if device_type == "cpu":
        return FastPlan(False, precision, False, (
            "fast applies on a CUDA GPU, and on the CPU only to convolutions over images; "
            "for this model it changes nothing",))
    if device_type != "cuda":
        where = "Apple's GPU (mps)" if device_type == "mps" else device_type
        return FastPlan(False, precision, False,
                        (f"fast applies on a CUDA GPU; on {where} it changes nothing",))
    notes = ["fast: convolutions use the channels_last memory layout" if conv_images else
             "fast: channels_last skipped: the model has no convolutions over images"]
    chosen = precision
    if precision != "fp32":
        notes.append(f"fast: precision {precision} kept as set")
    elif bf16_supported:
        chosen = "bf16"
        notes.append("fast: mixed precision bf16 (precision was fp32)")
    else:
        chosen = "fp16"
        notes.append("fast: mixed precision fp16 with loss scaling (precision was fp32; this "
                     "GPU has no native bf16)")
    if frozen:
        notes.append("fast: torch.compile skipped: the installed app cannot compile models; "
                     "run TrainDesk from a Python environment (see the README) to use it")
    elif not triton:
        notes.append("fast: torch.compile skipped: Triton is missing or does not support this "
                     "GPU; pip install triton to use it")
    elif not c_toolchain:
        notes.append("fast: torch.compile skipped: Triton needs a C compiler and Python's "
                     "headers to build its kernels; install gcc and python3-dev to use it")
    else:
        notes.append("fast: torch.compile applied; the first steps are slower while it compiles")
    compiles = not frozen and triton and c_toolchain
    return FastPlan(conv_images, chosen, compiles, tuple(notes))


def apply_fast(model, data, device, precision: str):
    """Apply `fast` for training `model` on `data` on `device` (a torch.device).

    `model` is changed in place; returns (the data, with channels_last batches where that
    applies; the precision to train in; the notes for the user)."""
    plan = plan_fast(device.type, precision, conv_images=convolves_images(model, data),
                     **_machine_facts(device))
    return apply_plan(plan, model, data), plan.precision, list(plan.notes)


def apply_plan(plan: FastPlan, model, data):
    """Do what `plan` says to `model` (in place) and return the data to train on."""
    if plan.channels_last:
        model.to(memory_format=torch.channels_last)
        data = replace(data, batch_transform=ChannelsLastBatches(data.batch_transform))
    if plan.compile:
        import torch._dynamo as dynamo  # only when compiling: it takes a while to import

        config = dynamo.config
        config.recompile_limit = max(config.recompile_limit, COMPILE_CACHE_ENTRIES)
        model.compile()  # in place, unlike torch.compile(model): state_dict keys stay the same
    return data


def convolves_images(model, data) -> bool:
    """Whether channels_last can help: image batches (N, C, H, W) into 2-D convolutions."""
    return (data.kind == "image" and len(data.input_shape) == 3
            and any(isinstance(m, torch.nn.Conv2d) for m in model.modules()))


class ChannelsLastBatches:
    """A batch_transform that hands the model channels_last batches, after the data's own
    transform (normalisation, augmentation) when it has one."""

    def __init__(self, inner=None) -> None:
        self.inner = inner

    def __call__(self, x, train: bool):
        if self.inner is not None:
            x = self.inner(x, train)
        return x.contiguous(memory_format=torch.channels_last)


def _machine_facts(device) -> dict:
    facts = {"frozen": bool(getattr(sys, "frozen", False))}
    if device.type == "cuda":  # the checks below load parts of torch only a GPU run needs
        with torch.cuda.device(device):
            # bf16 emulated on a GPU before Ampere is slower than fp16, so native only
            bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        facts.update(bf16_supported=bf16, triton=triton_works(), c_toolchain=c_toolchain_found())
    return facts


def triton_works() -> bool:
    """Triton installed and able to generate kernels for a GPU present here."""
    try:
        from torch.utils._triton import has_triton
    except ImportError:  # a torch without this helper: compile is not worth the risk
        return False
    return has_triton()


def c_toolchain_found() -> bool:
    """A C compiler and Python.h, found where Triton looks for them (triton/runtime/build.py)."""
    compiler = os.environ.get("CC") or shutil.which("gcc") or shutil.which("clang")
    scheme = sysconfig.get_default_scheme()
    if scheme == "posix_local":  # Debian's own scheme; Triton reads posix_prefix instead
        scheme = "posix_prefix"
    headers = Path(sysconfig.get_paths(scheme=scheme)["include"], "Python.h")
    return bool(compiler) and headers.is_file()

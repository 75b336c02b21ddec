"""Choosing the training device. `auto` takes a GPU only after a tiny kernel ran on it,
so a visible but broken GPU (driver mismatch, unsupported architecture) falls back to the CPU."""

from __future__ import annotations

from core.errors import BadInput


def _works(device) -> bool:
    import torch

    try:
        probe = torch.arange(4.0, device=device) * 2
        return float(probe.sum().item()) == 12.0
    except Exception:  # any failure here means "do not use this device"
        return False


def resolve_device(name: str):
    """Return a torch.device for auto, cpu, cuda, cuda:N or mps; BadInput if it is not usable."""
    import torch

    if name == "auto":
        if torch.cuda.is_available() and _works(torch.device("cuda")):
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available() and _works(torch.device("mps")):
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise BadInput(f"[training] device = {name!r}: no CUDA GPU is available here; "
                           "use device = \"auto\" or \"cpu\"")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise BadInput(f"[training] device = {name!r}: only {torch.cuda.device_count()} "
                           f"GPU(s) here (cuda:0 to cuda:{torch.cuda.device_count() - 1})")
        device = torch.device("cuda", index)
    else:
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise BadInput("[training] device = 'mps': Apple's GPU is not available here; "
                           "use device = \"auto\" or \"cpu\"")
        device = torch.device("mps")
    if not _works(device):
        raise BadInput(f"[training] device = {name!r}: a test computation failed on it; "
                       "use device = \"cpu\" or check the GPU driver")
    return device


def available_devices() -> list[str]:
    """Device names worth offering in a picker, `auto` and `cpu` first."""
    import torch

    names = ["auto", "cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        names.append("mps")
    return names

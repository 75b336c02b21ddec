"""Fine-tuning: start from saved weights and freeze modules by name prefix."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

from core.errors import BadInput


def load_weights_file(path: str | Path) -> dict:
    """Load a checkpoint or state_dict with weights_only=True; the model's state_dict.

    A TrainDesk checkpoint holds the model under "model"; a plain PyTorch state_dict
    is the mapping itself. Files that need arbitrary unpickling are refused.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"weights file {path} does not exist; check [finetune] init_from")
    if path.stat().st_size == 0:
        raise BadInput(f"weights file {path} is empty (0 bytes); pick a complete checkpoint")
    try:
        # torch warns (on stderr) about files it is about to refuse; the refusal says it all
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise BadInput(f"weights file {path} needs code to load, which TrainDesk refuses for "
                       f"safety ({str(exc).splitlines()[0]}); save it with "
                       "torch.save(model.state_dict(), path)") from None
    except Exception as exc:
        raise BadInput(f"weights file {path} is not a PyTorch checkpoint ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(hasattr(v, "shape") for v in data.values()):
        raise BadInput(f"weights file {path} holds no state_dict (a mapping of names to tensors)")
    return data


def load_initial_weights(model, path: str | Path) -> None:
    """Copy weights from `path` into `model`; BadInput listing any missing or mis-shaped layers."""
    state = load_weights_file(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
                  for k in own if k in state and state[k].shape != own[k].shape]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing[:5]))
    if unexpected:
        problems.append("unexpected " + ", ".join(unexpected[:5]))
    if mismatched:
        problems.append("shape differs: " + ", ".join(mismatched[:5]))
    if problems:
        raise BadInput(f"weights in {path} do not fit this model ({'; '.join(problems)}); "
                       "pick weights saved from the same model and dataset classes")
    model.load_state_dict(state)


def freeze_modules(model, prefixes: list[str]) -> None:
    """Turn off gradients of every parameter whose name starts with one of `prefixes`.

    A prefix matches whole name parts: "conv1" freezes conv1.weight, not conv10.weight.
    """
    names = [name for name, _ in model.named_parameters()]
    for prefix in prefixes:
        if not any(_matches(name, prefix) for name in names):
            modules = sorted({name.rsplit(".", 1)[0] for name in names})
            raise BadInput(f"[finetune] freeze: no layer named {prefix!r}; this model has "
                           f"{', '.join(modules)}")
    for name, param in model.named_parameters():
        if any(_matches(name, prefix) for prefix in prefixes):
            param.requires_grad_(False)


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def count_params(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total

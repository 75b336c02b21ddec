"""Start weights for fine-tuning: reading a weights file safely (weights_only=True) and
copying it into a model, replacing the output layer when only the classes differ, or
loading just the layers that fit (`load_matching_only`), with readable notes on what was
left fresh."""

from __future__ import annotations

import contextlib
import pickle
import re
import warnings
from pathlib import Path

from core.errors import BadInput
from core.finetune.names import under_prefix

LORA_KEY_MARK = ".lora_A"


def load_weights_file(path: str | Path) -> dict:
    """Load a checkpoint or state_dict with weights_only=True, or a .safetensors file (as
    a Hugging Face export's model.safetensors); the model's state_dict.

    A TrainDesk checkpoint holds the model under "model"; a plain PyTorch state_dict
    is the mapping itself. Files that need arbitrary unpickling are refused.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"weights file {path} does not exist; check [finetune] init_from")
    if path.stat().st_size == 0:
        raise BadInput(f"weights file {path} is empty (0 bytes); pick a complete checkpoint")
    if path.suffix.lower() == ".safetensors":
        return _load_safetensors(path)
    _refuse_exported_program(path)
    try:
        # torch warns (on stderr) about files it is about to refuse; the refusal says it all
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message is a page of advice (with terminal colour codes); name the object
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        held = f" (it holds a {found.group(1)} object)" if found else ""
        raise BadInput(f"weights file {path} needs code to load{held}, which TrainDesk refuses "
                       "for safety; save it with torch.save(model.state_dict(), path)") from None
    except Exception as exc:
        raise BadInput(f"weights file {path} is not a PyTorch checkpoint ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("model"), dict):
        data = data["model"]
    if not isinstance(data, dict) or not all(hasattr(v, "shape") for v in data.values()):
        raise BadInput(f"weights file {path} holds no state_dict (a mapping of names to tensors)")
    return data


def _load_safetensors(path: Path) -> dict:
    """A safetensors file's tensors (the format holds tensors only: nothing can run)."""
    import importlib.util

    if importlib.util.find_spec("safetensors") is None:
        raise BadInput(f"weights file {path} is a safetensors file, which needs the "
                       "safetensors package; install it with pip install 'traindesk[export]'")
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
        raise BadInput(f"weights file {path} is not a readable safetensors file "
                       f"({type(exc).__name__}: {reason}); pick another file") from None


def _refuse_exported_program(path: Path) -> None:
    """Refuse a torch.export program (.pt2): TrainDesk never loads one, because torch's .pt2
    loader runs the program's code (CVE-2026-4538 in torch 2.10.0), and the file holds a
    graph, not a state_dict to start from."""
    import zipfile

    exported = path.suffix.lower() == ".pt2"
    if not exported and zipfile.is_zipfile(path):
        with contextlib.suppress(zipfile.BadZipFile, OSError):
            with zipfile.ZipFile(path) as archive:
                exported = any(name.rsplit("/", 1)[-1] == "archive_format"
                               for name in archive.namelist())
    if exported:
        raise BadInput(f"weights file {path} is an exported program (.pt2), which TrainDesk "
                       "does not load; save the weights with torch.save(model.state_dict(), "
                       "path) and pick that file")


def load_initial_weights(model, path: str | Path, matching_only: bool = False) -> list[str]:
    """Copy weights from `path` into `model`; returns readable notes on what was not loaded.

    Everything must fit, with one exception: when the only misfit is the model's output
    layer (start weights for another number of classes), that layer keeps its fresh
    weights. With `matching_only`, every layer whose names and shapes all match is loaded
    (a layer loads whole or not at all) and the rest stay fresh. Otherwise BadInput lists
    the missing and mis-shaped layers, and nothing is loaded.
    """
    state = load_weights_file(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [k for k in own if k in state and state[k].shape != own[k].shape]
    if not (missing or unexpected or mismatched):
        model.load_state_dict(state)
        return []
    if matching_only:
        misfits = {_owner(k) for k in missing + mismatched}
        fitting = {k: state[k] for k in own if _owner(k) not in misfits}
        if not fitting:
            raise BadInput(f"no layer of the weights in {path} fits this model (names or shapes "
                           "all differ); pick weights saved from the same kind of model")
        model.load_state_dict(fitting, strict=False)
        return _kept_fresh_notes(own, state, missing, mismatched, unexpected, misfits)
    head = output_layer(model)
    head_keys = {k for k in own if under_prefix(k, head)} if head else set()
    if head_keys and not unexpected and set(missing + mismatched) <= head_keys:
        model.load_state_dict({k: v for k, v in state.items() if k not in head_keys},
                              strict=False)
        return [_head_note(head, head_keys, state, own)]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing[:5]))
    if unexpected:
        problems.append("unexpected " + ", ".join(unexpected[:5]))
    if mismatched:
        problems.append("shape differs: " + ", ".join(
            f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in mismatched[:5]))
    advice = "pick weights saved from the same model and dataset classes"
    if any(LORA_KEY_MARK in k for k in unexpected):
        advice = ("these are a LoRA run's adapted weights; start from that run's "
                  "checkpoints/merged.pt instead")
    raise BadInput(f"weights in {path} do not fit this model ({'; '.join(problems)}); {advice}; "
                   "or set [finetune] load_matching_only = true to load only what fits")


def output_layer(model) -> str | None:
    """Name of the model's output layer: the last module, in definition order, that holds
    parameters of its own (fc2 in simple_cnn, the last Linear in mlp)."""
    last = None
    for name, module in model.named_modules():
        if name and any(True for _ in module.parameters(recurse=False)):
            last = name
    return last


def _head_note(head: str, head_keys: set[str], state: dict, own: dict) -> str:
    weight = f"{head}.weight"
    if weight in state and state[weight].dim() == own[weight].dim() >= 1 \
            and state[weight].shape[1:] == own[weight].shape[1:]:
        return (f"{head} replaced: start weights have {state[weight].shape[0]} classes, "
                f"this dataset {own[weight].shape[0]}")
    if not any(k in state for k in head_keys):
        return f"{head} kept fresh: the start weights have no {head}"
    shapes = ", ".join(f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
                       for k in own if k in head_keys and k in state)
    return f"{head} replaced: its shape differs in the start weights ({shapes})"


def _owner(key: str) -> str:
    """The module a state_dict key belongs to ("fc2" for "fc2.weight")."""
    return key.rpartition(".")[0] or key


def _kept_fresh_notes(own, state, missing, mismatched, unexpected, misfits) -> list[str]:
    reasons: dict[str, list[str]] = {module: [] for module in dict.fromkeys(map(_owner, own))
                                     if module in misfits}
    for key in own:
        part = key[len(_owner(key)) + 1:] or key
        if key in mismatched:
            reasons[_owner(key)].append(f"{part} {tuple(state[key].shape)} in the start "
                                        f"weights vs {tuple(own[key].shape)}")
        elif key in missing:
            reasons[_owner(key)].append(f"{part} not in the start weights")
    notes = [f"{module} kept fresh: {', '.join(parts)}" for module, parts in reasons.items()]
    if unexpected:
        more = f" and {len(unexpected) - 5} more" if len(unexpected) > 5 else ""
        notes.append(f"not used from the start weights: {', '.join(unexpected[:5])}{more}")
    return notes

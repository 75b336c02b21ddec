"""Fine-tuning: start weights, freezing, per-layer learning rates, gradual unfreezing, LoRA.

Every [finetune] setting names layers by module-name prefix, matched on whole name parts
("conv1" is conv1.weight and conv1.bias, not conv10). `prepare_finetune` checks every name
against the model before anything changes, applies freezing and LoRA, and returns a
`Finetuning` that the trainer asks for the optimizer's parameter groups, for the layers
to unfreeze as epochs go by, and to keep frozen normalisation layers still.
"""

from __future__ import annotations

import pickle
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import BadInput

LORA_KEY_MARK = ".lora_A"


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
    head_keys = {k for k in own if _matches(k, head)} if head else set()
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


# ---------------------------------------------------------------- names


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def layer_names(model) -> list[str]:
    """The names users can give: modules holding parameters or buffers, sorted."""
    names = [n for n, _ in model.named_parameters()] + [n for n, _ in model.named_buffers()]
    return sorted({name.rsplit(".", 1)[0] for name in names})


def check_names(model, prefixes, setting: str) -> None:
    """BadInput for the first prefix that names no parameter or buffer of `model`, nor a
    module holding some (a BatchNorm without affine parameters holds only buffers)."""
    names = [n for n, _ in model.named_parameters()] + [n for n, _ in model.named_buffers()]
    for prefix in prefixes:
        if not any(_matches(name, prefix) for name in names):
            raise BadInput(f"[finetune] {setting}: no layer named {prefix!r}; this model has "
                           f"{', '.join(layer_names(model))}")


# ---------------------------------------------------------------- freezing


def freeze_modules(model, prefixes: list[str]) -> None:
    """Turn off gradients of every parameter whose name starts with one of `prefixes`.

    A prefix matches whole name parts: "conv1" freezes conv1.weight, not conv10.weight.
    """
    check_names(model, prefixes, "freeze")
    for name, param in model.named_parameters():
        if any(_matches(name, prefix) for prefix in prefixes):
            param.requires_grad_(False)


def apply_freezing(model, freeze: list[str], train_only: list[str]) -> None:
    """Freeze the `freeze` prefixes, or everything outside the `train_only` prefixes.

    Raises BadInput, changing nothing, when both are given or a name is unknown.
    """
    _check_freezing(model, freeze, train_only)
    for name, param in model.named_parameters():
        if _frozen_by(name, freeze, train_only):
            param.requires_grad_(False)


def _check_freezing(model, freeze: list[str], train_only: list[str]) -> None:
    if freeze and train_only:
        raise BadInput("[finetune] freeze and train_only are both set; use one of them: freeze "
                       "lists what stays still, train_only what trains")
    check_names(model, freeze, "freeze")
    check_names(model, train_only, "train_only")


def _frozen_by(name: str, freeze: list[str], train_only: list[str]) -> bool:
    if train_only:
        return not any(_matches(name, prefix) for prefix in train_only)
    return any(_matches(name, prefix) for prefix in freeze)


def count_params(model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total


def top_level_blocks(model) -> list[str]:
    """Names of the model's top-level blocks that hold parameters, input side first.

    A model that wraps everything in one container (mlp's nn.Sequential) is looked
    into, so its blocks are that container's layers.
    """
    prefix, module = "", model
    while True:
        children = [(name, child) for name, child in module.named_children()
                    if any(True for _ in child.parameters())]
        if len(children) == 1 and not any(True for _ in module.parameters(recurse=False)):
            name, module = children[0]
            prefix += name + "."
            continue
        return [prefix + name for name, _ in children]


# ---------------------------------------------------------------- the whole setup


@dataclass
class Finetuning:
    """What the trainer needs from the [finetune] settings once the model is prepared."""

    model: object
    lr_multipliers: dict[str, float]
    unfreeze_every: int
    unfreeze_order: list[str]  # frozen blocks, nearest the output first
    epochs: int
    frozen_norms: dict[str, object]  # normalisation layers kept in eval mode while frozen
    lora_targets: list[str]
    unfrozen: list[str] = field(default_factory=list)

    def unfrozen_count(self, epoch: int) -> int:
        """How many blocks are unfrozen while epoch `epoch` (1-based) trains."""
        if not self.unfreeze_every or epoch < 1:
            return 0
        return min(len(self.unfreeze_order), (epoch - 1) // self.unfreeze_every)

    def optimizer_groups(self) -> list[dict]:
        """Parameter groups for the optimizer, each with its `lr_multiplier`.

        Trainable parameters are grouped by multiplier (the longest matching prefix in
        lr_multipliers wins; 1.0 for the rest). The blocks that gradual unfreezing will
        release during the run get their own groups now, while still frozen: optimizers
        skip parameters without gradients, and a scheduler built on these groups scales
        them from the first step, as if they had trained all along. Frozen parameters
        that stay frozen for the whole run are not given to the optimizer at all.
        """
        bases = _lora_bases(self.model)
        later = self.unfreeze_order[:self.unfrozen_count(self.epochs)]
        groups: dict[tuple[int, float], list] = {}
        for name, param in self.model.named_parameters():
            if param.requires_grad:
                phase = 0
            else:
                phase = next((i + 1 for i, block in enumerate(later) if _matches(name, block)),
                             None)
                if phase is None or id(param) in bases:
                    continue
            groups.setdefault((phase, self.multiplier(name)), []).append(param)
        return [{"params": params, "lr_multiplier": multiplier}
                for (_, multiplier), params in sorted(groups.items(), key=lambda kv: kv[0][0])]

    def multiplier(self, name: str) -> float:
        matching = [p for p in self.lr_multipliers if _matches(name, p)]
        return self.lr_multipliers[max(matching, key=len)] if matching else 1.0

    def unfreeze_for_epoch(self, epoch: int) -> list[str]:
        """Unfreeze the blocks due by `epoch`; returns the names newly unfrozen (in order)."""
        bases = _lora_bases(self.model)
        newly = []
        for block in self.unfreeze_order[:self.unfrozen_count(epoch)]:
            if block in self.unfrozen:
                continue
            for name, param in self.model.named_parameters():
                if _matches(name, block) and id(param) not in bases:
                    param.requires_grad_(True)
            self.frozen_norms = {name: m for name, m in self.frozen_norms.items()
                                 if not _matches(name, block)}
            self.unfrozen.append(block)
            newly.append(block)
        return newly

    def hold_frozen_norms(self) -> None:
        """Call after model.train(): frozen normalisation layers go back to eval mode, so
        their running statistics stay as loaded."""
        for module in self.frozen_norms.values():
            module.eval()


def prepare_finetune(model, settings, epochs: int) -> Finetuning:
    """Check every [finetune] name against `model`, then freeze and add LoRA adapters.

    `settings` is a FinetuneSettings. Raises BadInput, before changing the model, for an
    unknown name, freeze and train_only together, or settings under which nothing trains.
    """
    from core.finetune.lora import apply_lora, check_lora_targets

    _check_freezing(model, settings.freeze, settings.train_only)
    check_names(model, settings.lr_multipliers, "lr_multipliers")
    check_lora_targets(model, settings.lora_targets)
    apply_freezing(model, settings.freeze, settings.train_only)
    frozen_norms = {
        name: module for name, module in model.named_modules()
        if getattr(module, "track_running_stats", False) and _norm_frozen(name, module, settings)
    }
    frozen = [name for name, p in model.named_parameters() if not p.requires_grad]
    order = [block for block in reversed(top_level_blocks(model))
             if any(_matches(name, block) for name in frozen)]
    if settings.unfreeze_every and not order:
        raise BadInput(f"[finetune] unfreeze_every = {settings.unfreeze_every} needs frozen "
                       "layers to unfreeze; set freeze or train_only as well, or 0 to turn it off")
    if settings.lora_targets:
        apply_lora(model, settings.lora_targets, settings.lora_rank, settings.lora_alpha,
                   settings.lora_dropout)
    if not any(p.requires_grad for p in model.parameters()):
        setting = "train_only" if settings.train_only else "freeze"
        raise BadInput(f"[finetune] {setting} covers every layer, so nothing would train; "
                       "leave at least one layer unfrozen")
    return Finetuning(model, dict(settings.lr_multipliers), settings.unfreeze_every, order,
                      epochs, frozen_norms, list(settings.lora_targets))


def _norm_frozen(name: str, module, settings) -> bool:
    own = list(module.parameters(recurse=False))
    if own:
        return not any(p.requires_grad for p in own)
    # No affine parameters: frozen when its name falls under the frozen part of the model.
    return _frozen_by(name, settings.freeze, settings.train_only)


def _lora_bases(model) -> set[int]:
    from core.finetune.lora import lora_base_parameters

    return lora_base_parameters(model)

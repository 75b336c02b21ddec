"""Fine-tuning: freezing, per-layer learning rates, gradual unfreezing, LoRA (start weights
are core/finetune/weights.py).

Every [finetune] setting names layers by module-name prefix, matched on whole name parts
("conv1" is conv1.weight and conv1.bias, not conv10). `prepare_finetune` checks every name
against the model before anything changes, applies freezing and LoRA, and returns a
`Finetuning` that the trainer asks for the optimizer's parameter groups, for the layers
to unfreeze as epochs go by, and to keep frozen normalisation layers still.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import BadInput
from core.finetune.names import check_names, under_prefix


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
        return not any(under_prefix(name, prefix) for prefix in train_only)
    return any(under_prefix(name, prefix) for prefix in freeze)


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
    qlora: bool = False  # the adapted layers are 4-bit (core/finetune/qlora.py)

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
                phase = next((i + 1 for i, block in enumerate(later) if under_prefix(name, block)),
                             None)
                if phase is None or id(param) in bases:
                    continue
            groups.setdefault((phase, self.multiplier(name)), []).append(param)
        return [{"params": params, "lr_multiplier": multiplier}
                for (_, multiplier), params in sorted(groups.items(), key=lambda kv: kv[0][0])]

    def multiplier(self, name: str) -> float:
        matching = [p for p in self.lr_multipliers if under_prefix(name, p)]
        return self.lr_multipliers[max(matching, key=len)] if matching else 1.0

    def unfreeze_for_epoch(self, epoch: int) -> list[str]:
        """Unfreeze the blocks due by `epoch`; returns the names newly unfrozen (in order)."""
        bases = _lora_bases(self.model)
        newly = []
        for block in self.unfreeze_order[:self.unfrozen_count(epoch)]:
            if block in self.unfrozen:
                continue
            for name, param in self.model.named_parameters():
                if under_prefix(name, block) and id(param) not in bases:
                    param.requires_grad_(True)
            self.frozen_norms = {name: m for name, m in self.frozen_norms.items()
                                 if not under_prefix(name, block)}
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
             if any(under_prefix(name, block) for name in frozen)]
    if settings.unfreeze_every and not order:
        raise BadInput(f"[finetune] unfreeze_every = {settings.unfreeze_every} needs frozen "
                       "layers to unfreeze; set freeze or train_only as well, or 0 to turn it off")
    if settings.lora_targets:
        apply_lora(model, settings.lora_targets, settings.lora_rank, settings.lora_alpha,
                   settings.lora_dropout, settings.lora_rslora)
    if not any(p.requires_grad for p in model.parameters()):
        setting = "train_only" if settings.train_only else "freeze"
        raise BadInput(f"[finetune] {setting} covers every layer, so nothing would train; "
                       "leave at least one layer unfrozen")
    return Finetuning(model, dict(settings.lr_multipliers), settings.unfreeze_every, order,
                      epochs, frozen_norms, list(settings.lora_targets),
                      qlora=_has_4bit_layers(model))


def _norm_frozen(name: str, module, settings) -> bool:
    own = list(module.parameters(recurse=False))
    if own:
        return not any(p.requires_grad for p in own)
    # No affine parameters: frozen when its name falls under the frozen part of the model.
    return _frozen_by(name, settings.freeze, settings.train_only)


def _has_4bit_layers(model) -> bool:
    """Whether the model was loaded for QLoRA (evaluation rebuilds a QLoRA run's model at
    full precision: its checkpoints then load as a LoRA run's, all weights present)."""
    from core.finetune.qlora import is_4bit_linear

    return any(is_4bit_linear(m) for m in model.modules())


def _lora_bases(model) -> set[int]:
    """ids of the parameters that never train, whatever is unfrozen: LoRA's base layers,
    and a QLoRA model's 4-bit layers (their weights are bytes; see prepare_4bit for their
    biases)."""
    from core.finetune.lora import lora_base_parameters
    from core.finetune.qlora import is_4bit_linear

    four_bit = {id(p) for m in model.modules() if is_4bit_linear(m) for p in m.parameters()}
    return lora_base_parameters(model) | four_bit

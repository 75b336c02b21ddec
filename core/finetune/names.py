"""How [finetune] settings name layers: by module-name prefix, matched on whole name parts
("conv1" is conv1.weight and conv1.bias, not conv10). Shared by freezing, learning-rate
groups, LoRA targets and start weights."""

from __future__ import annotations

from core.errors import BadInput


def under_prefix(name: str, prefix: str) -> bool:
    """Whether parameter or module `name` is `prefix` or lies inside it."""
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
        if not any(under_prefix(name, prefix) for name in names):
            raise BadInput(f"[finetune] {setting}: no layer named {prefix!r}; this model has "
                           f"{', '.join(layer_names(model))}")

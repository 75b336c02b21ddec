"""Model summary: the layers of the network a run would train, as plain data.

`summarize_model` builds the model exactly as the trainer does (core.models.build.build_model on
the run's dataset), runs two real samples through it and records every module's output
shape and parameter counts, and the forward pass's FLOPs (torch's own FlopCounterMode).
Which parameters train is decided by core.finetune.freezing's own freezing on that built
model, so a view of the summary counts exactly what the trainer will count. torch is
imported only inside the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from core.rng import holding_global_rng
from core.catalog import DATASETS
from core.config import RunConfig

SAMPLE_BATCH = 2  # two samples, so layers that need more than one (BatchNorm) work too


@dataclass
class Layer:
    """One module of the model, its children in definition order.

    `name` is the dotted name as in `named_modules()` ("" for the model itself);
    `output_shape` is one sample's output, batch dimension left out (None when the
    module was not called or returned no tensor); `parameters` are the full names of
    every parameter in this module and below, in the model's order.
    """

    name: str
    type_name: str
    output_shape: tuple[int, ...] | None
    own_params: int
    total_params: int
    parameters: tuple[str, ...]
    own_parameters: tuple[str, ...]
    children: list[Layer] = field(default_factory=list)

    @property
    def short_name(self) -> str:
        """The last part of the dotted name: the attribute name inside its parent."""
        return self.name.rsplit(".", 1)[-1]

    def walk(self) -> Iterator[Layer]:
        """This layer and every layer below it, in module order (as `named_modules()`)."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class ModelSummary:
    """The layer tree of one model on one dataset, with the parameter sizes by name."""

    model_name: str
    data_name: str
    input_shape: tuple[int, ...]
    num_classes: int  # the model's outputs: classes, or 1 for a regression
    root: Layer
    parameter_sizes: dict[str, int]  # every parameter's full name -> element count, in order
    task: str = "classification"  # or "regression"
    # One sample's forward pass in floating-point operations, as torch.utils.flop_counter
    # counts them: matrix products and convolutions, a multiply-add as 2; 0 when none counted.
    flops_per_sample: int = 0
    # The built model itself: freezing is applied to it to count trainable parameters.
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def total_params(self) -> int:
        return sum(self.parameter_sizes.values())

    def layers(self) -> list[Layer]:
        """Every layer below the model itself, in module order."""
        return list(self.root.walk())[1:]

    def layer(self, name: str) -> Layer:
        return next(layer for layer in self.root.walk() if layer.name == name)

    def count(self, names) -> int:
        """Number of parameter elements in the parameters called `names`."""
        return sum(self.parameter_sizes[name] for name in names)


@holding_global_rng
def summarize_model(config: RunConfig) -> ModelSummary:
    """Build `config`'s model on its dataset's shapes and describe its layers.

    Loads the dataset (for its input shape, class count and two real samples, prepared
    as training batches are) and runs one forward pass in eval mode without gradients.
    Raises BadInput for a model that does not fit the data, as the trainer would.
    """
    from core.models.build import build_model
    data = DATASETS.get(config.data.name).build(config.data.params, config.training.seed)
    model, _ = build_model(config.model.name, config.model.params, data, config.loss.name)
    samples = data.prepare(data.train_x[:SAMPLE_BATCH], False)
    return summarize_module(model, samples, config.model.name, config.data.name,
                            data.num_classes, data.task)


def summarize_module(model, samples, model_name: str = "", data_name: str = "",
                     num_classes: int = 0, task: str = "classification") -> ModelSummary:
    """Describe any nn.Module by running `samples` (a batch) through it once."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[str, tuple[int, ...]] = {}
    names = {module: name for name, module in model.named_modules()}

    def record(module, inputs, output) -> None:
        tensor = output
        if isinstance(output, dict) and output:  # transformers' output records
            tensor = next(iter(output.values()))
        if isinstance(output, (tuple, list)) and output:
            tensor = output[0]
        if isinstance(tensor, torch.Tensor):
            shapes[names[module]] = tuple(tensor.shape[1:])

    hooks = [module.register_forward_hook(record) for module in names]
    try:
        model.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as flops:
            model(samples)
    finally:
        for hook in hooks:
            hook.remove()
    model.train()
    sizes = {name: param.numel() for name, param in model.named_parameters()}
    return ModelSummary(model_name, data_name, tuple(samples.shape[1:]), num_classes,
                        _layer("", model, shapes, sizes), sizes, task,
                        flops.get_total_flops() // max(len(samples), 1), model)


def _layer(name: str, module, shapes: dict, sizes: dict[str, int]) -> Layer:
    prefix = f"{name}." if name else ""
    own = tuple(prefix + local for local, _ in module.named_parameters(recurse=False)
                if prefix + local in sizes)
    below = tuple(prefix + local for local, _ in module.named_parameters()
                  if prefix + local in sizes)
    children = [_layer(prefix + local, child, shapes, sizes)
                for local, child in module.named_children()]
    return Layer(name, type(module).__name__, shapes.get(name), sum(sizes[n] for n in own),
                 sum(sizes[n] for n in below), below, own, children)


def format_flops(flops: int) -> str:
    """A FLOP count as people read it: "864 FLOPs", "1.23 MFLOPs" (three significant digits)."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if flops >= scale:
            return f"{flops / scale:.3g} {unit}FLOPs"
    return f"{flops} FLOPs"


def trainable_parameters(summary: ModelSummary, freeze: list[str],
                         train_only: list[str]) -> set[str]:
    """Names of the parameters the trainer would train with these [finetune] settings.

    Applies core.finetune.freezing's freezing to the summary's model (and undoes it), so the
    rule is the engine's own. Raises BadInput as the trainer would: for a prefix that names no
    layer, or both lists given.
    """
    from core.finetune.freezing import apply_freezing

    model = summary.model
    as_built = [(param, param.requires_grad) for param in model.parameters()]
    try:
        apply_freezing(model, freeze, train_only)
        return {name for name, p in model.named_parameters() if p.requires_grad}
    finally:
        for param, requires_grad in as_built:
            param.requires_grad_(requires_grad)


def freeze_prefixes(summary: ModelSummary, trainable: set[str]) -> list[str]:
    """The shortest `freeze` list that leaves exactly `trainable` trainable: each fully
    frozen module is named once, at its highest level, in module order. A parameter that
    sits directly in a partly frozen module is named by its full name."""
    prefixes: list[str] = []

    def visit(layer: Layer) -> None:
        if not layer.parameters:
            return
        if layer.name and not any(name in trainable for name in layer.parameters):
            prefixes.append(layer.name)
            return
        prefixes.extend(name for name in layer.own_parameters if name not in trainable)
        for child in layer.children:
            visit(child)

    visit(summary.root)
    return prefixes


def head_layer(summary: ModelSummary) -> Layer | None:
    """The model's output layer as the engine sees it (core.finetune.weights.output_layer:
    the last module holding parameters of its own); None for a model without parameters."""
    from core.finetune.weights import output_layer

    name = output_layer(summary.model)
    return summary.layer(name) if name is not None else None


def parameters_up_to(summary: ModelSummary, name: str) -> list[str]:
    """The parameters of every module before `name` in module order, of `name` and of
    everything inside it: what "freeze up to this layer" freezes."""
    layers = list(summary.root.walk())
    index = next(i for i, layer in enumerate(layers) if layer.name == name)
    end = index + sum(1 for _ in layers[index].walk())
    return [param for layer in layers[:end] for param in layer.own_parameters]

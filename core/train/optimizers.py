"""Optimizer and scheduler catalogues. Optimizer builders get the checked parameters and
the parameter groups to optimise; scheduler builders get the optimizer, the run's length in
steps and the steps per epoch."""

from __future__ import annotations

import math

from core.entries import Catalogue, Param

OPTIMIZERS = Catalogue("optimizer")
SCHEDULERS = Catalogue("scheduler")

LR = Param("lr", "float", 0.001, "Learning rate: step size of each update.",
           minimum=1e-8, maximum=10.0)
WEIGHT_DECAY = Param("weight_decay", "float", 0.0, "L2 penalty on weights (a cure for "
                     "overfitting).", minimum=0.0, maximum=1.0)
# Devices whose fused optimizer kernels we use: the whole update of a tensor in one kernel
# instead of several per tensor. Measured on the CPU (docs/performance.md): Adam 1.25x the
# training speed of an mlp on digits and 1.14x of simple_cnn, same accuracy; torch's own
# default (not fused) is what a hand-written loop gets.
FUSED_DEVICES = ("cpu", "cuda")


def fused(groups) -> dict:
    """{"fused": True} when every parameter is a floating-point tensor on a device in
    FUSED_DEVICES, else {} (torch's default kernels). `groups`: parameters or groups."""
    tensors = [p for g in groups for p in (g["params"] if isinstance(g, dict) else [g])]
    ok = tensors and all(p.is_floating_point() and p.device.type in FUSED_DEVICES
                         for p in tensors)
    return {"fused": True} if ok else {}


@OPTIMIZERS.register(
    "sgd",
    "Gradient descent, with optional momentum and Nesterov momentum.",
    (
        Param("lr", "float", 0.01, LR.help, minimum=1e-8, maximum=10.0),
        Param("momentum", "float", 0.9, "Share of the previous update kept (0: plain gradient "
              "descent).", minimum=0.0, maximum=0.999),
        Param("nesterov", "bool", False, "Use Nesterov momentum (needs momentum > 0)."),
        WEIGHT_DECAY,
    ),
)
def sgd(params: dict, groups):
    import torch

    nesterov = params["nesterov"] and params["momentum"] > 0
    return torch.optim.SGD(groups, lr=params["lr"], momentum=params["momentum"],
                           nesterov=nesterov, weight_decay=params["weight_decay"],
                           **fused(groups))


BETAS = (
    Param("beta1", "float", 0.9, "Decay of the running mean of gradients.",
          minimum=0.0, maximum=0.9999),
    Param("beta2", "float", 0.999, "Decay of the running mean of squared gradients.",
          minimum=0.0, maximum=0.99999),
)


@OPTIMIZERS.register("adam", "Adam: adaptive steps from running gradient moments.",
                     (LR, *BETAS, WEIGHT_DECAY))
def adam(params: dict, groups):
    import torch

    return torch.optim.Adam(groups, lr=params["lr"], betas=(params["beta1"], params["beta2"]),
                            weight_decay=params["weight_decay"], **fused(groups))


@OPTIMIZERS.register(
    "adamw", "AdamW: Adam with weight decay applied directly to the weights.",
    (LR, *BETAS, Param("weight_decay", "float", 0.01, WEIGHT_DECAY.help, minimum=0.0,
                       maximum=1.0)),
)
def adamw(params: dict, groups):
    import torch

    return torch.optim.AdamW(groups, lr=params["lr"], betas=(params["beta1"], params["beta2"]),
                             weight_decay=params["weight_decay"], **fused(groups))


@OPTIMIZERS.register(
    "rmsprop", "RMSprop: steps scaled by a running mean of squared gradients.",
    (Param("lr", "float", 0.001, LR.help, minimum=1e-8, maximum=10.0),
     Param("alpha", "float", 0.99, "Smoothing of the squared-gradient mean.", minimum=0.0,
           maximum=0.9999),
     Param("momentum", "float", 0.0, "Momentum factor.", minimum=0.0, maximum=0.999),
     WEIGHT_DECAY),
)
def rmsprop(params: dict, groups):
    import torch

    return torch.optim.RMSprop(groups, lr=params["lr"], alpha=params["alpha"],
                               momentum=params["momentum"], weight_decay=params["weight_decay"])


@OPTIMIZERS.register("adagrad", "Adagrad: per-weight steps that shrink as gradients add up.",
                     (Param("lr", "float", 0.01, LR.help, minimum=1e-8, maximum=10.0),
                      WEIGHT_DECAY))
def adagrad(params: dict, groups):
    import torch

    return torch.optim.Adagrad(groups, lr=params["lr"], weight_decay=params["weight_decay"],
                               **fused(groups))


# Schedulers step after every optimisation step (smooth curves), except those registered
# with per_epoch=True, which step after each epoch's validation; per_epoch="val_loss" steps
# on the validation loss. Builders get the run's length in steps and the steps per epoch.

@SCHEDULERS.register("none", "Constant learning rate.")
def no_schedule(params: dict, optimizer, total_steps: int, steps_per_epoch: int):
    return None


@SCHEDULERS.register(
    "step", "Multiply the learning rate by gamma every step_epochs epochs.",
    (Param("step_epochs", "int", 5, "Epochs between decays.", minimum=1, maximum=100000),
     Param("gamma", "float", 0.1, "Factor applied at each decay.", minimum=0.0, maximum=1.0)),
    per_epoch=True,
)
def step_schedule(params: dict, optimizer, total_steps: int, steps_per_epoch: int):
    import torch

    return torch.optim.lr_scheduler.StepLR(optimizer, params["step_epochs"], params["gamma"])


@SCHEDULERS.register(
    "cosine", "Cosine decay from the optimizer's rate to min_lr over the whole run, after an "
    "optional linear warmup.",
    (Param("min_lr", "float", 0.0, "Learning rate at the end of the run.", minimum=0.0,
           maximum=10.0),
     Param("warmup_epochs", "float", 0.0, "Epochs (fractions allowed) over which the rate "
           "rises linearly to the optimizer's rate before the decay; 0: no warmup.",
           minimum=0.0, maximum=100000.0)),
)
def cosine_schedule(params: dict, optimizer, total_steps: int, steps_per_epoch: int):
    import torch

    warmup = min(round(params["warmup_epochs"] * steps_per_epoch), total_steps)
    decay_steps = max(1, total_steps - warmup)
    min_lr = params["min_lr"]

    def group_factor(base_lr: float):
        # min_lr is a rate, not a share: each group (lr_multipliers) decays to it from its own
        # start, as torch's CosineAnnealingLR does with eta_min.
        def factor(step: int) -> float:
            if base_lr == 0:
                return 1.0
            if step < warmup:
                return (step + 1) / (warmup + 1)
            done = min(1.0, (step - warmup) / decay_steps)
            return cosine_between(1.0, min_lr / base_lr, done)
        return factor

    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, [group_factor(group["lr"]) for group in optimizer.param_groups])


@SCHEDULERS.register(
    "one_cycle", "One cycle: the rate rises from lr / div_factor to the optimizer's lr, then "
    "anneals far below it by the end of the run (cosine both ways; momentum is left as set).",
    (Param("pct_start", "float", 0.3, "Share of the run spent raising the rate.",
           minimum=0.01, maximum=0.99),
     Param("div_factor", "float", 25.0, "The run starts at lr / div_factor.", minimum=1.0,
           maximum=1e6),
     Param("final_div_factor", "float", 1e4, "The run ends at lr / (div_factor * "
           "final_div_factor).", minimum=1.0, maximum=1e9)),
)
def one_cycle_schedule(params: dict, optimizer, total_steps: int, steps_per_epoch: int):
    # Our own rather than torch's OneCycleLR: that one divides by zero when pct_start *
    # total_steps is exactly 1 (e.g. 10 steps at 0.1), and it switches momentum on for an
    # sgd the user set to momentum 0.
    import torch

    rise = max(1, round(params["pct_start"] * total_steps))
    fall = max(1, total_steps - 1 - rise)
    start = 1 / params["div_factor"]
    end = start / params["final_div_factor"]

    def factor(step: int) -> float:
        if step < rise:
            return cosine_between(start, 1.0, step / rise)
        return cosine_between(1.0, end, min(1.0, (step - rise) / fall))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


@SCHEDULERS.register(
    "reduce_on_plateau", "Multiply the rate by factor when the validation loss has not "
    "improved for patience epochs.",
    (Param("factor", "float", 0.1, "Factor applied at each reduction.", minimum=0.001,
           maximum=0.999),
     Param("patience", "int", 2, "Epochs without improvement before a reduction.",
           minimum=0, maximum=100000, unit="epochs"),
     Param("threshold", "float", 1e-4, "Relative improvement of the validation loss that "
           "counts.", minimum=0.0, maximum=1.0),
     Param("min_lr", "float", 0.0, "The rate is never reduced below this.", minimum=0.0,
           maximum=10.0)),
    per_epoch="val_loss",
)
def plateau_schedule(params: dict, optimizer, total_steps: int, steps_per_epoch: int):
    import torch

    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=params["factor"], patience=params["patience"],
        threshold=params["threshold"], min_lr=params["min_lr"])


def cosine_between(start: float, end: float, done: float) -> float:
    """From `start` (done = 0) to `end` (done = 1) along half a cosine."""
    return end + (start - end) * (1 + math.cos(math.pi * done)) / 2

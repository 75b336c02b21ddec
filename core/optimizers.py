"""Optimizer and scheduler catalogues. Optimizer builders get the checked parameters and
the parameter groups to optimise; scheduler builders get the optimizer and the run's length."""

from __future__ import annotations

from core.catalog import OPTIMIZERS, SCHEDULERS, Param

LR = Param("lr", "float", 0.001, "Learning rate: step size of each update.",
           minimum=1e-8, maximum=10.0)
WEIGHT_DECAY = Param("weight_decay", "float", 0.0, "L2 penalty on weights (a cure for "
                     "overfitting).", minimum=0.0, maximum=1.0)


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
                           nesterov=nesterov, weight_decay=params["weight_decay"])


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
                            weight_decay=params["weight_decay"])


@OPTIMIZERS.register(
    "adamw", "AdamW: Adam with weight decay applied directly to the weights.",
    (LR, *BETAS, Param("weight_decay", "float", 0.01, WEIGHT_DECAY.help, minimum=0.0,
                       maximum=1.0)),
)
def adamw(params: dict, groups):
    import torch

    return torch.optim.AdamW(groups, lr=params["lr"], betas=(params["beta1"], params["beta2"]),
                             weight_decay=params["weight_decay"])


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

    return torch.optim.Adagrad(groups, lr=params["lr"], weight_decay=params["weight_decay"])


# Schedulers step after every optimisation step (smooth curves), except those registered
# with per_epoch=True, which step after each epoch.

@SCHEDULERS.register("none", "Constant learning rate.")
def no_schedule(params: dict, optimizer, total_steps: int):
    return None


@SCHEDULERS.register(
    "step", "Multiply the learning rate by gamma every step_epochs epochs.",
    (Param("step_epochs", "int", 5, "Epochs between decays.", minimum=1, maximum=100000),
     Param("gamma", "float", 0.1, "Factor applied at each decay.", minimum=0.0, maximum=1.0)),
    per_epoch=True,
)
def step_schedule(params: dict, optimizer, total_steps: int):
    import torch

    return torch.optim.lr_scheduler.StepLR(optimizer, params["step_epochs"], params["gamma"])


@SCHEDULERS.register(
    "cosine", "Cosine decay from the optimizer's rate to min_lr over the whole run.",
    (Param("min_lr", "float", 0.0, "Learning rate at the end of the run.", minimum=0.0,
           maximum=10.0),),
)
def cosine_schedule(params: dict, optimizer, total_steps: int):
    import torch

    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, total_steps),
                                                      eta_min=params["min_lr"])

"""Model catalogue. Each builder gets its checked parameters, the input shape (C, H, W)
of one sample and the number of classes, and returns an nn.Module."""

from __future__ import annotations

from math import prod

from core.catalog import MODELS, Param
from core.errors import BadInput

DROPOUT = Param("dropout", "float", 0.0, "Share of activations zeroed while training "
                "(a cure for overfitting).", minimum=0.0, maximum=0.95)


@MODELS.register(
    "simple_cnn",
    "The article's CNN: conv 32, conv 64 (3x3, ReLU, 2x2 max pool), fc 512, fc classes.",
    (DROPOUT,),
)
def simple_cnn(params: dict, input_shape: tuple[int, ...], num_classes: int):
    from core.networks import SimpleCNN

    if len(input_shape) != 3 or input_shape[1] < 4 or input_shape[2] < 4:
        raise BadInput(
            f"simple_cnn needs images (channels, height, width) of at least 4x4; this dataset "
            f"gives samples of shape {tuple(input_shape)}; pick mlp or an image dataset"
        )
    channels, height, width = input_shape
    return SimpleCNN(channels, height, width, num_classes, params["dropout"])


@MODELS.register(
    "mlp",
    "Fully connected network on the flattened input.",
    (
        Param("hidden_sizes", "int_list", [256, 128], "Width of each hidden layer, in order.",
              minimum=1, maximum=65536),
        Param("activation", "choice", "relu", "Non-linearity after each hidden layer.",
              choices=("relu", "tanh", "sigmoid", "gelu")),
        DROPOUT,
    ),
)
def mlp(params: dict, input_shape: tuple[int, ...], num_classes: int):
    from core.networks import MLP

    return MLP(prod(input_shape), params["hidden_sizes"], params["activation"],
               params["dropout"], num_classes)

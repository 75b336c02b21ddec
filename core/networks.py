"""The network classes behind the model catalogue (kept apart so the catalogue loads without torch)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}


class SimpleCNN(nn.Module):
    """The article's network: conv 32, conv 64, fc 512, fc classes, ReLU and 2x2 max pooling.

    Attribute names (conv1, conv2, fc1, fc2) match the article's code, so its saved
    state_dict loads unchanged. On 28x28 single-channel input fc1 has 64*7*7 inputs.
    """

    def __init__(self, in_channels: int, height: int, width: int, num_classes: int,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(64 * (height // 4) * (width // 4), 512)
        self.fc2 = nn.Linear(512, num_classes)
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.dropout(F.relu(self.fc1(x)), self.dropout, self.training)
        return self.fc2(x)


class MLP(nn.Module):
    """Fully connected network: flatten, then Linear + activation (+ dropout) per hidden size."""

    def __init__(self, in_features: int, hidden_sizes: list[int], activation: str,
                 dropout: float, num_classes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for size in hidden_sizes:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

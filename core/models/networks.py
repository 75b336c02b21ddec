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


class LeNet5(nn.Module):
    """LeCun's LeNet-5: conv 6 (5x5), pool, conv 16 (5x5), pool, fc 120, fc 84, fc classes.

    The first convolution pads by 2, so 28x28 digits meet the 32x32 the original was drawn
    for; `activation` is relu (modern) or tanh (the original's).
    """

    def __init__(self, in_channels: int, height: int, width: int, num_classes: int,
                 activation: str = "relu", dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * ((height // 2 - 4) // 2) * ((width // 2 - 4) // 2), 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)
        self.act = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(self.act(self.conv1(x)), 2)
        x = F.max_pool2d(self.act(self.conv2(x)), 2)
        x = self.dropout(self.act(self.fc1(torch.flatten(x, 1))))
        x = self.dropout(self.act(self.fc2(x)))
        return self.fc3(x)


class SmallCNN(nn.Module):
    """One block per entry of `channels`: 3x3 conv (+ batch norm), ReLU, 2x2 max pool while
    the image is at least 2 pixels; then global average pooling, dropout and a linear head.
    Blocks are `blocks.0`, `blocks.1`, ... and the classifier is `head`.

    With `average_rows_only` (spectrograms: frames down, bands across) only the time axis is
    averaged and the head reads each remaining band: which bands sound is the difference
    between a low and a high sound, and a global average would blur it away."""

    def __init__(self, in_channels: int, height: int, width: int, channels: list[int],
                 num_classes: int, dropout: float = 0.0, batch_norm: bool = True,
                 average_rows_only: bool = False) -> None:
        super().__init__()
        blocks = []
        size = min(height, width)
        self.average_rows_only = average_rows_only
        for out_channels in channels:
            layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 3, padding=1,
                                                 bias=not batch_norm)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
            if size >= 2:
                layers.append(nn.MaxPool2d(2))
                size //= 2
                width //= 2
            blocks.append(nn.Sequential(*layers))
            in_channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(in_channels * (width if average_rows_only else 1), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(x)
        x = x.mean(dim=2).flatten(1) if self.average_rows_only else x.mean(dim=(2, 3))
        return self.head(self.dropout(x))


class M5(nn.Module):
    """Dai et al.'s M5 ("Very deep convolutional neural networks for raw waveforms", 2017):
    a strided wide 1-D convolution, three more with 3-sample kernels, each with batch norm,
    ReLU and 4x max pooling; global average pooling, dropout and a linear head. Input
    (N, channels, samples)."""

    POOL = 4

    def __init__(self, in_channels: int, channels: int, first_kernel: int, first_stride: int,
                 num_classes: int, dropout: float = 0.0) -> None:
        super().__init__()
        widths = [(in_channels, channels, first_kernel, first_stride),
                  (channels, channels, 3, 1), (channels, 2 * channels, 3, 1),
                  (2 * channels, 2 * channels, 3, 1)]
        self.blocks = nn.Sequential(*(
            nn.Sequential(nn.Conv1d(a, b, kernel, stride=stride, bias=False),
                          nn.BatchNorm1d(b), nn.ReLU(), nn.MaxPool1d(self.POOL))
            for a, b, kernel, stride in widths))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * channels, num_classes)

    @classmethod
    def shortest_input(cls, first_kernel: int, first_stride: int) -> int:
        """The fewest samples that leave at least one step after the last pooling."""
        length = 1
        for _ in range(3):
            length = length * cls.POOL + 2  # back through a pooling, then a 3-sample conv
        return (length * cls.POOL - 1) * first_stride + first_kernel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(x).mean(dim=2)
        return self.head(self.dropout(x))


RECURRENT_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def masked_mean(values: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Mean of values (N, T, D) over the steps where keep (N, T) is true."""
    keep = keep.unsqueeze(-1).to(values.dtype)
    return (values * keep).sum(1) / keep.sum(1).clamp_min(1.0)


class RecurrentClassifier(nn.Module):
    """An RNN, LSTM or GRU over a sequence, then a linear head.

    Images (N, C, H, W) are read row by row: H steps of C*W features (a spectrogram,
    (N, 1, frames, bands), frame by frame). Token ids (N, L) are
    embedded (`embedding`, id 0 is padding at the end) and packed to each text's length, so
    neither direction reads the padding. The final hidden state of the last layer (both
    directions when bidirectional) feeds the head.
    """

    def __init__(self, cell: str, kind: str, input_shape: tuple[int, ...], vocab_size: int,
                 embedding_dim: int, hidden_size: int, layers: int, bidirectional: bool,
                 dropout: float, num_classes: int) -> None:
        super().__init__()
        self.kind = kind
        if kind == "tokens":
            self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
            features = embedding_dim
        else:
            channels, _, width = input_shape
            features = channels * width
        self.rnn = RECURRENT_CELLS[cell](features, hidden_size, layers, batch_first=True,
                                         bidirectional=bidirectional,
                                         dropout=dropout if layers > 1 else 0.0)
        self.directions = 2 if bidirectional else 1
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * self.directions, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "tokens":
            # Packing needs the lengths on the CPU: one small host sync per batch, for texts
            # only; an empty text counts as one (padding) token.
            lengths = (x != 0).sum(1).clamp_min(1).cpu()
            sequence = nn.utils.rnn.pack_padded_sequence(self.embedding(x), lengths,
                                                         batch_first=True, enforce_sorted=False)
        else:
            sequence = x.permute(0, 2, 1, 3).flatten(2)  # (N, H, C*W): one step per row
        _, hidden = self.rnn(sequence)
        if isinstance(hidden, tuple):  # an LSTM's (h, c)
            hidden = hidden[0]
        features = torch.cat(list(hidden[-self.directions:]), dim=1)
        return self.head(self.dropout(features))


class TransformerClassifier(nn.Module):
    """A small transformer encoder (pre-norm, GELU) with mean pooling and a linear head.

    Images are cut into patch_size x patch_size patches by `patch_embed` (a strided
    convolution; a border narrower than a patch is dropped); token ids are embedded by
    `embedding`, with padding (id 0) masked out of attention and pooling. Positions are
    learned (`position`).
    """

    def __init__(self, kind: str, input_shape: tuple[int, ...], vocab_size: int, width: int,
                 depth: int, heads: int, patch_size: int, dropout: float,
                 num_classes: int) -> None:
        super().__init__()
        self.kind = kind
        if kind == "tokens":
            self.embedding = nn.Embedding(vocab_size, width, padding_idx=0)
            positions = input_shape[0]
        else:
            channels, height, image_width = input_shape
            self.patch_embed = nn.Conv2d(channels, width, patch_size, stride=patch_size)
            positions = (height // patch_size) * (image_width // patch_size)
        self.position = nn.Parameter(torch.randn(1, positions, width) * 0.02)
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width,
                                           dropout=dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "tokens":
            padding = x == 0
            padding[:, 0] = False  # an empty text still attends to something
            h = self.embedding(x)
        else:
            padding = None
            h = self.patch_embed(x).flatten(2).transpose(1, 2)
        h = self.encoder(h + self.position, src_key_padding_mask=padding)
        h = self.norm(h)
        pooled = h.mean(1) if padding is None else masked_mean(h, ~padding)
        return self.head(pooled)


class InputAdapter:
    """A forward pre-hook that fits a batch to a torchvision model: grey images repeated to
    3 channels, and images resized to `size` when set. As a hook (not a wrapper module) it
    leaves the model's own layer names (conv1, layer1, fc) as torchvision has them, so
    torchvision weight files load and freeze prefixes match."""

    def __init__(self, repeat_grey: bool, size: int | None) -> None:
        self.repeat_grey, self.size = repeat_grey, size

    def __call__(self, module: nn.Module, args: tuple) -> tuple:
        x = args[0]
        if self.repeat_grey and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if self.size is not None and tuple(x.shape[2:]) != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear",
                              align_corners=False)
        return (x, *args[1:])

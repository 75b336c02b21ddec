"""Benchmark 2: the article's loop as written against TrainDesk's in-memory path.

The article trains on MNIST the way the PyTorch examples do: `torchvision.datasets.MNIST`
with `ToTensor()` and `Normalize()`, a `DataLoader(batch_size=64, shuffle=True)`, and a
loop over it. Every sample is turned into a PIL image, then a tensor, then normalised, one
at a time, and the batch is collated. TrainDesk's `mnist` reads the same files once and
slices batches out of one tensor.

No download: the bundled digits are written in MNIST's own file format (28x28 grey, 0-255)
into a temporary folder, and both read them from there. A second DataLoader loop over
ready-made tensors (`TensorDataset`: no per-sample image work) shows how much of the
difference is the per-sample loading and how much is the DataLoader itself.
Samples per second over training steps, same model, batch size, seed and thread count.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import digit_pixels, summarize, training_parts, write_mnist
from benchmarks.engine_vs_raw import traindesk_loop


def write_digits_as_mnist(root: Path) -> tuple[float, float]:
    """The digits' training and validation splits as MNIST's four IDX files under root;
    returns the training pixels' mean and std on the 0-1 scale, for Normalize."""
    train_x, train_y, val_x, val_y = digit_pixels()
    write_mnist(root, train_x, train_y, val_x, val_y)
    return float((train_x / 255.0).mean()), float((train_x / 255.0).std())


def loader_loop(config, loader, epochs: int) -> float:
    """The article's training loop over `loader`: samples per second over training steps."""
    _, model, optimizer, loss_fn = training_parts(config)
    seconds, samples = 0.0, 0
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            samples += len(y)
        seconds += time.perf_counter() - start
    return samples / seconds


def articles_loader(root: Path, mean: float, std: float, batch_size: int):
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((mean,), (std,))])
    train_set = datasets.MNIST(str(root), train=True, download=False, transform=transform)
    return DataLoader(train_set, batch_size=batch_size, shuffle=True)


def tensor_loader(config, batch_size: int):
    from torch.utils.data import DataLoader, TensorDataset

    data = training_parts(config)[0]
    # the images normalised once, up front: no per-sample work left but the DataLoader's
    inputs = data.prepare(data.train_x, False)
    return DataLoader(TensorDataset(inputs, data.train_y), batch_size=batch_size, shuffle=True)


def run(repeats: int = 3, epochs: int = 5) -> list[dict]:
    from core.config import RunConfig

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        mean, std = write_digits_as_mnist(root)
        for model in ("mlp", "simple_cnn"):
            def config():
                return RunConfig.from_dict({
                    "model": {"name": model},
                    "data": {"name": "mnist", "data_dir": str(root), "download": False},
                    "training": {"device": "cpu", "batch_size": 64}})

            article, tensors, ours = [], [], []
            for _ in range(repeats):  # taking turns: the machine's speed drifts between runs
                article.append(loader_loop(config(), articles_loader(root, mean, std, 64),
                                           epochs))
                tensors.append(loader_loop(config(), tensor_loader(config(), 64), epochs))
                ours.append(traindesk_loop(config(), epochs)[0])
            article_stats, tensor_stats = summarize(article), summarize(tensors)
            ours_stats = summarize(ours)
            rows.append({
                "benchmark": f"article's DataLoader loop vs in-memory, {model}, digits as "
                             "MNIST files, batch 64",
                "article's loop samples/s": article_stats,
                "DataLoader over tensors samples/s": tensor_stats,
                "traindesk samples/s": ours_stats,
                "speed-up over the article's loop": ours_stats["median"] / article_stats["median"],
                "speed-up over tensors": ours_stats["median"] / tensor_stats["median"],
            })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

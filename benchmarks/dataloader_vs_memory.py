"""Benchmark 2: the article's loop as written (a DataLoader over a Dataset, per-sample
__getitem__ and collate) against TrainDesk's in-memory path (index slicing) on the same
model, data, batch size and seed. Samples per second over training steps."""

from __future__ import annotations

import time

from benchmarks.common import summarize, training_parts
from benchmarks.engine_vs_raw import traindesk_loop


def dataloader_loop(config, epochs: int) -> float:
    from torch.utils.data import DataLoader, TensorDataset

    data, model, optimizer, loss_fn = training_parts(config)
    loader = DataLoader(TensorDataset(data.train_x, data.train_y),
                        batch_size=config.training.batch_size, shuffle=True)
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


def run(repeats: int = 3, epochs: int = 5) -> list[dict]:
    from core.config import RunConfig

    rows = []
    for model in ("mlp", "simple_cnn"):
        def config():
            return RunConfig.from_dict({"model": {"name": model}, "data": {"name": "digits"},
                                        "training": {"device": "cpu", "batch_size": 64}})

        loader, ours = [], []
        for _ in range(repeats):  # alternated: the machine's speed drifts between runs
            loader.append(dataloader_loop(config(), epochs))
            ours.append(traindesk_loop(config(), epochs)[0])
        loader_stats, ours_stats = summarize(loader), summarize(ours)
        rows.append({
            "benchmark": f"DataLoader loop vs in-memory, {model}, digits, batch 64",
            "dataloader samples/s": loader_stats, "traindesk samples/s": ours_stats,
            "speed-up (median)": ours_stats["median"] / loader_stats["median"],
        })
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)

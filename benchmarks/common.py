"""Shared helpers for the benchmarks: repeats, statistics and a description of the machine."""

from __future__ import annotations

import os
import platform
import statistics
import struct
import time
from pathlib import Path


def summarize(values: list[float]) -> dict:
    """Min, median and max of repeated measurements (and the values themselves)."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "values": list(values)}


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
            f"{platform.system()} {platform.release()}")


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def training_parts(config, fused: bool = False):
    """(data, model, optimizer, loss) for the hand-written loops the engine is held to: data,
    model and loss built from `config` as TrainDesk builds them, with its thread count and
    seed; the optimizer (adam) as a script writes it, `torch.optim.Adam(model.parameters(),
    lr=...)`, or with `fused`, with the fused kernels TrainDesk picks (core/train/optimizers.py)."""
    import torch

    from core.catalog import DATASETS
    from core.train.losses import build_loss
    from core.models.build import build_model
    from core.train.loop import cpu_threads

    assert config.optimizer.name == "adam", "the hand-written loops use Adam, as the article"
    torch.set_num_threads(cpu_threads(config.training.threads))
    torch.manual_seed(config.training.seed)
    data = DATASETS.get(config.data.name).build(config.data.params, config.training.seed)
    model, _ = build_model(config.model.name, config.model.params, data, config.loss.name)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.optimizer.params["lr"],
                                 **({"fused": True} if fused else {}))
    loss_fn = build_loss(config.loss.name, config.loss.params, data, config.data.name)
    return data, model, optimizer, loss_fn


def window_set_for(runs_dir, model: str, epochs: int):
    """The main window, shown, set to train `model` on digits on the CPU for `epochs`; for
    the benchmarks that drive the real window. Qt warnings are silenced (see gui/selftest.py
    for why by a rule, not a message handler)."""
    from pathlib import Path

    from PySide6.QtCore import QLoggingCategory
    from PySide6.QtWidgets import QApplication

    from core.config import RunConfig
    from gui.main_window import MainWindow

    QLoggingCategory.setFilterRules("default.warning=false")
    app = QApplication.instance() or QApplication([])
    window = MainWindow(runs_dir=Path(runs_dir))
    window.show()
    raw = window.setup_panel.raw_config()
    raw["model"] = {"name": model}
    raw["training"].update(epochs=epochs, device="cpu")
    window.setup_panel.set_config(RunConfig.from_dict(raw))
    return app, window


def digit_pixels(n_train: int | None = None, n_val: int | None = None):
    """(train images, train labels, val images, val labels): the bundled digits' split as
    TrainDesk makes it, images as uint8 (N, 28, 28) grey, light ink on black, labels uint8;
    each split repeated to n_train / n_val images when given. For the benchmarks that feed
    the digits through other datasets' file formats (MNIST's, CIFAR-10's)."""
    import numpy as np

    from core.catalog import CATALOGUES

    digits = CATALOGUES["data"].get("digits")
    data = digits.build(digits.defaults(), 0)
    stats = data.preprocessing

    def pixels(x):  # undo the stored normalisation: back to 0..255 grey
        values = x[:, 0].numpy() * stats["std"][0] + stats["mean"][0]
        return np.clip(np.rint(values * 255), 0, 255).astype(np.uint8)

    def repeat(x, y, n):
        index = np.resize(np.arange(len(y)), len(y) if n is None else n)
        return pixels(x)[index], y.numpy().astype(np.uint8)[index]

    return (*repeat(data.train_x, data.train_y, n_train), *repeat(data.val_x, data.val_y, n_val))


def write_mnist(root: Path, train_x, train_y, val_x, val_y) -> None:
    """MNIST's four IDX files, unzipped, under root/MNIST/raw (torchvision's layout)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, x, y in (("train", train_x, train_y), ("t10k", val_x, val_y)):
        for part, array in (("images", x), ("labels", y)):
            header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
            header += struct.pack(f">{array.ndim}I", *array.shape)
            (raw / f"{prefix}-{part}-idx{array.ndim}-ubyte").write_bytes(header + array.tobytes())

"""What `[training] fast` buys on a GPU: training samples per second with fast off and on.

    python -m benchmarks.gpu_fast --out DIR [--device cuda] [--quick]

For a CUDA machine with torch and no internet: it imports no Qt. The bundled digits are
written in MNIST's files (28x28 grey) and CIFAR-10's python files (32x32 colour: the
digits padded and in three channels), repeated to GPU-sized sets: throughput only, the
accuracies mean nothing. simple_cnn and resnet18 (weights none) train on each with fast
off and on, batch 256: one untimed 1-epoch warm-up run per configuration (torch.compile
compiles there; its wall time shows the cost), then a timed 3-epoch run. Recorded:
TrainDesk's own summary samples_per_s (over every training step) and the last epoch's
own rate (steady state, should the timed run still compile). Prints a table and writes
DIR/gpu_fast.json after every configuration, so a run cut short keeps what it measured.
--quick: small sets and 1 epoch, to check the script on a CPU in well under a minute.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import digit_pixels, write_mnist

BATCH_SIZE = 256
MODELS = ("simple_cnn", "resnet18")
# Whole batches only, for training (256) and evaluation (1024): a partial last batch would
# make torch.compile compile again for its shape.
FULL = {"train": 16384, "val": 2048, "epochs": 3}
QUICK = {"train": 512, "val": 256, "epochs": 1}
INPUTS = (("28x28 grey, MNIST files", "mnist"), ("32x32 colour, CIFAR-10 files", "cifar10"))


def write_cifar10(root: Path, train_x, train_y, val_x, val_y) -> None:
    """CIFAR-10's python files under root/cifar-10-batches-py: pickled dicts of rows of
    3x32x32 uint8 pixels (channel by channel) and label lists. The 28x28 digits are padded
    with 2 black pixels each side and repeated in three channels."""
    import numpy as np

    def rows(x):
        padded = np.pad(x, ((0, 0), (2, 2), (2, 2)))
        return np.repeat(padded[:, None], 3, axis=1).reshape(len(x), 3 * 32 * 32)

    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    parts = zip(np.array_split(rows(train_x), 5), np.array_split(train_y, 5))
    batches = {f"data_batch_{i}": part for i, part in enumerate(parts, 1)}
    batches["test_batch"] = (rows(val_x), val_y)
    for name, (x, y) in batches.items():
        with open(folder / name, "wb") as f:
            pickle.dump({"data": x, "labels": [int(v) for v in y]}, f, protocol=2)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [str(d) for d in range(10)]}, f, protocol=2)


def last_epoch_rate(epoch_ends: list, n_train: int) -> float | None:
    """The last epoch's own samples per second, from the cumulative rates of the last two
    EpochEnd events (every batch is full, so epoch k has seen k * n_train samples)."""
    if len(epoch_ends) < 2:
        return None
    before, last = epoch_ends[-2], epoch_ends[-1]
    seconds = (last.epoch * n_train / last.samples_per_s
               - before.epoch * n_train / before.samples_per_s)
    return n_train / seconds if seconds > 0 else None


def measure(config, runs_dir: Path, n_train: int) -> dict:
    """One configuration: an untimed 1-epoch warm-up run, then the timed run."""
    from core.events import EpochEnd
    from core.train.loop import train

    start = time.perf_counter()
    train(config.with_overrides(["training.epochs=1"]), runs_dir=runs_dir)
    warmup_s = time.perf_counter() - start
    epoch_ends: list = []

    def keep_epoch_ends(event) -> None:
        if isinstance(event, EpochEnd):
            epoch_ends.append(event)

    start = time.perf_counter()
    summary = train(config, runs_dir=runs_dir, listeners=[keep_epoch_ends])
    notes = [n for n in summary["data_notes"] if n.startswith("fast")]
    return {
        "samples_per_s": summary["samples_per_s"],
        "last_epoch_samples_per_s": last_epoch_rate(epoch_ends, n_train),
        "warmup_wall_s": round(warmup_s, 2),
        "timed_wall_s": round(time.perf_counter() - start, 2),
        "final_val_accuracy": summary["final_val_accuracy"],
        "compiled": any("torch.compile applied" in n for n in notes),
        "fast_notes": notes,
    }


def format_table(rows: list[dict]) -> str:
    """One line per configuration; fast rows show their speed-up over the same run without."""
    off = {(r["input"], r["model"]): r["samples_per_s"] for r in rows if not r["fast"]}
    lines = [f"{'input':<30} {'model':<11} {'fast':<5} {'samples/s':>10} {'last epoch':>10} "
             f"{'speed-up':>8} {'warm-up s':>9} {'timed s':>8}  compiled"]
    for r in rows:
        base = off.get((r["input"], r["model"]))
        speedup = (f"{r['samples_per_s'] / base:.2f}x" if r["fast"] and base
                   and r["samples_per_s"] else "")
        last = (f"{r['last_epoch_samples_per_s']:,.0f}" if r["last_epoch_samples_per_s"]
                else "-")
        lines.append(f"{r['input']:<30} {r['model']:<11} {'on' if r['fast'] else 'off':<5} "
                     f"{r['samples_per_s'] or 0:>10,.0f} {last:>10} {speedup:>8} "
                     f"{r['warmup_wall_s']:>9.1f} {r['timed_wall_s']:>8.1f}  "
                     f"{'yes' if r['compiled'] else 'no'}")
    notes = dict.fromkeys(n for r in rows for n in r["fast_notes"])  # unique, in order
    return "\n".join([*lines, *(f"  {n}" for n in notes)])


def environment(device: str) -> dict:
    import torch

    from core.train.fast import c_toolchain_found, triton_works

    facts = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": device,
             "python": sys.version.split()[0]}
    if device.startswith("cuda"):
        facts.update(gpu=torch.cuda.get_device_name(device),
                     bf16_supported=torch.cuda.is_bf16_supported(including_emulation=False),
                     triton=triton_works(), c_toolchain=c_toolchain_found())
    return facts


def run(out: Path, device: str = "cuda", quick: bool = False) -> dict:
    from core.config import RunConfig

    sizes = QUICK if quick else FULL
    result = {**environment(device), "quick": quick, "batch_size": BATCH_SIZE,
              "epochs": sizes["epochs"], "train_samples": sizes["train"],
              "val_samples": sizes["val"], "rows": []}
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        arrays = digit_pixels(sizes["train"], sizes["val"])
        write_mnist(root / "data", *arrays)
        write_cifar10(root / "data", *arrays)
        for label, dataset in INPUTS:
            for model in MODELS:
                for fast in (False, True):
                    config = RunConfig.from_dict({
                        "model": {"name": model},
                        "data": {"name": dataset, "data_dir": str(root / "data"),
                                 "download": False},
                        "training": {"device": device, "batch_size": BATCH_SIZE,
                                     "epochs": sizes["epochs"], "fast": fast}})
                    row = {"input": label, "dataset": dataset, "model": model, "fast": fast,
                           **measure(config, root / "runs", sizes["train"])}
                    result["rows"].append(row)
                    result["total_s"] = round(time.perf_counter() - started, 1)
                    print(f"[{result['total_s']:6.1f} s] {label}, {model}, fast {fast}: "
                          f"{row['samples_per_s']} samples/s", flush=True)
                    (out / "gpu_fast.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Training samples per second with "
                                     "[training] fast off and on (see the module's doc).")
    parser.add_argument("--out", type=Path, required=True, help="folder for gpu_fast.json")
    parser.add_argument("--device", default="cuda", help="cuda (default), cuda:N or cpu")
    parser.add_argument("--quick", action="store_true", help="tiny sets and 1 epoch, for a "
                        "check of the script itself")
    args = parser.parse_args(argv)
    result = run(args.out, args.device, args.quick)
    print({k: v for k, v in result.items() if k != "rows"})
    print(format_table(result["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: an image folder too large for its memory budget, read from disk batch by batch
(core/data/streaming.py), against the in-memory path.

It writes a folder of JPEGs (256x256, ten classes of smooth colour fields with noise, about
12 KB each) into a temporary folder and trains an mlp at image_size 224 with a small
`memory_budget_mb`, so the whole folder (decoded: 147 KB an image) is streamed by the
automatic choice while a subset that fits is held in memory. The mlp is small (8 hidden
units) so that reading, not the model, sets the pace. It records:

- samples per second over training steps on the subset: in memory, and streamed with 0, 1
  and 2 worker processes (the first steps, while workers start, are left out);
- one whole epoch over the whole folder, streamed with 2 workers: samples per second and
  the peak memory, sampled every 50 ms: the training process's RSS, and the proportional
  set size (PSS) of it with its workers (RSS would count torch's libraries once in each),
  against the budget and the decoded size of the folder.

`python -m benchmarks.streaming [--images 20000] [--subset 1500] [--budget-mb 256]`
(`--subset 0`: the whole epoch only)
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.common import machine

CLASSES = 10
SIDE = 256
IMAGE_SIZE = 224
BATCH = 64


def write_jpegs(root: Path, count: int) -> float:
    """`count` JPEGs in CLASSES class folders under root; returns the seconds it took."""
    import numpy as np
    from PIL import Image

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, SIDE, dtype=np.float32)
    for label in range(CLASSES):
        (root / f"class{label}").mkdir(parents=True)
    for n in range(count):
        label = n % CLASSES
        colour = np.array([(label * 37) % 256, (label * 91) % 256, (label * 53) % 256],
                          np.float32)
        field = colour * (0.5 + 0.5 * ramp[:, None, None]) * (0.6 + 0.4 * ramp[None, :, None])
        noise = rng.integers(0, 24, (SIDE, SIDE, 1), dtype=np.uint8)
        pixels = np.clip(field + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"class{label}" / f"{n:06d}.jpg", quality=85)
    return time.perf_counter() - start


def linked_subset(root: Path, out: Path, count: int) -> Path:
    """The first `count` images of root (evenly over the classes) as hard links under out."""
    for label in range(CLASSES):
        folder = out / f"class{label}"
        folder.mkdir(parents=True)
        for path in sorted((root / f"class{label}").iterdir())[:count // CLASSES]:
            os.link(path, folder / path.name)
    return out


def memory_mb(pid: int, field: str) -> float:
    """A process's resident memory from /proc (Linux): "Rss", or "Pss", which shares the
    pages of libraries several processes map (torch's, in each worker) among them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The child processes of pid (the loader's workers), from /proc (Linux)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class PeakMemory:
    """Samples this process's RSS, and the proportional memory (PSS) of it with its
    children (the loader's workers), every 50 ms."""

    def __init__(self) -> None:
        self.main = self.total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        pid = os.getpid()
        while not self._stop.wait(0.05):
            self.main = max(self.main, memory_mb(pid, "Rss"))
            self.total = max(self.total, sum(memory_mb(p, "Pss") for p in [pid, *children(pid)]))


def stop_after(steps: int):
    """A RunControl that stops the run once `steps` optimisation steps are done."""
    from core.control import RunControl

    class StopAfter(RunControl):
        calls = 0

        def checkpoint(self, before_pause=None) -> None:
            self.calls += 1
            if self.calls > steps:
                self.stop()
            super().checkpoint(before_pause)

    return StopAfter()


def train_steps(folder: Path, runs: Path, storage: str, workers: int, budget_mb: int,
                steps: int | None) -> dict:
    """Train an mlp on the folder (`steps` steps, or one whole epoch for None): samples
    per second over the training steps after the fifth, the storage chosen, peak RSS."""
    from core.config import RunConfig
    from core.events import BatchEnd
    from core.train.loop import train

    config = RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[8]", "data.name=image_folder",
        f"data.folder={folder}", f"data.image_size={IMAGE_SIZE}", "data.val_split=0.2",
        f"data.storage={storage}", f"data.workers={workers}",
        f"data.memory_budget_mb={budget_mb}", "training.epochs=1",
        f"training.batch_size={BATCH}", "training.device=cpu", "training.tensorboard=false"])
    ends: list = []
    control = stop_after(steps) if steps else None
    with PeakMemory() as peak:
        start = time.perf_counter()
        summary = train(config, runs_dir=runs, control=control,
                        listeners=[lambda e: ends.append(e) if isinstance(e, BatchEnd) else None])
        seconds = time.perf_counter() - start
    first, last = ends[4], ends[-1]
    streamed = any("batch by batch" in note for note in summary["data_notes"])
    return {"storage": "stream" if streamed else "memory", "workers": workers,
            "steps": last.step,
            "samples_per_s": (last.step - first.step) * BATCH / (last.elapsed_s - first.elapsed_s),
            "run_seconds": round(seconds, 1), "peak_rss_mb": round(peak.main),
            "peak_pss_with_workers_mb": round(peak.total)}


def run(images: int, subset: int, budget_mb: int) -> dict:
    from core.data.streaming import decoded_mb

    results: dict = {"machine": machine(), "images": images, "subset": subset,
                     "budget_mb": budget_mb, "image_size": IMAGE_SIZE, "batch_size": BATCH,
                     "decoded_mb": round(decoded_mb(images, 3, IMAGE_SIZE)),
                     "subset_decoded_mb": round(decoded_mb(subset, 3, IMAGE_SIZE))}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        results["write_seconds"] = round(write_jpegs(root / "all", images), 1)
        results["folder_mb"] = round(sum(p.stat().st_size for p in (root / "all").rglob("*.jpg"))
                                     / 2**20)
        if subset:  # 0: the whole epoch only
            part = linked_subset(root / "all", root / "subset", subset)
            steps = subset * 4 // 5 // BATCH  # the subset's training batches: one epoch
            results["subset_runs"] = [
                train_steps(part, root / "runs", "auto", 0, budget_mb, steps),
                *(train_steps(part, root / "runs", "stream", w, budget_mb, steps)
                  for w in (0, 1, 2))]
        results["whole_epoch"] = train_steps(root / "all", root / "runs", "auto", 2,
                                             budget_mb, None)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--subset", type=int, default=1500)
    parser.add_argument("--budget-mb", type=int, default=256)
    args = parser.parse_args()
    print(json.dumps(run(args.images, args.subset, args.budget_mb), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

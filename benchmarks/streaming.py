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

`--cache` measures the decoded-image cache (`[data] cache = "disk"`, core/data/image_cache.py)
instead: two epochs over the whole folder streamed with 2 workers, without the cache and
with it (a cache made new for the run, filled in epoch 1 and read in epoch 2), then a
second run with the cache already full; samples per second of each epoch's training steps
(from its second step: the first waits for the workers to start or for the validation
before it), each epoch's seconds with its validation, and the cache file's size.
`python -m benchmarks.streaming --cache [--images 5000] [--side 256]` (5,000: over twice the
2,000 images of the channel statistics, so that the workers, not the statistics, fill most
of the cache)
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


def write_jpegs(root: Path, count: int, side: int = SIDE) -> float:
    """`count` JPEGs of side x side in CLASSES class folders under root; returns the
    seconds it took."""
    import numpy as np
    from PIL import Image

    start = time.perf_counter()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 1, side, dtype=np.float32)
    for label in range(CLASSES):
        (root / f"class{label}").mkdir(parents=True)
    for n in range(count):
        label = n % CLASSES
        colour = np.array([(label * 37) % 256, (label * 91) % 256, (label * 53) % 256],
                          np.float32)
        field = colour * (0.5 + 0.5 * ramp[:, None, None]) * (0.6 + 0.4 * ramp[None, :, None])
        noise = rng.integers(0, 24, (side, side, 1), dtype=np.uint8)
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


class Sampler:
    """Calls `sample()` every 50 ms in a thread while the `with` block runs."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self.sample()

    def sample(self) -> None:
        raise NotImplementedError


class PeakMemory(Sampler):
    """Samples this process's RSS, and the proportional memory (PSS) of it with its
    children (the loader's workers), every 50 ms."""

    def __init__(self) -> None:
        super().__init__()
        self.main = self.total = 0.0

    def sample(self) -> None:
        pid = os.getpid()
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


class CpuSeconds(Sampler):
    """CPU seconds used by this process (all its threads) and by its children (the loader's
    workers), from /proc (Linux): a measure of the work done that other jobs on a loaded
    machine change far less than they change wall-clock speeds. The children are sampled
    every 50 ms and keep their last figure once they exit (the workers stop at the run's
    end, before its last events are delivered)."""

    def __init__(self) -> None:
        super().__init__()
        self.children: dict[int, float] = {}

    def now(self) -> tuple[float, float]:
        """(this process's CPU seconds, its children's) so far."""
        self.sample()
        return time.process_time(), sum(self.children.values())

    def sample(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        for pid in children(os.getpid()):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            self.children[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def epochs_with_cache(folder: Path, runs: Path, cache: str, epochs: int = 2) -> dict:
    """Train `epochs` epochs over the folder, streamed with 2 workers, with [data] cache:
    per epoch, samples per second over its training steps from the second, its seconds with
    validation, and the CPU seconds of the training process and of the workers (at the
    epoch's last event, which arrives within a tenth of a second; the workers start in
    epoch 1 and are counted there); the cache's note."""
    from core.config import RunConfig
    from core.events import BatchEnd, EpochEnd
    from core.train.loop import train

    config = RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[8]", "data.name=image_folder",
        f"data.folder={folder}", f"data.image_size={IMAGE_SIZE}", "data.val_split=0.2",
        "data.storage=stream", "data.workers=2", f"data.cache={cache}",
        f"training.epochs={epochs}", f"training.batch_size={BATCH}", "training.device=cpu",
        "training.tensorboard=false"])
    events: list = []
    cpu: dict[int, tuple[float, float]] = {}

    def record(event) -> None:
        if isinstance(event, (BatchEnd, EpochEnd)):
            events.append(event)
            cpu[event.epoch] = used.now()  # the epoch's last event received so far

    with CpuSeconds() as used:
        cpu[0] = used.now()
        start = time.perf_counter()
        summary = train(config, runs_dir=runs, listeners=[record])
        seconds = time.perf_counter() - start
    result: dict = {"cache": cache, "run_seconds": round(seconds, 1),
                    "data_seconds": round(summary["data_seconds"], 1),
                    "notes": [n for n in summary["data_notes"] if "cache" in n]}
    previous_end = 0.0
    for epoch in range(1, epochs + 1):
        steps = [e for e in events if isinstance(e, BatchEnd) and e.epoch == epoch]
        (end,) = [e for e in events if isinstance(e, EpochEnd) and e.epoch == epoch]
        first, last = steps[0], steps[-1]
        result[f"epoch{epoch}_samples_per_s"] = round(
            (last.step - first.step) * BATCH / (last.elapsed_s - first.elapsed_s), 1)
        result[f"epoch{epoch}_seconds_with_validation"] = round(end.elapsed_s - previous_end, 1)
        # the first epoch's workers start within it: their start-up is in epoch 1's figure
        (main, workers), (main_before, workers_before) = cpu[epoch], cpu[epoch - 1]
        result[f"epoch{epoch}_cpu_s_training_process"] = round(main - main_before, 1)
        result[f"epoch{epoch}_cpu_s_workers"] = round(workers - workers_before, 1)
        previous_end = end.elapsed_s
    return result


def run_cache(images: int, side: int) -> dict:
    """Two epochs streamed without the cache, with a new one, and with the full one."""
    from core.data.image_cache import cache_folder

    results: dict = {"machine": machine(), "load_average_before": os.getloadavg(),
                     "images": images, "side": side, "image_size": IMAGE_SIZE,
                     "batch_size": BATCH}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["TRAINDESK_HOME"] = str(root / "home")  # a cache of this run's own
        results["write_seconds"] = round(write_jpegs(root / "all", images, side), 1)
        results["folder_mb"] = round(sum(p.stat().st_size for p in (root / "all").rglob("*.jpg"))
                                     / 2**20)
        results["runs"] = [epochs_with_cache(root / "all", root / "runs", cache)
                           for cache in ("none", "disk", "disk")]
        (cache_file,) = cache_folder().iterdir()
        stat = cache_file.stat()
        results["cache_file_mb"] = round(stat.st_size / 2**20)
        results["cache_on_disk_mb"] = round(getattr(stat, "st_blocks", 0) * 512 / 2**20)
        results["load_average_after"] = os.getloadavg()
    return results


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
    parser.add_argument("--images", type=int, default=None,
                        help="JPEGs to write (20,000; 5,000 with --cache)")
    parser.add_argument("--subset", type=int, default=1500)
    parser.add_argument("--budget-mb", type=int, default=256)
    parser.add_argument("--cache", action="store_true",
                        help="measure the decoded-image cache (--images 3000 by default)")
    parser.add_argument("--side", type=int, default=SIDE, help="the JPEGs' side in pixels")
    args = parser.parse_args()
    if args.cache:
        print(json.dumps(run_cache(args.images or 5000, args.side), indent=1))
        return 0
    print(json.dumps(run(args.images or 20000, args.subset, args.budget_mb), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

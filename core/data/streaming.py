"""Image folders read from disk batch by batch, for folders whose decoded images would not
fit in memory (a user's 200,000 photos are 30 GB at 224x224).

`ImageFiles` stands where an in-memory dataset holds its uint8 image tensor
(core.data.memory.InMemoryData's train_x / val_x): it has the tensor's length, shape and
dtype, and indexing it decodes those few images at once (previews, export checks). Whole
passes go through `batches`: torch's DataLoader decodes and resizes the images in worker
processes (started with "spawn" on every platform: forking a process that runs Qt and
torch's thread pools can deadlock, and spawn is what Windows, macOS and a frozen app use
anyway), keeps the next batches prefetched, pins them when the model is on a GPU and hands
them over as uint8, so normalisation and augmentation run on the device exactly as for an
in-memory folder (core.data.image_batches). The loader is handed each epoch's batches in
the order the trainer chose (core.train.loop.epoch_order), so a resumed run reads the same
batches from the same place, and it has a generator of its own, so it draws nothing from
torch's random state that augmentation and dropout use.

A file that cannot be decoded is left out of its batch and remembered (`unreadable`), so
the run can report it; it never stops a run.

With `[data] cache = "disk"` the workers keep each image they decode in a memory-mapped file
(core.data.image_cache), and later epochs and runs copy it from there instead of decoding.

Everything a worker runs is defined at the top of this module, importable by a spawned
process (packaging/launch.py calls multiprocessing.freeze_support for the frozen app).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from core.errors import TrainingFailed
from core.files import printable
from core.i18n import translatable

# Batches each worker keeps decoded ahead of the one in use (DataLoader's prefetch_factor).
PREFETCH = 2
# Samples per batch of a pass without gradients (validation, evaluation): the workers'
# batches in flight and their normalised float copies stay small (64 images at 224x224
# are 9.6 MB as read, 39 MB as floats).
INFERENCE_BATCH = 64
# Without a memory_budget_mb setting, decoded images may take this share of the
# computer's memory before a folder is streamed: the in-memory path briefly holds two
# copies while it stacks and splits them, and the model and the app need the rest.
DEFAULT_BUDGET_SHARE = 0.25

UNREADABLE = translatable("Messages", "{count} unreadable image file(s) in {root} skipped "
                                      "({names})")
STREAMED = translatable("Messages", "images read from disk batch by batch (workers = "
                                    "{workers}): decoded they would take {size} MB, more "
                                    "than the memory budget of {budget} MB")
STREAMED_AS_SET = translatable("Messages", "images read from disk batch by batch (storage = "
                                           "stream, workers = {workers})")


def decode_image(path, size: int, mode: str) -> np.ndarray | None:
    """The image file as uint8 (C, size, size) ("RGB" or "L" `mode`), or None when it
    cannot be read. The one decoding of image folders, in memory or streamed."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image = image.convert(mode).resize((size, size), Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except Exception:  # truncated, corrupt or not an image after all: skipped and counted
        return None
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def decode_images(paths: list, size: int, mode: str) -> list[np.ndarray | None]:
    """decode_image of each path, a few at a time: decoding and resizing release the GIL."""
    if len(paths) < 2:
        return [decode_image(p, size, mode) for p in paths]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda p: decode_image(p, size, mode), paths))


def read_images(paths: list, positions: list[int], size: int, mode: str,
                cached=None) -> list[np.ndarray | None]:
    """decode_images of the files at `positions`; with `cached` (a
    core.data.image_cache.CacheFile of these paths) those already there are copied from it
    and those decoded here are written to it."""
    images = [cached.get(p) if cached is not None else None for p in positions]
    missing = [i for i, image in enumerate(images) if image is None]
    decoded = decode_images([paths[positions[i]] for i in missing], size, mode)
    for i, image in zip(missing, decoded):
        images[i] = image
        if image is not None and cached is not None:
            cached.put(positions[i], image)
    return images


def decoded_mb(images: int, channels: int, size: int) -> float:
    """Megabytes that `images` decoded uint8 images of channels x size x size take."""
    return images * channels * size * size / 2**20


def memory_budget_mb(setting: int) -> int:
    """The memory budget for decoded images: `setting`, or for 0 a quarter of this
    computer's memory (4096 MB where it cannot be read)."""
    if setting:
        return setting
    total = physical_memory_bytes()
    return int(total * DEFAULT_BUDGET_SHARE / 2**20) if total else 4096


def physical_memory_bytes() -> int:
    """This computer's memory in bytes; 0 when the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        pass
    try:
        import ctypes

        class MemoryStatus(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                        ("total", ctypes.c_ulonglong), ("available", ctypes.c_ulonglong),
                        ("total_page", ctypes.c_ulonglong), ("free_page", ctypes.c_ulonglong),
                        ("total_virtual", ctypes.c_ulonglong),
                        ("free_virtual", ctypes.c_ulonglong),
                        ("free_extended", ctypes.c_ulonglong)]

        status = MemoryStatus()
        status.length = ctypes.sizeof(MemoryStatus)
        ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))
        return int(status.total)
    except Exception:  # not Windows either: the fixed budget
        return 0


def storage_of(params: dict, images: int, channels: int, size: int) -> tuple[str, str]:
    """("memory" or "stream", the note that says why for a streamed folder, else "") for a
    folder of `images` images: [data] storage, or with "auto" streaming exactly when their
    decoded size exceeds the memory budget."""
    workers = params["workers"]
    if params["storage"] == "stream":
        return "stream", STREAMED_AS_SET.format(workers=workers)
    size_mb = decoded_mb(images, channels, size)
    budget = memory_budget_mb(params["memory_budget_mb"])
    if params["storage"] == "memory" or size_mb <= budget:
        return "memory", ""
    return "stream", STREAMED.format(workers=workers, size=f"{size_mb:,.0f}",
                                     budget=f"{budget:,}")


def unreadable_note(root, paths: list) -> str:
    """The note for image files under `root` that could not be read and were skipped."""
    names = ", ".join(printable(_relative(Path(p), root)) for p in paths[:3])
    return UNREADABLE.format(count=len(paths), root=printable(root),
                             names=names + (", ..." if len(paths) > 3 else ""))


def _relative(path: Path, root) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


class FolderImages(Dataset):
    """What a worker process does: decode the files at the positions of one batch into a
    uint8 tensor (k, C, size, size), and say which positions of the batch those k are
    (the others could not be read). With a cache (core.data.image_cache), an image already
    there is copied out of it, and one decoded here is written to it."""

    def __init__(self, paths: list[str], size: int, mode: str, cache=None) -> None:
        self.paths, self.size, self.mode = paths, size, mode
        self.cache = cache  # an ImageCache (plain values); mapped in the worker that reads
        self._mapped = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_mapped": None}  # a mapping does not cross to a worker

    def __len__(self) -> int:
        return len(self.paths)

    def _image(self, position: int) -> np.ndarray | None:
        if self.cache is not None and self._mapped is None:
            self._mapped = self.cache.open()
            if self._mapped is None:  # the file is gone: decode from now on
                self.cache = None
        if self.cache is None:
            return decode_image(self.paths[position], self.size, self.mode)
        image = self._mapped.get(position)
        if image is None:
            image = decode_image(self.paths[position], self.size, self.mode)
            if image is not None:
                self._mapped.put(position, image)
        return image

    def __getitem__(self, positions: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        decoded = [self._image(p) for p in positions]
        kept = [i for i, image in enumerate(decoded) if image is not None]
        channels = 1 if self.mode == "L" else 3
        images = (np.stack([decoded[i] for i in kept]) if kept
                  else np.zeros((0, channels, self.size, self.size), np.uint8))
        return torch.from_numpy(images), torch.tensor(kept, dtype=torch.long)


class PlannedBatches(Sampler):
    """The batches (lists of file positions) of the pass about to be read; set before each
    pass, as the order changes from epoch to epoch while the workers stay."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


@contextlib.contextmanager
def _child_signals_held():
    """torch's SIGCHLD handler set aside for the block. A signal already received but not
    yet handled runs the handler current when Python gets to it, so blocking the signal
    would not do. Only the main thread has (and can change) signal handlers."""
    if not hasattr(signal, "SIGCHLD") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGCHLD, previous)


class FolderReader:
    """The worker processes that decode a folder's files, shared by its two splits (a pass
    over one of them runs at a time, so one set of workers serves both), and the device the
    batches go to (pinned first when it is a GPU)."""

    def __init__(self, paths: list, size: int, mode: str, workers: int,
                 device="cpu", cache=None) -> None:
        self.paths = [str(p) for p in paths]
        self.size, self.mode, self.workers = size, mode, workers
        self.cache = cache  # core.data.image_cache.ImageCache, or None
        self.device = torch.device(device)
        self._loader: DataLoader | None = None
        self._planned = PlannedBatches()
        self._moved: dict[str, FolderReader] = {}

    def on(self, device) -> FolderReader:
        """The reader of the same files for `device` (one per device, shared by the splits)."""
        device = torch.device(device)
        if device == self.device:
            return self
        if str(device) not in self._moved:
            self._moved[str(device)] = FolderReader(self.paths, self.size, self.mode,
                                                    self.workers, device, self.cache)
        return self._moved[str(device)]

    def read(self, batches: list[list[int]]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(uint8 images on the device, positions in the batch of those read) for each
        batch of file positions; a new pass drops what the workers read ahead for the last."""
        self._planned.batches = batches
        try:
            for images, kept in self._reader():
                yield images.to(self.device, non_blocking=True), kept
        except (RuntimeError, EOFError, ConnectionError) as exc:
            # a worker that died: torch notices it (RuntimeError), or its pipe closes mid-batch
            if isinstance(exc, RuntimeError) and "DataLoader worker" not in str(exc):
                raise
            self.close()
            # torch says "... is killed by signal: Killed." or "... exited unexpectedly"
            signal_name = str(exc).partition("by signal: ")[2].strip().rstrip(".")
            how = f"was killed ({signal_name})" if signal_name else "ended unexpectedly"
            raise TrainingFailed(
                f"a worker process reading the image folder {how}, often a sign the system "
                "ran short of memory; lower [data] workers or memory_budget_mb, then resume "
                "the run") from None

    def close(self) -> None:
        """Stop the worker processes (they stay from pass to pass otherwise)."""
        loader, self._loader = self._loader, None
        iterator = getattr(loader, "_iterator", None)  # where persistent workers live
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            # Now, not whenever the garbage collector gets to it: while a worker that died
            # is still registered, torch's SIGCHLD handler raises again at any moment, even
            # while the run records how it ended; so SIGCHLD waits until they are gone.
            with _child_signals_held():
                iterator._shutdown_workers()
        for moved in self._moved.values():
            moved.close()

    def _reader(self) -> DataLoader:
        if self._loader is None:
            workers = self.workers
            self._loader = DataLoader(
                FolderImages(self.paths, self.size, self.mode, self.cache),
                sampler=self._planned,
                batch_size=None, num_workers=workers, pin_memory=self.device.type == "cuda",
                persistent_workers=workers > 0, prefetch_factor=PREFETCH if workers else None,
                multiprocessing_context="spawn" if workers else None,
                generator=torch.Generator())
        return self._loader


class ImageFiles:
    """`count` image files of a FolderReader from `start` (one split of a folder), decoded
    to uint8 (C, size, size) when read, standing in for the uint8 tensor (N, C, size, size)
    of an in-memory image folder. `root` names the files in notes; `unreadable` (position ->
    path) collects the files met that could not be decoded, shared with the copies `to`
    makes."""

    def __init__(self, reader: FolderReader, start: int, count: int, root,
                 unreadable: dict | None = None) -> None:
        self.reader, self.start, self.count, self.root = reader, start, count, root
        self.unreadable: dict[int, str] = {} if unreadable is None else unreadable

    # ---- what code written for a tensor reads

    def __len__(self) -> int:
        return self.count

    @property
    def shape(self) -> torch.Size:
        reader = self.reader
        return torch.Size((self.count, 1 if reader.mode == "L" else 3, reader.size, reader.size))

    @property
    def dtype(self) -> torch.dtype:
        return torch.uint8

    @property
    def device(self) -> torch.device:
        return self.reader.device

    def to(self, device) -> ImageFiles:
        """The same files, read into batches on `device` (pinned, copied without waiting)."""
        return ImageFiles(self.reader.on(device), self.start, self.count, self.root,
                          self.unreadable)

    def path(self, position: int) -> str:
        return self.reader.paths[self.start + position]

    def __getitem__(self, key):
        """The images at an index, slice, list or tensor of indices, decoded here and now
        (for a few samples: previews, checks); an unreadable file reads as a black image,
        so the result lines up with the labels, and is remembered."""
        if isinstance(key, (int, np.integer)) or (torch.is_tensor(key) and key.dim() == 0):
            return self[[int(key)]][0]
        if isinstance(key, slice):
            positions = list(range(self.count))[key]
        else:
            positions = [int(p) for p in (key.tolist() if torch.is_tensor(key) else key)]
        reader = self.reader
        cached = reader.cache.open() if reader.cache is not None else None
        decoded = read_images(reader.paths, [self.start + p for p in positions], reader.size,
                              reader.mode, cached)
        blank = np.zeros(self.shape[1:], np.uint8)
        for position, image in zip(positions, decoded):
            if image is None:
                self.unreadable[position] = self.path(position)
        images = [blank if image is None else image for image in decoded]
        stacked = np.stack(images) if images else np.zeros((0, *self.shape[1:]), np.uint8)
        return torch.from_numpy(stacked).to(self.device)

    # ---- passes over many samples

    def batches(self, indices: Iterable) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(images, index) for each index tensor in turn: the decoded uint8 images on the
        device, and the index of those that could be read (the rest is left out and
        remembered in `unreadable`). The workers decode ahead while the model trains."""
        indices = list(indices)
        if not indices:
            return
        lengths = [len(index) for index in indices]
        flat = (torch.cat([index.reshape(-1) for index in indices]).cpu() + self.start).tolist()
        starts = np.cumsum([0, *lengths])
        planned = [flat[a:b] for a, b in zip(starts[:-1], starts[1:])]
        for index, positions, (images, kept) in zip(indices, planned,
                                                    self.reader.read(planned)):
            if len(kept) < len(positions):
                for i in set(range(len(positions))) - set(kept.tolist()):
                    self.unreadable[positions[i] - self.start] = self.reader.paths[positions[i]]
                index = index[kept.to(index.device)]
            yield images, index

    def in_order(self, batch: int) -> Iterator[torch.Tensor]:
        """All the readable images in file order, `batch` at a time at most (fewer than
        INFERENCE_BATCH); the targets to match are `readable(y)` once the pass is done."""
        batch = min(batch, INFERENCE_BATCH)
        for images, _ in self.batches(torch.arange(self.count).split(batch)):
            yield images

    def readable(self, values: torch.Tensor) -> torch.Tensor:
        """`values` (one per file, in file order) without those of the unreadable files."""
        if not self.unreadable:
            return values
        keep = torch.ones(self.count, dtype=torch.bool)
        keep[list(self.unreadable)] = False
        return values[keep.to(values.device)]

    def close(self) -> None:
        """Stop the worker processes of the folder (both splits': they share them)."""
        self.reader.close()


def folder_splits(train_paths: list, val_paths: list, size: int, mode: str, workers: int,
                  roots: tuple, cache=None) -> tuple[ImageFiles, ImageFiles]:
    """(training, validation) ImageFiles of a folder's two splits, read by one FolderReader;
    `roots` name the files of each in notes. `cache`: the ImageCache of the training files
    then the validation files (core.data.image_cache.prepare), or None."""
    reader = FolderReader([*train_paths, *val_paths], size, mode, workers, cache=cache)
    return (ImageFiles(reader, 0, len(train_paths), roots[0]),
            ImageFiles(reader, len(train_paths), len(val_paths), roots[1]))

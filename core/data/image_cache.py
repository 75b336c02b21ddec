"""A streamed image folder's decoded images kept on disk (`[data] cache = "disk"`): one file
per folder and image size, memory-mapped, holding each image as decode_image made it (uint8
at the training size, before any augmentation), so that epochs after the first, and later
runs, copy images out of the file instead of decoding JPEGs again.

The file is made (its whole size reserved on disk, holding no image yet) when the run's data
is built, and filled as each image is first read: by the data workers, in whatever order
the epoch asks for them, and by the channel statistics and previews, which read a few. We chose filling during the first epoch over a
pass of its own before it: the first epoch costs what a streamed epoch costs now, nothing
more, a run stopped or killed half-way keeps what it filled, and the workers keep the one
way of reading they have (an image either comes from the file or is decoded and written
there).

Layout: a 64-byte header (magic, count, channels, size), then `count` int64 checks, then
the images (count, channels, size, size). An image's check is 0 until it is written, then
its CRC-32 plus one, written after the pixels. A row is used only when its pixels match its
check, so a file cut short by a killed run, a crash that wrote the check's page but not the
pixels', or two runs filling the same file at once can cost a decode again, never a wrong
image. Unreadable files are not recorded: they are decoded (and fail, and are skipped and
counted) again each time, so a file that could not be read once for a passing reason is
not lost for good.

Which file: named by a hash of the folder roots, image size and colour mode (older files
with that name part are removed when a new one is made), and a hash of every file's path,
size and modification time, so a folder whose files changed gets a new cache, never a stale
one. It lives in TRAINDESK_HOME/cache/images (the user data folder without it), beside the
translations cache, so TRAINDESK_HOME moves all of TrainDesk's files at once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.files import printable, traindesk_home
from core.i18n import translatable

MAGIC = b"TDIMGC01"
HEADER_BYTES = 64
SUFFIX = ".images"

CACHED = translatable("Messages", "decoded images cached on disk in {path} ({size} MB; "
                                  "{filled} of {count} images there so far)")
NO_ROOM = translatable("Messages", "decoded images not cached: the cache needs {size} MB and "
                                   "{folder} has {free} MB free; free disk space or set "
                                   "[data] cache = \"none\"")
CANNOT_WRITE = translatable("Messages", "decoded images not cached: cannot write {path} "
                                        "({reason}); make the folder writable or set [data] "
                                        "cache = \"none\"")


def cache_folder() -> Path:
    return traindesk_home() / "cache" / "images"


@dataclass(frozen=True)
class ImageCache:
    """Where a folder's decoded images are cached and which row holds each file: `rows[i]`
    is the row of the reader's i-th file. Plain values, so it travels to spawned workers."""

    path: str
    rows: tuple[int, ...]
    channels: int
    size: int

    @property
    def count(self) -> int:
        return len(self.rows)

    def open(self) -> CacheFile | None:
        """The file mapped into this process; None when it cannot be (removed meanwhile by
        a run of the folder after its files changed): the images are then decoded."""
        try:
            return CacheFile(self)
        except (OSError, ValueError):
            return None

    def note(self) -> str:
        """Where the cache is, its size and how many images it holds now."""
        opened = self.open()
        filled = int(np.count_nonzero(opened.checks)) if opened is not None else 0
        size_mb = file_bytes(self.count, self.channels, self.size) / 2**20
        return CACHED.format(path=printable(self.path), size=f"{size_mb:,.0f}",
                             filled=f"{filled:,}", count=f"{self.count:,}")


def file_bytes(count: int, channels: int, size: int) -> int:
    return HEADER_BYTES + 8 * count + count * channels * size * size


def prepare(paths: list, size: int, mode: str, roots: tuple) -> tuple[ImageCache | None, str]:
    """(The cache of these image files decoded at `size` in `mode` ("RGB" or "L"), made when
    missing, ""), or (None, why) when the disk has no room for it or it cannot be written."""
    channels = 1 if mode == "L" else 3
    absolute = [os.path.abspath(p) for p in paths]
    # rows in the order of the files' names, so runs that split the folder differently
    # (another seed or val_split) share one cache
    order = sorted(range(len(absolute)), key=lambda i: os.fsencode(absolute[i]))
    rows = [0] * len(absolute)
    for row, i in enumerate(order):
        rows[i] = row
    prefix = _digest([os.fsencode(os.path.abspath(r)) for r in roots] + [f"{size}{mode}".encode()])
    contents = _digest([b"%s\0%d\0%d" % (os.fsencode(absolute[i]), *_size_and_time(absolute[i]))
                        for i in order])
    path = cache_folder() / f"{prefix}-{contents}{SUFFIX}"
    why_not = "" if _valid(path, len(rows), channels, size) else _make(path, prefix, len(rows),
                                                                         channels, size)
    return (None, why_not) if why_not else (ImageCache(str(path), tuple(rows), channels, size), "")


def _make(path: Path, prefix: str, count: int, channels: int, size: int) -> str:
    """Make the cache file (removing older ones of the same folder and size); "" when made,
    else the note that says why not."""
    total = file_bytes(count, channels, size)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(path.parent).free
        if free < total:
            return NO_ROOM.format(size=f"{total / 2**20:,.0f}", folder=printable(path.parent),
                                  free=f"{free / 2**20:,.0f}")
        _remove_older(path.parent, prefix, path)
        _create(path, count, channels, size)
    except OSError as exc:  # a read-only home, a disk filled meanwhile
        return CANNOT_WRITE.format(path=printable(path), reason=exc.strerror or type(exc).__name__)
    return ""


def _size_and_time(path: str) -> tuple[int, int]:
    """A file's size and modification time; (-1, -1) for one gone since it was listed (its
    reading will fail, and be counted, like any unreadable file's)."""
    try:
        stat = os.stat(path)
    except OSError:
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


def _digest(parts: list[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part + b"\n")
    return digest.hexdigest()[:16]


def _header(count: int, channels: int, size: int) -> bytes:
    return MAGIC + np.array([count, channels, size], "<i8").tobytes()


def _valid(path: Path, count: int, channels: int, size: int) -> bool:
    """Whether path is a whole cache file of this shape (a file made elsewhere or cut short
    is made again)."""
    try:
        with open(path, "rb") as f:
            header = f.read(len(_header(0, 0, 0)))
        return (header == _header(count, channels, size)
                and path.stat().st_size == file_bytes(count, channels, size))
    except OSError:
        return False


def _create(path: Path, count: int, channels: int, size: int) -> None:
    """An empty cache file: the header, then zeros. Its blocks are reserved now where the
    system can (posix_fallocate: Linux; Windows allocates a file's length anyway), because
    a write into a memory-mapped hole on a disk that has since filled up is not an error
    Python can catch but a SIGBUS that kills the process. Made under a temporary name and
    renamed, so no run opens a file of the wrong length; two runs making it at once each
    rename a good empty file, and the later one wins (the other's rows are decoded again)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    total = file_bytes(count, channels, size)
    try:
        with open(tmp, "wb") as f:
            f.write(_header(count, channels, size).ljust(HEADER_BYTES, b"\0"))
            f.truncate(total)
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(f.fileno(), 0, total)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _remove_older(folder: Path, prefix: str, keep: Path) -> None:
    """Caches of the same folder and size made before its files changed: never read again.
    One still open elsewhere (Windows refuses to delete it) stays until next time."""
    for old in folder.glob(f"{prefix}-*{SUFFIX}"):
        if old != keep:
            try:
                old.unlink()
            except OSError:
                pass


class CacheFile:
    """The cache file mapped into this process (a data worker, or the training process when
    it reads the folder itself)."""

    def __init__(self, cache: ImageCache) -> None:
        self.rows = cache.rows
        count, shape = cache.count, (cache.count, cache.channels, cache.size, cache.size)
        self.checks = np.memmap(cache.path, np.int64, "r+", offset=HEADER_BYTES, shape=(count,))
        self.images = np.memmap(cache.path, np.uint8, "r+", offset=HEADER_BYTES + 8 * count,
                                shape=shape)

    def get(self, position: int) -> np.ndarray | None:
        """The cached image of the reader's file at `position`, or None when it is not there
        (not written yet, or its pixels do not match their check)."""
        row = self.rows[position]
        check = int(self.checks[row])
        if not check:
            return None
        image = np.array(self.images[row])
        return image if zlib.crc32(image) + 1 == check else None

    def put(self, position: int, image: np.ndarray) -> None:
        """Write a decoded image, pixels first, then the check that vouches for them."""
        row = self.rows[position]
        self.images[row] = image
        self.checks[row] = zlib.crc32(np.ascontiguousarray(image)) + 1

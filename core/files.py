"""Atomic file writes (a reader sees the old file or the new one, never half of one), what
a failed write means in words, and paths shown to users."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable


TEMPORARY_SUFFIX = ".tmp"


def is_temporary(name: str) -> bool:
    """Whether a file name is one of write_atomic's temporary files (left behind only when
    the process was killed mid-write)."""
    return name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)


def write_atomic(path: Path, write: Callable[[Any], None], binary: bool = False,
                 make_folder: bool = True) -> None:
    """Call `write(file)` on a temporary file beside `path`, then rename it over `path`.
    With make_folder=False the folder must exist: a run's writes, so that a run folder
    deleted mid-run is an error (FileNotFoundError), not made again as a ghost."""
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX,
                                    dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; run files are ordinary user files
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, make_folder: bool = True) -> None:
    write_atomic(path, lambda f: f.write(text), make_folder=make_folder)


def write_json_atomic(path: Path, data: Any, make_folder: bool = True) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False) + "\n", make_folder)


def traindesk_home() -> Path:
    """TrainDesk's own folder, holding `runs` and `data`: TRAINDESK_HOME when set, else the
    platform's user data folder."""
    home = os.environ.get("TRAINDESK_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("TrainDesk", appauthor=False))


def write_problem(exc: OSError) -> str:
    """What went wrong writing a file, in words."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full"
    if exc.errno == errno.ENOENT:
        return "its folder is gone: deleted or moved"
    return exc.strerror or str(exc)


def write_remedy(exc: OSError) -> str:
    """What the user can do about a failed write of a run's file."""
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make the run folder writable"
    if exc.errno == errno.ENOENT:
        return "start the run again"
    return "free disk space"


def printable(path) -> str:
    """A path as text that can be shown and written as UTF-8: bytes of a file name that are
    not UTF-8 (kept by Python as surrogates) become U+FFFD."""
    try:
        return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate no file name made
        return str(path).encode("utf-8", "replace").decode("utf-8")


FINGERPRINT_BYTES = 1 << 20  # read from each end of a file


def fingerprint(path: Path) -> dict:
    """A file's size and a SHA-256 of its first and last MiB: cheap for a file of any size,
    and changed by any edit that changes the size or touches either end (appended rows, a
    replaced file). The modification time is left out: copying a file changes it, not the
    data."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        digest.update(f.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            f.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            digest.update(f.read(FINGERPRINT_BYTES))
    return {"size": size, "sha256_ends": digest.hexdigest()}

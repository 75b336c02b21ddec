"""The decoded-image cache of a streamed image folder (`[data] cache = "disk"`,
core/data/image_cache.py): runs train exactly as without it, whether the workers fill it or
read it, resume exactly, never use a row that was not written whole, and never read a
folder whose files changed from an old cache."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import core.data.image_cache as image_cache
import core.data.images as images
from core.config import RunConfig
from core.data.preview import preview_data
from core.data.streaming import decode_image
from core.train.loop import train
from run_control import StopAfter
from test_streaming import build, folder_config, image_folder, scores, weights

CACHED_NOTE = re.compile(r"decoded images cached on disk in (.+\.images) \((\d+) MB; "
                         r"([\d,]+) of ([\d,]+) images there so far\)")


@pytest.fixture(autouse=True)
def few_statistics_images(monkeypatch):
    """The channel statistics decode 8 training images, not all of them (a small folder has
    fewer than STATS_IMAGES), so that the workers, not the statistics, fill the cache."""
    monkeypatch.setattr(images, "STATS_IMAGES", 8)


def cache_note(notes: list[str]) -> tuple[Path, int, int]:
    """(the cache file, images in it, images of the folder) from a run's data notes."""
    (match,) = [m for m in map(CACHED_NOTE.fullmatch, notes) if m]
    return Path(match[1]), int(match[3].replace(",", "")), int(match[4].replace(",", ""))


def cached_config(folder: Path, cache: str, workers: int, *overrides: str) -> RunConfig:
    return folder_config(folder, "data.storage=stream", f"data.workers={workers}",
                         f"data.cache={cache}", "data.flip=true", *overrides)


def test_a_cached_run_trains_exactly_as_without_the_cache(tmp_path):
    folder = image_folder(tmp_path / "images")
    (folder / "dots" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    plain = train(cached_config(folder, "none", 0), runs_dir=tmp_path / "plain")
    filling = train(cached_config(folder, "disk", 1), runs_dir=tmp_path / "filling")
    reading = train(cached_config(folder, "disk", 1), runs_dir=tmp_path / "reading")
    assert plain["status"] == filling["status"] == reading["status"] == "completed"
    assert not any(map(CACHED_NOTE.fullmatch, plain["data_notes"]))
    path, before_first, count = cache_note(filling["data_notes"])
    assert count == 49 and 0 < before_first < 37  # the statistics' images only
    assert cache_note(reading["data_notes"]) == (path, 48, 49)  # all but the broken file
    # the unreadable file is never cached: every run meets it, skips it and says so
    broken = f"1 unreadable image file(s) in {folder} skipped (dots/broken.png)"
    for summary in (plain, filling, reading):
        assert broken in summary["data_notes"]
    # the cache holds un-augmented images as decode_image makes them (flips come after)
    cache, _ = image_cache.prepare(sorted(folder.rglob("*.png")), 12, "RGB", (folder, folder))
    assert cache.path == str(path)
    held = cache.open()
    for position, file in enumerate(sorted(folder.rglob("*.png"))):
        expected = decode_image(file, 12, "RGB")
        assert (held.get(position) is None) if expected is None else \
            np.array_equal(held.get(position), expected)
    # the same steps, losses, accuracies and weights, to the last bit
    runs = [Path(summary["run_dir"]) for summary in (plain, filling, reading)]
    assert scores(runs[0]) == scores(runs[1]) == scores(runs[2])
    for name, value in weights(runs[0]).items():
        for run in runs[1:]:
            torch.testing.assert_close(weights(run)[name], value, rtol=0, atol=0)


def test_a_cached_run_stopped_mid_epoch_resumes_exactly(tmp_path):
    folder = image_folder(tmp_path / "images")
    config = cached_config(folder, "disk", 1, "training.epochs=3")
    # stopped in its first epoch, the cache part filled; the resumed run reads what is
    # there and fills the rest
    stopped = train(config, runs_dir=tmp_path / "parts", control=StopAfter(3))
    assert stopped["status"] == "stopped" and stopped["steps_completed"] == 3
    resumed = train(RunConfig(), resume_dir=Path(stopped["run_dir"]))
    assert resumed["status"] == "completed" and resumed["steps_completed"] == 15
    _, filled, count = cache_note(resumed["data_notes"])
    assert 8 < filled < count
    whole = train(cached_config(folder, "none", 1, "training.epochs=3"),
                  runs_dir=tmp_path / "whole")
    assert scores(Path(resumed["run_dir"])) == scores(Path(whole["run_dir"]))
    a, b = weights(Path(whole["run_dir"])), weights(Path(resumed["run_dir"]))
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=0)


def test_a_row_is_used_only_when_its_pixels_match_their_check(tmp_path):
    folder = image_folder(tmp_path / "images", per_class=2)
    files = sorted(folder.rglob("*.png"))
    cache, note = image_cache.prepare(files, 12, "RGB", (folder,))
    assert note == ""
    held = cache.open()
    assert all(held.get(p) is None for p in range(len(files)))  # a new cache holds nothing
    first, second = decode_image(files[0], 12, "RGB"), decode_image(files[1], 12, "RGB")
    held.put(0, first)
    held.put(1, second)
    assert np.array_equal(held.get(0), first) and np.array_equal(held.get(1), second)
    # pixels written without their check (the check's page on disk, the pixels' not: a
    # crash), or a check without its pixels: not used, decoded again by the reader
    held.images[cache.rows[1]][0, 0, 0] ^= 0xFF
    held.checks[cache.rows[2]] = 12345
    assert held.get(1) is None and held.get(2) is None
    assert np.array_equal(cache.open().get(0), first)  # another process sees what was put
    # a file cut short (a killed run making it, a full disk) is made again, empty
    Path(cache.path).write_bytes(Path(cache.path).read_bytes()[:100])
    again, _ = image_cache.prepare(files, 12, "RGB", (folder,))
    assert again.path == cache.path and again.open().get(0) is None


def test_a_changed_folder_gets_a_new_cache_and_the_old_one_goes(tmp_path):
    folder = image_folder(tmp_path / "images", per_class=2)
    files = sorted(folder.rglob("*.png"))
    old, _ = image_cache.prepare(files, 12, "RGB", (folder,))
    old.open().put(0, decode_image(files[0], 12, "RGB"))
    other_size, _ = image_cache.prepare(files, 16, "RGB", (folder,))
    grey, _ = image_cache.prepare(files, 12, "L", (folder,))
    assert len({old.path, other_size.path, grey.path}) == 3
    # the same name and size, another picture: a new modification time
    replacement = decode_image(files[1], 24, "RGB").transpose(1, 2, 0)
    from PIL import Image

    Image.fromarray(replacement).save(files[0])
    os.utime(files[0], ns=(1, 1))
    new, _ = image_cache.prepare(files, 12, "RGB", (folder,))
    assert new.path != old.path and not Path(old.path).exists()
    assert Path(other_size.path).exists() and Path(grey.path).exists()  # other sizes stay
    assert new.open().get(0) is None


def test_preview_says_the_cache_is_used_and_its_size(tmp_path):
    folder = image_folder(tmp_path / "images")
    preview = preview_data("image_folder", {"folder": str(folder), "storage": "stream",
                                            "cache": "disk", "image_size": 64})
    path, filled, count = cache_note(preview.notes)
    assert path.parent == image_cache.cache_folder() and count == 48 and 0 < filled < 20
    note = next(n for n in preview.notes if CACHED_NOTE.fullmatch(n))
    assert "(1 MB;" in note  # 48 images of 3 x 64 x 64 bytes and their checks
    # the sample images the preview showed went into the cache too
    assert len(preview.images) == 32
    assert int(np.count_nonzero(image_cache.CacheFile(image_cache.ImageCache(
        str(path), tuple(range(count)), 3, 64)).checks)) > filled


def test_no_room_on_disk_means_no_cache_and_a_note(tmp_path, monkeypatch):
    folder = image_folder(tmp_path / "images")
    monkeypatch.setattr(image_cache.shutil, "disk_usage",
                        lambda path: type("Usage", (), {"free": 1000})())
    data = build(folder, storage="stream", cache="disk", image_size=64)
    assert data.train_x.reader.cache is None
    (note,) = [n for n in data.notes if "not cached" in n]
    assert note.startswith("decoded images not cached: the cache needs 1 MB and ")
    assert note.endswith("has 0 MB free; free disk space or set [data] cache = \"none\"")
    data_plain = build(folder, storage="stream", image_size=64)
    assert torch.equal(data.train_x[[0, 5]], data_plain.train_x[[0, 5]])


def test_a_cache_that_cannot_be_written_or_is_gone_means_decoding(tmp_path, monkeypatch):
    import errno

    from core.data.streaming import FolderImages

    folder = image_folder(tmp_path / "images", per_class=2)
    files = sorted(folder.rglob("*.png"))

    def disk_filled(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(image_cache.os, "posix_fallocate", disk_filled, raising=False)
        cache, note = image_cache.prepare(files, 12, "RGB", (folder,))
    assert cache is None and note.startswith("decoded images not cached: cannot write ")
    assert note.endswith("(No space left on device); make the folder writable or set [data] "
                         "cache = \"none\"")
    assert not list(image_cache.cache_folder().iterdir())  # no temporary file left
    # a worker whose cache file was removed (by a run of the folder after it changed) decodes
    cache, _ = image_cache.prepare(files, 12, "RGB", (folder,))
    Path(cache.path).unlink()
    images, kept = FolderImages([str(f) for f in files], 12, "RGB", cache)[[0, 3]]
    assert kept.tolist() == [0, 1]
    assert np.array_equal(images[1].numpy(), decode_image(files[3], 12, "RGB"))


def test_the_setting_takes_none_or_disk(tmp_path):
    from core.errors import BadInput

    folder = image_folder(tmp_path / "images", per_class=2)
    with pytest.raises(BadInput, match="cache"):
        build(folder, cache="memory")
    assert not build(folder, storage="stream").train_x.reader.cache  # none by default

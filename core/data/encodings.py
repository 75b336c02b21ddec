"""Text files as the user's programs save them: decoding bytes into text, strictly.

Chinese Excel saves CSV files in GBK (GB18030 is its superset), Notepad in UTF-8 with a BOM
or UTF-16, old Western spreadsheets in cp1252. Detection tries, in order: a BOM (UTF-8 or
UTF-16), strict UTF-8, GB18030, cp1252. Each guess must hold for the whole file, and
GB18030, which decodes many Western files without an error, must also look like Chinese
(below); a file no guess fits is refused with a message naming the `encoding` setting, so
a wrong guess fails instead of turning names into mojibake.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from core.errors import BadInput
from core.i18n import translatable

NOT_FOUND = translatable("Messages", "{setting} {path} does not exist; check the path")
NOT_A_FILE = translatable("Messages", "{setting} {path} is not a regular file; choose a file")
A_FOLDER = translatable("Messages", "{setting} {path} is a folder; choose a file")
NOT_ENCODED_AS = translatable("Messages", "{path} is not {encoding} (byte {byte} does not fit); "
                                          "set the encoding to auto or to the file's encoding")
UNDECIDED = translatable("Messages", "cannot tell how {path} is encoded (not UTF-8, UTF-16 with "
                                     "a BOM, GBK or cp1252); save it as UTF-8, or set the "
                                     "encoding")

# The `encoding` setting's choices: auto, or a codec Python knows under that name.
ENCODINGS = ("auto", "utf-8", "utf-16", "gb18030", "cp1252", "latin-1")
# Those that read ASCII bytes as the same characters (so their UTF-8 is the bytes as read).
ASCII_AS_ITSELF = ("auto", "utf-8", "gb18030", "cp1252", "latin-1")
# Names said in data notes and messages.
DESCRIBED = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with a BOM", "utf-16": "UTF-16",
             "gb18030": "GB18030 (GBK)", "cp1252": "cp1252 (Western European)",
             "latin-1": "Latin-1"}
# Read at most this much: a CSV is held in memory whole, and a device such as /dev/zero or
# a mistaken multi-gigabyte file must not eat the machine's memory.
MAX_TEXT_FILE_BYTES = 1 << 30
# In real GBK text almost every two-byte character is in the GB2312 area (both bytes from
# 0xA1), the common characters. A Western file read as GB18030 pairs an accented letter
# with the ASCII letter after it (trail byte below 0x80), which lands among rare characters.
MIN_GB2312_SHARE = 0.8


def read_text_file(path: Path, setting: str, encoding: str = "auto",
                   first_bytes: int | None = None) -> tuple[str, str]:
    """The text of a regular file and the encoding it was read with (a key of DESCRIBED).
    BadInput for a missing, special, oversized or undecodable file. With `first_bytes`, only
    the whole lines within the file's first that many bytes (a CSV header, cheaply)."""
    raw = _read_bytes(path, setting, first_bytes)
    if first_bytes is not None:
        return decode(_whole_lines(raw, first_bytes), str(path), encoding)
    return decode(raw, str(path), encoding)


def read_utf8_file(path: Path, setting: str, encoding: str = "auto") -> tuple[bytes, str]:
    """The text of a regular file as UTF-8 bytes, and the encoding it was read with, as
    read_text_file reads it. A file of ASCII bytes (a CSV of numbers, say) is its own UTF-8
    in every encoding offered but UTF-16, so it is handed on as read, not decoded and
    encoded again."""
    raw = _read_bytes(path, setting, None)
    if raw.isascii() and encoding in ASCII_AS_ITSELF:
        return raw, {"auto": "utf-8", "utf-8": "utf-8-sig"}.get(encoding, encoding)
    text, used = decode(raw, str(path), encoding)
    return text.encode("utf-8"), used


def _read_bytes(path: Path, setting: str, first_bytes: int | None) -> bytes:
    """The bytes of a regular file (its first `first_bytes` and one more when given)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise BadInput(NOT_FOUND.format(setting=setting, path=path)) from None
    except OSError as exc:
        raise BadInput(f"cannot read {path} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        refusal = A_FOLDER if stat.S_ISDIR(info.st_mode) else NOT_A_FILE
        raise BadInput(refusal.format(setting=setting, path=path))
    if info.st_size > MAX_TEXT_FILE_BYTES and first_bytes is None:
        raise BadInput(f"{path} is {info.st_size / 2**30:.1f} GiB; TrainDesk reads text files "
                       f"of up to {MAX_TEXT_FILE_BYTES >> 30} GiB, split it or take a sample")
    try:
        # O_NONBLOCK: a file swapped for a FIFO after the check above must not block us.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as file:
            raw = file.read((first_bytes or MAX_TEXT_FILE_BYTES) + 1)
    except OSError as exc:
        raise BadInput(f"cannot read {path} ({exc.strerror or exc})") from None
    if first_bytes is None and len(raw) > MAX_TEXT_FILE_BYTES:
        raise BadInput(f"{path} grew past {MAX_TEXT_FILE_BYTES >> 30} GiB while being read")
    return raw


def _whole_lines(raw: bytes, limit: int) -> bytes:
    """`raw` when it is at most `limit` bytes, else its first `limit` bytes cut after their
    last line break, so that no character is cut in two (a UTF-16 line break is two bytes)."""
    if len(raw) <= limit:
        return raw
    raw = raw[:limit]
    if raw.startswith(codecs.BOM_UTF16_LE):
        end = raw.rfind(b"\n\x00")
        while end > 0 and end % 2:
            end = raw.rfind(b"\n\x00", 0, end)
        return raw[:end + 2] if end > 0 else raw[:limit - limit % 2]
    if raw.startswith(codecs.BOM_UTF16_BE):
        end = raw.rfind(b"\x00\n")
        while end > 0 and end % 2:
            end = raw.rfind(b"\x00\n", 0, end)
        return raw[:end + 2] if end > 0 else raw[:limit - limit % 2]
    end = raw.rfind(b"\n")  # never inside a UTF-8, GB18030 or cp1252 character
    return raw[:end + 1] if end >= 0 else raw


def decode(raw: bytes, source: str, encoding: str = "auto") -> tuple[str, str]:
    """`raw` as text, with the encoding used; `encoding` other than auto is obeyed as given."""
    if encoding != "auto":
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        try:
            return raw.decode(codec), codec
        except UnicodeDecodeError as exc:
            described = DESCRIBED.get(encoding, codec)
            raise BadInput(NOT_ENCODED_AS.format(path=source, encoding=described,
                                                 byte=exc.start + 1)) from None
        except LookupError:
            raise BadInput(f"unknown encoding {encoding!r}; choose one of "
                           f"{', '.join(ENCODINGS)}") from None
    if raw.startswith(codecs.BOM_UTF8):
        return _strict(raw, "utf-8-sig", source), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(raw, "utf-16", source), "utf-16"
    for codec in ("utf-8", "gb18030", "cp1252"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec != "gb18030" or _looks_like_gbk(raw):
            return text, codec
    raise BadInput(UNDECIDED.format(path=source))


def _strict(raw: bytes, codec: str, source: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise BadInput(f"{source} starts as {DESCRIBED[codec]} but byte {exc.start + 1} is not; "
                       "save it again as UTF-8, or set the encoding") from None


def _looks_like_gbk(raw: bytes) -> bool:
    """Whether the two-byte characters of a file that decodes as GB18030 are mostly common
    Chinese ones (both bytes 0xA1..0xFE), as real GBK text is."""
    pairs = common = 0
    i, n = 0, len(raw)
    while i < n:
        byte = raw[i]
        if byte < 0x80:
            i += 1
            continue
        if i + 1 < n and 0x30 <= raw[i + 1] <= 0x39:  # a four-byte GB18030 sequence
            pairs += 1
            i += 4
            continue
        pairs += 1
        common += 0xA1 <= byte <= 0xFE and i + 1 < n and 0xA1 <= raw[i + 1] <= 0xFE
        i += 2
    return pairs > 0 and common >= MIN_GB2312_SHARE * pairs


def escape_controls(text: str) -> str:
    """`text` with control and other unprintable characters written as escapes (\\x1b), so a
    name read from a file cannot drive the terminal it is printed on."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)

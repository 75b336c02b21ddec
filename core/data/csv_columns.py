"""Reading a CSV file into columns: numbers as numpy arrays, text as codes into its distinct
cells, so a table of a million rows is held near the size of its numbers rather than as a
Python string per cell (tables.encode_table turns the columns into tensors).

The file is read by csv.reader, CHUNK_ROWS records at a time; each chunk is turned into
columns at once (numbers parsed by `float` in C loops, cells looked up in dictionaries of
distinct cells), so no Python code runs per cell. What a cell means is decided per distinct
cell, exactly as it always was: stripped, `1,5` read as 1.5 in a file separated by
semicolons or tabs, missing when it is one of MISSING, else a number when `float` reads it
as a finite one, else text.

A column of numbers (and missing cells) keeps only its numbers, a float64 each; its cells
as written are read from the file again in the rare case they are asked for (`Table.cells`:
a stray text cell to name, text further down a column that began with numbers). Columns
with text, and the column named `keep` (the target: its classes are its cells as written),
keep their cells.
"""

from __future__ import annotations

import csv
import io
import re
from itertools import compress, islice
from operator import itemgetter, not_
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from core.data.encodings import DESCRIBED, escape_controls, read_text_file, read_utf8_file
from core.errors import BadInput
from core.i18n import translatable

if TYPE_CHECKING:
    import numpy as np

PREVIEW_ROWS = 50
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
DELIMITERS = ",;\t|"
# The delimiter is judged on the file's start: this many characters, this many records.
SNIFF_CHARS, SNIFF_RECORDS = 65536, 50
# 1,5 in a file separated by semicolons or tabs is a number with a decimal comma.
DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
# Rows of a column's numbers or codes joined into one array as the file is read.
BLOCK_ROWS = 65536
# Records turned into columns at a time: the only cells held as Python strings at once
# (a few hundred rows stay in the processor's cache: 2048 took 1.5 times as long).
CHUNK_ROWS = 256
# Spellings of missing cells that the fast number parser reads as NaN (found afterwards).
_MISSING_SPELLINGS = {spelling: "nan" for token in MISSING
                      for spelling in (token, token.upper(), token.title())}

READ_AS = translatable("Messages", "{name} read as {encoding}")
DETECTED = translatable("Messages", "{name} read as {encoding} (detected; set encoding to "
                                    "choose)")
DECIMAL_COMMAS = translatable("Messages", "{count} number(s) with a decimal comma (1,5) read as "
                                          "numbers (1.5)")
EMPTY_FILE = translatable("Messages", "{path} is empty; a CSV file needs a header row and data "
                                      "rows")
RAGGED_LINE = translatable("Messages", "{path} line {line} has {fields} fields but the header "
                                       "has {header}; fix that line (a stray separator or an "
                                       "unquoted quote?)")


@dataclass
class Column:
    """One column as read, a value per row: its number (NaN where the cell is missing or
    text), whether it is missing, whether it is text; and the cell as written,
    `values[codes[row]]`, for a column with text and the kept one (else None: numbers only)."""

    numbers: np.ndarray  # float64
    missing: np.ndarray  # bool
    text: np.ndarray  # bool: present but not a finite number
    values: list[str] | None
    codes: np.ndarray | None  # int32


@dataclass
class Table:
    """A table as read: the header, a Column each, each row's line in the file (a row's last
    physical line), the first PREVIEW_ROWS rows' cells, and how the file was read."""

    source: str
    header: list[str]
    columns: list[Column]
    line_numbers: np.ndarray  # int64
    head: list[list[str]]
    notes: list[str] = field(default_factory=list)
    # The cells as written of the given columns, read from the text again.
    reread: Callable[[list[int]], dict[int, list[str]]] | None = None

    def __len__(self) -> int:
        return len(self.line_numbers)

    def cells(self, c: int) -> list[str]:
        """Column c's cells as written (stripped), one per row."""
        return self.cells_of([c])[c]

    def cells_of(self, columns: list[int]) -> dict[int, list[str]]:
        """The cells of these columns; those not kept are read again, in one pass."""
        cells = self.reread([c for c in columns if self.columns[c].codes is None])
        for c in columns:
            column = self.columns[c]
            if column.codes is not None:
                cells[c] = [column.values[k] for k in column.codes.tolist()]
        return cells

    @property
    def rows(self) -> list[list[str]]:
        """Every row's cells: for callers that go row by row through a small table."""
        cells = self.cells_of(list(range(len(self.header))))
        return [list(row) for row in zip(*(cells[c] for c in range(len(self.header))))]

    @property
    def lines(self) -> list[int]:
        return self.line_numbers.tolist()


def read_csv(path_text: str, setting: str, encoding: str = "auto", keep: str = "") -> Table:
    """Read a CSV file with a header row; BadInput for a missing, empty, undecodable or ragged
    file. The encoding is detected (core.data.encodings) unless given, the delimiter is
    detected, and quoting is the standard one (RFC 4180, as Excel writes it). `keep` names
    the column whose cells are all kept as written ("": the last)."""
    if not path_text:
        raise BadInput(f"{setting} is empty: choose a CSV file")
    path = Path(path_text).expanduser()
    stamp = _stamp(path)
    # The file is held once, as UTF-8, while it is read; only its start is decoded here.
    encoded, used = read_utf8_file(path, setting, encoding)
    start = encoded[:4 * SNIFF_CHARS + 4].decode("utf-8", "ignore")  # SNIFF_CHARS and more
    if not start.strip() and not encoded.decode("utf-8").strip():
        raise BadInput(EMPTY_FILE.format(path=path))
    notes = [(DETECTED if encoding == "auto" else READ_AS).format(
        name=path.name, encoding=DESCRIBED.get(used, used))]

    def again() -> bytes:
        """The file's text again, for cells not kept (Table.cells)."""
        if _stamp(path) != stamp:
            raise BadInput(f"{path} changed while it was being read; start again")
        return read_utf8_file(path, setting, used)[0]

    return _read(encoded, len(encoded), str(path), _delimiter(start), notes, keep, again)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


def csv_header(path_text: str, setting: str, encoding: str = "auto") -> list[str]:
    """The column names of a CSV file, as read_csv names them (for the window's column
    choosers); BadInput as read_csv's."""
    if not path_text:
        raise BadInput(f"{setting} is empty: choose a CSV file")
    path = Path(path_text).expanduser()
    # the first lines only: a window listing the columns must not read a 1 GB file
    text, _ = read_text_file(path, setting, encoding, first_bytes=SNIFF_CHARS)
    if not text.strip():
        raise BadInput(EMPTY_FILE.format(path=path))
    records = _Records(text.encode("utf-8"), _delimiter(text), str(path))
    if records.header is None:
        raise BadInput(f"{path} has a header but no data rows")
    return _names(records.header, str(path))


def _names(fields: list[str], source: str) -> list[str]:
    header = [escape_controls(cell.strip()) or f"column {i + 1}" for i, cell in enumerate(fields)]
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise BadInput(f"{source}: the header names {', '.join(duplicates)} more than once; "
                       "give each column its own name")
    return header


def parse_csv(text: str, source: str, delimiter: str, notes: list[str],
              keep: str = "") -> Table:
    """The table in `text` (see read_csv); `notes` say how the text was read."""
    encoded = text.encode("utf-8")
    return _read(encoded, len(text), source, delimiter, notes, keep, lambda: encoded)


def _read(encoded: bytes, size: int, source: str, delimiter: str, notes: list[str],
           keep: str, again: Callable[[], bytes], plain: bool = True) -> Table:
    """The table in `encoded` (UTF-8 of at most `size` characters); `again` gives the same
    bytes once more, when cells that were not kept are asked for. `plain`: the file may be
    read by _PlainBlocks once the preview has its rows, where it can."""
    # The largest field cannot be longer than the file; csv's default limit is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), size))
    decimal_comma = delimiter != ","
    records = _Records(encoded, delimiter, source)
    if records.header is None:
        raise BadInput(f"{source} has a header but no data rows")
    header = _names(records.header, source)
    kept = header.index(keep or header[-1]) if (keep or header[-1]) in header else -1
    builders = [_ColumnBuilder(decimal_comma, keep_all=c == kept) for c in range(len(header))]
    head, lines = [], _Pieces()
    for rows, chunk_lines in records.chunks():
        if len(head) < PREVIEW_ROWS:
            head += [[_clean(cell, decimal_comma)[0] for cell in row]
                     for row in rows[:PREVIEW_ROWS - len(head)]]
        # zip(*rows) turns the chunk's rows into its columns in C.
        for builder, cells in zip(builders, zip(*rows)):
            builder.add(cells)
        lines.append(chunk_lines)
        if plain and len(head) == PREVIEW_ROWS:  # once, when the preview has its rows
            plain = False
            blocks = _PlainBlocks.after(encoded, delimiter, records, builders)
            if blocks is not None:
                try:
                    blocks.read(builders, lines)
                except _NotPlain:  # (rare: a blank, ragged or unreadable line) start again
                    return _read(encoded, size, source, delimiter, notes, keep, again, False)
                break
    if not lines.arrays():
        raise BadInput(f"{source} has a header but no data rows")
    commas = sum(builder.commas for builder in builders)
    if commas:
        notes.append(DECIMAL_COMMAS.format(count=commas))

    def reread(columns: list[int]) -> dict[int, list[str]]:
        cells = {c: [] for c in columns}
        for rows, _ in [] if not columns else _Records(again(), delimiter, source).chunks():
            for c in columns:
                cells[c] += [_clean(row[c], decimal_comma)[0] for row in rows]
        return cells

    return Table(source, header, [builder.finish() for builder in builders],
                 lines.joined(), head, notes, reread)


class _NotPlain(Exception):
    """The file is not plain after all: _read reads it with csv from the start."""


class _PlainBlocks:
    """The rest of a plain file after its first chunks, read BLOCK_ROWS lines at a time by
    numpy's reader in C (np.loadtxt): the columns that held finite numbers only so far
    (candidates) straight into numbers, the others as cells handed to their builders.

    Plain: no quote character or NUL anywhere and every carriage return in a CRLF, so each
    line is one record and loadtxt's cells are csv's. loadtxt reads a number as `float`
    does, save that it refuses underscores and non-ASCII digits and takes surrounding
    whitespace as str.strip does, so a finite number it reads is the one the builder would
    make. Whatever else (a missing or text cell in a candidate, inf, nan) makes a block fall
    back to its cells; a blank, ragged or unreadable line makes the whole file fall back
    (_NotPlain)."""

    def __init__(self, text: bytes, start: int, line: int, delimiter: str, width: int,
                 candidates: list[int]):
        self.text, self.start, self.line = text, start, line
        self.delimiter, self.width, self.candidates = delimiter, width, candidates

    @classmethod
    def after(cls, encoded: bytes, delimiter: str, records: _Records,
              builders: list[_ColumnBuilder]) -> _PlainBlocks | None:
        """The blocks after the chunks read so far, or None when csv must read on: the file
        is not plain, has no column of numbers to gain on, or has no lines left."""
        line = records.reader.line_num
        candidates = [c for c, builder in enumerate(builders) if builder.plain_numbers()]
        if not candidates or b'"' in encoded or b"\0" in encoded or (
                b"\r" in encoded and encoded.count(b"\r") != encoded.count(b"\r\n")):
            return None
        start = 0
        for _ in range(line):  # the chunks so far were read to the end of this line
            start = encoded.find(b"\n", start) + 1
            if start == 0:
                return None  # no line after it: nothing more to read
        return cls(encoded, start, line, delimiter, len(builders), candidates)

    def read(self, builders: list[_ColumnBuilder], lines: _Pieces) -> None:
        import numpy as np

        start, text = self.start, self.text
        # About BLOCK_ROWS lines a block, at the bytes a line so far.
        block_bytes = max(1, BLOCK_ROWS * start // self.line)
        while start < len(text):
            end = text.find(b"\n", start + block_bytes) + 1 or len(text)
            rows = self._block(text[start:end].decode("utf-8"), builders)
            lines.append(np.arange(self.line + 1, self.line + rows + 1, dtype=np.int64))
            self.line += rows
            start = end

    def _block(self, text: str, builders: list[_ColumnBuilder]) -> int:
        """Read one block of whole lines into the builders; the number of rows."""
        import numpy as np

        lines = text.replace("\r\n", "\n").split("\n") if "\r" in text else text.split("\n")
        if lines[-1] == "":
            lines.pop()  # (after the last line break)
        # One pass: the candidates as numbers, the other columns as cells.
        fields = [(f"c{c}", np.float64 if c in self.candidates else object)
                  for c in range(self.width)]
        finite = False  # (with no candidates left, every block is read as cells)
        if self.candidates:
            try:
                table = self._load(lines, np.dtype(fields))
                numbers = [table[f"c{c}"] for c in self.candidates]
                finite = all(np.isfinite(column).all() for column in numbers)
            except ValueError:
                pass
        if finite:
            for c, column in zip(self.candidates, numbers):
                builders[c].add_finite(np.ascontiguousarray(column))
            others = [c for c in range(self.width) if c not in self.candidates]
            cells = {c: table[f"c{c}"].tolist() for c in others}
        else:  # a block with cells the builders must see: read again, as cells
            try:
                table = self._load(lines, np.dtype(object))
            except ValueError:
                raise _NotPlain from None
            if any(map(_blank, table.tolist())):
                raise _NotPlain
            cells = {c: table[:, c].tolist() for c in range(self.width)}
        for c, column in cells.items():
            for i in range(0, len(lines), CHUNK_ROWS):
                builders[c].add(column[i:i + CHUNK_ROWS])
        if not finite:
            self.candidates = [c for c in self.candidates if builders[c].plain_numbers()]
        return len(lines)

    def _load(self, lines: list[str], dtype):
        import numpy as np

        loaded = np.loadtxt(lines, dtype=dtype, comments=None, delimiter=self.delimiter,
                            quotechar=None, ndmin=1 if dtype.names else 2)
        if len(loaded) != len(lines):  # a blank line skipped
            raise _NotPlain
        return loaded


class _Records:
    """The file's records: the header (the first that is not blank), then the others in
    chunks of CHUNK_ROWS with each one's line, blank ones skipped; BadInput for a record
    csv cannot read or one with a different number of fields than the header."""

    def __init__(self, encoded: bytes, delimiter: str, source: str):
        # newline="": csv itself splits records at \n, \r\n or a lone \r, outside quotes only.
        # Decoded as it is read: io.StringIO would hold the text again at 4 bytes a character.
        text = io.TextIOWrapper(io.BytesIO(encoded), encoding="utf-8", newline="")
        self.reader = csv.reader(text, csv.excel, delimiter=delimiter)
        self.source = source
        try:
            self.header = next((fields for fields in self.reader if not _blank(fields)), None)
        except csv.Error as exc:
            raise self._unreadable(exc) from None

    def chunks(self) -> Iterator[tuple[list[list[str]], np.ndarray]]:
        """Up to CHUNK_ROWS records at a time with each one's line (int64), read in C: only a
        chunk with a blank or ragged record, or a record over several lines, is looked at
        record by record."""
        import numpy as np

        reader, width = self.reader, len(self.header)
        line = reader.line_num
        try:
            while records := list(islice(reader, CHUNK_ROWS)):
                if self._plain(records, reader.line_num - line):
                    yield records, np.arange(line + 1, reader.line_num + 1, dtype=np.int64)
                else:
                    rows, lines = self._one_by_one(records, line)
                    if rows:
                        yield rows, lines
                line = reader.line_num
        except csv.Error as exc:
            raise self._unreadable(exc) from None

    def _plain(self, records: list[list[str]], lines_read: int) -> bool:
        """Whether the records are one line each, as many fields as the header, and not
        blank, checked in C loops: only a record whose first cell is blank is looked at."""
        if lines_read != len(records) or set(map(len, records)) != {len(self.header)}:
            return False
        blank_first = map(not_, map(str.strip, map(itemgetter(0), records)))
        return not any(map(_blank, compress(records, blank_first)))

    def _one_by_one(self, records: list[list[str]], line: int):
        """The chunk's records that are not blank, and their lines (each record's last
        physical line: the lines before it, and as many more as it holds line breaks)."""
        import numpy as np

        rows, lines, width = [], [], len(self.header)
        for fields in records:
            text = "".join(fields)
            line += 1 + text.count("\n") + text.count("\r") - text.count("\r\n")
            if _blank(fields):
                continue
            if len(fields) != width:
                raise BadInput(RAGGED_LINE.format(path=self.source, line=line,
                                                  fields=len(fields), header=width))
            rows.append(fields)
            lines.append(line)
        return rows, np.asarray(lines, dtype=np.int64)

    def _unreadable(self, exc: csv.Error) -> BadInput:
        return BadInput(f"{self.source} line {self.reader.line_num} cannot be read as CSV "
                        f"({exc}); fix that line or save the file again from a spreadsheet")


def _blank(fields: list[str]) -> bool:
    # Every cell is whitespace exactly when their concatenation is.
    return not "".join(fields).strip()


def _delimiter(text: str) -> str:
    """The delimiter that splits the first records (read with standard quoting) into the
    most fields, all as many as the header's; a comma when none does. Only the delimiter is
    guessed: csv.Sniffer also guesses the quoting, and it guessed wrong on real files."""
    sample = text[:SNIFF_CHARS]
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        try:
            records = [r for r in csv.reader(io.StringIO(sample, newline=""), csv.excel,
                                              delimiter=delimiter) if r]
        except csv.Error:
            continue
        if len(sample) < len(text):
            records = records[:-1]  # the sample may end inside a record
        if records and len(records[0]) > best_fields and all(
                len(r) == len(records[0]) for r in records[:SNIFF_RECORDS]):
            best, best_fields = delimiter, len(records[0])
    return best


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _clean(cell: str, decimal_comma: bool) -> tuple[str, bool]:
    """The cell as the table holds it (stripped, a decimal comma made a point), and whether
    a decimal comma was."""
    cell = cell.strip()
    if decimal_comma and "," in cell and DECIMAL_COMMA.fullmatch(cell):
        return cell.replace(",", "."), True
    return cell, False


def _parse_numbers(cells: Sequence[str], gaps: bool = False):
    """The numbers of a chunk's cells when they are all numbers or missing, NaN where
    missing, and the positions of the cells that are not finite numbers (missing, or nan or
    inf spelled out: text), each with whether it is missing. Fast: `float` in C loops, only
    the odd cells looked at one by one. None when some cell is neither, or needs stripping
    or a decimal comma first. `gaps`: the column has had missing cells, so the first, plain
    attempt is skipped."""
    import numpy as np

    n = len(cells)
    try:
        if gaps:
            raise ValueError
        numbers = np.fromiter(map(float, cells), np.float64, n)
    except ValueError:
        try:  # with missing cells: NaN, and found below
            numbers = np.fromiter(map(float, map(_MISSING_SPELLINGS.get, cells, cells)),
                                  np.float64, n)
        except ValueError:
            return None
    odd = []
    if not np.isfinite(numbers).all():
        for i in np.flatnonzero(~np.isfinite(numbers)).tolist():
            numbers[i] = np.nan
            odd.append((i, _is_missing(cells[i])))
    return numbers, odd


class _Pieces:
    """Arrays appended a chunk at a time, joined into blocks of BLOCK_ROWS as they come (so
    that thousands of small arrays do not pile up and fragment the heap) and into one at the
    end."""

    def __init__(self):
        self.blocks: list = []
        self.pending: list = []
        self.pending_rows = 0

    def append(self, array: np.ndarray) -> None:
        import numpy as np

        self.pending.append(array)
        self.pending_rows += len(array)
        if self.pending_rows >= BLOCK_ROWS:
            self.blocks.append(np.concatenate(self.pending))
            self.pending, self.pending_rows = [], 0

    def arrays(self) -> list:
        return [*self.blocks, *self.pending]

    def joined(self) -> np.ndarray:
        import numpy as np

        return np.concatenate(self.arrays())


class _ColumnBuilder:
    """One column, chunk by chunk. A column of numbers (and missing cells) keeps only its
    numbers and where its missing and text cells are. A column with text in its first chunk,
    and the `keep_all` column, keep a dictionary of their distinct raw cells, to codes of
    their cleaned forms with each one's number, missing and text flags, and the codes."""

    def __init__(self, decimal_comma: bool, keep_all: bool):
        self.decimal_comma, self.keep_all = decimal_comma, keep_all
        self.index: dict[str, int] | None = {}  # raw cell -> code; None for numbers only
        self.values: list[str] = []  # cleaned cells, by code
        self.codes_of: dict[str, int] = {}  # cleaned cell -> code
        self.props: list[tuple] = []  # (number, missing, text) per code
        self.comma_cells: set[str] = set()  # raw cells read with a decimal comma
        self.has_text = False
        self.chunks = _Pieces()  # codes while kept, else numbers
        self.rows = 0
        self.missing_at: list[int] = []  # for numbers only: rows of missing cells
        self.text_at: list[int] = []  # and of text cells
        self.commas = 0

    def plain_numbers(self) -> bool:
        """Whether the column has held finite numbers only (its cells not kept)."""
        return self.index is None and not self.missing_at and not self.text_at

    def add_finite(self, numbers: np.ndarray) -> None:
        """The next rows of a column of plain numbers: finite numbers, as its cells read."""
        self.chunks.append(numbers)
        self.rows += len(numbers)

    def add(self, cells: Sequence[str]) -> None:
        """The column's cells of the next chunk of rows."""
        import numpy as np

        if self.index is None and not self.missing_at:
            try:  # the usual chunk of a column of numbers, with as little around it as can be
                numbers = np.fromiter(map(float, cells), np.float64, len(cells))
                if np.isfinite(numbers).all():
                    self.add_finite(numbers)
                    return
            except ValueError:
                pass
        if self.index is None or not (self.keep_all or self.has_text):
            parsed = _parse_numbers(cells, bool(self.missing_at))
            if parsed is not None and (self.index is None
                                       or all(missing for _, missing in parsed[1])):
                if self.index is not None:
                    self._numbers_only()
                self._add_numbers(*parsed)
                return
        if self.index is None:  # text, or cells to clean, in a column of numbers
            self._add_numbers(*self._parse_slowly(cells))
            return
        for cell in dict.fromkeys(cells):
            if cell not in self.index:
                self._learn(cell)
        self.chunks.append(np.fromiter(map(self.index.__getitem__, cells), np.int32,
                                       len(cells)))
        self.rows += len(cells)
        if self.comma_cells:
            self.commas += sum(map(self.comma_cells.__contains__, cells))

    def _learn(self, raw: str) -> None:
        cell, comma = _clean(raw, self.decimal_comma)
        if comma:
            self.comma_cells.add(raw)
        code = self.codes_of.get(cell)
        if code is None:
            code = self.codes_of[cell] = len(self.values)
            self.values.append(cell)
            missing = cell.lower() in MISSING
            number = None if missing else _number(cell)
            text = not missing and number is None
            self.props.append((float("nan") if number is None else number, missing, text))
            self.has_text |= text
        self.index[raw] = code

    def _add_numbers(self, numbers: np.ndarray, odd: list[tuple[int, bool]]) -> None:
        for i, missing in odd:
            (self.missing_at if missing else self.text_at).append(self.rows + i)
        self.chunks.append(numbers)
        self.rows += len(numbers)

    def _parse_slowly(self, cells: list[str]):
        """A chunk's numbers and odd cells (as _parse_numbers), cell by distinct cell."""
        import numpy as np

        scratch = _ColumnBuilder(self.decimal_comma, keep_all=True)
        scratch.add(cells)
        self.commas += scratch.commas
        numbers, missing, text = scratch._arrays(scratch.chunks.joined())
        return numbers, [(i, bool(missing[i])) for i in np.flatnonzero(missing | text).tolist()]

    def _arrays(self, codes: np.ndarray):
        import numpy as np

        numbers, missing, text = (np.asarray(p) for p in zip(*self.props))
        return numbers[codes], missing.astype(bool)[codes], text.astype(bool)[codes]

    def _numbers_only(self) -> None:
        """Keep numbers only from now on, those of the chunks so far too (they have no text)."""
        import numpy as np

        kept, self.chunks, self.rows = self.chunks, _Pieces(), 0
        for codes in kept.arrays():
            numbers, missing, _ = self._arrays(codes)
            self._add_numbers(numbers, [(i, True) for i in np.flatnonzero(missing).tolist()])
        self.index = self.values = self.codes_of = self.props = None

    def finish(self) -> Column:
        """The column; the builder lets go of its pieces (one column is joined at a time)."""
        import numpy as np

        joined, self.chunks = self.chunks.joined(), None
        if self.index is not None:
            return Column(*self._arrays(joined), self.values, joined)
        missing, text = np.zeros(self.rows, bool), np.zeros(self.rows, bool)
        missing[self.missing_at] = True
        text[self.text_at] = True
        return Column(joined, missing, text, None, None)

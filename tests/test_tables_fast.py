"""Tables read a column at a time (core/data/csv_columns.py): every cell means what it meant
when tables were read cell by cell, whatever chunk it falls in; columns of numbers are held
as numbers; the bundled datasets are scikit-learn's own, bit for bit."""

from __future__ import annotations

import csv
import io
import random
import re

import numpy as np
import pytest
import torch

import core.data.csv_columns as csv_columns
from core.data.tables import encode_table, read_csv
from core.errors import BadInput

# Cells as spreadsheets and people write them, odd ones included.
ODD = ["", " ", "NA", "na", " n/a ", "NaN", "nan", "NULL", "None", "?", "-", "-nan", "inf",
       "+Infinity", "1_000", "١٢", "\x1c2 ", " 3.5 ", "1e3", "+.5", "5.", "0x10", "x\x00y",
       "1,5", "-2,25", "1,5e3", "Oslo", " Rome", "Lima "]


def reference_cells(path, delimiter: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, cleaned cells and lines, as tables were read before: row by row."""
    text = path.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, rows, lines = None, [], []
    for fields in reader:
        if not any(cell.strip() for cell in fields):
            continue
        if header is None:
            header = [cell.strip() for cell in fields]
            continue
        cells = [cell.strip() for cell in fields]
        if delimiter != ",":
            cells = [c.replace(",", ".") if re.fullmatch(r"[+-]?\d+,\d+", c) else c
                     for c in cells]
        rows.append(cells)
        lines.append(reader.line_num)
    return header, rows, lines


def reference_meaning(cell: str) -> tuple[float, bool, bool]:
    """(number or NaN, missing, text) as the cell-by-cell code decided it."""
    if cell.strip().lower() in csv_columns.MISSING:
        return float("nan"), True, False
    number = csv_columns._number(cell)
    return (float("nan"), False, True) if number is None else (number, False, False)


def assert_meanings(table, header: list[str], rows: list[list[str]]) -> None:
    """Each column's numbers, missing and text flags are the reference's, cell by cell."""
    for c in range(len(header)):
        expected = [reference_meaning(row[c]) for row in rows]
        numbers, missing, text = (np.asarray(v) for v in zip(*expected))
        column = table.columns[c]
        assert np.array_equal(column.numbers, numbers, equal_nan=True), header[c]
        assert np.array_equal(column.missing, missing.astype(bool)), header[c]
        assert np.array_equal(column.text, text.astype(bool)), header[c]


def messy_file(tmp_path, delimiter: str, rows: int = 1500, seed: int = 0, odd=ODD):
    rng = random.Random(seed)
    kinds = ["float", "odd_float", "int", "category", "text_later", "multiline"]
    lines = [delimiter.join(f"c_{k}" for k in kinds) + delimiter + "y"]
    for i in range(rows):
        cells = [f"{rng.gauss(0, 10):.5g}",
                 rng.choice(odd) if rng.random() < 0.05 else f"{rng.gauss(0, 1):.4g}",
                 str(rng.randint(0, 5)) if rng.random() > 0.02 else rng.choice(["", "NA"]),
                 rng.choice(["a", "b", " c", "c", "d", "1,5", "NA"]),
                 str(i % 50) if i < rows * 2 // 3 else rng.choice(["w1", "w2", "7"]),
                 f"line {i}\nnext" if i % 97 == 0 else f"w{i % 5}",
                 str(i % 3) if i != 1200 else ""]
        quoted = ['"' + c.replace('"', '""') + '"' if any(ch in c for ch in f'{delimiter}"\n\r')
                  else c for c in cells]
        lines.append(delimiter.join(quoted))
        if i % 311 == 0:
            lines.append("")  # a blank line
    path = tmp_path / f"messy{ord(delimiter)}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_every_cell_means_what_it_meant_read_cell_by_cell(tmp_path, delimiter):
    path = messy_file(tmp_path, delimiter)
    header, rows, lines = reference_cells(path, delimiter)
    table = read_csv(str(path), "[data] path")
    assert table.header == header and table.lines == lines and len(table) == len(rows)
    assert table.rows == rows  # cells as written, columns of numbers read again
    assert table.head == rows[:csv_columns.PREVIEW_ROWS]
    assert_meanings(table, header, rows)
    commas = sum(bool(re.fullmatch(r"[+-]?\d+,\d+", cell.strip()))
                 for row in csv.reader(io.StringIO(path.read_text("utf-8"), newline=""),
                                       delimiter=delimiter) for cell in row[:7])
    assert (f"{commas} number(s) with a decimal comma (1,5) read as numbers (1.5)"
            in table.notes) == (delimiter != "," and commas > 0)


def plain_file(tmp_path, delimiter: str, line_end: str, rows: int = 1200, late=None):
    """A file numpy's reader may read (no quotes): columns of numbers, one that turns odd
    (every ODD cell that needs no quotes) only after row 600, one with numbers numpy reads
    but that are not all finite after row 700, whole numbers, categories, a
    column of numbers that turns to text, the target; `late` is written after row 900."""
    rng = random.Random(1)
    odd = [c for c in ODD if not any(ch in c for ch in f'{delimiter}"\n\r\0')]
    lines = [delimiter.join(["a", "late_odd", "late_inf", "n", "cat", "text_later", "y"])]
    for i in range(rows):
        lines.append(delimiter.join([
            f"{rng.gauss(0, 10):.6g}",
            rng.choice(odd) if i > 600 and rng.random() < 0.05 else f"{rng.gauss(0, 1):.4g}",
            # numbers numpy reads too, but not all finite: only the builders tell them apart
            rng.choice(["inf", "-nan", "1e400", " 3.5 ", "\x1c2 "]) if i > 700 and rng.random() < 0.03
            else str(i),
            str(rng.randint(0, 9)), rng.choice(["a", " b", "c ", "NA", "1,5"][:4 + (delimiter != ",")]),
            str(i % 50) if i < 1000 else rng.choice(["w1", "7"]), str(i % 3)]))
        if i == 900 and late is not None:
            lines.append(late)
    path = tmp_path / "plain.csv"
    path.write_bytes((line_end.join(lines) + line_end).encode("utf-8"))
    return path


@pytest.mark.parametrize("delimiter, line_end", [(",", "\n"), (";", "\r\n"), ("\t", "\n")])
def test_a_plain_file_read_in_blocks_by_numpy_means_what_it_meant(tmp_path, monkeypatch,
                                                                   delimiter, line_end):
    """Past the preview, a file without quotes is read by np.loadtxt in blocks; each cell
    still means what it meant read cell by cell, with its line, odd cells and all."""
    monkeypatch.setattr(csv_columns, "CHUNK_ROWS", 64)
    monkeypatch.setattr(csv_columns, "BLOCK_ROWS", 100)
    loads = []
    real_load = csv_columns._PlainBlocks._load
    monkeypatch.setattr(csv_columns._PlainBlocks, "_load",
                        lambda self, lines, dtype: loads.append(dtype) or real_load(self, lines, dtype))
    path = plain_file(tmp_path, delimiter, line_end)
    header, rows, lines = reference_cells(path, delimiter)
    table = read_csv(str(path), "[data] path")
    assert table.header == header and table.lines == lines and table.rows == rows
    assert table.head == rows[:csv_columns.PREVIEW_ROWS]
    assert_meanings(table, header, rows)
    assert any(dtype.names for dtype in loads)  # numpy read blocks of numbers
    assert any(not dtype.names for dtype in loads)  # and blocks with odd cells as cells


@pytest.mark.parametrize("late, problem", [("", None), ("   ", None), (",,,,,", None),
                                           ("1,2", "line 903 has 2 fields but the header has 7")])
def test_a_plain_file_with_a_late_blank_or_ragged_line_reads_as_csv_does(tmp_path, monkeypatch,
                                                                        late, problem):
    monkeypatch.setattr(csv_columns, "CHUNK_ROWS", 64)
    monkeypatch.setattr(csv_columns, "BLOCK_ROWS", 100)
    path = plain_file(tmp_path, ",", "\n", late=late)
    if problem:
        with pytest.raises(BadInput, match=problem):
            read_csv(str(path), "[data] path")
        return
    header, rows, lines = reference_cells(path, ",")
    table = read_csv(str(path), "[data] path")
    assert table.lines == lines and table.rows == rows and 903 not in table.lines


def test_a_blank_record_after_the_last_number_column_turned_is_skipped(tmp_path, monkeypatch):
    """Once no column of plain numbers is left, blocks are read as cells, and a record of
    empty cells is still skipped as csv skips it."""
    monkeypatch.setattr(csv_columns, "CHUNK_ROWS", 64)
    monkeypatch.setattr(csv_columns, "BLOCK_ROWS", 100)
    lines = ["x,y"] + [f"{'NA' if i == 150 else i * 0.5},{i % 2}" for i in range(600)]
    lines.insert(400, ",")
    path = tmp_path / "turned.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    header, rows, expected_lines = reference_cells(path, ",")
    table = read_csv(str(path), "[data] path")
    assert len(table) == 600 and table.lines == expected_lines and table.rows == rows
    assert_meanings(table, header, rows)


def test_the_chunk_size_changes_nothing(tmp_path, monkeypatch):
    """A column that begins with numbers and turns to text further down (kept as numbers
    first, its cells read again), missing cells, a target in every choice: the same tensors
    and notes with chunks of 7 rows as with the whole file in one."""
    spaced = ["", " ", "NA", " n/a ", "NaN", "?", "-", " 3.5 ", "1,5", "-2,25", "\x1c2 "]
    files = [messy_file(tmp_path, ";", rows=900, odd=spaced), messy_file(tmp_path, ",", 900)]
    results = []
    for rows in (7, 1_000_000):
        monkeypatch.setattr(csv_columns, "CHUNK_ROWS", rows)
        outcome = []
        for path in files:
            for target, task, missing in [("", "auto", "drop"), ("y", "classification", "fill"),
                                          ("c_float", "regression", "fill"),
                                          ("c_int", "auto", "fill")]:
                try:
                    data = encode_table(read_csv(str(path), "[data] path", keep=target), target,
                                        task, missing, 0.25, 3)
                except BadInput as exc:  # the other file's stray "0x10", "inf", ...
                    outcome.append(str(exc))
                    continue
                outcome.append((data.train_x, data.val_x, data.train_y, data.val_y,
                                data.class_names, data.notes, data.feature_names,
                                data.preprocessing, data.preview_rows))
        results.append(outcome)
    for small, whole in zip(*results):
        assert type(small) is type(whole)
        if isinstance(small, str):
            assert small == whole and "is not a number" in small
            continue
        for a, b in zip(small, whole):
            assert torch.equal(a, b) if torch.is_tensor(a) else a == b
    assert "c_text_later=w1" in results[0][1][6]  # one-hot, though it began with numbers


def test_columns_of_numbers_are_held_as_numbers(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3000, 3))
    path = tmp_path / "n.csv"
    path.write_text("a,b,c,label\n" + "".join(
        f"{a:.6g},{b:.6g},{c:.6g},{'yes' if a > 0 else 'no'}\n" for a, b, c in values),
        encoding="utf-8")
    table = read_csv(str(path), "[data] path")
    for c in range(3):  # a float64 each, no cell kept as a string
        column = table.columns[c]
        assert column.numbers.dtype == np.float64 and column.values is None
        assert np.array_equal(column.numbers, [float(f"{v:.6g}") for v in values[:, c]])
    label = table.columns[3]  # the target keeps its cells, as codes into two names
    assert label.codes.dtype == np.int32 and sorted(label.values) == ["no", "yes"]


def test_a_stray_text_cell_far_down_a_column_of_numbers_is_named(tmp_path):
    rows = [f"{i * 0.5},{i % 2}" for i in range(5000)]
    rows[4000] = "oops,0"
    path = tmp_path / "stray.csv"
    path.write_text("x,y\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(BadInput, match=r"line 4002, column 'x': 'oops' is not a number, "
                                       r"though 4999 of the column's 5000 values are"):
        encode_table(read_csv(str(path), "[data] path"), "", "auto", "drop", 0.2, 0)


def test_line_numbers_count_quoted_line_breaks_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_columns, "CHUNK_ROWS", 4)
    path = tmp_path / "q.csv"
    body = "".join(f'{i},"two\r\nlines",{i % 2}\r\n' if i % 3 == 0 else f"{i},one,{i % 2}\r\n"
                   for i in range(20))
    path.write_bytes(("a,b,y\r\n" + body).encode("utf-8"))
    assert read_csv(str(path), "[data] path").lines == reference_cells(path, ",")[2]


@pytest.mark.parametrize("chunk", [1, 3, 4, 256])
def test_line_numbers_with_blank_records_and_every_line_break(tmp_path, monkeypatch, chunk):
    """Blank lines, whitespace lines, records of empty cells, and records ending in \n,
    \r\n or a lone \r, some quoted over several lines: each row keeps its line, whatever
    chunk it falls in; a ragged record after them is named by its own line."""
    monkeypatch.setattr(csv_columns, "CHUNK_ROWS", chunk)
    ends, blanks = ["\n", "\r\n", "\r"], ["\n", "  \n", ",,\n", " , ,\r\n"]
    rows = []
    for i in range(40):
        cell = f'"{i}\rline\nbreaks"' if i % 7 == 0 else ("" if i % 5 == 0 else f"w{i}")
        rows.append(f"{i},{cell},{i % 2}{ends[i % 3]}")
        if i % 4 == 0:
            rows.append(blanks[i % len(blanks)])
    path = tmp_path / "b.csv"
    path.write_bytes(("a,b,y\n" + "".join(rows)).encode("utf-8"))
    table = read_csv(str(path), "[data] path")
    assert table.lines == reference_cells(path, ",")[2] and len(table) == 40
    path.write_bytes(("a,b,y\n" + "".join(rows) + "40,x\n").encode("utf-8"))
    with pytest.raises(BadInput, match=rf"line {table.lines[-1] + 1} has 2 fields"):
        read_csv(str(path), "[data] path")


def test_the_bundled_datasets_are_scikit_learns_bit_for_bit():
    datasets = pytest.importorskip("sklearn.datasets")
    from core.data.bundled import load_digits, load_table

    for name in ("iris", "wine", "breast_cancer", "diabetes"):
        ours, theirs = load_table(name), getattr(datasets, f"load_{name}")()
        for mine, other in ((ours.data, theirs.data), (ours.target, theirs.target)):
            assert mine.dtype == other.dtype and mine.tobytes() == other.tobytes(), name
        assert ours.feature_names == list(theirs.feature_names), name
        if name != "diabetes":
            assert ours.target_names == list(theirs.target_names), name
    images, digits = load_digits()
    theirs = datasets.load_digits()
    assert images.dtype == theirs.images.dtype and images.tobytes() == theirs.images.tobytes()
    assert digits.tobytes() == theirs.target.tobytes()


def test_the_bundled_datasets_need_no_scikit_learn(tmp_path):
    """digits and the tables build in a process where scikit-learn cannot be imported."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['sklearn'] = None; sys.modules['scipy'] = None\n"
            "from core.catalog import DATASETS\n"
            "for name in ('digits', 'iris', 'wine', 'breast_cancer', 'diabetes'):\n"
            "    entry = DATASETS.get(name)\n"
            "    data = entry.build(entry.check_params({}, 'data'), 0)\n"
            "    print(name, len(data.train_y) + len(data.val_y))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, cwd=str(tmp_path.parent), env=_repo_env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["digits", "1797", "iris", "150", "wine", "178",
                                   "breast_cancer", "569", "diabetes", "442"]


def _repo_env() -> dict:
    import os
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}

"""Table datasets: the scikit-learn tables that ship with it (iris, wine, breast_cancer,
diabetes) and `csv`, a table of the user's own.

Numeric columns are standardised with the training rows' statistics, text columns become
one-hot columns of the categories seen in training, and a regression target is
standardised too (its scale is kept, so mean absolute errors are shown in its own units).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.entries import Catalogue, Param
from core.data.encodings import DESCRIBED, ENCODINGS, escape_controls, read_text_file
from core.data.memory import VAL_SPLIT, InMemoryData, random_split, stratified_split
from core.errors import BadInput
from core.i18n import translatable

DATASETS = Catalogue("dataset")

PREVIEW_ROWS = 50
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
# A target of at most this many distinct whole numbers is taken for class labels.
MAX_CLASS_LIKE_VALUES = 20
# A text column with more distinct values than this is a name or an id, not a category.
MAX_CATEGORIES = 100
DELIMITERS = ",;\t|"
# The delimiter is judged on the file's start: this many characters, this many records.
SNIFF_CHARS, SNIFF_RECORDS = 65536, 50
# 1,5 in a file separated by semicolons or tabs is a number with a decimal comma.
DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")

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
class Table:
    """Cells of a table as read: the header, the rows, and each row's line in the file."""

    source: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    notes: list[str] = field(default_factory=list)  # how the file was read


def _sklearn_table(loader_name: str, params: dict, seed: int, task: str) -> InMemoryData:
    import numpy as np
    import sklearn.datasets
    import torch

    bunch = getattr(sklearn.datasets, loader_name)()
    features = np.asarray(bunch.data, dtype=np.float64)
    header = [str(n) for n in bunch.feature_names]
    if task == "classification":
        names = [str(n) for n in bunch.target_names]
        targets = [names[t] for t in bunch.target]
        target_name = "class"
    else:
        targets = [f"{t:g}" for t in bunch.target]
        target_name = "target"
    rows = [[f"{v:g}" for v in row] + [t] for row, t in zip(features, targets)]
    table = Table(loader_name.removeprefix("load_"), [*header, target_name], rows,
                  list(range(2, len(rows) + 2)))
    data = encode_table(table, target_name, task, "drop", params["val_split"], seed)
    if task == "classification":  # keep scikit-learn's class order rather than sorted names
        order = [data.class_names.index(n) for n in names]
        remap = torch.tensor([order.index(i) for i in range(len(names))])
        data.train_y, data.val_y = remap[data.train_y], remap[data.val_y]
        data.class_names = names
    return data


def _register_sklearn(name: str, help_text: str, task: str) -> None:
    def build(params: dict, seed: int) -> InMemoryData:
        return _sklearn_table(f"load_{name}", params, seed, task)

    DATASETS.register(name, help_text, (VAL_SPLIT,), task=task)(build)


_register_sklearn("iris", "Iris flowers (bundled with scikit-learn): 150 rows of 4 "
                  "measurements, 3 species. Classification; works offline.", "classification")
_register_sklearn("wine", "Wines (bundled with scikit-learn): 178 rows of 13 chemical "
                  "measurements, 3 cultivars. Classification; works offline.", "classification")
_register_sklearn("breast_cancer", "Breast cancer biopsies (bundled with scikit-learn): 569 "
                  "rows of 30 measurements, malignant or benign. Two-class classification; "
                  "works offline.", "classification")
_register_sklearn("diabetes", "Diabetes progression (bundled with scikit-learn): 442 patients, "
                  "10 measurements, a disease-progression number one year later. Regression "
                  "(use loss mse or l1); works offline.", "regression")


ENCODING = Param("encoding", "choice", "auto", "How the file's text is encoded. auto detects "
                 "UTF-8 (with or without BOM), UTF-16 with a BOM, GB18030/GBK and cp1252.",
                 choices=ENCODINGS)


@DATASETS.register(
    "csv",
    "Your own table: a CSV file with a header row; pick the column to predict. Numbers are "
    "standardised, text columns become categories.",
    (
        Param("path", "path", "", "The CSV file (comma, semicolon or tab separated, with a "
              "header row)."),
        Param("target", "str", "", "The column to predict (empty: the last column)."),
        Param("task", "choice", "auto", "auto: classification when the target is text or a "
              "few whole numbers, else regression.",
              choices=("auto", "classification", "regression")),
        Param("missing", "choice", "drop", "Rows with empty or NA cells: drop them, or fill "
              "numbers with the training mean and text with the most common value.",
              choices=("drop", "fill")),
        ENCODING,
        VAL_SPLIT,
    ),
    task="auto",
)
def csv_table(params: dict, seed: int) -> InMemoryData:
    table = read_csv(params["path"], "[data] path", params["encoding"])
    return encode_table(table, params["target"], params["task"], params["missing"],
                        params["val_split"], seed)


def read_csv(path_text: str, setting: str, encoding: str = "auto") -> Table:
    """Read a CSV file with a header row; BadInput for a missing, empty, undecodable or ragged
    file. The encoding is detected (core.data.encodings) unless given, the delimiter is
    detected, and quoting is the standard one (RFC 4180, as Excel writes it)."""
    if not path_text:
        raise BadInput(f"{setting} is empty: choose a CSV file")
    path = Path(path_text).expanduser()
    text, used = read_text_file(path, setting, encoding)
    if not text.strip():
        raise BadInput(EMPTY_FILE.format(path=path))
    notes = [(DETECTED if encoding == "auto" else READ_AS).format(
        name=path.name, encoding=DESCRIBED.get(used, used))]
    delimiter = _delimiter(text)
    decimal_comma = delimiter != ","
    # The largest field cannot be longer than the file; csv's default limit is 128 KiB.
    csv.field_size_limit(max(csv.field_size_limit(), len(text)))
    # newline="": csv itself splits records at \n, \r\n or a lone \r, outside quotes only.
    reader = csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter)
    header, rows, lines, commas = None, [], [], 0
    try:
        for fields in reader:
            if not any(cell.strip() for cell in fields):
                continue  # blank lines
            if header is None:
                header = [escape_controls(cell.strip()) or f"column {i + 1}"
                          for i, cell in enumerate(fields)]
                duplicates = sorted({h for h in header if header.count(h) > 1})
                if duplicates:
                    raise BadInput(f"{path}: the header names {', '.join(duplicates)} more "
                                   "than once; give each column its own name")
                continue
            if len(fields) != len(header):
                raise BadInput(RAGGED_LINE.format(path=path, line=reader.line_num,
                                                  fields=len(fields), header=len(header)))
            cells = [cell.strip() for cell in fields]
            if decimal_comma:
                for i, cell in enumerate(cells):
                    if DECIMAL_COMMA.fullmatch(cell):
                        cells[i] = cell.replace(",", ".")
                        commas += 1
            rows.append(cells)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise BadInput(f"{path} line {reader.line_num} cannot be read as CSV ({exc}); fix "
                       "that line or save the file again from a spreadsheet") from None
    if not rows:
        raise BadInput(f"{path} has a header but no data rows")
    if commas:
        notes.append(DECIMAL_COMMAS.format(count=commas))
    return Table(str(path), header, rows, lines, notes)


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


def encode_table(table: Table, target: str, task: str, missing: str, val_split: float,
                 seed: int) -> InMemoryData:
    """Turn text cells into tensors: features standardised or one-hot, the target into class
    indices or standardised numbers. Problems are BadInput naming the line and column;
    what was left out (rows, constant columns) is listed in the data's notes."""
    import numpy as np
    import torch

    source, header = table.source, table.header
    target = target or header[-1]
    if target not in header:
        raise BadInput(f"{source} has no column {target!r}; its columns are "
                       f"{', '.join(header)}; set [data] target to one of them")
    if len(header) < 2:
        raise BadInput(f"{source} has only the target column; add columns to learn from")
    t = header.index(target)
    notes = list(table.notes)
    rows, lines = table.rows, table.lines

    # Rows without a target cannot be learned from, whatever the missing-value policy.
    no_target = [i for i, row in enumerate(rows) if _is_missing(row[t])]
    if no_target:
        notes.append(f"{len(no_target)} row(s) with no {target!r} value left out (first: line "
                     f"{lines[no_target[0]]})")
        keep = sorted(set(range(len(rows))) - set(no_target))
        rows, lines = [rows[i] for i in keep], [lines[i] for i in keep]
    if not rows:
        raise BadInput(f"{source}: column {target!r} has no values; choose another target")

    columns = [c for c in range(len(header)) if c != t]
    numeric = {c: _column_is_numeric(rows, lines, c, header[c], source) for c in columns}
    empty = [c for c in columns if all(_is_missing(row[c]) for row in rows)]
    if empty:
        notes.append(f"column(s) {', '.join(repr(header[c]) for c in empty)} have no values "
                     "and were left out")
        columns = [c for c in columns if c not in empty]
    if missing == "drop":
        gaps = [i for i, row in enumerate(rows) if any(_is_missing(row[c]) for c in columns)]
        if gaps:
            first = gaps[0]
            column = next(header[c] for c in columns if _is_missing(rows[first][c]))
            if len(gaps) == len(rows):
                raise BadInput(f"{source}: every row has an empty cell (first: line "
                               f"{lines[first]}, column {column!r}); set [data] missing = "
                               "\"fill\" or fill the cells in")
            notes.append(f"{len(gaps)} row(s) with empty cells dropped (first: line "
                         f"{lines[first]}, column {column!r}); missing = \"fill\" keeps them")
            keep = sorted(set(range(len(rows))) - set(gaps))
            rows, lines = [rows[i] for i in keep], [lines[i] for i in keep]

    # The target, and the task it implies.
    target_cells = [row[t] for row in rows]
    target_numbers = [_number(cell) for cell in target_cells]
    if task == "auto":
        whole = all(v is not None and float(v).is_integer() for v in target_numbers)
        distinct = len(set(target_cells))
        task = ("classification" if (None in target_numbers
                                     or (whole and distinct <= MAX_CLASS_LIKE_VALUES))
                else "regression")
        notes.append(f"{target!r} looks like a {task} target ({distinct} distinct values); "
                     "set [data] task to choose otherwise")
    if task == "regression":
        bad = next((i for i, v in enumerate(target_numbers) if v is None), None)
        if bad is not None:
            raise BadInput(f"{source} line {lines[bad]}, column {target!r}: "
                           f"{target_cells[bad]!r} is not a number, so it cannot be a "
                           "regression target; fix it or set [data] task = \"classification\"")
        values = np.asarray(target_numbers, dtype=np.float64)
        if np.ptp(values) == 0:
            raise BadInput(f"{source}: column {target!r} holds the same value ({values[0]:g}) "
                           "in every row, so there is nothing to predict; choose another target")
        train_idx, val_idx = random_split(len(rows), val_split, seed)
        mean, std = values[train_idx].mean(), values[train_idx].std() or 1.0
        y = torch.from_numpy(((values - mean) / std).astype(np.float32)).unsqueeze(1)
        class_names, target_scale, target_offset = [target], float(std), float(mean)
    else:
        if all(v is not None for v in target_numbers):
            class_names = sorted(set(target_cells), key=lambda c: float(c))
        else:
            class_names = sorted(set(target_cells))
        if len(class_names) < 2:
            raise BadInput(f"{source}: column {target!r} holds one class ({class_names[0]!r}) "
                           "in every row; a classifier needs at least two")
        index = {name: i for i, name in enumerate(class_names)}
        labels = np.asarray([index[c] for c in target_cells], dtype=np.int64)
        train_idx, val_idx = stratified_split(labels, val_split, seed, class_names)
        y = torch.from_numpy(labels)
        target_scale, target_offset = 1.0, 0.0

    # Features, with statistics from the training rows only; `encoding` records them so a
    # new row can be encoded alike (core.inference.predict.prepare_row).
    parts, names, constant, encoding = [], [], [], []
    for c in columns:
        cells = [row[c] for row in rows]
        if numeric[c]:
            values = np.asarray([np.nan if _is_missing(v) else float(v) for v in cells])
            train_values = values[train_idx][~np.isnan(values[train_idx])]
            if len(train_values) == 0 or np.ptp(train_values) == 0:
                constant.append(header[c])
                continue
            mean, std = train_values.mean(), train_values.std()
            values = np.where(np.isnan(values), mean, values)
            parts.append(((values - mean) / std)[:, None])
            names.append(header[c])
            encoding.append({"name": header[c], "kind": "number", "mean": float(mean),
                             "std": float(std)})
        else:
            present = [v for v in np.asarray(cells, dtype=object)[train_idx] if not _is_missing(v)]
            categories = sorted(set(present))
            if len(categories) <= 1:
                constant.append(header[c])
                continue
            if len(categories) > MAX_CATEGORIES:
                raise BadInput(f"{source} column {header[c]!r} holds {len(categories)} different "
                               f"texts (e.g. {categories[0]!r}), too many to be categories; "
                               "remove the column (a name or an id?) or use the text_csv dataset")
            common = max(categories, key=present.count)
            filled = [common if _is_missing(v) else v for v in cells]
            one_hot = np.asarray([[v == k for k in categories] for v in filled], dtype=np.float64)
            parts.append(one_hot)
            encoding.append({"name": header[c], "kind": "category",
                             "categories": list(categories), "fill": common})
            names += [f"{header[c]}={k}" for k in categories]
    if constant:
        notes.append(f"column(s) {', '.join(repr(n) for n in constant)} hold one value in every "
                     "training row and were left out")
    if not parts:
        raise BadInput(f"{source}: no column besides {target!r} varies, so there is nothing to "
                       "learn from; add columns")
    x = torch.from_numpy(np.concatenate(parts, axis=1).astype(np.float32))
    return InMemoryData(x[train_idx].contiguous(), y[train_idx], x[val_idx].contiguous(),
                        y[val_idx], class_names, task=task, kind="table",
                        target_scale=target_scale, target_offset=target_offset,
                        preprocessing={"columns": encoding, "target": target},
                        notes=notes, feature_names=names,
                        preview_columns=list(table.header), preview_rows=[
                            list(r) for r in table.rows[:PREVIEW_ROWS]])


def _column_is_numeric(rows: list[list[str]], lines: list[int], c: int, name: str,
                       source: str) -> bool:
    """A column is numeric when all its cells are numbers; a column of mostly numbers with a
    stray text cell is a mistake, reported with its line."""
    present = [(i, row[c]) for i, row in enumerate(rows) if not _is_missing(row[c])]
    if not present:
        return True
    bad = [(i, cell) for i, cell in present if _number(cell) is None]
    if not bad:
        return True
    if len(bad) <= 0.1 * len(present):
        i, cell = bad[0]
        raise BadInput(f"{source} line {lines[i]}, column {name!r}: {cell!r} is not a number, "
                       f"though {len(present) - len(bad)} of the column's {len(present)} values "
                       "are; fix it, or leave it empty to treat it as missing")
    return False

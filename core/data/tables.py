"""Table datasets: the tables scikit-learn ships, bundled with TrainDesk (iris, wine,
breast_cancer, diabetes: core/data/bundled), and `csv`, a table of the user's own.

Numeric columns are standardised with the training rows' statistics, text columns become
one-hot columns of the categories seen in training, and a regression target is
standardised too (its scale is kept, so mean absolute errors are shown in its own units).
The file is read into columns by core.data.csv_columns; everything here works a column at a
time with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, NamedTuple

from core.entries import Catalogue, Param
# PREVIEW_ROWS, _is_missing, read_csv and csv_header are read from here by text_csv,
# instructions and the window's column choosers.
from core.data.csv_columns import (PREVIEW_ROWS, Table, _is_missing,  # noqa: F401
                                   csv_header, parse_csv, read_csv)
from core.data.encodings import ENCODINGS
from core.data.memory import VAL_SPLIT, InMemoryData, random_split, stratified_split
from core.errors import BadInput

if TYPE_CHECKING:
    import numpy as np

DATASETS = Catalogue("dataset")

# A target of at most this many distinct whole numbers is taken for class labels.
MAX_CLASS_LIKE_VALUES = 20
# A text column with more distinct values than this is a name or an id, not a category.
MAX_CATEGORIES = 100


def _bundled_table(name: str, params: dict, seed: int, task: str) -> InMemoryData:
    import torch

    from core.data.bundled import load_table

    bundled = load_table(name)
    if task == "classification":
        names = bundled.target_names
        targets = [names[t] for t in bundled.target]
        target_name = "class"
    else:
        targets = [f"{t:g}" for t in bundled.target]
        target_name = "target"
    # The numbers go through text as a CSV file's would (six significant digits).
    text = "".join(",".join([f"{v:g}" for v in row] + [t]) + "\n"
                   for row, t in zip(bundled.data, targets))
    header = ",".join([*bundled.feature_names, target_name]) + "\n"
    table = parse_csv(header + text, name, ",", [])
    data = encode_table(table, target_name, task, "drop", params["val_split"], seed)
    if task == "classification":  # keep scikit-learn's class order rather than sorted names
        order = [data.class_names.index(n) for n in names]
        remap = torch.tensor([order.index(i) for i in range(len(names))])
        data.train_y, data.val_y = remap[data.train_y], remap[data.val_y]
        data.class_names = names
    return data


def _register_bundled(name: str, help_text: str, task: str) -> None:
    def build(params: dict, seed: int) -> InMemoryData:
        return _bundled_table(name, params, seed, task)

    DATASETS.register(name, help_text, (VAL_SPLIT,), task=task, gives="table")(build)


_register_bundled("iris", "Iris flowers (scikit-learn's set, bundled): 150 rows of 4 "
                  "measurements, 3 species. Classification; works offline.", "classification")
_register_bundled("wine", "Wines (scikit-learn's set, bundled): 178 rows of 13 chemical "
                  "measurements, 3 cultivars. Classification; works offline.", "classification")
_register_bundled("breast_cancer", "Breast cancer biopsies (scikit-learn's set, bundled): 569 "
                  "rows of 30 measurements, malignant or benign. Two-class classification; "
                  "works offline.", "classification")
_register_bundled("diabetes", "Diabetes progression (scikit-learn's set, bundled): 442 patients, "
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
        Param("target", "str", "", "The column to predict (empty: the last column).",
              column_of="path"),
        Param("task", "choice", "auto", "auto: classification when the target is text or a "
              "few whole numbers, else regression.",
              choices=("auto", "classification", "regression")),
        Param("missing", "choice", "drop", "Rows with empty or NA cells: drop them, or fill "
              "numbers with the training mean and text with the most common value.",
              choices=("drop", "fill")),
        ENCODING,
        VAL_SPLIT,
    ),
    task="auto", gives="table",
)
def csv_table(params: dict, seed: int) -> InMemoryData:
    table = read_csv(params["path"], "[data] path", params["encoding"], keep=params["target"])
    return encode_table(table, params["target"], params["task"], params["missing"],
                        params["val_split"], seed)


def encode_table(table: Table, target: str, task: str, missing: str, val_split: float,
                 seed: int) -> InMemoryData:
    """Turn the columns into tensors: features standardised or one-hot, the target into class
    indices or standardised numbers. Problems are BadInput naming the line and column;
    what was left out (rows, constant columns) is listed in the data's notes."""
    import numpy as np
    import torch

    source, header, lines = table.source, table.header, table.line_numbers
    target = target or header[-1]
    if target not in header:
        raise BadInput(f"{source} has no column {target!r}; its columns are "
                       f"{', '.join(header)}; set [data] target to one of them")
    if len(header) < 2:
        raise BadInput(f"{source} has only the target column; add columns to learn from")
    t = header.index(target)
    notes = list(table.notes)

    # Rows without a target cannot be learned from, whatever the missing-value policy.
    rows = np.flatnonzero(~table.columns[t].missing)  # the rows used, as indices
    if len(rows) < len(table):
        first = int(np.argmax(table.columns[t].missing))
        notes.append(f"{len(table) - len(rows)} row(s) with no {target!r} value left out "
                     f"(first: line {lines[first]})")
    if not len(rows):
        raise BadInput(f"{source}: column {target!r} has no values; choose another target")

    columns = [c for c in range(len(header)) if c != t]
    numeric = {c: _column_is_numeric(table, c, rows) for c in columns}
    empty = [c for c in columns
             if table.columns[c].missing.any() and table.columns[c].missing[rows].all()]
    if empty:
        notes.append(f"column(s) {', '.join(repr(header[c]) for c in empty)} have no values "
                     "and were left out")
        columns = [c for c in columns if c not in empty]
    if missing == "drop":
        gaps = np.zeros(len(rows), bool)
        for c in columns:
            gaps |= table.columns[c].missing[rows]
        if gaps.any():
            first = int(rows[np.argmax(gaps)])
            column = next(header[c] for c in columns if table.columns[c].missing[first])
            if gaps.all():
                raise BadInput(f"{source}: every row has an empty cell (first: line "
                               f"{lines[first]}, column {column!r}); set [data] missing = "
                               "\"fill\" or fill the cells in")
            notes.append(f"{int(gaps.sum())} of {len(rows)} row(s) with empty cells dropped "
                         f"(first: line {lines[first]}, column {column!r}); missing = \"fill\" "
                         "keeps them")
            rows = rows[~gaps]

    # The target, and the task it implies.
    names, codes = _distinct_cells(table, t, rows)
    texts = table.columns[t].text[rows]
    if task == "auto":
        numbers = table.columns[t].numbers[rows]
        whole = not texts.any() and bool(np.all(np.floor(numbers) == numbers))
        distinct = len(names)
        task = ("classification" if texts.any() or (whole and distinct <= MAX_CLASS_LIKE_VALUES)
                else "regression")
        notes.append(f"{target!r} looks like a {task} target ({distinct} distinct values); "
                     "set [data] task to choose otherwise")
    if task == "regression":
        if texts.any():
            bad = int(np.argmax(texts))
            raise BadInput(f"{source} line {lines[rows[bad]]}, column {target!r}: "
                           f"{names[codes[bad]]!r} is not a number, so it cannot be a "
                           "regression target; fix it or set [data] task = \"classification\"")
        values = table.columns[t].numbers[rows]
        if np.ptp(values) == 0:
            raise BadInput(f"{source}: column {target!r} holds the same value ({values[0]:g}) "
                           "in every row, so there is nothing to predict; choose another target")
        train_idx, val_idx = random_split(len(rows), val_split, seed)
        mean, std = values[train_idx].mean(), values[train_idx].std() or 1.0
        y = torch.from_numpy(((values - mean) / std).astype(np.float32)).unsqueeze(1)
        class_names, target_scale, target_offset = [target], float(std), float(mean)
    else:
        class_names = sorted(names, key=None if texts.any() else float)
        if len(class_names) < 2:
            raise BadInput(f"{source}: column {target!r} holds one class ({class_names[0]!r}) "
                           "in every row; a classifier needs at least two")
        position = {name: i for i, name in enumerate(class_names)}
        labels = np.asarray([position[name] for name in names], dtype=np.int64)[codes]
        train_idx, val_idx = stratified_split(labels, val_split, seed, class_names)
        y = torch.from_numpy(labels)
        target_scale, target_offset = 1.0, 0.0

    # Features, with statistics from the training rows only; `encoding` records them so a
    # new row can be encoded alike (core.inference.predict.prepare_row). Each column is
    # written straight into the float32 matrices, a column at a time.
    split = _Split(train_idx, val_idx, rows[train_idx], rows[val_idx])
    blocks, names, constant, encoding = [], [], [], []
    for c in columns:
        block = (_number_block if numeric[c] else _category_block)(table, c, rows, split, source)
        if block is None:
            constant.append(header[c])
            continue
        blocks.append(block)
        encoding.append(block.encoding)
        names += block.names
    if constant:
        notes.append(f"column(s) {', '.join(repr(n) for n in constant)} hold one value in every "
                     "training row and were left out")
    if not blocks:
        raise BadInput(f"{source}: no column besides {target!r} varies, so there is nothing to "
                       "learn from; add columns")
    # Column-major while the columns are written (each one contiguous), row-major after.
    train_x = np.zeros((len(train_idx), len(names)), np.float32, order="F")
    val_x = np.zeros((len(val_idx), len(names)), np.float32, order="F")
    start = 0
    for block in blocks:  # each column's values are made here, one column at a time
        end = start + len(block.names)
        block.fill(train_x[:, start:end], val_x[:, start:end])
        start = end
    train_x, val_x = np.ascontiguousarray(train_x), np.ascontiguousarray(val_x)
    return InMemoryData(torch.from_numpy(train_x), y[train_idx], torch.from_numpy(val_x),
                        y[val_idx], class_names, task=task, kind="table",
                        target_scale=target_scale, target_offset=target_offset,
                        preprocessing={"columns": encoding, "target": target},
                        notes=notes, feature_names=names,
                        preview_columns=list(table.header),
                        preview_rows=[list(r) for r in table.head])


def _distinct_cells(table: Table, c: int, rows):
    """Column c's distinct cells among `rows` (in order of first appearance) and each row's
    index into them."""
    import numpy as np

    column = table.columns[c]
    if column.codes is None:  # numbers only were kept: read the cells again (rare)
        cells = table.cells(c)
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(cells[i], len(index)) for i in rows.tolist()),
                            np.int64, len(rows))
        return list(index), codes
    used, first, codes = np.unique(column.codes[rows], return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # renumber by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return [column.values[k] for k in used[order].tolist()], rank[codes.reshape(-1)]


class _Split(NamedTuple):
    """The training and validation samples: as positions among the rows used, and as rows
    of the file (the columns' index), worked out once for every column."""

    train_idx: np.ndarray
    val_idx: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray


@dataclass
class _Block:
    """A column's features: their names, how a new row is encoded, and the values."""

    names: list[str]
    encoding: dict
    # fill(train_out, val_out): write the training and validation rows
    # (out: float32, a row per sample, a column per feature)
    fill: Callable


def _number_block(table: Table, c: int, rows, split: _Split, source: str) -> _Block | None:
    import numpy as np

    name = table.header[c]
    numbers, gaps = table.columns[c].numbers, table.columns[c].missing.any()
    train_values = numbers[split.train_rows]
    if gaps:
        train_values = train_values[~np.isnan(train_values)]  # NaN where missing
    if len(train_values) == 0 or np.ptp(train_values) == 0:
        return None
    mean, std = train_values.mean(), train_values.std()

    def fill(train_out, val_out):
        for out, file_rows in ((train_out, split.train_rows), (val_out, split.val_rows)):
            values = numbers[file_rows]  # a copy, changed in place
            values -= mean
            values /= std
            if gaps:
                values[np.isnan(values)] = 0.0  # missing: the training mean, 0 standardised
            out[:, 0] = values

    return _Block([name], {"name": name, "kind": "number", "mean": float(mean),
                           "std": float(std)}, fill)


def _category_block(table: Table, c: int, rows, split: _Split, source: str) -> _Block | None:
    import numpy as np

    name = table.header[c]
    cells, codes = _distinct_cells(table, c, rows)
    missing = table.columns[c].missing[rows]
    present = codes[split.train_idx][~missing[split.train_idx]]
    counts = np.bincount(present, minlength=len(cells))
    categories = sorted(cells[k] for k in np.flatnonzero(counts).tolist())
    if len(categories) <= 1:
        return None
    if len(categories) > MAX_CATEGORIES:
        raise BadInput(f"{source} column {name!r} holds {len(categories)} different "
                       f"texts (e.g. {categories[0]!r}), too many to be categories; "
                       "remove the column (a name or an id?) or use the text_csv dataset")
    count_of = {cells[k]: int(counts[k]) for k in np.flatnonzero(counts).tolist()}
    common = max(categories, key=count_of.__getitem__)  # the first of the most common
    # each distinct cell's one-hot column (-1: none, a value seen only in validation rows)
    position = {category: i for i, category in enumerate(categories)}
    column_of = np.asarray([position.get(cell, -1) for cell in cells], dtype=np.int64)
    hot = np.where(missing, position[common], column_of[codes]).astype(np.int16)

    def fill(train_out, val_out):
        for out, idx in ((train_out, split.train_idx), (val_out, split.val_idx)):
            chosen = hot[idx]
            seen = np.flatnonzero(chosen >= 0)
            out[seen, chosen[seen]] = 1.0

    return _Block([f"{name}={k}" for k in categories],
                  {"name": name, "kind": "category", "categories": list(categories),
                   "fill": common}, fill)


def _column_is_numeric(table: Table, c: int, rows) -> bool:
    """A column is numeric when all its cells are numbers; a column of mostly numbers with a
    stray text cell is a mistake, reported with its line."""
    import numpy as np

    column = table.columns[c]
    if not column.text.any():  # (the usual column, told without a copy of its rows)
        return True
    present = int((~column.missing[rows]).sum())
    texts = column.text[rows]
    bad = int(texts.sum())
    if not bad:
        return True
    if bad <= 0.1 * present:
        i = int(rows[np.argmax(texts)])
        cell = table.cells(c)[i]
        raise BadInput(f"{table.source} line {table.line_numbers[i]}, column "
                       f"{table.header[c]!r}: {cell!r} is not a number, though "
                       f"{present - bad} of the column's {present} values are; fix it, or "
                       "leave it empty to treat it as missing")
    return False

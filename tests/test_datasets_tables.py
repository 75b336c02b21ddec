"""Table datasets: the tables bundled offline (scikit-learn's), and CSV files the tests write,
good and broken (missing cells, stray text in a number column, constant columns, ragged
lines), with the problem named by line and column."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from core.catalog import CATALOGUES
from core.config import RunConfig
from core.errors import BadInput
from core.train.loop import train

DATASETS = CATALOGUES["data"]


def build(name: str, seed: int = 0, **params):
    entry = DATASETS.get(name)
    return entry.build(entry.check_params(params, "data"), seed)


@pytest.mark.parametrize("name, rows, columns, classes", [
    ("iris", 150, 4, ["setosa", "versicolor", "virginica"]),
    ("wine", 178, 13, ["class_0", "class_1", "class_2"]),
    ("breast_cancer", 569, 30, ["malignant", "benign"]),
])
def test_bundled_classification_tables(name, rows, columns, classes):
    from core.data.bundled import load_table

    data = build(name)
    assert data.kind == "table" and data.task == "classification"
    assert data.input_shape == (columns,) and data.class_names == classes
    assert len(data.train_y) + len(data.val_y) == rows
    assert data.train_y.dtype == torch.int64 and data.train_x.dtype == torch.float32
    # standardised with the training rows' statistics only
    assert torch.allclose(data.train_x.mean(0), torch.zeros(columns), atol=1e-5)
    assert torch.allclose(data.train_x.std(0, unbiased=False), torch.ones(columns), atol=1e-4)
    assert not torch.allclose(data.val_x.mean(0), torch.zeros(columns), atol=1e-3)
    # scikit-learn's label numbers are kept: the shares of each class match its targets
    # (tests/test_tables_fast.py: the bundled files are scikit-learn's, bit for bit)
    target = load_table(name).target
    all_y = torch.cat([data.train_y, data.val_y])
    assert torch.bincount(all_y).tolist() == np.bincount(target).tolist()
    assert len(data.preview_rows) == 50 and data.preview_columns[-1] == "class"


def test_diabetes_is_a_standardised_regression_with_its_scale_kept():
    from core.data.bundled import load_table

    data = build("diabetes")
    assert data.task == "regression" and data.kind == "table"
    assert data.input_shape == (10,) and data.class_names == ["target"]
    assert data.num_classes == 1
    assert data.train_y.shape == (len(data.train_y), 1) and data.train_y.dtype == torch.float32
    assert abs(float(data.train_y.mean())) < 1e-5
    raw = load_table("diabetes").target
    assert len(data.train_y) + len(data.val_y) == len(raw)
    assert 60 < data.target_scale < 90  # the target's std, in its own units (25..346)


def test_tables_split_by_the_seed():
    assert not torch.equal(build("iris", 0).val_x, build("iris", 1).val_x)
    assert torch.equal(build("iris", 3).val_x, build("iris", 3).val_x)


# ---------------------------------------------------------------- CSV


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def rows_of(n: int, make) -> str:
    return "".join(make(i) for i in range(n))


@pytest.fixture
def people(tmp_path) -> str:
    """age (number), city (text), height (number), label (text): 40 rows."""
    lines = "age,city,height,label\n" + rows_of(
        40, lambda i: f"{20 + i},{['Oslo', 'Rome', 'Lima'][i % 3]},{150 + (i * 7) % 40},"
                      f"{'tall' if (i * 7) % 40 >= 20 else 'short'}\n")
    return write(tmp_path / "people.csv", lines)


def test_csv_classification_with_numbers_and_categories(people):
    data = build("csv", path=people, target="label")
    assert data.task == "classification" and data.class_names == ["short", "tall"]
    assert data.feature_names == ["age", "city=Lima", "city=Oslo", "city=Rome", "height"]
    assert data.input_shape == (5,)
    assert len(data.train_y) + len(data.val_y) == 40
    one_hot = torch.cat([data.train_x, data.val_x])[:, 1:4]
    assert torch.equal(one_hot.sum(1), torch.ones(40))
    assert any("'label' looks like a classification target" in n for n in data.notes)
    assert data.preview_columns == ["age", "city", "height", "label"]
    assert data.preview_rows[0] == ["20", "Oslo", "150", "short"]


def test_csv_target_defaults_to_the_last_column_and_numbers_mean_regression(tmp_path):
    path = write(tmp_path / "prices.csv", "rooms;area;price\n" + rows_of(
        30, lambda i: f"{1 + i % 4};{40.5 + 3 * i};{1000.25 + 37.5 * i}\n"))
    data = build("csv", path=path)  # semicolons, found by sniffing
    assert data.task == "regression" and data.class_names == ["price"]
    assert data.feature_names == ["rooms", "area"]
    assert data.train_y.shape[1] == 1
    assert data.target_scale > 100
    forced = build("csv", path=path, target="rooms")
    assert forced.task == "classification" and forced.class_names == ["1", "2", "3", "4"]
    as_numbers = build("csv", path=path, target="rooms", task="regression")
    assert as_numbers.task == "regression"


def test_csv_missing_cells_dropped_or_filled(tmp_path):
    text = "a,b,c,y\n" + rows_of(20, lambda i: f"{i},{i % 2},{'x' if i % 2 else 'z'},{i % 2}\n")
    text = text.replace("\n5,1,x,1\n", "\n5,,x,1\n").replace("\n8,0,z,0\n", "\n8,0,NA,0\n")
    path = write(tmp_path / "gaps.csv", text)
    dropped = build("csv", path=path, val_split=0.25)
    assert len(dropped.train_y) + len(dropped.val_y) == 18
    assert any(n.startswith("2 of 20 row(s) with empty cells dropped (first: line 7, "
                            "column 'b')")
               for n in dropped.notes)
    filled = build("csv", path=path, missing="fill", val_split=0.25)
    assert len(filled.train_y) + len(filled.val_y) == 20
    assert torch.isfinite(filled.train_x).all() and torch.isfinite(filled.val_x).all()


def test_csv_rows_without_a_target_are_left_out(tmp_path):
    path = write(tmp_path / "t.csv", "x,y\n" + rows_of(20, lambda i: f"{i},{i % 2}\n")
                 + "99,\n")
    data = build("csv", path=path)
    assert len(data.train_y) + len(data.val_y) == 20
    assert "1 row(s) with no 'y' value left out (first: line 22)" in data.notes


def test_csv_stray_text_in_a_number_column_names_line_and_column(tmp_path):
    text = "age,y\n" + rows_of(30, lambda i: f"{i},{i % 2}\n")
    path = write(tmp_path / "stray.csv", text.replace("\n12,0\n", "\ntwelve,0\n"))
    with pytest.raises(BadInput, match=r"stray.csv line 14, column 'age': 'twelve' is not a "
                                       r"number, though 29 of the column's 30 values are"):
        build("csv", path=path)


def test_csv_constant_and_empty_columns_are_left_out_and_said(tmp_path):
    path = write(tmp_path / "c.csv", "x,same,blank,word,y\n" + rows_of(
        20, lambda i: f"{i},7,,{'a'},{i % 2}\n"))
    data = build("csv", path=path)
    assert data.feature_names == ["x"]
    assert "column(s) 'blank' have no values and were left out" in data.notes
    assert "column(s) 'same', 'word' hold one value in every training row and were left out" \
        in data.notes
    only_constant = write(tmp_path / "k.csv", "same,y\n" + rows_of(10, lambda i: f"3,{i % 2}\n"))
    with pytest.raises(BadInput, match="no column besides 'y' varies"):
        build("csv", path=only_constant)


@pytest.mark.parametrize("text, params, message", [
    ("", {}, "is empty; a CSV file needs a header row"),
    ("a,b\n", {}, "has a header but no data rows"),
    ("a,a,b\n1,2,3\n", {}, "the header names a more than once"),
    ("a,b,y\n1,2,0\n1,2\n1,2,1\n", {}, r"line 3 has 2 fields but the header has 3"),
    ("a,y\n1,0\n2,1\n", {"target": "label"}, r"has no column 'label'; its columns are a, y"),
    ("a,y\n" + "".join(f"{i},5\n" for i in range(10)), {"task": "regression"},
     r"column 'y' holds the same value \(5\) in every row"),
    ("a,y\n" + "".join(f"{i},cat\n" for i in range(10)), {},
     r"column 'y' holds one class \('cat'\) in every row"),
    ("a,y\n1,2.5\n2,3.5\n3,big\n4,1.0\n", {"task": "regression"},
     r"line 4, column 'y': 'big' is not a number, so it cannot be a regression target"),
    ("id,y\n" + "".join(f"user{i},{i % 2}\n" for i in range(300)), {},
     r"column 'id' holds \d+ different texts .* too many to be categories"),
    ("y\n1\n2\n", {}, "has only the target column"),
])
def test_broken_csv_files_are_refused_clearly(tmp_path, text, params, message):
    path = write(tmp_path / "broken.csv", text)
    with pytest.raises(BadInput, match=message):
        build("csv", path=path, **params)


def test_csv_path_problems(tmp_path):
    with pytest.raises(BadInput, match=r"\[data\] path is empty: choose a CSV file"):
        build("csv")
    with pytest.raises(BadInput, match="does not exist; check the path"):
        build("csv", path=str(tmp_path / "nope.csv"))


def test_csv_in_latin1_with_quoted_commas_reads(tmp_path):
    text = 'name,note,y\n' + rows_of(12, lambda i: f'"Müller, {i % 3}",café,{i % 2}\n')
    path = tmp_path / "latin.csv"
    path.write_bytes(text.encode("latin-1"))
    data = build("csv", path=str(path))
    assert data.feature_names == ["name=Müller, 0", "name=Müller, 1", "name=Müller, 2"]


def test_a_csv_regression_trains_through_the_trainer(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = 3 * x[:, 0] - 2 * x[:, 1] + 0.1 * rng.normal(size=200)
    path = write(tmp_path / "lin.csv", "u,v,target\n" + "".join(
        f"{a:.4f},{b:.4f},{t:.4f}\n" for (a, b), t in zip(x, y)))
    config = RunConfig().with_overrides([
        "model.name=mlp", "model.hidden_sizes=[16]", "data.name=csv", f"data.path={path}",
        "loss.name=mse", "training.epochs=20", "training.batch_size=32",
        "training.device=cpu", "training.threads=1", "optimizer.lr=0.01"])
    held_mb = resident_mb()
    summary = train(config, runs_dir=tmp_path / "runs")
    assert summary["metric"] == "r2" and summary["final_val_metric"] > 0.9
    # where time and memory went, in summary.json too
    written = json.loads((Path(summary["run_dir"]) / "summary.json").read_text("utf-8"))
    assert 0 < written["data_seconds"] == summary["data_seconds"] < summary["duration_s"] + 60
    if held_mb is not None:  # the peak is at least what the process held before the run
        assert held_mb - 0.1 <= written["peak_rss_mb"] < 64 * 1024


def resident_mb() -> float | None:
    """What this process holds in memory now, in MiB (Linux only)."""
    statm = Path("/proc/self/statm")
    if not statm.is_file():
        return None
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- Files as spreadsheets and editors save them: encodings, quoting, line endings --------

FIXTURES = Path(__file__).parent / "fixtures"


def read(path, **kwargs):
    from core.data.tables import read_csv

    return read_csv(str(path), "[data] path", **kwargs)


@pytest.mark.parametrize("encoding, described", [
    ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with a BOM"), ("utf-16", "UTF-16"),
    ("gbk", "GB18030 (GBK)")])
def test_chinese_files_read_the_same_in_every_encoding(tmp_path, encoding, described):
    text = (FIXTURES / "reviews_zh.csv").read_text(encoding="utf-8")
    path = tmp_path / "评论.csv"  # a Chinese file name too
    path.write_bytes(text.encode(encoding))
    table = read(path)
    assert table.header == ["label", "review"] and len(table.rows) == 32
    assert table.rows[1] == ["好评", '饭菜很香，分量足，"超值"！']
    assert table.notes[0] == f"评论.csv read as {described} (detected; set encoding to choose)"


@pytest.mark.parametrize("setting, written, described", [
    ("auto", "ascii", "UTF-8"), ("utf-8", "ascii", "UTF-8 with a BOM"),
    ("cp1252", "ascii", "cp1252 (Western European)"), ("gb18030", "ascii", "GB18030 (GBK)"),
    ("latin-1", "ascii", "Latin-1"), ("utf-16", "utf-16", "UTF-16"),
    ("utf-16", "utf-16-le", "UTF-16")])
def test_an_ascii_file_reads_alike_in_every_encoding_setting(tmp_path, setting, written,
                                                              described):
    """ASCII bytes are handed on undecoded where the encoding reads them as themselves; a
    UTF-16 file of ASCII text is still decoded (without a BOM its bytes are ASCII too)."""
    path = tmp_path / "plain.csv"
    path.write_bytes("x,city,y\r\n1.5,Oslo,0\r\n-2e3,\"Rome, IT\",1\r\n".encode(written))
    table = read(path, encoding=setting)
    assert table.header == ["x", "city", "y"]
    assert table.rows == [["1.5", "Oslo", "0"], ["-2e3", "Rome, IT", "1"]]
    assert table.notes[0].startswith(f"plain.csv read as {described}")


def test_a_gbk_file_is_not_read_as_mojibake():
    table = read(FIXTURES / "reviews_zh_gbk.csv")
    assert {row[0] for row in table.rows} == {"好评", "差评"}
    assert "GB18030 (GBK)" in table.notes[0]
    with pytest.raises(BadInput, match=r"is not UTF-8 \(byte \d+ does not fit\); set the "
                                       "encoding to auto"):
        read(FIXTURES / "reviews_zh_gbk.csv", encoding="utf-8")


def test_a_latin1_file_with_accented_names_and_decimal_commas():
    data = build("csv", path=str(FIXTURES / "people_latin1.csv"), target="group", val_split=0.25)
    table = read(FIXTURES / "people_latin1.csv")
    assert [row[0] for row in table.rows][:4] == ["José Álvarez", "Zoë Müller",
                                                  "François Lefèvre", "Søren Ærø"]
    assert table.rows[0][2:4] == ["1.72", "68.5"]  # 1,72;68,5: numbers with decimal commas
    assert "cp1252 (Western European)" in table.notes[0]
    assert "16 number(s) with a decimal comma (1,5) read as numbers (1.5)" in table.notes
    # height and weight are numbers (one column each), not categories
    assert "height" in data.feature_names and "weight" in data.feature_names
    assert read(FIXTURES / "people_latin1.csv", encoding="latin-1").rows == table.rows


def test_a_comma_file_keeps_commas_inside_quotes_as_text(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('x,label\n"1,5",a\n"2,5",b\n', encoding="utf-8")
    assert read(path).rows == [["1,5", "a"], ["2,5", "b"]]


def test_an_encoding_no_guess_fits_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    # not UTF-8, not real GBK (decodes as GB18030, but to rare characters), not cp1252
    path.write_bytes(b"name,value\n\x81a,1\n\x90b,2\n")
    with pytest.raises(BadInput, match="cannot tell how .* is encoded .*set the encoding"):
        read(path)
    assert read(path, encoding="latin-1").rows == [["\x81a", "1"], ["\x90b", "2"]]


def test_standard_quoting_commas_doubled_quotes_and_newlines_in_fields(tmp_path):
    """csv.Sniffer guessed doublequote=False on a real review file; quoting is RFC 4180."""
    path = tmp_path / "q.csv"
    path.write_text('label,review\n1,"good, really ""good"""\n0,"bad\nvery bad, ""awful"""\n'
                    '1,plain\n' + "".join(f'{i % 2},"a ""quoted"" word, {i}"\n'
                                          for i in range(40)), encoding="utf-8")
    table = read(path)
    assert table.rows[0] == ["1", 'good, really "good"']
    assert table.rows[1] == ["0", 'bad\nvery bad, "awful"']
    assert table.rows[2] == ["1", "plain"] and len(table.rows) == 43
    assert table.lines[:3] == [2, 4, 5]  # a row's last physical line


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_the_delimiter_is_detected(tmp_path, delimiter):
    path = tmp_path / "d.csv"
    path.write_text(delimiter.join(["a", "b", "c"]) + "\n"
                    + delimiter.join(["1", '"x, y"', "3"]) + "\n", encoding="utf-8")
    assert read(path).rows == [["1", "x, y", "3"]]


def test_cr_only_line_endings_and_huge_fields(tmp_path):
    cr = tmp_path / "mac.csv"
    cr.write_bytes(b"a,b\r1,x\r2,y\r")
    assert read(cr).rows == [["1", "x"], ["2", "y"]]
    big = tmp_path / "big.csv"
    long_text = "长" * 200_000  # past csv's default 128 KiB field limit
    big.write_text(f'text,label\n"{long_text}",a\nshort,b\n', encoding="utf-8")
    assert read(big).rows[0] == [long_text, "a"]


def test_control_characters_in_the_header_are_shown_escaped(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("\x1b[31mred\x07,label\n1,a\n2,b\n", encoding="utf-8")
    table = read(path)
    assert table.header[0] == "\\x1b[31mred\\x07"
    with pytest.raises(BadInput) as raised:
        build("csv", path=str(path), target="nothing")
    assert "\x1b" not in str(raised.value) and "\\x1b[31mred" in str(raised.value)


def test_special_files_are_refused_without_reading_them(tmp_path):
    import os

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # reading it would block until someone writes
    with pytest.raises(BadInput, match="is not a regular file; choose a file"):
        read(fifo)
    with pytest.raises(BadInput, match="is not a regular file"):
        read("/dev/zero")  # endless: must not be read into memory
    with pytest.raises(BadInput, match="is a folder"):
        read(tmp_path)


def test_oversized_files_are_refused(tmp_path, monkeypatch):
    import core.data.encodings as encodings

    monkeypatch.setattr(encodings, "MAX_TEXT_FILE_BYTES", 10)
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    with pytest.raises(BadInput, match="split it or take a sample"):
        read(path)

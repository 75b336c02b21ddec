"""Benchmark: preparing a CSV table of 1,000,000 rows x 20 columns (core/data/csv_columns.py
reads it into columns, core/data/tables.py encodes them), against `csv.reader` alone
reading the same file, and pandas.read_csv where pandas is installed.

The file (written into a temporary folder, about 110 MB) has 16 columns of real numbers
(six significant digits; two of them with 1% empty cells), two of whole numbers, one of
five city names (a category) and a two-class target, as an export from a spreadsheet or a
database would. TrainDesk's figure is the whole of what the `csv` dataset does: decoding
the file, reading it, and encoding it into standardised float32 tensors (missing =
"fill", so every row is kept). Each measurement runs in a fresh process with torch and
TrainDesk already imported, so an import is not counted and the peak memory is the step's
own: its peak resident set (Linux's VmHWM, reset as the step starts) less the resident set
before it, against the size of the numbers (rows x columns x 8 bytes as float64).

`python -m benchmarks.tables [--rows 1000000] [--repeats 3]`
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import machine, summarize

COLUMNS = 20
CITIES = ["Oslo", "Rome", "Lima", "Kyoto", "Accra"]

# Run in a child process: prints {"seconds", "cpu_seconds", "peak_mb"} as JSON.
CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[3])
import torch  # noqa: F401  (loaded before the baseline, as in a run)
from core.data.tables import encode_table, read_csv

def status_mb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field))

path, how = sys.argv[1], sys.argv[2]
if how == "pandas":
    import pandas
before = status_mb("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:  # the peak (VmHWM) starts again from here
    f.write("5")
start, cpu = time.perf_counter(), time.process_time()
if how == "csv.reader":
    import csv
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            pass
elif how == "pandas":
    frame = pandas.read_csv(path)
else:
    data = encode_table(read_csv(path, "path"), "", "auto", "fill", 0.2, 0)
    assert data.train_x.shape[0] + data.val_x.shape[0] > 0
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu,
                  "peak_mb": status_mb("VmHWM:") - before}))
"""


def write_table(path: Path, rows: int, seed: int = 0) -> None:
    """The benchmark's CSV file, written a block of rows at a time."""
    import numpy as np

    rng = np.random.default_rng(seed)
    header = [f"x{i}" for i in range(16)] + ["age", "visits", "city", "label"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(header) + "\n")
        for start in range(0, rows, 50_000):
            n = min(50_000, rows - start)
            reals = rng.normal(size=(n, 16)) * rng.uniform(0.1, 100, size=16)
            cells = [[f"{v:.6g}" for v in column] for column in reals.T]
            for column in cells[:2]:  # 1% empty cells
                for i in np.flatnonzero(rng.random(n) < 0.01):
                    column[i] = ""
            cells.append([str(v) for v in rng.integers(18, 90, n)])
            cells.append([str(v) for v in rng.poisson(3, n)])
            cells.append([CITIES[i] for i in rng.integers(0, len(CITIES), n)])
            cells.append([str(int(v)) for v in reals[:, 0] + reals[:, 1] > 0])
            f.write("".join(",".join(row) + "\n" for row in zip(*cells)))


def measure(path: Path, how: str) -> dict:
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), how, root],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def run(repeats: int = 3, rows: int = 1_000_000) -> list[dict]:
    try:
        import pandas  # noqa: F401
        ways = ["csv.reader", "traindesk", "pandas"]
    except ImportError:
        ways = ["csv.reader", "traindesk"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        write_table(path, rows)
        size_mb = path.stat().st_size / 2**20
        runs = {how: [] for how in ways}
        for _ in range(repeats):
            for how in ways:  # interleaved, so a busy moment hits each alike
                runs[how].append(measure(path, how))
    row = {"benchmark": f"tables, a CSV of {rows:,} rows x {COLUMNS} columns "
                        f"({size_mb:.0f} MB)",
           "numbers as float64 MB": rows * COLUMNS * 8 / 2**20}
    for how in ways:
        for key in ("seconds", "cpu_seconds", "peak_mb"):
            row[f"{how} {key}"] = summarize([r[key] for r in runs[how]])
    for key in ("seconds", "cpu_seconds"):
        row[f"traindesk / csv.reader, {key}"] = summarize(
            [t[key] / c[key] for t, c in zip(runs["traindesk"], runs["csv.reader"])])
    if "pandas" not in ways:
        row["pandas"] = "not installed"
    return [row]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    for row in run(args.repeats, args.rows):
        print(json.dumps(row, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

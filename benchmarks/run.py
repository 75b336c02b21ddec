"""Run every benchmark and print one table: `python -m benchmarks.run [--quick]`.

Results are also written as JSON (benchmarks/results.json, not committed) so that
docs/performance.md can be updated from a single run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.common import machine

# name: module (its run(repeats=...)), or "module:function" for a second suite in a module
SUITES = {
    "engine_whole": "benchmarks.engine_vs_raw:whole_process",
    "engine": "benchmarks.engine_vs_raw",
    "dataloader": "benchmarks.dataloader_vs_memory",
    "gui_latency": "benchmarks.gui_latency",
    "startup": "benchmarks.startup",
    "plot_refresh": "benchmarks.plot_refresh",
    "memory": "benchmarks.memory",
    "freeze": "benchmarks.freeze",
    "soak_gui": "benchmarks.soak_gui",
    "tables": "benchmarks.tables",
    "hf_trainer": "benchmarks.hf_trainer",  # needs the bench extra (accelerate)
}


def format_cell(value) -> str:
    if isinstance(value, dict) and "median" in value:
        digits = 3 if abs(value["median"]) < 10 else 1  # ratios need more than one decimal
        return (f"{value['median']:,.{digits}f} "
                f"({value['min']:,.{digits}f}-{value['max']:,.{digits}f})")
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=list(SUITES), action="append",
                        help="run just these suites (repeatable)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.json"))
    args = parser.parse_args()
    import importlib

    results = {"machine": machine(), "rows": []}
    print(f"machine: {results['machine']}")
    for name in args.only or list(SUITES):
        module_name, _, function = SUITES[name].partition(":")
        suite = getattr(importlib.import_module(module_name), function or "run")
        for row in suite(repeats=args.repeats):
            results["rows"].append(row)
            print(f"\n{row['benchmark']}  (median, min-max over {args.repeats} repeats)")
            for key, value in row.items():
                if key != "benchmark":
                    print(f"  {key:<40} {format_cell(value)}")
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

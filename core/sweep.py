"""Sweeps: one run file trained over a grid (or random draws) of settings, each point an
ordinary run folder tagged in its summary.json with the sweep's id and its point, and a
table of the runs sorted by a validation score.

A sweep is its file, `<runs dir>/sweeps/<id>.json`: the base config, the points' settings
and the metric, written once before the first run. Which point has which run folder is read
from the run folders themselves (their summary.json's "sweep" tag), so a sweep stopped or
killed at any moment resumes from the folders as they are: a point whose run completed (or
failed) is kept, an interrupted one is resumed from its last checkpoint, the others run.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from core.config import RunConfig, apply_overrides
from core.control import RunControl, StopRequested
from core.errors import BadInput, TrainingFailed
from core.files import printable, write_json_atomic
from core.metrics import CLASS_SCORES, RUN_SCORES
from core.runs.folder import VAL, default_runs_dir, effective_status

METRICS = RUN_SCORES  # what sorts the table (--metric)
DONE = ("completed", "failed")  # a point with such a run is not trained again


@dataclass
class PointResult:
    """Where one point of a sweep stands, read from its run folder."""

    point: int
    settings: dict[str, str]
    status: str  # "pending" before a run folder exists, else the run's status
    run_dir: str | None = None
    best_val_metric: float | None = None
    best_val_loss: float | None = None
    metric: str = "accuracy"  # the task's metric: accuracy, r2 or perplexity
    # a classification's best class scores over its epochs ("macro_f1": 0.91, ...)
    class_scores: dict[str, float] = field(default_factory=dict)

    def score(self, by: str) -> float | None:
        """The run's best `by` (one of METRICS); None where the run recorded none."""
        if by == "val_metric":
            return self.best_val_metric
        if by == "val_loss":
            return self.best_val_loss
        if by == "perplexity":
            return self.best_val_metric if self.metric == "perplexity" else None
        return self.class_scores.get(by.removeprefix("val_"))


@dataclass
class Sweep:
    """A sweep as its file holds it."""

    id: str
    runs_dir: Path
    base: dict  # the run file's config, resolved (RunConfig.to_dict)
    points: list[dict[str, str]]  # each point's settings: "section.key" -> value (TOML)
    metric: str = "val_metric"

    @property
    def path(self) -> Path:
        return sweep_file(self.runs_dir, self.id)

    @classmethod
    def create(cls, config: RunConfig, specs: list[str], runs_dir: Path | None = None,
               random_count: int = 0, seed: int = 0, metric: str = "val_metric") -> Sweep:
        """A new sweep over `specs` ("section.key=v1,v2" lists, or with `random_count`
        also ranges "a..b" and "log:a..b"), every point checked before its file is written."""
        if metric not in METRICS:
            raise BadInput(f"--metric {metric!r}: choose one of {', '.join(METRICS)}")
        axes = [parse_spec(spec, random_count > 0) for spec in specs]
        if not axes:
            raise BadInput("give the settings to vary, e.g. --grid optimizer.lr=1e-3,1e-2")
        keys = [key for key, _ in axes]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise BadInput(f"{', '.join(sorted(duplicates))} is varied twice; give each "
                           "setting once, its values comma-separated")
        points = (random_points(axes, random_count, seed) if random_count
                  else [dict(zip(keys, values))
                        for values in itertools.product(*(v for _, v in axes))])
        base = config.with_absolute_paths(Path.cwd())
        sweep = cls(new_id(), Path(runs_dir or default_runs_dir()), base.to_dict(), points,
                    metric)
        for i in range(len(points)):
            sweep.point_config(i)  # a bad key or value is refused before anything runs
        sweep.save()
        return sweep

    @classmethod
    def load(cls, id_or_file: str, runs_dir: Path | None = None) -> Sweep:
        """The sweep of a file, or of an id in `<runs dir>/sweeps/`."""
        path = Path(id_or_file)
        if not (path.suffix == ".json" and path.is_file()):
            path = sweep_file(Path(runs_dir or default_runs_dir()), str(id_or_file))
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(raw["id"], Path(raw["runs_dir"]), raw["config"], raw["points"],
                       raw.get("metric", "val_metric"))
        except FileNotFoundError:
            raise BadInput(f"no sweep {printable(id_or_file)} ({printable(path)} does not "
                           "exist); give the sweep's id or its .json file, and --runs-dir "
                           "if it is not in the default runs folder") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BadInput(f"cannot read the sweep file {printable(path)} ({exc})") from None

    def save(self) -> None:
        write_json_atomic(self.path, {"id": self.id, "runs_dir": str(self.runs_dir),
                                      "metric": self.metric, "config": self.base,
                                      "points": self.points})

    def point_config(self, point: int) -> RunConfig:
        """The run config of one point: the base with the point's settings."""
        assignments = [f"{key}={value}" for key, value in self.points[point].items()]
        return RunConfig.from_dict(apply_overrides(self.base, assignments))

    def results(self) -> list[PointResult]:
        """Every point as its newest run folder has it (pending where there is none)."""
        folders: dict[int, tuple[str, dict]] = {}
        try:
            entries = sorted(p for p in self.runs_dir.iterdir() if p.is_dir())
        except OSError:
            entries = []
        for folder in entries:  # names start with the time, so later folders win
            summary = _summary(folder)
            tag = summary.get("sweep") if summary else None
            if isinstance(tag, dict) and tag.get("id") == self.id \
                    and isinstance(tag.get("point"), int):
                folders[tag["point"]] = (str(folder), summary)
        results = []
        for i, settings in enumerate(self.points):
            if i not in folders:
                results.append(PointResult(i, settings, "pending"))
                continue
            folder, summary = folders[i]
            results.append(PointResult(
                i, settings, effective_status(summary, Path(folder)), folder,
                _number(summary.get("best_val_metric")), _number(summary.get("best_val_loss")),
                summary.get("metric", "accuracy"), best_class_scores(Path(folder), summary)))
        return results


def best_class_scores(folder: Path, summary: dict) -> dict[str, float]:
    """The best value over a run's validated epochs of each class score it recorded
    (metrics.csv's columns, core.metrics.CLASS_SCORES; all higher is better), as the best
    validation metric is the best over its epochs. summary.json's best_val_<score> (kept
    for the score [training] best_metric ranks by) stands in where metrics.csv has none."""
    best: dict[str, float] = {}
    try:
        with open(folder / "metrics.csv", newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row.get("split") != VAL:
                    continue
                for name in CLASS_SCORES:
                    value = _cell(row.get(name))
                    if value is not None and value > best.get(name, -math.inf):
                        best[name] = value
    except OSError:
        pass  # a run without its metrics.csv (yet): its summary's scores only
    for name in CLASS_SCORES:
        value = _number(summary.get(f"best_val_{name}"))
        if name not in best and value is not None:
            best[name] = value
    return best


def _cell(text: str | None) -> float | None:
    """A metrics.csv cell as a finite number; None when empty, absent or unreadable."""
    try:
        return _number(float(text))
    except (TypeError, ValueError):
        return None


def run_sweep(sweep: Sweep, control: RunControl | None = None, parallel: int = 1,
              on_point: Callable[[PointResult], None] = lambda result: None,
              listeners: Callable[[int], Iterable] = lambda point: ()) -> list[PointResult]:
    """Train every point not yet done, one after another in this process or `parallel` at
    a time as child processes, and return all the points' results. `on_point` hears each
    point as it ends; `listeners(point)` gives an in-process run its event listeners. A stop
    on `control` ends the running run(s) resumably and trains no more."""
    control = control or RunControl()
    todo = [r for r in sweep.results() if r.status not in DONE]
    if parallel > 1:
        _run_children(sweep, [r.point for r in todo], parallel, control, on_point)
    else:
        for result in todo:
            if stop_asked(control):
                break
            train_point(sweep, result, control, listeners(result.point))
            on_point(sweep.results()[result.point])
    return sweep.results()


def stop_asked(control: RunControl) -> bool:
    """Whether `control` asks to stop (waiting while it is paused)."""
    try:
        control.checkpoint()
    except StopRequested:
        return True
    return False


def train_point(sweep: Sweep, result: PointResult, control: RunControl | None = None,
                listeners: Iterable = ()) -> None:
    """Train one point: resume its interrupted run, or start it. A run that fails is
    recorded in its folder (and in the table) and the sweep goes on."""
    from core.train.loop import train

    resume = (Path(result.run_dir) if result.run_dir
              and (Path(result.run_dir) / "checkpoints" / "last.pt").is_file() else None)
    try:
        train(sweep.point_config(result.point), runs_dir=sweep.runs_dir, listeners=listeners,
              control=control, resume_dir=resume, sweep={"id": sweep.id, "point": result.point})
    except TrainingFailed:
        pass  # its folder says failed, with the reason


def _run_children(sweep: Sweep, points: list[int], parallel: int, control: RunControl,
                  on_point: Callable[[PointResult], None]) -> None:
    """`traindesk sweep --resume ID --point I` for each point, `parallel` at a time. A stop
    is passed on to the children as SIGINT (each saves its run, resumable) and no more
    start."""
    import signal

    waiting, running, told = list(points), {}, set()
    while waiting or running:
        stopping = stop_asked(control)
        while waiting and len(running) < parallel and not stopping:
            point = waiting.pop(0)
            running[point] = subprocess.Popen(
                [sys.executable, "-m", "core", "sweep", "--resume", str(sweep.path),
                 "--point", str(point)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for point, child in list(running.items()):
            if stopping and point not in told:
                if os.name == "nt":  # no SIGINT to send: it resumes from its last checkpoint
                    child.terminate()
                else:
                    child.send_signal(signal.SIGINT)
                told.add(point)
            if child.poll() is not None:
                del running[point]
                on_point(sweep.results()[point])
        if stopping and not running:
            return
        time.sleep(0.2)


def parse_spec(spec: str, ranges: bool) -> tuple[str, list | tuple]:
    """("section.key", values) of "section.key=v1,v2,..."; with `ranges` also
    ("section.key", ("uniform" | "log", low, high)) of "key=a..b" and "key=log:a..b"."""
    key, sep, values = spec.partition("=")
    key, values = key.strip(), values.strip()
    if not sep or "." not in key or not values:
        raise BadInput(f"--grid {printable(spec)}: write section.key=value1,value2 (e.g. "
                       "optimizer.lr=1e-3,1e-2) or, with --random, a range like "
                       "optimizer.lr=log:1e-4..1e-1")
    if ".." in values:
        if not ranges:
            raise BadInput(f"--grid {printable(spec)} is a range; ranges are drawn from with "
                           "--random N, or list the values: key=v1,v2")
        scale, _, span = values.rpartition(":") if values.startswith("log:") else ("", "", values)
        low, _, high = span.partition("..")
        try:
            low_value, high_value = float(low), float(high)
        except ValueError:
            raise BadInput(f"--grid {printable(spec)}: a range is low..high with numbers") \
                from None
        if not low_value < high_value or (scale == "log" and low_value <= 0):
            raise BadInput(f"--grid {printable(spec)}: a range needs low < high (and low > 0 "
                           "on a log scale)")
        whole = _is_int(low) and _is_int(high) and scale != "log"
        return key, ("int" if whole else scale or "uniform", low_value, high_value)
    return key, [value.strip() for value in values.split(",") if value.strip()]


def random_points(axes: list, count: int, seed: int) -> list[dict[str, str]]:
    """`count` points drawn with `seed`: a value from each list, or from each range
    (uniform, log-uniform, or whole numbers), numbers shown to 4 significant digits."""
    draw = random.Random(seed)
    points = []
    for _ in range(count):
        point = {}
        for key, values in axes:
            if isinstance(values, list):
                point[key] = draw.choice(values)
                continue
            kind, low, high = values
            if kind == "int":
                point[key] = str(draw.randint(int(low), int(high)))
            elif kind == "log":
                point[key] = f"{math.exp(draw.uniform(math.log(low), math.log(high))):.4g}"
            else:
                point[key] = f"{draw.uniform(low, high):.4g}"
        points.append(point)
    return points


def table(results: list[PointResult], by: str) -> list[str]:
    """The sweep's runs as text lines, best first by `by` (one of METRICS: val_metric
    highest, or lowest for a metric better lower such as perplexity; val_loss and
    perplexity lowest; a class score highest, shown in a column of its own), runs without
    that score last."""
    from core.metrics import format_metric, score_rises

    def order(result: PointResult):
        score = result.score(by)
        if score is None:
            return (1, 0.0)
        return (0, -score if score_rises(by, result.metric) else score)

    # a class score sorting the table is shown next to the metric and the loss
    extra = by if by.removeprefix("val_") in CLASS_SCORES else None

    keys = list(results[0].settings) if results else []
    widths = [max(len(key), *(len(str(r.settings.get(key, ""))) for r in results))
              for key in keys]
    header = "  ".join(key.ljust(width) for key, width in zip(keys, widths))
    lines = [f"{'#':>3}  {header}  {'status':<11}  {'val metric':>10}  {'val loss':>8}  "
             + (f"{extra:>{len(extra)}}  " if extra else "") + "run"]
    for r in sorted(results, key=order):
        values = "  ".join(str(r.settings.get(key, "")).ljust(width)
                           for key, width in zip(keys, widths))
        metric = format_metric(r.metric, r.best_val_metric) if r.best_val_metric is not None \
            else "-"
        loss = f"{r.best_val_loss:.4f}" if r.best_val_loss is not None else "-"
        score = r.score(extra) if extra else None
        shown = (f"{score:.4f}" if score is not None else "-") if extra else ""
        lines.append(f"{r.point:>3}  {values}  {r.status:<11}  {metric:>10}  {loss:>8}  "
                     + (f"{shown:>{len(extra)}}  " if extra else "")
                     + f"{Path(r.run_dir).name if r.run_dir else ''}")
    return lines


def sweep_file(runs_dir: Path, sweep_id: str) -> Path:
    return Path(runs_dir) / "sweeps" / f"{sweep_id}.json"


def new_id() -> str:
    """A sweep id: the time it was made and a short random part (two sweeps a second)."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{random.randrange(16 ** 4):04x}"


def _summary(folder: Path) -> dict | None:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True

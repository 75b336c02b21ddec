"""The headless command line: `traindesk train`, `catalog`, `export` and `predict`.

Exit codes: 0 success; 2 bad input, with one `error:` line on stderr; 1 training failed;
130 interrupted by Ctrl-C after saving a checkpoint. `python -m core` runs this without Qt.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import re
import signal
import sys
import threading
from pathlib import Path

from core.control import RunControl
from core.errors import BadInput, ExportFailed, TrainingFailed
from core.launch import EVENTS_ENV, EventStream, Launch, Nodes
from core.metrics import RUN_SCORES

EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors follow our one-line contract
        self.exit(2, f"error: {message}; see traindesk --help\n")


def build_parser(prog: str = "traindesk") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="Train and fine-tune PyTorch models.")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    train = commands.add_parser("train", help="run a training from a run file")
    train.add_argument("run_file", nargs="?", help="the run file (TOML)")
    train.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="SECTION.KEY=VALUE", help="override one setting, e.g. "
                       "--set training.epochs=3 (repeatable)")
    train.add_argument("--runs-dir", type=Path, help="where run folders go (default: "
                       "TRAINDESK_HOME/runs or the user data folder)")
    train.add_argument("--resume", type=Path, metavar="RUN_DIR",
                       help="continue a stopped or interrupted run from its last checkpoint")
    train.add_argument("--nproc-per-node", type=int, metavar="N", help="train on N "
                       "processes on this machine (one per GPU, or CPU processes) through "
                       "torchrun; [training] batch_size is split across all of them")
    train.add_argument("--nnodes", type=int, default=1, metavar="M", help="with "
                       "--nproc-per-node: the number of machines (default: 1)")
    train.add_argument("--node-rank", type=int, default=0, metavar="R", help="with "
                       "--nnodes: this machine's number, 0 to M-1")
    train.add_argument("--rdzv-endpoint", default="", metavar="HOST:PORT", help="with "
                       "--nnodes: the address of machine 0 and a free port on it")
    catalog = commands.add_parser("catalog", help="list models, datasets, optimizers, "
                                  "schedulers and losses with their parameters")
    catalog.add_argument("--json", action="store_true", help="machine-readable output")
    export = commands.add_parser("export", help="save a run's trained model as TorchScript, "
                                 "ONNX, safetensors, a state_dict or (language models) a "
                                 "Hugging Face folder or a LoRA run's PEFT adapter, checked "
                                 "against the trained model")
    export.add_argument("run_dir", type=Path, help="the run's folder")
    export.add_argument("--format", default="torchscript",
                        choices=("torchscript", "onnx", "safetensors", "pt", "hf", "peft"),
                        help="what to write (default: torchscript)")
    export.add_argument("--checkpoint", default="best", choices=("best", "last"),
                        help="which weights (default: best)")
    export.add_argument("--out", type=Path, metavar="PATH", help="the file to write (default: "
                        "RUN_DIR/exports/<run>-<checkpoint>.<ending>)")
    predict = commands.add_parser("predict", help="predict with a run's model (images, "
                                  "recordings, texts or table rows), as the Predict tab does")
    predict.add_argument("run_dir", type=Path, help="the run's folder")
    predict.add_argument("files", nargs="*", type=Path, metavar="FILE",
                         help="image or audio files, by what the run learned from")
    predict.add_argument("--text", action="append", default=[], metavar="TEXT",
                         help="a text (a text model), a prompt to answer (a language "
                         "model) or a comma-separated row (a table model); repeatable")
    predict.add_argument("--csv", type=Path, metavar="FILE", help="predict on each row of "
                         "this CSV file")
    predict.add_argument("--column", metavar="NAME", help="with --csv: the column holding "
                         "the input (a text, or a file path relative to the CSV); without "
                         "it, a table model reads its own columns")
    predict.add_argument("--checkpoint", default="best", choices=("best", "last"),
                         help="which weights (default: best)")
    predict.add_argument("--json", action="store_true", help="one JSON object per input, "
                         "in order")
    predict.add_argument("--max-new-tokens", type=int, default=128, metavar="N",
                         help="a language model: the longest response, in tokens "
                         "(default: 128)")
    predict.add_argument("--temperature", type=float, default=0.7, metavar="T",
                         help="a language model: 0 takes the likeliest token each time, "
                         "higher values write more freely (default: 0.7)")
    predict.add_argument("--top-p", type=float, default=0.9, metavar="P",
                         help="a language model: sample among the likeliest tokens whose "
                         "probabilities add up to P (default: 0.9)")
    predict.add_argument("--drawing", default="auto", choices=("auto", "on", "off"),
                         help="clean images up as hand drawings (cut to the ink, strokes "
                         "thickened) for runs that take them, the digits: auto (default) "
                         "does it only for a picture that does not look like a scan")
    lr_find = commands.add_parser("lr-find", help="learning-rate range test: a short run "
                                  "with a growing lr, the loss against it, a suggested lr "
                                  "(writes nothing)")
    lr_find.add_argument("run_file", help="the run file (TOML)")
    lr_find.add_argument("--set", dest="overrides", action="append", default=[],
                         metavar="SECTION.KEY=VALUE", help="override one setting (repeatable)")
    lr_find.add_argument("--steps", type=int, default=200, help="steps of the ramp "
                         "(default: 200)")
    lr_find.add_argument("--start-lr", type=float, default=1e-7, help="default: 1e-7")
    lr_find.add_argument("--end-lr", type=float, default=10.0, help="default: 10")
    lr_find.add_argument("--json", action="store_true", help="the rates, losses and "
                         "suggestion as one JSON object")
    sweep = commands.add_parser("sweep", help="train a run file over a grid (or random "
                                "draws) of settings and print the runs sorted by a score")
    sweep.add_argument("run_file", nargs="?", help="the run file (TOML)")
    sweep.add_argument("--grid", action="append", default=[], metavar="SECTION.KEY=V1,V2",
                       help="a setting and its values (repeatable; every combination runs); "
                       "with --random also ranges: KEY=LOW..HIGH or KEY=log:LOW..HIGH")
    sweep.add_argument("--random", type=int, default=0, metavar="N",
                       help="draw N points from the --grid values and ranges instead")
    sweep.add_argument("--seed", type=int, default=0, help="the draws' seed (default: 0)")
    sweep.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="SECTION.KEY=VALUE", help="override one setting for every run")
    sweep.add_argument("--runs-dir", type=Path, help="where run folders go")
    sweep.add_argument("--parallel", type=int, default=1, metavar="N",
                       help="train N runs at a time, each its own process (default: 1)")
    sweep.add_argument("--metric", choices=RUN_SCORES,
                       help="the score that sorts the table, each run's best (loss and "
                       "perplexity: lowest first; default: val_metric, or with --resume the "
                       "sweep's own)")
    sweep.add_argument("--resume", metavar="SWEEP", help="continue a stopped or killed "
                       "sweep, by its id or its .json file")
    sweep.add_argument("--point", type=int, help=argparse.SUPPRESS)  # one point (a child)
    commands.add_parser("self-test", help="open the window off screen, train briefly, "
                        "exit 0 on success")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "catalog":
            return _catalog(args.json)
        if args.command == "export":
            return _export(args)
        if args.command == "predict":
            return _predict(args)
        if args.command == "lr-find":
            return _lr_find(args)
        if args.command == "sweep":
            return _sweep(args)
        build_parser().print_help()
        return 0
    except BadInput as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return BadInput.exit_code
    except TrainingFailed as exc:
        print(f"training failed: {one_line(exc)}", file=sys.stderr)
        return TrainingFailed.exit_code
    except KeyboardInterrupt:  # Ctrl-C before training started: nothing to save
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _train(args) -> int:
    from core.config import load_config
    from core.train.distributed import from_environment
    from core.train.loop import train

    if args.resume and (args.run_file or args.overrides):
        raise BadInput("--resume continues a run with its own settings; give only the run "
                       "folder, without a run file or --set")
    if args.resume:
        config, resume_dir = None, args.resume
        if not resume_dir.is_dir():
            raise BadInput(f"run folder {resume_dir} does not exist; check the path")
    elif args.run_file:
        config, resume_dir = load_config(args.run_file, args.overrides, read_data=True), None
    else:
        raise BadInput("give a run file, e.g. traindesk train examples/digits_cnn.toml, "
                       "or --resume RUN_DIR")
    control = RunControl()
    if args.nproc_per_node is not None:
        return _launch(args, control)
    if args.nnodes != 1 or args.node_rank or args.rdzv_endpoint:
        raise BadInput("--nnodes, --node-rank and --rdzv-endpoint go with --nproc-per-node N")
    world = from_environment()  # a torchrun worker, or a process on its own
    try:
        listeners = ([EventStream() if os.environ.get(EVENTS_ENV) == "json"
                      else ConsolePrinter()] if world.is_main else [])
        # torchrun ends a worker that does not stop in time; a second signal is not needed
        with ctrl_c_interrupts(control, escalate=world.world_size == 1):
            summary = train(config, runs_dir=args.runs_dir, listeners=listeners,
                            control=control, resume_dir=resume_dir, world=world)
        world.finish()
    finally:
        world.close()
    return EXIT_INTERRUPTED if summary["status"] == "interrupted" else 0


def _launch(args, control: RunControl) -> int:
    """`train --nproc-per-node N`: this machine's processes of the run, through torchrun,
    printed as one process would print them; exit codes as for one process."""
    nodes = Nodes(args.nproc_per_node, args.nnodes, args.node_rank, args.rdzv_endpoint)
    nodes.check()
    train_args = (["--resume", str(args.resume.resolve())] if args.resume
                  else [str(Path(args.run_file).resolve())])
    for override in args.overrides:
        train_args += ["--set", override]
    if args.runs_dir is not None:
        train_args += ["--runs-dir", str(args.runs_dir.resolve())]
    launch = Launch(nodes, train_args, ConsolePrinter(), control,
                    resume_dir=args.resume.resolve() if args.resume else None)
    with ctrl_c_interrupts(control):
        summary = launch.run()
    return EXIT_INTERRUPTED if summary.get("status") == "interrupted" else 0


# Besides Ctrl-C (SIGINT): a `kill`, a logout or a closed terminal, and a cluster
# scheduler's preemption (SIGTERM, SIGHUP) save the run and mark it interrupted too.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))
# ANSI escape sequences and other control characters, which an error message may carry
# from a file or a library; printed raw they would restyle or garble the terminal.
CONTROL_CHARACTERS = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x1f\x7f-\x9f]")
MESSAGE_CHARS = 2000


def one_line(message) -> str:
    """A message as the one line the command line promises: its first line, without
    control characters, and cut short when huge."""
    text = str(message).strip()
    first = text.splitlines()[0] if text else ""
    first = CONTROL_CHARACTERS.sub("", first)
    return first if len(first) <= MESSAGE_CHARS else first[:MESSAGE_CHARS] + "…"


@contextlib.contextmanager
def ctrl_c_interrupts(control, escalate: bool = True):
    """While training, the first Ctrl-C (or SIGTERM, SIGHUP) asks the loop to stop between
    batches (it saves, marks the run interrupted, and it can be resumed exactly); a second
    one acts at once (KeyboardInterrupt for Ctrl-C, the signal's default for the others),
    unless not `escalate` (a torchrun worker: torchrun passes each signal on, and a plain
    Ctrl-C in its terminal reaches the workers twice)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def first_signal(signum, frame):
        control.interrupt()
        if not escalate:
            return
        for number in STOP_SIGNALS:
            signal.signal(number, signal.default_int_handler if number == signal.SIGINT
                          else signal.SIG_DFL)

    previous = {number: signal.signal(number, first_signal) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():  # None: a handler not set from Python
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


class ConsolePrinter:
    """Listener that prints one line per epoch, the run's start and end, what the start
    weights did not fill, notes about the data and the layers gradual unfreezing releases."""

    metric = "accuracy"  # the run's metric (RunStarted.metric_name): accuracy or r2

    def __call__(self, event) -> None:
        from core.events import EpochEnd, LayersUnfrozen, RunFinished, RunStarted
        from core.files import printable
        from core.metrics import format_metric, metric_label

        if isinstance(event, RunStarted):
            print(f"run folder {printable(event.run_dir)}\ndevice {event.device}, "
                  f"{event.train_samples} training / {event.val_samples} validation samples, "
                  f"{event.trainable_params:,} of {event.total_params:,} parameters trainable",
                  flush=True)
            if event.resumed_from_step:
                print(f"resuming after step {event.resumed_from_step:,}", flush=True)
            for note in event.notes:
                print(f"start weights: {note}", flush=True)
            for note in event.data_notes:
                print(f"note: {note}", flush=True)
            self.metric = event.metric_name
        elif isinstance(event, LayersUnfrozen):
            print(f"unfrozen {', '.join(event.names)} for epoch {event.epoch}; "
                  f"{event.trainable_params:,} parameters trainable now", flush=True)
        elif isinstance(event, EpochEnd):
            label = metric_label(self.metric)
            print(f"epoch {event.epoch:>3}/{event.epochs}  train loss {event.train_loss:.4f} "
                  f"{label} {format_metric(self.metric, event.train_metric)}  val loss "
                  f"{event.val_loss:.4f} {label} {format_metric(self.metric, event.val_metric)}"
                  f"{'' if event.val_mae is None else f'  mae {event.val_mae:.4g}'}  "
                  f"{event.samples_per_s:,.0f} samples/s  "
                  f"{event.elapsed_s:.1f}s{'  *best' if event.is_best else ''}", flush=True)
        elif isinstance(event, RunFinished):
            s = event.summary
            metric = s.get("metric", "accuracy")
            early = (f" (stopped early; the weights of epoch {s.get('best_epoch')} kept)"
                     if s.get("stopped_early") else "")
            print(f"{s['status']}: {s['epochs_completed']} epochs{early}, best val "
                  f"{metric_label(metric)} {format_metric(metric, s.get('best_val_metric'))} "
                  f"(epoch {s.get('best_epoch')}), {s['duration_s']:.1f}s", flush=True)


def _sweep(args) -> int:
    """Create or resume a sweep, train what is left, print the table; 130 when stopped."""
    from core.config import load_config
    from core.sweep import Sweep, run_sweep, table, train_point

    if args.resume and (args.run_file or args.grid or args.overrides or args.random):
        raise BadInput("--resume continues a sweep with its own settings; give only its id "
                       "or file (and --runs-dir, --parallel, --metric)")
    if args.parallel < 1:
        raise BadInput(f"--parallel {args.parallel}: give 1 or more")
    if args.resume:
        sweep = Sweep.load(args.resume, args.runs_dir)
    elif args.run_file:
        config = load_config(args.run_file, args.overrides, read_data=True)
        sweep = Sweep.create(config, args.grid, args.runs_dir, args.random, args.seed,
                             args.metric or "val_metric")
    else:
        raise BadInput("give a run file and --grid, e.g. traindesk sweep "
                       "examples/digits_cnn.toml --grid optimizer.lr=1e-3,1e-2, or --resume "
                       "SWEEP")
    control = RunControl()
    if args.point is not None:  # one point, as a child of a parallel sweep
        if not 0 <= args.point < len(sweep.points):
            raise BadInput(f"--point {args.point}: the sweep has points 0 to "
                           f"{len(sweep.points) - 1}")
        with ctrl_c_interrupts(control):
            train_point(sweep, sweep.results()[args.point], control)
        return 0
    print(f"sweep {sweep.id}: {len(sweep.points)} runs ({sweep.path})", flush=True)

    def finished(result) -> None:
        print(f"run {result.point + 1}/{len(sweep.points)} {result.status}: "
              + ", ".join(f"{k}={v}" for k, v in result.settings.items()), flush=True)

    with ctrl_c_interrupts(control):
        results = run_sweep(sweep, control, args.parallel, finished,
                            lambda point: [ConsolePrinter()] if args.parallel == 1 else [])
    print("\n".join(table(results, args.metric or sweep.metric)))
    if any(r.status not in ("completed", "failed") for r in results):
        print(f"sweep not finished; continue it with traindesk sweep --resume {sweep.id}"
              + (f" --runs-dir {sweep.runs_dir}" if args.runs_dir else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _lr_find(args) -> int:
    """The range test: a table of rate and smoothed loss with the suggestion, or --json."""
    from core.config import load_config
    from core.train.lr_find import ascii_plot, find_lr

    config = load_config(args.run_file, args.overrides, read_data=True)
    finding = find_lr(config, args.start_lr, args.end_lr, args.steps)
    if args.json:
        print(json.dumps(finding.as_dict()))
        return 0
    print("\n".join(ascii_plot(finding)))
    if finding.suggested_lr is None:
        print("too few steps before the loss diverged to suggest an lr; lower --end-lr or "
              "give more --steps")
        return 0
    print(f"suggested lr {finding.suggested_lr:.3g} (longest descent of the smoothed loss; "
          f"steepest slope at {finding.steepest_lr:.3g}); use it with "
          f"--set optimizer.lr={finding.suggested_lr:.3g}")
    return 0


def _catalog(as_json: bool) -> int:
    from core.catalog import CATALOGUES

    catalogues = CATALOGUES
    if as_json:
        print(json.dumps({section: [e.to_json() for e in cat.entries()]
                          for section, cat in catalogues.items()}, indent=2))
        return 0
    for section, cat in catalogues.items():
        print(f"[{section}]")
        for entry in cat.entries():
            print(f"  {entry.name:<16}{entry.help}")
            for p in entry.params:
                extra = f" choices: {', '.join(p.choices)}" if p.choices else ""
                if p.minimum is not None or p.maximum is not None:
                    extra = f" {p.describe_range()}"
                print(f"      {p.name} = {json.dumps(p.default)}  ({p.kind}{extra})  {p.help}")
        print()
    return 0


def _export(args) -> int:
    """Export, check, and print where the files are and how the check went; 1 when the
    exported model does not reproduce the trained one (or the exporter fails)."""
    from core.inference.export import FORMATS, export_model

    if not args.run_dir.is_dir():
        raise BadInput(f"run folder {args.run_dir} does not exist; check the path")
    try:
        result = export_model(args.run_dir, args.format, args.checkpoint, args.out)
    except ExportFailed as exc:
        print(f"export failed: {one_line(exc)}", file=sys.stderr)
        return ExportFailed.exit_code
    epoch = f", epoch {result.epoch}" if result.epoch else ""
    print(f"exported {result.path} ({FORMATS[result.format][0]}, {args.checkpoint} "
          f"checkpoint{epoch})")
    print(f"preprocessing {result.preprocessing_path}")
    print(result.describe())
    return 0


def _predict(args) -> int:
    """Predict on every input in order; an input that cannot be read gets its error and the
    others still run (exit 2 then)."""
    from core.inference.evaluation import load_run
    from core.inference.predict import predict_file, predict_values

    drawing = {"auto": None, "on": True, "off": False}[args.drawing]
    predict_file = functools.partial(predict_file, drawing=drawing)
    inputs = [(str(path), predict_file, path) for path in args.files]
    inputs += [(text, predict_values, text) for text in args.text]
    if args.csv:
        inputs += _csv_inputs(args.csv, args.column, predict_file, predict_values)
    elif args.column:
        raise BadInput("--column goes with --csv FILE")
    if not inputs:
        raise BadInput("give files, --text or --csv to predict on, e.g. traindesk predict "
                       "RUN_DIR picture.png")
    loaded = load_run(args.run_dir, args.checkpoint)
    if loaded.task == "language_modeling":
        return _generate(args, loaded, inputs)
    failed = False
    for shown, predict, value in inputs:
        try:
            prediction = predict(loaded, value, len(loaded.class_names) or 1)
        except BadInput as exc:
            failed = True
            result = {"input": shown, "error": str(exc)}
        else:
            result = {"input": shown}
            if prediction.task == "regression":
                result["value"] = prediction.value
            else:
                result["label"] = prediction.top[0][0]
                result["probabilities"] = dict(prediction.top)
        print(json.dumps(result, ensure_ascii=False) if args.json else _prediction_line(result),
              flush=True)
    return BadInput.exit_code if failed else 0


def _generate(args, loaded, inputs: list) -> int:
    """A language model's response to each prompt (--text, or --csv with --column), as it
    is written (or one JSON object each with --json); exit 2 when an input was not a text."""
    from core.inference.generation import GenerationSettings, generate

    settings = GenerationSettings(args.max_new_tokens, args.temperature, args.top_p).checked()
    failed = False
    for shown, _, value in inputs:
        if not args.json:
            print(f"{shown}: ", end="", flush=True)
        try:
            if not isinstance(value, str):
                raise BadInput("a language model answers prompts: give them with --text, or "
                               "--csv with --column")
            generated = generate(loaded, value, settings, None if args.json else functools.partial(
                print, end="", flush=True))
        except BadInput as exc:
            failed = True
            result = {"input": shown, "error": str(exc)}
            print(json.dumps(result, ensure_ascii=False) if args.json
                  else f"error: {result['error']}", flush=True)
            continue
        if args.json:
            print(json.dumps({"input": shown, "response": generated.response,
                              "tokens": generated.tokens, "finish": generated.finish,
                              "notes": generated.notes}, ensure_ascii=False), flush=True)
        else:
            print(flush=True)
    return BadInput.exit_code if failed else 0


def _prediction_line(result: dict) -> str:
    if "error" in result:
        return f"{result['input']}: error: {result['error']}"
    if "value" in result:
        return f"{result['input']}: {result['value']:.6g}"
    top = list(result["probabilities"].items())[:3]
    return f"{result['input']}: {result['label']}  (" + ", ".join(
        f"{name} {p:.1%}" for name, p in top) + ")"


def _csv_inputs(path: Path, column: str | None, predict_file, predict_values) -> list:
    """(shown, predict, value) per row of a CSV file: the cell of `column` (a text, or a
    file path relative to the CSV when the run reads files), else the whole row in the
    table model's column order (checked against the run's columns by predict_values)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"cannot read --csv {path} ({exc})") from None
    if column is not None and rows and column not in rows[0]:
        raise BadInput(f"--column {column!r} is not a column of {path} (it has "
                       f"{', '.join(rows[0])})")
    inputs = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        shown = f"{path}:{number}"
        if column is None:
            inputs.append((shown, _table_row, row))
            continue
        cell = row[column] or ""
        inputs.append((cell, _file_or_text(predict_file, predict_values, path.parent), cell))
    return inputs


def _file_or_text(predict_file, predict_values, folder: Path):
    """A cell is a file name (relative to the CSV's folder) for a run that reads files, and
    the input itself (a text, a row) for the others."""
    def predict(loaded, cell, k):
        if loaded.preprocessing.get("kind") in ("image", "audio"):
            return predict_file(loaded, folder / cell, k)
        return predict_values(loaded, cell, k)
    return predict


def _table_row(loaded, row: dict, k: int):
    """A CSV row as the comma-separated values of the table model's input columns."""
    import csv
    import io

    from core.inference.predict import input_columns, predict_values

    columns = input_columns(loaded.preprocessing)
    if not columns:
        raise BadInput("this run does not read table rows; give --column with the CSV's "
                       "input column")
    missing = [c for c in columns if c not in row]
    if missing:
        raise BadInput(f"the row lacks the column(s) {', '.join(missing)}")
    line = io.StringIO()
    csv.writer(line).writerow([row[c] or "" for c in columns])
    return predict_values(loaded, line.getvalue(), k)

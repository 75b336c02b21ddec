"""The headless command line: `traindesk train`, `traindesk catalog` and `traindesk export`.

Exit codes: 0 success; 2 bad input, with one `error:` line on stderr; 1 training failed;
130 interrupted by Ctrl-C after saving a checkpoint. `python -m core` runs this without Qt.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path

from core.control import RunControl
from core.errors import BadInput, ExportFailed, TrainingFailed

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
    catalog = commands.add_parser("catalog", help="list models, datasets, optimizers, "
                                  "schedulers and losses with their parameters")
    catalog.add_argument("--json", action="store_true", help="machine-readable output")
    export = commands.add_parser("export", help="save a run's trained model as TorchScript, "
                                 "ONNX, safetensors or a state_dict, checked against the "
                                 "trained model")
    export.add_argument("run_dir", type=Path, help="the run's folder")
    export.add_argument("--format", default="torchscript",
                        choices=("torchscript", "onnx", "safetensors", "pt"),
                        help="what to write (default: torchscript)")
    export.add_argument("--checkpoint", default="best", choices=("best", "last"),
                        help="which weights (default: best)")
    export.add_argument("--out", type=Path, metavar="PATH", help="the file to write (default: "
                        "RUN_DIR/exports/<run>-<checkpoint>.<ending>)")
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
        build_parser().print_help()
        return 0
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return BadInput.exit_code
    except TrainingFailed as exc:
        print(f"training failed: {exc}", file=sys.stderr)
        return TrainingFailed.exit_code
    except KeyboardInterrupt:  # Ctrl-C before training started: nothing to save
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _train(args) -> int:
    from core.config import load_config
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
    with ctrl_c_interrupts(control):
        summary = train(config, runs_dir=args.runs_dir, listeners=[ConsolePrinter()],
                        control=control, resume_dir=resume_dir)
    return EXIT_INTERRUPTED if summary["status"] == "interrupted" else 0


@contextlib.contextmanager
def ctrl_c_interrupts(control):
    """While training, the first Ctrl-C asks the loop to stop between batches (it saves and
    the run can be resumed exactly); a second one raises KeyboardInterrupt at once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def first_ctrl_c(signum, frame):
        control.interrupt()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, first_ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class ConsolePrinter:
    """Listener that prints one line per epoch, the run's start and end, what the start
    weights did not fill, notes about the data and the layers gradual unfreezing releases."""

    metric = "accuracy"  # the run's metric (RunStarted.metric_name): accuracy or r2

    def __call__(self, event) -> None:
        from core.events import EpochEnd, LayersUnfrozen, RunFinished, RunStarted
        from core.metrics import format_metric, metric_label

        if isinstance(event, RunStarted):
            print(f"run folder {event.run_dir}\ndevice {event.device}, {event.train_samples} "
                  f"training / {event.val_samples} validation samples, "
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
        print(f"export failed: {exc}", file=sys.stderr)
        return ExportFailed.exit_code
    epoch = f", epoch {result.epoch}" if result.epoch else ""
    print(f"exported {result.path} ({FORMATS[result.format][0]}, {args.checkpoint} "
          f"checkpoint{epoch})")
    print(f"preprocessing {result.preprocessing_path}")
    print(result.describe())
    return 0

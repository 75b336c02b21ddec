"""`traindesk train RUN.toml --nproc-per-node N`: the same run on N processes per machine,
started by PyTorch's own launcher (`python -m torch.distributed.run`, i.e. torchrun) and
followed through rank 0's event stream.

torchrun runs as a child in its own session, and starts each worker in a session of its
own; the launch finds them as torchrun's descendants, so nothing of it outlives the
launch: a stop is SIGINT to torchrun, which passes it to every worker (they agree on the
step to stop at, save, and exit 130) and kills them after 30 s if they have not; pause is
SIGSTOP to the workers and resume SIGCONT (POSIX); when the launch ends, however it ends,
whatever is left of torchrun and its workers is killed. A worker that dies makes torchrun end the
others (its own supervision); the launcher then reads torchrun's report of the first
failure (which rank, its exit code or signal) and marks the run failed with it, rank 0
included, whose own process can no longer do so. The run stays resumable from last.pt.

The window starts a launch the same way from its training thread (gui/training_thread.py).
No Qt here: the launch is plain processes and a listener of events.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core import events as event_types
from core.control import RunControl
from core.errors import BadInput, TrainingFailed
from core.i18n import translatable

# Rank 0 writes each event as one line of JSON behind this prefix on its stdout when the
# environment variable EVENTS_ENV is "json" (a launch sets it); other lines pass through.
EVENT_PREFIX = "traindesk-event "
EVENTS_ENV = "TRAINDESK_EVENTS"
# The first failure, as summary.json, error.txt, the command line and the window say it.
WORKER_ENDED = translatable("Messages", "process rank {rank} of {world} (pid {pid}) ended "
                            "({cause}); the other processes were stopped{resume}")
RESUME_WITH = translatable("Messages", "; resume it with traindesk train --resume {run_dir}")
# How Gloo and NCCL errors read when another rank has gone: rank 0's own error then says
# nothing about why the run ended.
PEER_LOST = re.compile(r"connection|peer|closed|gloo|nccl|timed? ?out", re.IGNORECASE)
FROZEN_APP = translatable("Messages", "training on several processes needs TrainDesk run "
                          "from a Python installation (the README's Quick start); the "
                          "installed app trains on one process")
POLL_S = 0.05  # how often the launch looks at the stop/pause flags and torchrun's state
STDERR_LINES_KEPT = 400  # torchrun's failure report is near the end of its stderr


@dataclass(frozen=True)
class Nodes:
    """How many processes on how many machines: torchrun's own options."""

    nproc_per_node: int
    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str = ""  # HOST:PORT of the machine of node rank 0

    def check(self) -> None:
        """BadInput, naming the option, for numbers torchrun cannot use."""
        if self.nproc_per_node < 1:
            raise BadInput(f"--nproc-per-node {self.nproc_per_node}: give 1 or more")
        if self.nnodes < 1:
            raise BadInput(f"--nnodes {self.nnodes}: give 1 or more")
        if not 0 <= self.node_rank < self.nnodes:
            raise BadInput(f"--node-rank {self.node_rank}: give 0 to {self.nnodes - 1} "
                           f"(one number per machine)")
        if self.nnodes > 1 and not re.fullmatch(r"[^\s:]+:\d+", self.rdzv_endpoint):
            raise BadInput("several machines need --rdzv-endpoint HOST:PORT, the address "
                           "of node rank 0 and a free port on it, e.g. 10.0.0.1:29500")

    def torchrun_options(self) -> list[str]:
        """torchrun's options for these nodes: one machine alone picks a free port itself
        (--standalone); several meet at node 0's address (static rendezvous)."""
        options = ["--nproc-per-node", str(self.nproc_per_node)]
        if self.nnodes == 1 and not self.rdzv_endpoint:
            return [*options, "--standalone"]
        return [*options, "--nnodes", str(self.nnodes), "--node-rank", str(self.node_rank),
                "--rdzv-endpoint", self.rdzv_endpoint]


def torchrun_command(nodes: Nodes, train_args: list[str]) -> list[str]:
    """The command line that starts this machine's workers of `traindesk train
    TRAIN_ARGS` (the run file or --resume, --set, --runs-dir)."""
    return [sys.executable, "-m", "torch.distributed.run", *nodes.torchrun_options(),
            "-m", "core", "train", *train_args]


def node_commands(nodes: Nodes, train_args: list[str]) -> list[str]:
    """The command to type on each machine of a several-machine run, node 0 first (the
    window shows them; the run file and the runs folder must be at the same paths on every
    machine, on shared storage for resuming)."""
    return [shlex.join(["traindesk", "train", *train_args,
                        "--nproc-per-node", str(nodes.nproc_per_node),
                        "--nnodes", str(nodes.nnodes), "--node-rank", str(rank),
                        "--rdzv-endpoint", nodes.rdzv_endpoint])
            for rank in range(nodes.nnodes)]


class EventStream:
    """Listener of rank 0 under a launch: each event as a line of JSON on stdout."""

    def __call__(self, event) -> None:
        record = {"type": type(event).__name__, **dataclasses.asdict(event)}
        # one write of one line: the launch reads whole lines, whatever else is printed
        sys.stdout.write(EVENT_PREFIX + json.dumps(record) + "\n")
        sys.stdout.flush()


def decode_event(line: str):
    """The event a line of the stream holds, or None for any other line."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        record = json.loads(line[len(EVENT_PREFIX):])
        kind = getattr(event_types, record.pop("type"))
        return kind(**record)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None


@dataclass(frozen=True)
class WorkerFailure:
    """torchrun's report of the first worker that failed."""

    rank: int
    exitcode: int
    pid: int | None
    signal_name: str  # "SIGKILL", or "" for an exit code
    message: str  # the worker's own error line when it wrote one

    def cause(self) -> str:
        """Why it ended: the signal, or the exit code and the worker's own error line."""
        how = self.signal_name or f"exit code {self.exitcode}"
        return f"{how}, {self.message}" if self.message else how


_RANK = re.compile(r"^\s*rank\s*:\s*(\d+)")
_EXIT = re.compile(r"^\s*exitcode\s*:\s*(-?\d+)\s*\(pid:\s*(\d+)\)\s*(\S*)")
_TRACE = re.compile(r"^\s*traceback\s*:\s*(.*)")


def first_failure(stderr_lines: list[str]) -> WorkerFailure | None:
    """The "Root Cause (first observed failure)" block of torchrun's report, if any."""
    try:
        start = max(i for i, line in enumerate(stderr_lines) if "Root Cause" in line)
    except ValueError:
        return None
    rank = exitcode = pid = None
    signal_name = message = ""
    for line in stderr_lines[start:start + 12]:
        if rank is None and (match := _RANK.match(line)):
            rank = int(match[1])
        elif exitcode is None and (match := _EXIT.match(line)):
            exitcode, pid = int(match[1]), int(match[2])
            name = match[3].strip(": ")
            signal_name = name if name.startswith("SIG") else ""
        elif match := _TRACE.match(line):
            text = match[1].strip()
            message = "" if text.startswith(("To enable traceback", "Signal ")) else text
    if rank is None or exitcode is None:
        return None
    if exitcode < 0 and not signal_name:
        with contextlib.suppress(ValueError):
            signal_name = signal.Signals(-exitcode).name
    return WorkerFailure(rank, exitcode, pid, signal_name, message)


def descendants(pid: int) -> set[int]:
    """The processes below `pid` (children, theirs, ...), from /proc or `ps`; empty on a
    system with neither (Windows, where torchrun ends its workers itself)."""
    children: dict[int, list[int]] = {}
    for parent, child in _parents():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _parents() -> list[tuple[int, int]]:
    """(parent, child) for every process."""
    proc = Path("/proc")
    if proc.is_dir():
        pairs = []
        for stat in proc.glob("[0-9]*/stat"):
            try:  # the name in parentheses may hold spaces; the parent follows the state
                pairs.append((int(stat.read_text().rsplit(")", 1)[1].split()[1]),
                              int(stat.parent.name)))
            except (OSError, IndexError, ValueError):
                continue
        return pairs
    try:
        listing = subprocess.run(["ps", "-A", "-o", "pid=,ppid="], capture_output=True,
                                 text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [(int(ppid), int(pid)) for pid, ppid in
            (line.split() for line in listing.splitlines() if len(line.split()) == 2)]


class Launch:
    """One machine's workers of a run under torchrun, a child in a session of its own,
    followed through rank 0's events, which go to `listener` (from the calling thread)."""

    def __init__(self, nodes: Nodes, train_args: list[str], listener: Callable,
                 control: RunControl | None = None, output: Callable[[str], None] | None = None,
                 resume_dir: Path | None = None) -> None:
        """`output` receives every line that is not an event (workers' and torchrun's
        stdout and stderr; default: this process's stderr). `resume_dir`: the run folder
        when the launch resumes it (else rank 0's RunStarted names it)."""
        self.nodes, self.train_args, self.listener = nodes, train_args, listener
        self.control = control or RunControl()
        self.output = output or (lambda line: print(line, file=sys.stderr, flush=True))
        self.run_dir = resume_dir
        self.world_size = nodes.nproc_per_node * nodes.nnodes
        self.stderr_lines: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        self._process: subprocess.Popen | None = None
        self._stop_sent = False
        self._started = False  # rank 0's RunStarted came
        self._paused = False

    def run(self) -> dict:
        """Start the workers and follow them to the end: rank 0's summary of a completed,
        stopped or interrupted run. TrainingFailed (after marking the run failed, and
        sending RunFailed) when a worker failed or died; BadInput when the run could not
        start for a reason a worker named."""
        if getattr(sys, "frozen", False):  # an installer's app has no Python to run torchrun
            raise BadInput(FROZEN_APP)
        # the cores shared by this machine's processes (torchrun's own default is 1 thread)
        threads = str(max(1, (os.cpu_count() or 1) // self.nodes.nproc_per_node))
        env = {"OMP_NUM_THREADS": threads, **os.environ, EVENTS_ENV: "json",
               "PYTHONUNBUFFERED": "1"}
        self._process = process = subprocess.Popen(
            torchrun_command(self.nodes, self.train_args), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True,
            encoding="utf-8", errors="replace", start_new_session=True)
        readers = [threading.Thread(target=self._read, args=(stream, name), daemon=True)
                   for stream, name in ((process.stdout, "out"), (process.stderr, "err"))]
        for reader in readers:
            reader.start()
        final = None
        try:
            while process.poll() is None:
                final = self._deliver(final, timeout=POLL_S) or final
                self._steer()
            for reader in readers:  # the output's end (a worker left alive keeps it open)
                reader.join(timeout=10)
            final = self._deliver_all(final)
        finally:
            self._end_group()
        return self._outcome(process.returncode, final)

    def _read(self, stream, name: str) -> None:
        for line in stream:
            self._lines.put((name, line.rstrip("\r\n")))

    def _deliver(self, final, timeout: float):
        """Pass on the lines read so far; the run's last event (finished or failed) is held
        back until torchrun has ended. Returns that event when one came."""
        try:
            name, line = self._lines.get(timeout=timeout)
        except queue.Empty:
            return None
        while True:
            final = self._take(name, line) or final
            try:
                name, line = self._lines.get_nowait()
            except queue.Empty:
                return final

    def _deliver_all(self, final):
        return self._deliver(final, timeout=0) or final

    def _take(self, name: str, line: str):
        if name == "err":
            self.stderr_lines = (self.stderr_lines + [line])[-STDERR_LINES_KEPT:]
            # held back before the run starts (a refused run says one line: _outcome) and
            # after a stop (torchrun's traceback of the signal it passed on)
            if self._started and not self._stop_sent:
                self.output(line)
            return None
        event = decode_event(line)
        if event is None:
            self.output(line)
            return None
        if isinstance(event, (event_types.RunFinished, event_types.RunFailed)):
            return event
        if isinstance(event, event_types.RunStarted):
            self.run_dir = Path(event.run_dir)
            self._started = True
            for held in self.stderr_lines:
                self.output(held)
        self.listener(event)
        return None

    def _steer(self) -> None:
        """Pass a stop, pause or resume asked for on the control to the workers."""
        control = self.control
        if control.stop_requested:  # Stop, or Ctrl-C
            if not self._stop_sent:
                self._stop_sent = True
                self._signal_torchrun(signal.SIGINT)
            return
        if control.paused != self._paused:
            self._paused = control.paused
            self._signal_workers(signal.SIGSTOP if self._paused else signal.SIGCONT)

    def _signal_torchrun(self, number: int) -> None:
        if self._paused:
            self._signal_workers(signal.SIGCONT)  # a stopped process cannot act on a signal
            self._paused = False
        try:
            self._process.send_signal(number)
        except ProcessLookupError:
            pass

    def _signal_workers(self, number: int) -> None:
        for pid in descendants(self._process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, number)

    def _end_group(self) -> None:
        """Leave nothing behind: whatever is left of torchrun and its workers is killed
        (after torchrun itself has gone, or when the launch itself is ended)."""
        process = self._process
        workers = descendants(process.pid)
        if process.poll() is None:
            self._signal_torchrun(signal.SIGINT)
            try:
                process.wait(timeout=40)  # torchrun's own shutdown gives workers 30 s
            except subprocess.TimeoutExpired:
                workers |= descendants(process.pid)
                process.kill()
        for pid in workers:  # a worker torchrun did not end (none, as torchrun works)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        process.wait()

    def _outcome(self, returncode: int, final) -> dict:
        if returncode == 0 and isinstance(final, event_types.RunFinished):
            self.listener(final)
            return final.summary
        if (isinstance(final, event_types.RunFinished)
                and final.status in ("stopped", "interrupted")):
            # torchrun ends nonzero after passing a signal on
            final = self._stopped_by_control(final)
            self.listener(final)
            return final.summary
        if self._stop_sent and final is None and self.run_dir is None:
            # stopped while the processes were starting: no run folder was made
            return {"status": "interrupted" if self.control.interrupted else "stopped",
                    "run_dir": None}
        failure = first_failure(self.stderr_lines)
        if failure is not None and failure.exitcode == 2 and not self._started:
            raise BadInput(self._worker_error() or "the run could not start; see above")
        error = self._failure_line(failure, final)
        if self._stop_sent or not self._started:
            for line in self.stderr_lines[-60:]:
                self.output(line)
        summary = self._mark_failed(error, final)
        self.listener(event_types.RunFailed(error, summary, "\n".join(self.stderr_lines[-60:])))
        raise TrainingFailed(error)

    def _stopped_by_control(self, final):
        """A run the control stopped (the window's Stop) is "stopped", as on one process:
        the workers saw only the SIGINT that carried it, and said "interrupted"."""
        if final.status != "interrupted" or self.control.interrupted or self.run_dir is None:
            return final
        from core.runs.folder import RunFolder, RunLock

        summary = {**final.summary, "status": "stopped"}
        try:
            lock = RunLock.take(self.run_dir)
        except BadInput:
            return final
        try:
            RunFolder(self.run_dir).write_summary(summary)
        except OSError:
            return final
        finally:
            lock.release()
        return event_types.RunFinished("stopped", summary)

    def _worker_error(self) -> str:
        for line in reversed(self.stderr_lines):
            if line.startswith(("error: ", "training failed: ")):
                return line.partition(": ")[2]
        return ""

    def _failure_line(self, failure: WorkerFailure | None, final) -> str:
        if failure is None:
            if isinstance(final, event_types.RunFailed):
                return final.error
            return (f"torchrun ended with an error before the run could finish; see its "
                    f"output{self._resume_hint()}")
        if failure.rank == 0 and failure.exitcode > 0 and isinstance(final,
                                                                     event_types.RunFailed):
            return final.error  # rank 0 failed as one process would, and said why
        cause = failure.cause()
        if not failure.signal_name and not failure.message:
            # the error rank 0 recorded, unless it only says that a peer went away
            own = final.error if isinstance(final, event_types.RunFailed) else ""
            if own and (failure.rank == 0 or not PEER_LOST.search(own)):
                cause = f"{cause}, {own}"
        return WORKER_ENDED.format(rank=failure.rank, world=self.world_size, pid=failure.pid,
                                   cause=cause, resume=self._resume_hint())

    def _resume_hint(self) -> str:
        if self.run_dir is None or not (self.run_dir / "checkpoints" / "last.pt").is_file():
            return ""
        return RESUME_WITH.format(run_dir=self.run_dir)

    def _mark_failed(self, error: str, final) -> dict:
        """summary.json and error.txt of the run say it failed and why (rank 0 may be the
        process that died). The run's last.pt is left as it is: it resumes from there."""
        from core.files import write_text_atomic
        from core.runs.folder import ERROR_FILE, RunFolder, RunLock

        summary = dict(final.summary) if final is not None else {}
        if self.run_dir is None:
            return summary
        folder = RunFolder(self.run_dir)
        try:
            lock = RunLock.take(self.run_dir)  # the workers are gone; nobody else may write
        except BadInput:
            return summary
        try:
            summary = {**folder.read_summary(), **summary, "status": "failed", "error": error}
            folder.write_summary(summary)
            write_text_atomic(self.run_dir / ERROR_FILE,
                              error + "\n\n" + "\n".join(self.stderr_lines[-60:]) + "\n",
                              make_folder=False)
        except OSError:
            pass
        finally:
            lock.release()
        return summary

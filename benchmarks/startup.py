"""Benchmark 4: start-up as a user waits for it. Seconds from starting the `traindesk`
command (the pip install's entry point, or with --app the built application) to its
window being visible on a real X display: a private Xvfb, polled with `xdotool search
--onlyvisible --name` every 20 ms.

Warm: the same launch repeated (the first one is not counted). Cold: the page cache is
emptied before each launch, with `sync; echo 3 > /proc/sys/vm/drop_caches` where that is
permitted, else by evicting every file the launch reads (the Python installation, the
virtual environment or the built app, and this checkout) with posix_fadvise(DONTNEED),
which is what `vmtouch -e` does. Pages that other running processes hold mapped stay in
memory either way; the row names the method used.

    python -m benchmarks.startup [--repeats 5] [--app dist/TrainDesk/TrainDesk]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from benchmarks.common import summarize

ROOT = Path(__file__).resolve().parent.parent
POLL_S = 0.02
WINDOW_TIMEOUT_S = 120
TITLE = "^TrainDesk$"


def entry_point() -> Path:
    """The pip install's `traindesk` script beside this interpreter."""
    return Path(sys.executable).with_name("traindesk")


class Xvfb:
    """A private X server on a free display number from 20 up (the low numbers belong to
    desktops and to whoever else starts one on this machine)."""

    def __enter__(self) -> str:
        for number in random.sample(range(20, 100), 80):
            if Path(f"/tmp/.X{number}-lock").exists() or \
                    Path(f"/tmp/.X11-unix/X{number}").exists():
                continue
            # -displayfd: the server writes the number once it accepts connections
            self.process = subprocess.Popen(
                ["Xvfb", f":{number}", "-displayfd", "1", "-screen", "0", "1366x768x24",
                 "-nolisten", "tcp"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True)
            if self.process.stdout.readline().strip() == str(number):
                return f":{number}"
            self.__exit__()
        raise RuntimeError("no free X display between :20 and :99")

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait()


def seconds_to_window(command: list[str], display: str) -> float:
    """Launch `command` with a fresh, empty TRAINDESK_HOME and return the seconds until its
    window is visible; the app is then ended."""
    with tempfile.TemporaryDirectory(prefix="traindesk-startup-") as home:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "TRAINDESK_HOME": home, "QT_LOGGING_RULES": "default.warning=false"}
        start = time.perf_counter()
        app = subprocess.Popen(command, env=env, cwd=home, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        try:
            while time.perf_counter() - start < WINDOW_TIMEOUT_S:
                found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", TITLE],
                                       env=env, capture_output=True)
                if found.returncode == 0:
                    return time.perf_counter() - start
                if app.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited ({app.returncode}) before its "
                                       f"window showed:\n{app.stderr.read()}")
                time.sleep(POLL_S)
            raise RuntimeError(f"no window within {WINDOW_TIMEOUT_S} s")
        finally:
            if app.poll() is None:
                app.send_signal(signal.SIGTERM)
                try:
                    app.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    app.kill()
                    app.wait()


def files_read_at_launch(command: list[str]) -> list[Path]:
    """The folders a launch reads from: the built app's folder, or the interpreter's
    installation, the virtual environment and this checkout."""
    if command[0] != str(entry_point()):
        return [Path(command[0]).resolve().parent]
    folders = {Path(sysconfig.get_paths()["stdlib"]), Path(sysconfig.get_paths()["purelib"]),
               Path(sys.base_prefix) / "lib", ROOT / "core", ROOT / "gui", ROOT / "resources"}
    return sorted(folders)


def empty_page_cache(folders: list[Path]) -> str:
    """Empty the page cache as far as this process may; returns the method used."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return "drop_caches"
    except OSError:
        pass
    for folder in folders:
        for path in folder.rglob("*"):
            try:
                if path.is_symlink() or not path.is_file():
                    continue
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return "posix_fadvise(DONTNEED) of the files a launch reads (drop_caches not permitted)"


def run(repeats: int = 3, app: Path | None = None) -> list[dict]:
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        raise SystemExit("the start-up benchmark needs Xvfb and xdotool")
    command = [str(app.resolve())] if app else [str(entry_point())]
    what = "built app" if app else "pip install (traindesk entry point)"
    folders = files_read_at_launch(command)
    warm_times: list[float] = []
    cold_times: list[float] = []
    methods = {"warm": "the same launch repeated"}
    with Xvfb() as display:
        seconds_to_window(command, display)  # fills the cache; not counted
        # Warm and cold launches take turns, so that a change in the machine's load over
        # the minutes this takes falls on both alike.
        for _ in range(repeats):
            warm_times.append(seconds_to_window(command, display))
            methods["cold"] = empty_page_cache(folders)
            cold_times.append(seconds_to_window(command, display))
    rows = []
    for kind, times in (("warm", warm_times), ("cold", cold_times)):
        rows.append({"benchmark": f"start-up to a visible window, {what}, {kind} (Xvfb, "
                                  f"xdotool polled every {POLL_S * 1000:.0f} ms)",
                     "seconds": summarize(times), "how": methods[kind]})
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--app", type=Path, help="the built application's executable "
                        "(dist/TrainDesk/TrainDesk) instead of the pip install's entry point")
    args = parser.parse_args()
    for row in run(args.repeats, args.app):
        print(f"{row['benchmark']}\n  {row['how']}\n  median {row['seconds']['median']:.2f} s "
              f"(min {row['seconds']['min']:.2f}, max {row['seconds']['max']:.2f}) over "
              f"{', '.join(f'{t:.2f}' for t in row['seconds']['values'])}")

"""Architecture rule 1: core never imports Qt (nor the GUI package), so it runs headless."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import core

CORE_DIR = Path(core.__file__).resolve().parent
FORBIDDEN = ("PySide6", "pyqtgraph", "gui")


def forbidden_imports(source: str, filename: str = "<source>") -> list[str]:
    """`module (line N)` for each import of a forbidden top-level package in `source`,
    wherever it sits (module level, inside a function, under `if TYPE_CHECKING`)."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
              and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                  "import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        else:
            continue
        found += [f"{name} (line {node.lineno})" for name in names
                  if name.split(".")[0] in FORBIDDEN]
    return found


def test_the_scanner_finds_every_form_of_import():
    source = "\n".join([
        "import os",
        "import PySide6.QtCore",
        "from pyqtgraph import PlotWidget",
        "def f():",
        "    from gui.app import run_app",
        "    import importlib; importlib.import_module('PySide6.QtWidgets')",
        "from core.guide import x",  # a name that only starts like gui
        "from . import gui_helpers",  # relative: inside core, not the gui package
    ])
    assert forbidden_imports(source) == [
        "PySide6.QtCore (line 2)", "pyqtgraph (line 3)", "gui.app (line 5)",
        "PySide6.QtWidgets (line 6)"]


def test_no_core_file_imports_qt_or_the_gui():
    files = sorted(CORE_DIR.rglob("*.py"))
    assert {"trainer.py", "cli.py", "config.py"} <= {f.name for f in files}
    offences = {str(f.relative_to(CORE_DIR)): found for f in files
                if (found := forbidden_imports(f.read_text(encoding="utf-8"), str(f)))}
    assert offences == {}


def test_importing_every_core_module_leaves_qt_unloaded():
    modules = sorted(name for _, name, _ in pkgutil.walk_packages([str(CORE_DIR)], "core.")
                     if name != "core.__main__")  # __main__ runs the command line
    assert {"core.trainer", "core.cli", "core.networks", "core.finetune"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "import torch\n"  # torch itself must not pull Qt in either
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{FORBIDDEN!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_gui_never_installs_a_python_qt_message_handler():
    # PySide6 6.12's qInstallMessageHandler releases a reference to None for every Qt
    # message, which aborts the interpreter after a few thousand messages.
    root = Path(__file__).resolve().parents[1]
    offenders = [str(path.relative_to(root)) for folder in ("gui", "benchmarks")
                 for path in (root / folder).rglob("*.py")
                 if "qInstallMessageHandler(" in path.read_text(encoding="utf-8")]
    assert offenders == []

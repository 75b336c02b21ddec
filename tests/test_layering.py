"""Architecture rules checked on the source: core never imports Qt (nor the GUI package), so
it runs headless, and no module of core imports another in a circle."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import core
from limits import HANG_S

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
    assert {"loop.py", "cli.py", "config.py"} <= {f.name for f in files}
    offences = {str(f.relative_to(CORE_DIR)): found for f in files
                if (found := forbidden_imports(f.read_text(encoding="utf-8"), str(f)))}
    assert offences == {}


def test_importing_every_core_module_leaves_qt_unloaded():
    modules = sorted(name for _, name, _ in pkgutil.walk_packages([str(CORE_DIR)], "core.")
                     if name != "core.__main__")  # __main__ runs the command line
    assert {"core.train.loop", "core.cli", "core.models.networks", "core.finetune.freezing"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "import torch\n"  # torch itself must not pull Qt in either
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{FORBIDDEN!r}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=HANG_S)
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


def core_imports(source: str, module: str, known: set[str]) -> set[str]:
    """The modules of core that `module`'s source imports, wherever the import sits (a
    function-level import closes a circle as surely as one at the top). `from core.data
    import text` names the module core.data.text; `from core.data.text import X`, the
    module core.data.text."""
    package = module if module in PACKAGES else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source, module)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            # the deepest known module the name falls in (a package's __init__ counts)
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def core_modules() -> dict[str, Path]:
    modules = {}
    for path in CORE_DIR.rglob("*.py"):
        parts = list(path.relative_to(CORE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


PACKAGES = {name for name, path in core_modules().items() if path.name == "__init__.py"}


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_the_circle_finder_sees_a_circle_through_a_function_level_import():
    known = {"core.a", "core.b", "core.c"}
    graph = {"core.a": core_imports("from core.b import x", "core.a", known),
             "core.b": core_imports("def f():\n    import core.c", "core.b", known),
             "core.c": core_imports("from core import a", "core.c", known | {"core"})}
    assert import_circles(graph) == [["core.a", "core.b", "core.c"]]
    graph["core.c"] = set()
    assert import_circles(graph) == []


def test_no_module_of_core_imports_another_in_a_circle():
    modules = core_modules()
    assert {"core.catalog", "core.train.loop", "core.data.digits"} <= set(modules)
    graph = {name: core_imports(path.read_text(encoding="utf-8"), name, set(modules))
             for name, path in modules.items()}
    assert graph["core.catalog"] >= {"core.data.digits", "core.models.builders"}
    assert import_circles(graph) == []

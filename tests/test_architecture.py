"""The layout is the architecture: import rules that keep it true (DESIGN.md "Architecture").

The rules are checked by reading the source with ``ast``, counting imports made
inside functions too (a lazy import is still a dependency). Each rule has a test
of the test below: a small fake package that breaks it must be caught.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import modeldesk

PACKAGE_DIR = Path(modeldesk.__file__).parent

# Libraries only the faces may use: core stays importable without any of them.
FACE_LIBRARIES = ("PySide6", "shiboken6", "pyqtgraph", "flask", "werkzeug", "click", "waitress")
MAX_MODULE_LINES = 600


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules_of(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module ``name`` imports, anywhere in the file, as absolute names.

    ``from pkg import mod`` counts as an import of ``pkg.mod`` when that is a
    module of ours, else of ``pkg``. Third-party imports are kept by their
    full dotted name so rules can look at the top-level package.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in known else module)
    found.discard(name)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    known = modules_of(root)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    own = {n: {m for m in deps if m in graph} for n, deps in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(own):
        if start in index:
            continue
        work = [(start, iter(sorted(own[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(own[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


def violations(root: Path) -> list[str]:
    """Every broken import rule under the package at ``root``, in words."""
    graph = import_graph(root)
    top = root.name
    problems = [f"import cycle: {' <-> '.join(group)}" for group in cycles(graph)]

    def under(name: str, package: str) -> bool:
        return name == package or name.startswith(package + ".")

    for name, deps in sorted(graph.items()):
        for dep in sorted(deps):
            lib = dep.split(".")[0]
            if under(name, f"{top}.core"):
                if lib in FACE_LIBRARIES:
                    problems.append(f"{name} (core) imports {dep}: core stays free of Qt, Flask and click")
                elif under(dep, top) and not under(dep, f"{top}.core"):
                    problems.append(f"{name} (core) imports {dep}: core imports nothing above it")
            if under(name, f"{top}.server") and (under(dep, f"{top}.gui") or under(dep, f"{top}.cli")):
                problems.append(f"{name} (server) imports {dep}: the server never imports the GUI or the CLI")
            if under(name, f"{top}.gui") and under(dep, f"{top}.server"):
                problems.append(f"{name} (gui) imports {dep}: the GUI talks to a server over HTTP, "
                                "and reads its figures with core's parser")
            if lib == "pyqtgraph" and not under(name, f"{top}.gui.charts"):
                problems.append(f"{name} imports pyqtgraph: only {top}.gui.charts may")
            if name == f"{top}.cli._common" and under(dep, f"{top}.cli") and dep != f"{top}.cli._common":
                problems.append(f"{name} imports {dep}: CLI helpers import no command module")
    return problems


def long_modules(root: Path) -> list[str]:
    out = []
    for name, path in modules_of(root).items():
        if ".migrations." in name:
            continue  # migrations are written once and never edited: their length is history
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            out.append(f"{name}: {lines} lines")
    return out


# --- the rules, on our package -------------------------------------------------------------

# Known at the start of the layout work (issue 8); each split removes its line.
KNOWN_LONG: set[str] = set()


def test_import_rules_hold():
    assert violations(PACKAGE_DIR) == []


def test_no_module_over_600_lines():
    """Split by feature long before a file grows into a hub (STYLE.md "Small modules")."""
    assert sorted({line.split(":")[0] for line in long_modules(PACKAGE_DIR)} ^ KNOWN_LONG) == []


def test_importing_modeldesk_is_light():
    """`import modeldesk` must not pull pandas, sklearn, scipy or Qt (start-up cost)."""
    code = (
        "import sys, modeldesk, modeldesk.core.storage.project, modeldesk.core.tracking.tracker;"
        "heavy = [m for m in ('pandas', 'sklearn', 'scipy', 'PySide6', 'pyqtgraph', 'flask') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_module_imports_first():
    """Each module can be the first one imported (a hidden cycle raises ImportError here)."""
    names = [n for n in modules_of(PACKAGE_DIR) if not n.endswith("__main__")]
    code = (
        "import importlib, subprocess, sys\n"
        "bad = []\n"
        "for n in sys.argv[1:]:\n"
        "    r = subprocess.run([sys.executable, '-c', f'import {n}'], capture_output=True, text=True)\n"
        "    if r.returncode: bad.append(n + ': ' + r.stderr.strip().splitlines()[-1])\n"
        "print('\\n'.join(bad))\n"
    )
    # One child per module would take ~1 min; instead check the cheap, cycle-prone ones: cli and core.
    picked = [n for n in names if ".cli" in n or ".core" in n or ".server" in n]
    out = subprocess.run([sys.executable, "-c", code, *picked], capture_output=True, text=True, timeout=50)
    assert out.stdout.strip() == ""


# --- tests of the tests: a fake package that breaks each rule is caught ----------------------

def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "fakepkg"
    for rel, text in {"__init__.py": "", "core/__init__.py": "", "gui/__init__.py": "",
                      "gui/charts/__init__.py": "", "server/__init__.py": "", "cli/__init__.py": "",
                      **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_clean_fake_package_passes(tmp_path):
    root = _fake_package(tmp_path, {
        "core/a.py": "from . import b\n",
        "core/b.py": "import json\n",
        "gui/view.py": "from PySide6.QtWidgets import QWidget\nfrom ..core import a\n",
        "gui/charts/plot.py": "import pyqtgraph\n",
    })
    assert violations(root) == []


def test_a_cycle_through_a_function_level_import_is_caught(tmp_path):
    root = _fake_package(tmp_path, {
        "core/a.py": "from .b import thing\n",
        "core/b.py": "def thing():\n    from .a import other\n    return other\n",
    })
    assert violations(root) == ["import cycle: fakepkg.core.a <-> fakepkg.core.b"]


def test_qt_in_core_is_caught(tmp_path):
    root = _fake_package(tmp_path, {"core/a.py": "def f():\n    from PySide6 import QtCore\n"})
    assert violations(root) == ["fakepkg.core.a (core) imports PySide6: core stays free of Qt, Flask and click"]


def test_core_importing_a_face_or_the_fluent_api_is_caught(tmp_path):
    root = _fake_package(tmp_path, {"core/a.py": "from .. import __version__\nfrom ..gui import view\n",
                                    "gui/view.py": ""})
    problems = violations(root)
    assert "fakepkg.core.a (core) imports fakepkg: core imports nothing above it" in problems
    assert "fakepkg.core.a (core) imports fakepkg.gui.view: core imports nothing above it" in problems


def test_server_importing_gui_and_gui_importing_server_are_caught(tmp_path):
    root = _fake_package(tmp_path, {"server/app.py": "from ..gui import view\n",
                                    "gui/view.py": "from ..server.metrics import parse\n",
                                    "server/metrics.py": "def parse(): pass\n"})
    problems = violations(root)
    assert any(p.startswith("fakepkg.server.app (server) imports fakepkg.gui.view") for p in problems)
    assert any(p.startswith("fakepkg.gui.view (gui) imports fakepkg.server.metrics") for p in problems)


def test_pyqtgraph_outside_charts_is_caught(tmp_path):
    root = _fake_package(tmp_path, {"gui/view.py": "import pyqtgraph as pg\n"})
    assert violations(root) == ["fakepkg.gui.view imports pyqtgraph: only fakepkg.gui.charts may"]


def test_cli_helpers_importing_a_command_module_is_caught(tmp_path):
    root = _fake_package(tmp_path, {"cli/_common.py": "from .models import models\n",
                                    "cli/models.py": "from ._common import pass_ctx\n"})
    problems = violations(root)
    assert "fakepkg.cli._common imports fakepkg.cli.models: CLI helpers import no command module" in problems
    assert "import cycle: fakepkg.cli._common <-> fakepkg.cli.models" in problems


def test_long_module_is_caught(tmp_path):
    root = _fake_package(tmp_path, {"core/big.py": "x = 1\n" * 601,
                                    "core/storage/migrations/m001_old.py": "x = 1\n" * 900})
    assert long_modules(root) == ["fakepkg.core.big: 601 lines"]

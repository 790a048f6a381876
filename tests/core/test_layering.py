"""core/ stays Qt-, Flask- and click-free (DESIGN.md "Architecture")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import modeldesk.core

FORBIDDEN = ("PySide6", "pyqtgraph", "flask", "click", "waitress", "shiboken6")


def test_core_imports_no_gui_server_or_cli_library():
    core_dir = Path(modeldesk.core.__file__).parent
    offenders = []
    for path in sorted(core_dir.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.level >= 2:
                names = [f"modeldesk.{node.module or ''}"]
            for name in names:
                top = name.split(".")[0]
                if top in FORBIDDEN or name.startswith(("modeldesk.gui", "modeldesk.server", "modeldesk.cli")):
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert not offenders, offenders


def test_importing_modeldesk_is_light():
    """`import modeldesk` must not pull pandas, sklearn, scipy or Qt (start-up cost)."""
    code = (
        "import sys, modeldesk, modeldesk.core.project, modeldesk.core.tracking;"
        "heavy = [m for m in ('pandas', 'sklearn', 'scipy', 'PySide6', 'pyqtgraph', 'flask') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""File ▸ Import from MLflow… after an import (not a test).

Run under Xvfb from the repository root (MLflow must be installed: it is in the test extra):

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/mlflow_import.py [OUT_DIR]

Builds a small MLflow store with MLflow's own client (the one the import tests use),
opens a new project in the main window, imports the store through the dialog and
grabs mlflow-import.png with its summary. OUT_DIR defaults to docs/images.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from qt_wait import pump

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    folder = Path(tempfile.mkdtemp(prefix="modeldesk-mlflow-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    os.environ["MODELDESK_USER"] = "ana"
    sys.path.insert(0, str(ROOT / "app"))
    sys.path.insert(0, str(ROOT / "tests"))
    from modeldesk.core.storage.project import open_project
    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import MainWindow
    from support.mlflow_store import build_store

    store = build_store(folder / "mlflow")
    path = folder / "team.mdesk"
    open_project(path, create=True, user="ana").close()
    app = create_application()
    win = MainWindow(user="ana")
    win.resize(1360, 820)
    win.show()
    win.open(path)
    pump(app, 30, lambda: win.project is not None, "the project")
    dialog = win.import_mlflow()
    dialog.source.setText(store.uri)
    dialog.start()
    pump(app, 180, lambda: dialog.task is None and dialog.status.text() != "", "the import")
    print(dialog.status.text())
    pump(app, 1.0)
    out.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(out / "mlflow-import.png"))
    print(f"saved {out / 'mlflow-import.png'}")
    win.close()


if __name__ == "__main__":
    main()

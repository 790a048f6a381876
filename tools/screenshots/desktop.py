"""Regenerate the user guide's screenshots of the desktop conventions (not a test).

Run under Xvfb from the repository root:

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/desktop.py [OUT_DIR]

Builds a small project in a temporary folder and saves to OUT_DIR (default docs/images):

- opening-cancel.png: the window while a project opens (an older file being
  upgraded, held by a slow migration for the picture): the percentage, the
  step being done, the seconds so far and Cancel;
- edit-menu.png: the Edit menu (Copy, Select All, Find) over the Experiments
  view, a few runs selected.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pump(app, seconds: float, until=None, what: str = "") -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.01)
    if until is not None and not until():
        raise SystemExit(f"timed out waiting for {what}")


def build(path: Path) -> None:
    import modeldesk as md

    md.set_project(path)
    md.set_experiment("churn")
    for i in range(12):
        with md.start_run(name=f"churn-{('rf', 'gbm', 'lr')[i % 3]}-{i:02d}"):
            md.log_params({"max_depth": i % 5 + 2})
            md.log_metrics({"val_auc": round(0.8 + i / 100, 4)})
    md.flush()
    md.set_project(path.with_name("scratch.mdesk"))


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "images"
    tmp = Path(tempfile.mkdtemp(prefix="modeldesk-shot-"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    os.environ.setdefault("MODELDESK_THEME", "light")
    sys.path.insert(0, str(ROOT / "app"))
    from PySide6.QtCore import QPoint

    from modeldesk.core.storage import migrations, project
    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import MainWindow

    path = tmp / "team.mdesk"
    build(path)
    app = create_application()
    release = threading.Event()

    def m_slow(db):     # stands in for a long upgrade of a big file
        release.wait(30)

    slow = migrations.MIGRATIONS + [("m_screenshot_slow", m_slow)]
    project.MIGRATIONS, project.SCHEMA_VERSION = slow, len(slow)
    win = MainWindow(user="ada")
    win.resize(1100, 560)
    win.show()
    win.open(path)
    pump(app, 3.2)
    win.grab().save(str(out / "opening-cancel.png"))
    win.opening.cancel_button.click()
    release.set()
    pump(app, 10, lambda: not win.open_jobs.busy(), "the cancelled open")
    pump(app, 0.5)
    win.open(path)
    pump(app, 15, lambda: win.project is not None and win.experiments.model.rowCount() > 0, "the runs")
    pump(app, 1.0)
    table = win.experiments.table
    table.setFocus()
    for row in (1, 2, 3):
        table.selectionModel().select(win.experiments.model.index(row, 0),
                                      table.selectionModel().SelectionFlag.Select
                                      | table.selectionModel().SelectionFlag.Rows)
    menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&Edit")
    geometry = win.menuBar().actionGeometry(next(a for a in win.menuBar().actions() if a.text() == "&Edit"))
    menu.popup(win.menuBar().mapToGlobal(QPoint(geometry.left(), geometry.bottom())))
    pump(app, 0.8)
    shot = win.screen().grabWindow(0)
    origin = win.frameGeometry().topLeft()
    shot.copy(origin.x(), origin.y(), 1100, 360).save(str(out / "edit-menu.png"))
    menu.close()
    win.close()
    print(f"saved {out / 'opening-cancel.png'} and {out / 'edit-menu.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

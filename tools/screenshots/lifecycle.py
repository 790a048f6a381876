"""Regenerate the user guide's delete/restore screenshots of the Experiments view (not a test).

Run under Xvfb from the repository root:

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/lifecycle.py [OUT_DIR]

Builds a small project in a temporary folder (experiments churn and fraud,
a sweep of runs each, a third experiment ``old-sweep``), opens the
Experiments view at 1100×560 and saves to OUT_DIR (default docs/images):

- experiments-delete-confirm.png: two runs selected and Delete Runs… (the
  Delete key) chosen: the confirmation;
- experiments-show-deleted.png: after deleting them and the old-sweep
  experiment, with Show deleted ticked: deleted runs greyed, their status
  "deleted", the deleted experiment struck out, the context menu's
  Restore Runs.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
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
    rng = random.Random(3)
    for experiment, n in (("churn", 14), ("fraud", 8), ("old-sweep", 5)):
        md.set_experiment(experiment)
        for i in range(n):
            with md.start_run(name=f"{experiment}-{('rf', 'gbm', 'lr')[i % 3]}-{i:02d}"):
                md.log_params({"max_depth": i % 5 + 2, "model": ("rf", "gbm", "lr")[i % 3]})
                md.log_metrics({"val_auc": round(0.78 + rng.random() / 6, 4), "loss": round(rng.random(), 4)})
                md.set_tags({"owner": ("ana", "bo")[i % 2]})
            time.sleep(0.02)
    md.flush()
    md.set_project(path.with_name("scratch.mdesk"))


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "images"
    folder = Path(tempfile.mkdtemp(prefix="modeldesk-lifecycle-"))
    os.environ["XDG_CONFIG_HOME"] = str(folder / "settings")
    os.environ["MODELDESK_THEME"] = "light"
    os.environ["MODELDESK_USER"] = "ana"
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")
    sys.path.insert(0, str(ROOT / "app"))
    path = folder / "team.mdesk"
    build(path)

    from PySide6.QtCore import QItemSelectionModel, QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder / "settings"))
    from modeldesk.core.storage.project import open_project
    from modeldesk.gui.app import create_application
    from modeldesk.gui.experiments.experiments_view import ExperimentsView

    app = create_application()
    view = ExperimentsView()
    view.resize(1100, 560)
    view.show()
    view.set_project(open_project(path, create=False))
    pump(app, 10, lambda: view.model.loaded and view.experiment_list.topLevelItemCount() == 4, "the table")
    pump(app, 1.0)

    def texts() -> list[str]:
        return [view.model.data(view.model.index(r, 0)) for r in range(view.model.rowCount())]

    def select(names) -> None:
        selection = view.table.selectionModel()
        selection.clearSelection()
        rows = [texts().index(n) for n in names]
        for row in rows:
            selection.select(view.model.index(row, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)
        selection.setCurrentIndex(view.model.index(rows[0], 0), QItemSelectionModel.NoUpdate)

    victims = ["churn-gbm-04", "churn-lr-05"]
    select(victims)
    view.table.setFocus()
    view.lifecycle.delete_runs_action.trigger()   # what the Delete key does
    pump(app, 3, lambda: view.lifecycle.confirm_box is not None and view.lifecycle.confirm_box.isVisible(),
         "the confirmation")
    pump(app, 0.5)
    box = view.lifecycle.confirm_box
    out.mkdir(parents=True, exist_ok=True)
    box.grab().save(str(out / "experiments-delete-confirm.png"))
    next(b for b in box.buttons() if b.text().replace("&", "") == "Delete").click()
    pump(app, 5, lambda: view.model.rowCount() == 12 and view.model.loaded, "the deletion")
    view.select_experiment("old-sweep")
    pump(app, 5, lambda: view.model.loaded and view.experiment_name() == "old-sweep", "old-sweep")
    view.lifecycle.delete_current_experiment()
    pump(app, 3, lambda: view.lifecycle.confirm_box is not None and view.lifecycle.confirm_box.isVisible(), "ask")
    next(b for b in view.lifecycle.confirm_box.buttons() if b.text().replace("&", "") == "Delete").click()
    pump(app, 5, lambda: view.experiment_list.topLevelItemCount() == 3, "the experiment deletion")
    view.lifecycle.show_deleted.setChecked(True)
    pump(app, 5, lambda: view.experiment_list.topLevelItemCount() == 4, "deleted experiments")
    view.select_experiment("churn")
    pump(app, 5, lambda: view.model.loaded and view.model.rowCount() == 14, "deleted runs")
    pump(app, 1.0)
    select(["churn-gbm-04"])
    loss = [c.spec for c in view.model.columns].index("attributes.duration")
    row = view.table.currentIndex().row()
    view._context_menu(view.table.visualRect(view.model.index(row, loss)).center())
    pump(app, 0.8)
    shot = view.grab()
    menu = view.context_menu
    from PySide6.QtGui import QPainter

    painter = QPainter(shot)
    painter.drawPixmap(view.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    shot.save(str(out / "experiments-show-deleted.png"))
    menu.close()
    print(f"saved to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Regenerate the Experiments, run details and compare screenshots of the user guide (not a test).

Run under Xvfb from the repository root:

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/experiments.py [DEMO.mdesk] [OUT_DIR]

DEMO.mdesk is built with ``modeldesk demo DEMO.mdesk --no-ui`` when it does
not exist (without the argument, into a new temporary folder); OUT_DIR
defaults to docs/images. The script opens the main window at 1280×800 as
``ana`` on the breast-cancer experiment, sorts the runs by roc_auc and
selects a gradient-boosting run that logged curves, datasets and artifacts:

- main-window.png: the whole window, that run selected;
- run-details.png, run-details-curves.png, run-details-datasets.png,
  run-details-artifacts.png: its details window (Open Run Details), one
  tab each (the artifacts tab previews confusion_matrix.png);
- compare.png, compare-curves.png, compare-scatter.png, compare-parallel.png:
  six runs of different families selected and compared (Ctrl+Shift+C): the
  table, val_accuracy/val_loss curves smoothed at 0.6, roc_auc against
  train_seconds with one point clicked, and parallel coordinates;
- experiments.png: the Experiments view with the filter
  ``metrics.roc_auc > 0.99 and params.scaler = 'standard'`` applied, sorted by
  roc_auc, three runs selected.

main-window.png is the whole 1280×800 window and experiments.png the
Experiments view inside it; the details and compare windows are grabbed at
the 1200×800 the app opens them at. Settings go to a temporary folder,
never the user's own; the demo project is only read. Offscreen
(QT_QPA_PLATFORM=offscreen) works too, with other fonts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]   # tools/screenshots/experiments.py -> the repository
USER = "ana"
EXPERIMENT = "breast-cancer"
SORT_METRIC = "roc_auc"
FILTER = "metrics.roc_auc > 0.99 and params.scaler = 'standard'"
# One run of each family for the comparison (the details run is added as a second gbm).
COMPARE = ("sgd-alpha0.001", "gbm-lr0.3-n100-d3", "rf-200-d6", "logreg-l2-C1", "logreg-l2-C0.1")
CURVE_METRICS = ("val_accuracy", "val_loss")
SMOOTHING = 0.6
SCATTER = ("metrics.train_seconds", "metrics.roc_auc")
SCATTER_CLICK = "logreg-l2-C1"
PREVIEW = "confusion_matrix.png"


def pump(app, seconds: float, until=None, what: str = "") -> None:
    """Run the event loop for ``seconds``, or until ``until()`` holds (then fail loudly if it never does)."""
    from PySide6.QtCore import QEventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if until is not None and until():
            return
        time.sleep(0.01)
    if until is not None:
        raise SystemExit(f"timed out waiting for {what or until}")


def build_demo(demo: Path) -> None:
    demo.parent.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).with_name("modeldesk")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "modeldesk"]
    print(f"building the demo project at {demo}…", file=sys.stderr)
    subprocess.run(command + ["demo", str(demo), "--no-ui"], check=True)


def pick_details_run(project) -> str:
    """The name of a gradient-boosting run of EXPERIMENT with curves, datasets and artifacts."""
    from modeldesk.core.tracking import artifacts as art
    from modeldesk.core.tracking import runs
    from modeldesk.core.tracking.history import history_lengths

    frame = runs.search_runs(project, experiments=[EXPERIMENT],
                             filter="params.estimator = 'GradientBoostingClassifier'",
                             order_by=[f"metrics.{SORT_METRIC} DESC"])
    for run_id, name in zip(frame.run_id, frame.run_name):
        curves = [k for k, n in history_lengths(project, run_id).items() if n > 1]
        if len(curves) >= 2 and art.list_datasets(project, run_id) and \
                PREVIEW in [a.path for a in art.list_artifacts(project, run_id)]:
            return name
    raise SystemExit(f"no gradient-boosting run of {EXPERIMENT} has curves, datasets and {PREVIEW}")


class Shots:
    def __init__(self, app, out: Path):
        self.app, self.out = app, out

    def save(self, widget, name: str, note: str = "") -> None:
        pump(self.app, 0.6)   # pending paints, chart auto-ranges
        path = self.out / name
        if not widget.grab().save(str(path)):
            raise SystemExit(f"could not write {path}")
        size = widget.size()
        print(f"wrote {path} ({size.width()}×{size.height()}){': ' + note if note else ''}")


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    demo = Path(argv[0]).expanduser().resolve() if argv else \
        Path(tempfile.mkdtemp(prefix="modeldesk-demo-")) / "demo.mdesk"
    out = Path(argv[1]).expanduser() if len(argv) > 1 else ROOT / "docs" / "images"
    if not demo.exists():
        build_demo(demo)
    out.mkdir(parents=True, exist_ok=True)
    settings_dir = tempfile.mkdtemp(prefix="modeldesk-shots-")
    os.environ["XDG_CONFIG_HOME"] = settings_dir   # never the user's settings
    os.environ["MODELDESK_THEME"] = "light"
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")

    from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, QSettings, Qt
    from PySide6.QtTest import QTest

    from modeldesk.gui.app import create_application

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, settings_dir)
    app = create_application()

    from modeldesk.gui.kit.tables import selection_of
    from modeldesk.gui.main_window import VIEWS, MainWindow

    shots = Shots(app, out)
    win = MainWindow(user=USER)
    win.resize(1280, 800)
    win.show()
    win.open(demo)
    pump(app, 60, lambda: win.project is not None, "the project to open")
    details_name = pick_details_run(win.project)
    compare_names = list(COMPARE[:2]) + [details_name] + list(COMPARE[2:])

    # -- the Experiments view: breast-cancer, sorted by roc_auc, the details run selected --------
    win.nav.setCurrentRow(VIEWS.index("Experiments"))
    view, model, table = win.experiments, win.experiments.model, win.experiments.table

    def table_ready() -> bool:
        return view.experiment_list.topLevelItemCount() > 0 and model.loaded and not model.loading

    pump(app, 30, table_ready, "the experiments")
    view.select_experiment(EXPERIMENT)
    pump(app, 30, lambda: view.experiment_name() == EXPERIMENT and table_ready()
         and f"metrics.{SORT_METRIC}" in [c.spec for c in model.columns], "the runs and their columns")
    column = [c.spec for c in model.columns].index(f"metrics.{SORT_METRIC}")
    table.sortByColumn(column, Qt.SortOrder.DescendingOrder)   # what a click on the header does
    pump(app, 30, lambda: model.query.order_by[0].startswith(f"metrics.{SORT_METRIC}") and table_ready(),
         "the sorted runs")
    pump(app, 10, lambda: all(model.run_at(r) is not None for r in range(model.rowCount())), "every row")

    def rows_named(names) -> list[int]:
        by_name = {model.run_at(r).name: r for r in range(model.rowCount())}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise SystemExit(f"no run named {', '.join(missing)} in {EXPERIMENT}")
        return [by_name[n] for n in names]

    def select_rows(rows: list[int]) -> None:
        selection = QItemSelection()
        for row in rows:
            selection.select(model.index(row, 0), model.index(row, model.columnCount() - 1))
        selection_of(table).select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        selection_of(table).setCurrentIndex(model.index(rows[0], 0), QItemSelectionModel.SelectionFlag.NoUpdate)
        table.scrollTo(model.index(rows[0], 0))

    [row] = rows_named([details_name])
    select_rows([row])
    table.setFocus()
    shots.save(win, "main-window.png", f"{EXPERIMENT} sorted by {SORT_METRIC}, {details_name} selected")

    # -- run details (Open Run Details on the selected run) --------------------------------------------------
    details = view.details_of_current()   # what Open Run Details does: the window, its data still to come
    if details is None:
        raise SystemExit("no run details window opened")
    events: set[str] = set()   # connected before the event loop runs again: no signal is missed
    details.loaded.connect(lambda: events.add("loaded"))
    details.curvesLoaded.connect(lambda: events.add("curves"))
    details.previewReady.connect(lambda path: events.add(f"preview:{path}"))
    details.failed.connect(lambda text: print(f"run details: {text}", file=sys.stderr))
    pump(app, 30, lambda: details.details is not None, "the run details")
    pump(app, 30, lambda: "curves" in events, "the run's curves")
    details.raise_()
    details.activateWindow()
    details.tabs.setCurrentIndex(0)
    shots.save(details, "run-details.png", "overview")
    details.tabs.setCurrentIndex(1)
    shots.save(details, "run-details-curves.png", ", ".join(details.checked_metrics()))
    details.tabs.setCurrentIndex(2)
    details.select_dataset(0)
    shots.save(details, "run-details-datasets.png", details.details.datasets[0].name)
    details.tabs.setCurrentIndex(4)
    details.select_artifact(PREVIEW)
    pump(app, 20, lambda: f"preview:{PREVIEW}" in events, "the artifact preview")
    shots.save(details, "run-details-artifacts.png", PREVIEW)
    details.close()
    pump(app, 0.3)

    # -- compare six runs (Ctrl+Shift+C on the selection) -------------------------------------------
    select_rows(sorted(rows_named(compare_names)))
    pump(app, 0.2)
    compare = view.compare_selected()   # what Ctrl+Shift+C does; every row is loaded, so it opens at once
    if compare is None:
        raise SystemExit("no compare window opened")
    events.clear()
    compare.curvesLoaded.connect(lambda: events.add("curves"))
    compare.failed.connect(lambda text: print(f"compare: {text}", file=sys.stderr))
    pump(app, 30, lambda: compare.comparison is not None and compare.checked_metrics()
         and not compare.loading_curves, "the comparison and its default curves")
    compare.raise_()
    compare.activateWindow()
    compare.show_tab("table")
    shots.save(compare, "compare.png", ", ".join(r.name for r in compare.comparison.runs))

    events.discard("curves")
    compare.show_tab("curves")
    compare.set_metrics(CURVE_METRICS)
    pump(app, 30, lambda: "curves" in events and not compare.loading_curves, "the chosen curves")
    compare.set_smoothing(SMOOTHING)
    pump(app, 30, lambda: not compare.loading_curves, "the smoothed curves")
    shots.save(compare, "compare-curves.png", f"{', '.join(compare.checked_metrics())}, smoothing {SMOOTHING}")

    compare.show_tab("scatter")
    compare.set_scatter_axes(*SCATTER)
    pump(app, 0.5)   # the chart sets its range
    clicked = next(r.id for r in compare.comparison.runs if r.name == SCATTER_CLICK)
    graphics = compare.scatter.view
    point = graphics.mapFromScene(compare.scatter.scene_position(clicked))
    QTest.mouseClick(graphics.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))
    pump(app, 5, lambda: compare.scatter.selected == clicked, "the clicked point")
    QTest.mouseMove(compare.title, QPoint(5, 5))   # off the chart: its hover-only autorange button goes
    shots.save(compare, "compare-scatter.png", f"{SCATTER[1]} against {SCATTER[0]}, {SCATTER_CLICK} clicked")

    compare.show_tab("parallel")
    pump(app, 0.5)
    shots.save(compare, "compare-parallel.png",
               f"{', '.join(compare.parallel_params())} coloured by {compare.colour_metric.currentData()}")
    compare.close()
    pump(app, 0.3)

    # -- the filter bar: typed, applied with Enter; sorted; three runs selected -----------------------
    win.activateWindow()
    edit = view.filter_bar.edit
    edit.setFocus()
    edit.clear()
    QTest.keyClicks(edit, FILTER)
    edit.completer_.popup().hide()   # typing ends on a value: no completion wanted
    QTest.keyClick(edit, Qt.Key.Key_Return)
    pump(app, 30, lambda: model.query.filter == FILTER and table_ready(), "the filtered runs")
    if view.filter_bar.has_error():
        raise SystemExit(f"the filter was refused: {view.filter_bar.error.text()}")
    pump(app, 10, lambda: all(model.run_at(r) is not None for r in range(model.rowCount())), "every row")
    select_rows([r for r in (0, 1, 3) if r < model.rowCount()])   # the filter edit keeps the focus
    shots.save(view, "experiments.png", f"{model.rowCount()} runs match, {view.selected_count()} selected")

    win.close()
    pump(app, 0.3)
    shutil.rmtree(settings_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Desktop app benchmark: start-up, a 100,000-run project, filter, sort, compare.

Prints one row per step: how long until the result was on screen (painted),
and the longest stall of the GUI thread's event loop meanwhile (a 10 ms
QTimer records the largest gap between its ticks), each marked OK or MISSED
against its target. Targets on a 2-core machine: cold start < 1.5 s, every
other step < 1 s, no stall > 100 ms. The summary says OK or MISSED per
target; the exit code is 0 either way (this measures, it does not gate).

Comparison steps: 10 runs with 100,000-point curves (open, show the Curves
tab), then 10 runs with 1,000,000-point curves (open, show the curves,
smoothing, x axis switch, zoom in to where the full data is drawn).

The 100,000-run project and the two curve projects are built once (with
core.tracking.Tracker, quickly) and cached in $MODELDESK_BENCH_DIR (default:
the temp folder; the 10 x 1,000,000-point file takes ~240 MB and ~5-20 s to
build). Settings go to a temporary folder, never the user's. Run: make
bench, or .venv/bin/python tests/benchmarks/bench_gui.py (under xvfb-run
for a real X server; offscreen otherwise).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_RUNS = 100_000
N_CURVES, N_POINTS = 10, 100_000
N_LONG_POINTS = 1_000_000
BUILD = "v1"
TARGET_STALL_MS = 100
SETTINGS = tempfile.mkdtemp(prefix="modeldesk-bench-settings-")
os.environ["XDG_CONFIG_HOME"] = SETTINGS
if not any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
ROWS: list[tuple] = []


def bench_dir() -> Path:
    from modeldesk.core.storage.migrations import SCHEMA_VERSION

    folder = Path(os.environ.get("MODELDESK_BENCH_DIR", tempfile.gettempdir())) / "modeldesk-bench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"schema{SCHEMA_VERSION}-{BUILD}"


def _bulk_tracker(project):
    from modeldesk.core.tracking.tracker import Tracker

    tracker = Tracker(project, max_buffer=2_000_000)
    # One writer, no background flush thread: the batches below are written in
    # large transactions of our own.
    tracker._ensure_thread = lambda: None
    return tracker


def build_runs(path: Path) -> None:
    """100,000 finished runs in one experiment: 4 params, 1 tag, 3 metrics each."""
    from modeldesk.core.storage.project import open_project

    project = open_project(path)
    tracker = _bulk_tracker(project)
    exp = tracker.experiment("sweep")
    rng = random.Random(0)
    base = time.time() - N_RUNS * 60
    for start in range(0, N_RUNS, 5000):
        with project.write():
            for i in range(start, start + 5000):
                run = tracker.start_run(exp.id, f"run-{i:06d}", start_time=base + i * 60)
                tracker.log_params(run, {"lr": rng.choice([0.1, 0.03, 0.01, 0.003]),
                                         "max_depth": rng.randint(2, 12),
                                         "n_estimators": rng.choice([50, 100, 200, 400]),
                                         "model": rng.choice(["rf", "gbm", "lr"])})
                tracker.set_tags(run, {"owner": rng.choice(["ana", "bo", "cy"])})
                auc = rng.uniform(0.6, 0.99)
                tracker.log_metrics(run, {"val_auc": auc, "loss": 1 - auc + rng.uniform(0, 0.1),
                                          "accuracy": rng.uniform(0.5, 0.99)})
                tracker.end_run(run, rng.choice(["FINISHED"] * 8 + ["FAILED", "KILLED"]),
                                end_time=base + i * 60 + rng.uniform(5, 500))
    tracker.close()
    project.close()


def build_curves(path: Path) -> list[str]:
    """10 runs with a 100,000-point loss curve each."""
    import math

    from modeldesk.core.storage.project import open_project

    project = open_project(path)
    tracker = _bulk_tracker(project)
    exp = tracker.experiment("long-curves")
    ids = []
    for i in range(N_CURVES):
        run = tracker.start_run(exp.id, f"long-{i}")
        tracker.log_params(run, {"seed": i, "lr": 0.01 * (i + 1)})
        tracker.log_metric_batch(run, "loss", [math.exp(-s / 20_000) + 0.01 * i for s in range(N_POINTS)])
        tracker.end_run(run)
        ids.append(run.id)
    tracker.close()
    project.close()
    return ids


def build_long_curves(path: Path) -> None:
    """10 runs with a 1,000,000-point loss curve each, a point every 10 ms (so wall time is an axis)."""
    import numpy as np

    from modeldesk.core.storage.project import open_project

    project = open_project(path)
    tracker = _bulk_tracker(project)
    exp = tracker.experiment("million-point-curves")
    steps = np.arange(N_LONG_POINTS)
    noise = np.random.default_rng(0)
    t0 = time.time() - 3 * 86400
    for i in range(N_CURVES):
        run = tracker.start_run(exp.id, f"million-{i}", start_time=t0 + i * 20_000)
        tracker.log_params(run, {"seed": i, "lr": 0.01 * (i + 1)})
        values = np.exp(-steps / 200_000) + 0.01 * i + noise.normal(0, 0.02, N_LONG_POINTS)
        tracker.log_metric_batch(run, "loss", values.tolist(), timestamps=(t0 + i * 20_000 + steps * 0.01).tolist())
        tracker.end_run(run)
    tracker.close()
    project.close()


def projects() -> tuple[Path, Path, Path, Path]:
    folder = bench_dir()
    folder.mkdir(exist_ok=True)
    big, curves, empty = folder / "runs-100k.mdesk", folder / "curves-10x100k.mdesk", folder / "empty.mdesk"
    long_curves = folder / "curves-10x1m.mdesk"
    for path, build, label in ((big, build_runs, "100,000 runs"), (curves, build_curves, "10 x 100,000 points"),
                               (long_curves, build_long_curves, "10 x 1,000,000 points")):
        if not path.exists():
            t0 = time.perf_counter()
            tmp = path.with_suffix(".building")
            for stale in folder.glob(tmp.name + "*"):
                stale.unlink()
            build(tmp)
            tmp.rename(path)
            print(f"  built {label} in {time.perf_counter() - t0:.1f} s: {path}", flush=True)
    if not empty.exists():
        from modeldesk.core.storage.project import open_project

        open_project(empty).close()
    return big, curves, empty, long_curves


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def row(step: str, seconds: float | None, target: float, stall_ms: float | None, note: str = "") -> None:
    ROWS.append((step, seconds, target, stall_ms, note))
    if seconds is None:
        print(f"  {step:<62} {note}", flush=True)
        return
    time_part = f"{seconds:6.2f} s < {target:.1f} s {verdict(seconds < target):<6}"
    stall_part = ("stall: own process" if stall_ms is None else
                  f"GUI stall {stall_ms:4.0f} ms <= {TARGET_STALL_MS} ms {verdict(stall_ms <= TARGET_STALL_MS):<6}")
    print(f"  {step:<62} {time_part}  {stall_part}{'  ' + note if note else ''}", flush=True)


# -- cold start, in its own process ------------------------------------------------------
def cold_start(empty: Path, repeats: int = 5) -> None:
    exe = Path(sys.executable).with_name("modeldesk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "modeldesk"]
    times = []
    for i in range(repeats):
        probe = Path(SETTINGS) / f"probe-{i}"
        env = dict(os.environ, MODELDESK_STARTUP_PROBE=str(probe), XDG_CONFIG_HOME=str(Path(SETTINGS) / f"cs{i}"))
        t0 = time.time()
        subprocess.run(cmd + ["ui", str(empty)], env=env, timeout=60, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(float(probe.read_text()) - t0)
    platform = os.environ.get("QT_QPA_PLATFORM") or "xcb"
    row("cold start: `modeldesk ui` on an empty project, to first paint", statistics.median(times), 1.5, None,
        f"median of {repeats} ({platform}); first {times[0]:.2f} s, all " + ", ".join(f"{t:.2f}" for t in times))


# -- in-process steps ------------------------------------------------------------------------
class StallMeter:
    """The longest gap between ticks of a 10 ms timer on the GUI thread."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer(interval=10)
        self.timer.timeout.connect(self._tick)
        self.reset()
        self.timer.start()

    def reset(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def worst_ms(self) -> float:
        self._tick()
        return self.worst * 1000


class PaintWatch:
    """Notes when a widget finished painting after a given moment."""

    def __init__(self, widget):
        from PySide6.QtCore import QEvent, QObject, QTimer

        watch = self

        class Filter(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Paint and watch.armed:
                    QTimer.singleShot(0, watch._painted)
                return False

        self.armed = False
        self.painted_at: float | None = None
        self.filter = Filter()
        widget.installEventFilter(self.filter)

    def arm(self) -> None:
        self.armed, self.painted_at = True, None

    def _painted(self) -> None:
        if self.armed:
            self.painted_at, self.armed = time.perf_counter(), False


def run_until(app, done, timeout: float = 30.0) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    check = QTimer(interval=2)
    end = time.perf_counter() + timeout

    def poll() -> None:
        if done() or time.perf_counter() > end:
            loop.quit()

    check.timeout.connect(poll)
    check.start()
    loop.exec()
    check.stop()
    if not done():
        raise TimeoutError("step did not finish")


def in_process(big: Path, curves: Path, long_curves: Path) -> None:
    from PySide6.QtCore import QSettings, Qt

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, SETTINGS)
    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    warm = window.warm_up()
    view = window.experiments
    model = view.model
    meter = StallMeter()
    table_paint = PaintWatch(view.table.viewport())
    run_until(app, lambda: not warm.is_alive() and window.isVisible())

    def step(label: str, start, done, target: float = 1.0) -> None:
        run_until(app, lambda: not model.loading, 10)
        meter.reset()
        t0 = time.perf_counter()
        start()
        run_until(app, done)
        row(label, time.perf_counter() - t0, target, meter.worst_ms())

    def shown(rows=None):
        def check() -> bool:
            ready = (not model.loading and model.loaded and (rows is None or model.rowCount() == rows)
                     and view.stack.currentWidget() is view.table)
            if ready and table_paint.painted_at is None and not table_paint.armed:
                table_paint.arm()
                view.table.viewport().update()
            return ready and table_paint.painted_at is not None
        return check

    def reset_paint():
        table_paint.armed, table_paint.painted_at = False, None

    reset_paint()
    step(f"open a {N_RUNS:,}-run project until its first page is shown",
         lambda: window.open(big), shown(N_RUNS))
    run_until(app, lambda: any(c.spec == "metrics.val_auc" for c in model.columns))
    reset_paint()
    step("apply a filter (metrics.val_auc > 0.9 and params.model = 'rf')",
         lambda: view.filter_bar.set_filter("metrics.val_auc > 0.9 and params.model = 'rf'"),
         lambda: model.query.filter is not None and shown()())
    matched = model.rowCount()
    view.filter_bar.set_filter("")
    run_until(app, lambda: model.query.filter is None and not model.loading and model.rowCount() == N_RUNS)
    col = [c.spec for c in model.columns].index("metrics.val_auc")
    reset_paint()
    step(f"sort {N_RUNS:,} runs by a metric (val_auc, descending)",
         lambda: view.table.sortByColumn(col, Qt.DescendingOrder),
         lambda: model.query.order_by[0].startswith("metrics.val_auc") and shown()())
    reset_paint()
    step("scroll to the last row (page loaded on demand)", view.table.scrollToBottom,
         lambda: model.run_at(N_RUNS - 1) is not None and shown()())
    print(f"    (the filter matched {matched:,} runs)")
    compare_steps(app, window, curves, long_curves, meter)
    window.close()
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(10_000)


def compare_steps(app, window, curves: Path, long_curves: Path, meter: StallMeter) -> None:
    label = f"open a comparison of {N_CURVES} runs with {N_POINTS:,}-point curves"
    try:
        from modeldesk.gui.compare import compare_view  # noqa: F401
    except ImportError:
        row(label, None, 1.0, None, "compare view: not available yet")
        return
    view = open_comparison(app, window, curves, meter, label, N_POINTS)
    show_curves(app, view, meter, "show its Curves tab (first paint of the 10 curves)")
    view.close()
    view = open_comparison(app, window, long_curves, meter,
                           f"open a comparison of {N_CURVES} runs with {N_LONG_POINTS:,}-point curves", N_LONG_POINTS)
    show_curves(app, view, meter, "show its Curves tab (first paint of the 10 curves)")
    chart = view.curves
    interaction(app, view, meter, "smoothing 0.9 on 10 x 1,000,000 points (slider moved)",
                lambda: view.smoothing.setValue(90),
                lambda: chart.smoothing == 0.9 and not view.curves_panel._smoothing_busy)
    interaction(app, view, meter, "x axis: wall time on 10 x 1,000,000 points",
                lambda: view.x_mode.setCurrentIndex(2), lambda: chart.x_mode == "wall")
    interaction(app, view, meter, "x axis: back to steps on 10 x 1,000,000 points",
                lambda: view.x_mode.setCurrentIndex(0), lambda: chart.x_mode == "step")
    plot = chart.plot("loss")
    interaction(app, view, meter, "zoom in to 1% of the steps (full data drawn)",
                lambda: plot.setXRange(400_000, 410_000, padding=0),
                lambda: plot.vb.viewRange()[0][1] < 500_000)
    view.close()


def _idle(view) -> bool:
    """The compare view's chart has nothing queued (views without a queue are always idle)."""
    return not getattr(view, "loading_curves", False) and getattr(view.curves, "idle", True)


def open_comparison(app, window, path: Path, meter: StallMeter, label: str, points: int):
    from PySide6.QtWidgets import QApplication

    from modeldesk.gui.compare import compare_view

    view = window.experiments
    window.open(path)
    run_until(app, lambda: window.project is not None and window.project.path == path
              and view.model.rowCount() == N_CURVES and view.model.loaded and not view.model.loading, 120)
    view.table.selectAll()
    before = set(QApplication.topLevelWidgets())
    meter.reset()
    t0 = time.perf_counter()
    view.compare_action.trigger()
    run_until(app, lambda: any(isinstance(w, compare_view.CompareView) for w in QApplication.topLevelWidgets()
                               if w not in before))
    opened = next(w for w in QApplication.topLevelWidgets()
                  if w not in before and isinstance(w, compare_view.CompareView))
    loaded = []
    if hasattr(opened, "curvesLoaded"):
        opened.curvesLoaded.connect(lambda: loaded.append(time.perf_counter()))
        run_until(app, lambda: bool(loaded) or _curves_drawn(opened, points), 120)
        app.processEvents()
    elapsed = (loaded[0] if loaded else time.perf_counter()) - t0
    row(label, elapsed, 1.0, meter.worst_ms(), "until every curve is loaded and drawn")
    return opened


def _painted(app, widget, timeout: float = 30.0) -> None:
    """Until ``widget`` has painted once more."""
    watch = PaintWatch(widget)
    watch.arm()
    widget.update()
    run_until(app, lambda: watch.painted_at is not None, timeout)


def show_curves(app, view, meter: StallMeter, label: str) -> None:
    run_until(app, lambda: _idle(view), 60)
    meter.reset()
    t0 = time.perf_counter()
    view.show_tab("curves")
    run_until(app, lambda: _idle(view), 60)
    _painted(app, view.curves.view.viewport())
    row(label, time.perf_counter() - t0, 1.0, meter.worst_ms(), "until painted")


def interaction(app, view, meter: StallMeter, label: str, act, done) -> None:
    """Time ``act`` until ``done()``, the chart idle, and a paint; the longest stall meanwhile."""
    run_until(app, lambda: _idle(view), 60)
    meter.reset()
    t0 = time.perf_counter()
    act()
    run_until(app, lambda: done() and _idle(view), 60)
    _painted(app, view.curves.view.viewport())
    row(label, time.perf_counter() - t0, 1.0, meter.worst_ms(), "until drawn and painted")


def _curves_drawn(view, points: int = N_POINTS) -> bool:
    try:
        return len(view.curves.curves("loss")) == N_CURVES and all(
            len(view.curves.curve_data(rid, "loss")[0]) == points for rid in view.run_ids)
    except Exception:
        return False


def summary() -> int:
    """One line per target: OK or MISSED, with the worst case; how many were missed."""
    measured = [r for r in ROWS if r[1] is not None]
    cold = [r for r in measured if r[3] is None]
    steps = [r for r in measured if r[3] is not None]
    lines = []
    if cold:
        step, seconds, target, _, _ = cold[0]
        lines.append((seconds < target, f"cold start < {target:.1f} s", f"{seconds:.2f} s"))
    if steps:
        slowest = max(steps, key=lambda r: r[1] / r[2])
        missed = [r for r in steps if r[1] >= r[2]]
        lines.append((not missed, "every other step < 1.0 s",
                      f"{len(missed)} of {len(steps)} missed; slowest {slowest[1]:.2f} s: {slowest[0]}"))
        worst = max(steps, key=lambda r: r[3])
        stalled = [r for r in steps if r[3] > TARGET_STALL_MS]
        lines.append((not stalled, f"GUI thread never blocked > {TARGET_STALL_MS} ms",
                      f"{len(stalled)} of {len(steps)} missed; longest {worst[3]:.0f} ms: {worst[0]}"))
    for ok, target, detail in lines:
        print(f"summary: {verdict(ok):<6} {target:<36} ({detail})", flush=True)
    missed = sum(not ok for ok, _, _ in lines)
    print("summary: all targets OK" if not missed else f"summary: {missed} of {len(lines)} targets MISSED",
          flush=True)
    return missed


def main() -> int:
    load = ", load average {:.1f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else ""
    print(f"GUI benchmark ({os.cpu_count()} cores{load}, Qt platform {os.environ.get('QT_QPA_PLATFORM') or 'xcb'})",
          flush=True)
    big, curves, empty, long_curves = projects()
    cold_start(empty)
    in_process(big, curves, long_curves)
    return 1 if summary() else 0


if __name__ == "__main__":
    raise SystemExit(main())

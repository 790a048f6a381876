"""A report's monitoring section: latest drift, drift share and performance over time, serving, monitors.

Drift and performance come from core.monitoring (``drift_windows`` reuses the windows the
Monitoring view already computed); monitors and alerts from core.monitoring.monitors/alerts.
Serving health over time is wired in :func:`serving_health_blocks`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..errors import ModelDeskError
from ..storage.project import Project
from .content import Chart, Facts, Line, NotAvailable, Section, Table, Text, num, version_label, when

Progress = Callable[[float, str], None]
_DAY = 86400.0


def served_ids(project: Project, run_id: str, artifact: str) -> list[int]:
    return [r[0] for r in project.read("SELECT id FROM served_versions WHERE run_id = ? AND artifact = ?"
                                       " ORDER BY id", (run_id, artifact))]


def serving_activity(project: Project, served: list[int]) -> dict:
    """Requests, predicted rows, first and last prediction of these served versions (zeros when none)."""
    if not served:
        return {"requests": 0, "rows": 0, "first": None, "last": None}
    marks = ",".join("?" * len(served))
    requests, rows, first, last = project.read(
        "SELECT COUNT(*), COALESCE(SUM(rows), 0), MIN(time), MAX(time) FROM prediction_requests"
        f" WHERE served_id IN ({marks})", served)[0]
    return {"requests": int(requests), "rows": int(rows), "first": first, "last": last}


def window_size(first: float, last: float) -> str:
    """Windows of an hour for a log under three days, a day under 120 days, else a week."""
    span = max(0.0, last - first)
    return "1h" if span < 3 * _DAY else ("1d" if span < 120 * _DAY else "1w")


# -- the parts built elsewhere: wired in at merge ------------------------------------------------------
def serving_health_blocks(project: Project, uri: str, served: list[int]) -> list:
    """Request volume, error rate and p99 latency over time (core/monitoring/serving_health, being built)."""
    return [NotAvailable("serving volume, error rate and latency over time are not part of this ModelDesk yet",
                         "The serving-health history of the prediction log (requests, failed requests and "
                         "latency per window) will be drawn here.")]


def _model_of(uri: str) -> str | None:
    """The registered model a ``models:/`` URI names; None for ``runs:/`` (no monitor can watch it)."""
    if not uri.startswith("models:/"):
        return None
    return uri[len("models:/"):].split("/", 1)[0].split("@", 1)[0]


def monitors_blocks(project: Project, uri: str) -> list:
    """The monitors watching this model: thresholds, last check and state; then their alerts."""
    from ..monitoring.alerts import list_alerts
    from ..monitoring.monitors import list_monitors

    model = _model_of(uri)
    if model is None:
        return [NotAvailable("a model never registered cannot be monitored",
                             "Registering it and setting a monitor (`modeldesk monitor set`) would list the "
                             "monitor, its state and its alerts here.")]
    watching = [m for m in list_monitors(project) if m.model.casefold() == model.casefold()]
    if not watching:
        return [NotAvailable("no monitor watches this model",
                             f"`modeldesk monitor set {model} --drift-share 0.5` (or the Monitors panel) would "
                             "check it on a schedule; its state and alerts would be listed here.")]
    rows = tuple((m.name, f"{m.model}@{m.alias}", m.window, m.thresholds.describe(), m.owner,
                  when(m.last_check) if m.last_check else "never", m.last_state or "not checked yet")
                 for m in watching)
    blocks: list = [Table(("monitor", "watches", "window", "fires when", "owner", "last check", "state"), rows,
                          "Monitors")]
    names = {m.name for m in watching}
    alerts = [a for a in list_alerts(project) if a.monitor in names]
    if not alerts:
        blocks.append(Text("No alert was ever raised by these monitors.", "ok"))
        return blocks
    shown = alerts[:200]
    blocks.append(Table(("fired", "monitor", "version", "what crossed", "acknowledged"), tuple(
        (when(a.at), a.monitor, version_label(a.version), a.summary,
         f"by {a.acknowledged_by} at {when(a.acknowledged_at)}" if a.acknowledged_at else "open")
        for a in shown), "Alerts", f"{len(alerts) - len(shown)} older alerts not shown" if len(alerts) > 200 else ""))
    return blocks


def monitors_in_alert(project: Project, model: str) -> str:
    """For the project report: the model's monitors with an open alert, in words."""
    from ..monitoring.alerts import list_alerts
    from ..monitoring.monitors import list_monitors

    watching = {m.name for m in list_monitors(project) if m.model.casefold() == model.casefold()}
    if not watching:
        return "no monitor"
    firing = sorted({a.monitor for a in list_alerts(project, open_only=True) if a.monitor in watching})
    return ", ".join(firing) if firing else "none"


# -- drift and performance -------------------------------------------------------------------------------
def _drift_blocks(project: Project, uri: str, every: str, progress, should_stop) -> list:
    from ..monitoring.windows import drift_windows

    try:
        frame = drift_windows(project, uri, every=every, progress=progress, should_stop=should_stop)
    except ModelDeskError as exc:
        return [NotAvailable(f"drift cannot be computed: {exc}",
                             "A training dataset logged with the model's run and logged predictions would fill "
                             "the drift table and chart.")]
    if frame is None:
        return []
    if len(frame) == 0:
        return [NotAvailable("no window of logged predictions to compare", "")]
    last_start = frame["window_start"].max()
    latest = frame[frame["window_start"] == last_start]
    first = latest.iloc[0]
    tested = [r for r in latest.itertuples(index=False) if not math.isnan(r.score)]
    head = (f"Latest window {when(first.window_start.timestamp())} – {when(first.window_end.timestamp())}: "
            f"{int(first.rows)} predictions, {sum(r.drifted for r in latest.itertuples(index=False))} of "
            f"{len(tested)} tested columns drifted (share {num(float(first.share))}); data set "
            f"{'DRIFTED' if first.dataset_drifted else 'not drifted'}.")
    rows = tuple((r.column, r.test or "—", num(r.score), num(r.threshold), "yes" if r.drifted else "no",
                  r.note or "") for r in latest.sort_values(["drifted", "column"], ascending=[False, True])
                 .itertuples(index=False))
    per_window = frame.drop_duplicates("window_start").sort_values("window_start")
    xs = tuple(float(t.timestamp()) for t in per_window["window_start"])
    shares = tuple(float(s) for s in per_window["share"])
    return [Text(head, "warn" if first.dataset_drifted else "ok"),
            Chart("drift_share", f"Share of drifted columns per window ({every})", "lines",
                  "share of columns drifted", (Line("drift share", xs, shares),), y_range=(0.0, 1.0)),
            Table(("column", "test", "score", "threshold", "drifted", "note"), rows, "Latest drift by column")]


def _performance_blocks(project: Project, uri: str, every: str, served: list[int]) -> list:
    from .realised import CLASSIFIER, REGRESSOR, realised_windows

    try:
        kind, records = realised_windows(project, uri, served, every)
    except ModelDeskError as exc:
        return [NotAvailable(f"performance cannot be computed: {exc}", "")]
    if not records:
        return [NotAvailable("no labels were imported for its predictions, so realised performance is unknown",
                             "Importing the true outcomes (`modeldesk labels import`) would draw "
                             "accuracy, F1 and ROC AUC (or RMSE, MAE, R²) per window here.")]
    names = CLASSIFIER if kind == "classifier" else REGRESSOR
    xs = tuple(r["window_start"] for r in records)
    lines = tuple(Line(n, xs, tuple(float(r[n]) for r in records)) for n in names)
    rows = tuple((when(r["window_start"]), num(r["rows"]), num(r["labeled"]), *(num(float(r[n])) for n in names))
                 for r in records)
    return [Text(f"Realised metrics over the {num(sum(r['labeled'] for r in records))} predictions with an "
                 "imported label, per window."),
            Chart("performance", f"Realised performance per window ({every})", "lines", "metric", lines),
            Table(("window start", "predictions", "labeled", *names), rows, "Performance per window")]


def monitoring_section(project: Project, uri: str, run_id: str, artifact: str, *,
                       progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> Section:
    """Serving activity, latest drift, drift share and performance over time, serving health, monitors."""
    served = served_ids(project, run_id, artifact)
    activity = serving_activity(project, served)
    title = "Monitoring"
    if activity["requests"] == 0:
        return Section("monitoring", title, (NotAvailable(
            "no prediction of this model was logged", "Serving it (the predictions are logged) or scoring a "
            "file would fill serving activity, drift and performance here."),), (
            Section("serving_health", "Serving health", tuple(serving_health_blocks(project, uri, served))),
            Section("monitors", "Monitors and alerts", tuple(monitors_blocks(project, uri)))))
    every = window_size(activity["first"], activity["last"])
    facts = Facts((("Requests logged", num(activity["requests"])), ("Predictions logged", num(activity["rows"])),
                   ("First prediction", when(activity["first"])), ("Last prediction", when(activity["last"])),
                   ("Window", every)), "Serving activity")
    subs = (Section("drift", "Drift", tuple(_drift_blocks(project, uri, every, progress, should_stop))),
            Section("performance", "Performance", tuple(
                _performance_blocks(project, uri, every, served))),
            Section("serving_health", "Serving health", tuple(serving_health_blocks(project, uri, served))),
            Section("monitors", "Monitors and alerts", tuple(monitors_blocks(project, uri))))
    return Section("monitoring", title, (facts,), subs)

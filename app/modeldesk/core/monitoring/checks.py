"""Checking monitors now: the figures of the window that just ended, against the thresholds.

:func:`check` evaluates every monitor (or one) over ``[now - window, now)``
on the version its alias holds at that moment, with the existing engines:
``drift_for`` for the drift share and the named columns, ``performance``
(one window over the whole period) for the metric, the prediction log's
``latency_ms`` for p99. Each threshold gives a figure (value, threshold,
crossed, and a note when it could not be computed); the monitor fires when
any figure crossed.

- A firing check records an alert (``alerts.record_alert``: a new one with
  its ``monitor.alert`` audit entry, or the open one seen again).
- Every check records the monitor's last check time, state (``ok``,
  ``firing``, or ``error`` when it could not be evaluated at all: the alias
  points at no version) and a one-line summary.
- A retrain (``retrain``) is claimed in the same transaction when the check
  opened a new alert, or when ``retrain_every`` has passed since the last
  one; it then runs detached (``wait=False``, what a scheduler wants: the
  check returns at once and the retrain records itself) or before ``check``
  returns (``wait=True``).

The error rate is the share of logged requests that failed. Failed requests
are not written to the prediction log yet, so that figure says "not
available: failed requests are not logged" instead of passing silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .. import clock
from ..errors import UsageError
from ..storage.project import Project
from . import alerts as alerts_mod
from . import monitors as mon
from . import retrain as retrain_mod

NO_ERRORS_LOGGED = "not available: failed requests are not logged"
ONE_WINDOW = str(10**12)     # performance's count windows: one window holding the whole period


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one monitor's check."""

    monitor: str
    model: str
    alias: str
    version: int | None
    state: str                    # ok | firing | error
    summary: str
    checked_at: float
    window_start: float
    window_end: float
    requests: int
    rows: int
    figures: tuple[dict, ...]
    alert_id: int | None = None
    new_alert: bool = False
    retrain: dict | None = None   # id, reason, started (bool), message

    @property
    def firing(self) -> bool:
        return self.state == "firing"

    def to_dict(self) -> dict:
        from ..text import utc_iso

        return {"monitor": self.monitor, "model": self.model, "alias": self.alias, "version": self.version,
                "state": self.state, "firing": self.firing, "summary": self.summary,
                "checked_at": utc_iso(self.checked_at), "window_start": utc_iso(self.window_start),
                "window_end": utc_iso(self.window_end), "requests": self.requests, "rows": self.rows,
                "figures": list(self.figures), "alert_id": self.alert_id, "new_alert": self.new_alert,
                "retrain": self.retrain}


def _figure(kind: str, label: str, value, threshold, crossed: bool, note: str = "") -> dict:
    clean = None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value
    return {"kind": kind, "label": label, "value": clean, "threshold": threshold, "crossed": bool(crossed),
            "note": note}


def _served(project: Project, run_id: str, artifact: str) -> list[int]:
    return [r[0] for r in project.read("SELECT id FROM served_versions WHERE run_id = ? AND artifact = ?"
                                       " ORDER BY id", (run_id, artifact))]


def latencies(project: Project, served: list[int], start: float, end: float):
    """The logged ``latency_ms`` of each request of ``served`` in ``[start, end)``, as a numpy array."""
    import numpy as np

    from ..serving.prediction_log import served_where

    where, args = served_where(served, start, end)
    return np.asarray([r[0] for r in project.read(f"SELECT latency_ms FROM prediction_requests WHERE {where}",
                                                  args)], dtype=np.float64)


def p99(values) -> float:
    """The 99th percentile (linear interpolation, numpy's default); NaN for no values."""
    import numpy as np

    return float(np.percentile(values, 99)) if len(values) else math.nan


def error_rate_figure(project: Project, served: list[int], start: float, end: float, threshold: float) -> dict:
    """The error-rate figure: failed requests over all requests of the window. The prediction log holds
    answered requests only, so it is "not available" (and never fires) until failed ones are logged."""
    return _figure("error_rate", "error rate", None, threshold, False, NO_ERRORS_LOGGED)


def _drift_figures(project, t: mon.Thresholds, uri: str, start: float, end: float) -> list[dict]:
    from .windows import drift_for

    wanted = t.drift_share is not None, bool(t.columns)
    try:
        report = drift_for(project, uri, since=start, until=end)
    except UsageError as exc:
        note = f"not available: {exc}"
        return ([_figure("drift_share", "drift share", None, t.drift_share, False, note)] if wanted[0] else []) + \
            ([_figure("columns", "drifted columns", None, list(t.columns), False, note)] if wanted[1] else [])
    out = []
    if wanted[0]:
        out.append(_figure("drift_share", "drift share", round(report.share, 4), t.drift_share,
                           report.share >= t.drift_share,
                           f"{len(report.drifted_columns)} of {report.tested} tested columns drifted"))
    if wanted[1]:
        by_name = {r.column: r for r in report.results}
        hit = [c for c in t.columns if c in by_name and by_name[c].drifted]
        untested = [c for c in t.columns if c not in by_name or not by_name[c].tested]
        note = f"not tested: {', '.join(untested)}" if untested else ""
        out.append(_figure("columns", "drifted columns", hit, list(t.columns), bool(hit), note))
    return out


def _metric_figures(project, t: mon.Thresholds, uri: str, run_id: str, start: float, end: float) -> list[dict]:
    from ..tracking.runs import get_run
    from .performance import performance

    metric = t.metric
    frame = performance(project, uri, every=ONE_WINDOW, since=start, until=end)
    if metric not in frame.columns:
        kind = frame.attrs.get("kind", "this kind of")
        value, note = None, f"not available: {metric} is not measured for a {kind} model"
    elif len(frame) == 0:
        value, note = None, "not available: no predictions logged in the window"
    else:
        value = float(frame[metric].iloc[0])
        note = "" if math.isfinite(value) else (
            "not available: no probabilities logged or no reference to calibrate on" if metric.startswith("estimated")
            else "not available: no labels imported for the window's predictions")
        if note:
            value = None
    out = []
    if t.metric_min is not None:
        out.append(_figure("metric_min", f"{metric} (min)", value, t.metric_min,
                           value is not None and value < t.metric_min, note))
    if t.max_drop is not None:
        base = metric.removeprefix("estimated_")
        trained = get_run(project, run_id).metrics.get(base)
        if trained is None or not math.isfinite(trained):
            out.append(_figure("max_drop", f"{metric} drop", None, t.max_drop, False,
                               f"not available: the version's run logged no {base} to compare with"))
        elif value is None:
            out.append(_figure("max_drop", f"{metric} drop", None, t.max_drop, False, note))
        else:
            drop = value - trained if metric in mon.LOWER_IS_BETTER else trained - value
            out.append(_figure("max_drop", f"{metric} drop", round(drop, 6), t.max_drop, drop > t.max_drop,
                               f"{value:.4g} now, {trained:.4g} in training"))
    return out


def evaluate(project: Project, monitor: mon.Monitor, now: float) -> tuple[int | None, list[dict], dict]:
    """``(version, figures, facts)`` of ``monitor`` over the window ending at ``now``.

    ``facts``: ``requests``, ``rows``, ``start``, ``end`` and ``error`` (a
    message when the monitor could not be evaluated at all).
    """
    from ..registry.versions import alias_version, get_version

    start, end = now - monitor.window_seconds, now
    facts = {"requests": 0, "rows": 0, "start": start, "end": end, "error": None}
    try:
        version = alias_version(project, monitor.model, monitor.alias)
    except UsageError as exc:
        facts["error"] = str(exc)
        return None, [], facts
    if version is None:
        facts["error"] = f"{monitor.uri} points at no version: there is nothing to check."
        return None, [], facts
    v = get_version(project, monitor.model, version)
    uri = v.uri
    served = _served(project, v.run_id, v.logged_model)
    from ..serving.prediction_log import served_where

    where, args = served_where(served, start, end)
    requests, rows = project.read(f"SELECT COUNT(*), COALESCE(SUM(rows), 0) FROM prediction_requests WHERE {where}",
                                  args)[0]
    facts.update(requests=int(requests), rows=int(rows))
    t = monitor.thresholds
    figures: list[dict] = []
    quiet = "not available: no predictions logged in the window"
    if t.drift_share is not None or t.columns:
        figures += _drift_figures(project, t, uri, start, end) if rows else \
            ([_figure("drift_share", "drift share", None, t.drift_share, False, quiet)] if t.drift_share is not None
             else []) + ([_figure("columns", "drifted columns", None, list(t.columns), False, quiet)]
                         if t.columns else [])
    if t.metric is not None:
        figures += _metric_figures(project, t, uri, v.run_id, start, end)
    if t.error_rate is not None:
        figures.append(error_rate_figure(project, served, start, end, t.error_rate))
    if t.p99_ms is not None:
        value = p99(latencies(project, served, start, end))
        figures.append(_figure("p99_ms", "p99 latency (ms)", None if math.isnan(value) else round(value, 3),
                               t.p99_ms, math.isfinite(value) and value > t.p99_ms,
                               "" if math.isfinite(value) else quiet))
    return version, figures, facts


def _summary(monitor: mon.Monitor, version, figures: list[dict], facts: dict) -> str:
    if facts["error"]:
        return facts["error"]
    crossed = [f for f in figures if f["crossed"]]
    where = f"v{version}, {facts['rows']:,} predictions in the last {monitor.window}"
    if crossed:
        return f"Fired on {where}: " + "; ".join(_crossed_text(f) for f in crossed)
    missing = [f["label"] for f in figures if f["value"] is None]
    tail = f" ({', '.join(missing)} not available)" if missing else ""
    return f"OK on {where}{tail}"


def _crossed_text(f: dict) -> str:
    if f["kind"] == "columns":
        return f"drift in {', '.join(f['value'])}"
    op = "<" if f["kind"] == "metric_min" else ">=" if f["kind"] == "drift_share" else ">"
    return f"{f['label']} {f['value']:g} {op} {f['threshold']:g}"


def check_monitor(project: Project, monitor: mon.Monitor, *, now: float | None = None, retrain: bool = True,
                  wait: bool = False) -> CheckResult:
    """Evaluate ``monitor`` now, record the outcome (and an alert, and a retrain claim), start the retrain."""
    now = clock.now() if now is None else float(now)
    version, figures, facts = evaluate(project, monitor, now)
    state = "error" if facts["error"] else "firing" if any(f["crossed"] for f in figures) else "ok"
    summary = _summary(monitor, version, figures, facts)
    alert_id, new_alert, claim = None, False, None
    with project.write() as w:
        current = [m for m in mon.list_monitors(project, w) if m.name == monitor.name]
        if current:      # removed meanwhile: record nothing
            monitor = current[0]
            mon.record_state(w, monitor.name, at=now, state=state, summary=summary)
            if state == "firing":
                alert_id, new_alert = alerts_mod.record_alert(w, monitor=monitor, version=version, figures=figures,
                                                              summary=summary, at=now)
            if retrain and monitor.retrain_command:
                reason = None
                if new_alert:
                    reason = f"monitor {monitor.name} fired (alert #{alert_id}): {summary}"
                elif retrain_mod.schedule_due(monitor, now):
                    reason = f"scheduled: monitor {monitor.name} retrains every {monitor.retrain_every}"
                if reason is not None:
                    claim = retrain_mod.claim(w, monitor, reason, now)
    started = None
    if claim is not None:
        started = {"id": claim.retrain.id if claim.retrain else claim.running, "reason": claim.reason,
                   "started": claim.retrain is not None, "message": claim.message}
        if claim.retrain is not None:
            retrain_mod.launch(project, claim.retrain, wait=wait)
            if wait:
                done = retrain_mod.get_retrain(project, claim.retrain.id)
                started.update(status=done.status, message=done.message, version=done.version,
                               request_id=done.request_id)
    return CheckResult(monitor.name, monitor.model, monitor.alias, version, state, summary, now, facts["start"],
                       facts["end"], facts["requests"], facts["rows"], tuple(figures), alert_id, new_alert, started)


def check(project: Project, name: str | None = None, *, now: float | None = None, retrain: bool = True,
          wait: bool = False, progress: Callable[[float, str], None] | None = None,
          should_stop: Callable[[], bool] | None = None) -> list[CheckResult] | None:
    """Check every monitor (or ``name``) now; see the module docstring. None when ``should_stop`` said stop."""
    monitors = [mon.get_monitor(project, name)] if name is not None else mon.list_monitors(project)
    out = []
    for i, monitor in enumerate(monitors):
        if should_stop is not None and should_stop():
            return None
        out.append(check_monitor(project, monitor, now=now, retrain=retrain, wait=wait))
        if progress is not None:
            progress((i + 1) / len(monitors), f"{i + 1} of {len(monitors)} monitors checked")
    return out

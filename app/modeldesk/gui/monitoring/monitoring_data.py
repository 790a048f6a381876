"""What the Monitoring view's workers compute: core calls turned into plain arrays for the charts.

Every function here runs on a worker thread (``Jobs.start``) and returns a
frozen dataclass; nothing here touches a widget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...core import clock
from ...core.monitoring import windows as win

PERIODS = (("Last 24 hours", 86400), ("Last 7 days", 7 * 86400), ("Last 30 days", 30 * 86400),
           ("Last 90 days", 90 * 86400), ("All time", None))
EVERY = ("1h", "6h", "1d", "1w")
CHUNK_ROWS = 20_000      # predictions parsed at once by a worker: each parse holds the GIL (~20 ms here)


def period_start(seconds: int | None, every: str, now: float | None = None) -> float | None:
    """The start of a "last N days" period, moved back to a window boundary so that every window
    of the period is a whole one, and so one that was computed before (and kept) is reused."""
    if seconds is None:
        return None
    e = win.parse_every(every)
    t = (clock.now() if now is None else now) - seconds
    return float(e.origin + math.floor((t - e.origin) / e.seconds) * e.seconds)


@dataclass(frozen=True)
class WindowsData:
    """Drift windows as the charts and the table want them."""

    starts: np.ndarray
    ends: np.ndarray
    rows: np.ndarray
    shares: np.ndarray
    drifted: np.ndarray
    records: tuple[tuple[dict, ...], ...]            # per window: the drift table's rows
    scores: dict[str, np.ndarray] = field(default_factory=dict)   # column -> score per window
    thresholds: dict[str, float] = field(default_factory=dict)
    tests: dict[str, str] = field(default_factory=dict)
    share_rule: float = 0.5
    pending: int = 0                                 # windows not computed yet (cached_only)
    computed: int = 0

    @property
    def count(self) -> int:
        return int(self.starts.size)


def windows_data(project, uri: str, every: str, since, *, cached_only: bool = False, progress=None,
                 should_stop=None) -> WindowsData | None:
    """``drift_windows`` of ``uri`` (kept windows only with ``cached_only``) as :class:`WindowsData`."""
    from ...core.monitoring.overrides import project_options

    frame = win.drift_windows(project, uri, every=every, since=since, cached_only=cached_only,
                              progress=progress, should_stop=should_stop)
    if frame is None:
        return None
    rule = float(project_options(project).get("share", 0.5))
    return _shape(frame, rule)


def _shape(frame, rule: float) -> WindowsData:
    starts, ends, rows, shares, drifted, records = [], [], [], [], [], []
    scores: dict[str, list] = {}
    thresholds, tests = {}, {}
    fields = ("column", "type", "test", "score", "threshold", "drifted", "psi", "missing_ref", "missing_cur", "note")
    groups = list(frame.groupby("window_start", sort=True)) if len(frame) else []
    for k, (_, part) in enumerate(groups):
        first = part.iloc[0]
        starts.append(first["window_start"].timestamp())
        ends.append(first["window_end"].timestamp())
        rows.append(int(first["rows"]))
        shares.append(float(first["share"]))
        drifted.append(bool(first["dataset_drifted"]))
        window = tuple({f: _plain(v) for f, v in zip(fields, values)}
                       for values in part[list(fields)].itertuples(index=False, name=None))
        records.append(window)
        for r in window:
            scores.setdefault(r["column"], [math.nan] * len(groups))[k] = \
                r["score"] if r["score"] is not None else math.nan
            if r["test"]:
                thresholds[r["column"]] = r["threshold"] if r["threshold"] is not None else math.nan
                tests[r["column"]] = r["test"]
    return WindowsData(np.asarray(starts, dtype=np.float64), np.asarray(ends, dtype=np.float64),
                       np.asarray(rows, dtype=np.int64), np.asarray(shares, dtype=np.float64),
                       np.asarray(drifted, dtype=bool), tuple(records),
                       {c: np.asarray(v, dtype=np.float64) for c, v in scores.items()}, thresholds, tests, rule,
                       int(frame.attrs.get("pending", 0)), int(frame.attrs.get("computed", 0)))


def _plain(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


@dataclass(frozen=True)
class PerformanceData:
    starts: np.ndarray
    ends: np.ndarray
    metric: str
    realised: np.ndarray | None
    estimated: np.ndarray | None
    trained: float
    labeled: int
    message: str = ""


def performance_data(project, uri: str, every: str, since, *, progress=None, should_stop=None):
    """Realised and estimated accuracy (classifiers) or RMSE (regressors) per window, and the run's value."""
    from ...core.monitoring.overview import trained_value
    from ...core.monitoring.performance import performance

    frame = performance(project, uri, every=every, since=since, progress=progress, should_stop=should_stop,
                        chunk_rows=CHUNK_ROWS)
    if frame is None:
        return None
    starts = np.asarray([t.timestamp() for t in frame["window_start"]], dtype=np.float64)
    ends = np.asarray([t.timestamp() for t in frame["window_end"]], dtype=np.float64)
    classifier = frame.attrs.get("kind") == "classifier"
    metric = "accuracy" if classifier else "rmse"
    labeled = int(frame["labeled"].sum()) if len(frame) else 0
    realised = frame[metric].to_numpy(dtype=np.float64) if labeled else None
    estimated = frame["estimated_accuracy"].to_numpy(dtype=np.float64) \
        if classifier and frame.attrs.get("estimated") and len(frame) else None
    message = ""
    if realised is None and estimated is None:
        message = ("No labels have come back for these predictions yet, and the model has no probabilities "
                   "to estimate its accuracy from." if classifier else
                   "No labels have come back for these predictions yet.")
    return PerformanceData(starts, ends, metric, realised, estimated, trained_value(project, uri, metric), labeled,
                           message)


@dataclass(frozen=True)
class HealthData:
    starts: np.ndarray
    ends: np.ndarray
    requests: np.ndarray
    failed: np.ndarray
    error_rate: np.ndarray
    p50: np.ndarray
    p99: np.ndarray


def health_data(project, uri: str, every: str, since, *, progress=None, should_stop=None):
    from ...core.monitoring.serving_health import serving_health

    frame = serving_health(project, uri, every=every, since=since, progress=progress, should_stop=should_stop)
    if frame is None:
        return None
    return HealthData(np.asarray([t.timestamp() for t in frame["window_start"]], dtype=np.float64),
                      np.asarray([t.timestamp() for t in frame["window_end"]], dtype=np.float64),
                      frame["requests"].to_numpy(dtype=np.float64), frame["failed"].to_numpy(dtype=np.float64),
                      frame["error_rate"].to_numpy(dtype=np.float64), frame["p50_ms"].to_numpy(dtype=np.float64),
                      frame["p99_ms"].to_numpy(dtype=np.float64))

"""Serving health over the prediction log: volume, errors and latency per time window.

:func:`serving_health` cuts the log of one model version (the one a URI names
now, as drift does: its run and artifact) into the same UTC-aligned windows
as ``drift_windows`` (``"1h"``, ``"6h"``, ``"1d"``, ``"1w"``...) and gives one
row per window that saw a request, answered or failed:

``window_start``, ``window_end`` (UTC, end exclusive), ``requests`` (answered),
``rows`` (predicted rows), ``failed`` (requests answered with an error,
table ``prediction_failures``), ``error_rate`` (failed / all requests),
``p50_ms``, ``p99_ms`` (latency of the answered requests, as logged by the
server: from the request's arrival to its answer, without the network).

Only the request rows' time, size and latency are read, never their inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..errors import UsageError
from ..serving.prediction_log import served_where
from ..storage.project import Project
from . import windows as win

FIELDS = ("window_start", "window_end", "requests", "rows", "failed", "error_rate", "p50_ms", "p99_ms")


def serving_health(project: Project, uri: str, every="1d", since=None, until=None, *,
                   progress: Callable[[float, str], None] | None = None,
                   should_stop: Callable[[], bool] | None = None):
    """Per-window requests, rows, failed requests, error rate and p50/p99 latency of ``uri``'s version.

    ``every`` must be a time window (a number of predictions is a
    ``UsageError``: failed requests have no rows to count). Returns a pandas
    DataFrame with :data:`FIELDS` (None when ``should_stop`` said stop).
    """
    import numpy as np

    from ..registry.uris import resolve_model
    from .reference import full_uri

    every = win.parse_every(every)
    if not every.seconds:
        raise UsageError(f"Serving health needs a time window such as 1h or 1d, not every {every.text} predictions.")
    start, end = win.period_bounds(since, until)
    logged = resolve_model(project, full_uri(uri))
    served = [r[0] for r in project.read("SELECT id FROM served_versions WHERE run_id = ? AND artifact = ?",
                                         (logged.run_id, logged.name))]
    where, args = served_where(served, start, end)
    answered = np.asarray(project.read(f"SELECT time, rows, latency_ms FROM prediction_requests WHERE {where}",
                                       args), dtype=np.float64).reshape(-1, 3)
    if progress is not None:
        progress(0.6, f"{len(answered):,} requests read")
    if should_stop is not None and should_stop():
        return None
    fwhere, fargs = "run_id = ? AND artifact = ?", [logged.run_id, logged.name]
    if start is not None:
        fwhere, fargs = fwhere + " AND time >= ?", [*fargs, start]
    if end is not None:
        fwhere, fargs = fwhere + " AND time < ?", [*fargs, end]
    failed = np.asarray([r[0] for r in project.read(f"SELECT time FROM prediction_failures WHERE {fwhere}", fargs)],
                        dtype=np.float64)
    bucket = lambda t: np.floor((t - every.origin) / every.seconds).astype(np.int64)  # noqa: E731
    a_bucket, f_bucket = bucket(answered[:, 0]), bucket(failed)
    records = []
    order = np.argsort(a_bucket, kind="stable")
    a_bucket, answered = a_bucket[order], answered[order]
    for b in np.union1d(a_bucket, f_bucket).tolist():
        lo, hi = np.searchsorted(a_bucket, b), np.searchsorted(a_bucket, b, side="right")
        part = answered[lo:hi]
        n_failed = int(np.count_nonzero(f_bucket == b))
        total = len(part) + n_failed
        w_lo = every.origin + b * every.seconds
        w_hi = w_lo + every.seconds
        latency = part[:, 2]
        records.append((max(w_lo, start) if start is not None else w_lo,
                        min(w_hi, end) if end is not None else w_hi,
                        len(part), int(part[:, 1].sum()), n_failed, n_failed / total if total else math.nan,
                        float(np.percentile(latency, 50)) if len(part) else math.nan,
                        float(np.percentile(latency, 99)) if len(part) else math.nan))
    if progress is not None:
        progress(1.0, f"{len(records)} serving windows")
    return _frame(records)


def _frame(records: list[tuple]):
    import pandas as pd

    frame = pd.DataFrame.from_records(records, columns=list(FIELDS))
    for name in ("window_start", "window_end"):
        frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
    return frame.astype({"requests": "int64", "rows": "int64", "failed": "int64", "error_rate": "float64",
                         "p50_ms": "float64", "p99_ms": "float64"})

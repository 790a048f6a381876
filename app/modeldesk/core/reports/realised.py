"""Realised performance per window from the labeled predictions alone, for a report.

``core.monitoring.performance`` decodes every logged output (it also estimates performance where
no label arrived); a report shows only realised metrics, which need only the labeled rows. SQLite
picks each labeled row's output and probabilities out of its request (``->``), so a log of
1,000,000 predictions with a tenth labeled decodes a tenth. The metrics themselves are
performance's own (``encode``, ``classifier_metrics``, ``regressor_metrics``), and a test checks
both paths give the same numbers.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..monitoring import performance as perf
from ..monitoring.windows import parse_every
from ..storage.project import Project

CLASSIFIER = ("accuracy", "f1", "roc_auc")
REGRESSOR = ("rmse", "mae", "r2")


def realised_windows(project: Project, uri: str, served: list[int], every: str) -> tuple[str, list[dict]]:
    """``(kind, records)``: one record per time window with a labeled prediction: ``window_start``,
    ``window_end`` (Unix seconds), ``rows`` (predictions in the window), ``labeled`` and the metrics."""
    t = perf.target(project, uri)
    e = parse_every(every)
    marks = ",".join("?" * len(served))
    got = project.read(
        "SELECT r.time, r.outputs -> ('$[' || l.row || ']'), r.probabilities -> ('$[' || l.row || ']'), l.label"
        " FROM prediction_labels l JOIN prediction_requests r ON r.id = l.request"
        f" WHERE r.served_id IN ({marks}) AND l.row < r.rows ORDER BY r.time, r.id, l.row", served)
    kind = "classifier" if t.classifier else "regressor"
    if not got:
        return kind, []
    times = np.fromiter((g[0] for g in got), dtype=np.float64, count=len(got))
    predictions = json.loads("[" + ",".join(g[1] if g[1] is not None else "null" for g in got) + "]")
    labels = json.loads("[" + ",".join(g[3] for g in got) + "]")
    buckets = np.floor((times - e.origin) / e.seconds).astype(np.int64)
    counts = dict(project.read(
        f"SELECT CAST((time - ?) / ? AS INTEGER) AS b, SUM(rows) FROM prediction_requests WHERE served_id IN ({marks})"
        " GROUP BY b", [e.origin, e.seconds, *served]))
    if t.classifier:
        n = len(t.classes)
        positive = t.classes.index(t.positive) if t.positive is not None else None
        y_pred, y_true = perf.encode(predictions, t.classes), perf.encode(labels, t.classes)
        proba = None
        if any(g[2] is not None for g in got):
            rows = json.loads("[" + ",".join(g[2] if g[2] is not None else "null" for g in got) + "]")
            blank = [math.nan] * n
            proba = np.asarray([r if isinstance(r, list) and len(r) == n else blank for r in rows], dtype=np.float64)
    else:
        y_pred = np.asarray(perf._numbers(predictions))
        y_true = np.asarray(perf._numbers(labels))
    records = []
    for b in np.unique(buckets):
        part = buckets == b
        start = e.origin + int(b) * e.seconds
        record = {"window_start": float(start), "window_end": float(start + e.seconds),
                  "rows": int(counts.get(int(b), 0))}
        if t.classifier:
            yt, yp = y_true[part], y_pred[part]
            ok = yt >= 0
            pp = proba[part][ok] if proba is not None else None
            record["labeled"] = int(ok.sum())
            record.update(perf.classifier_metrics(yt[ok], yp[ok], pp, n, positive))
        else:
            yt, yp = y_true[part], y_pred[part]
            ok = np.isfinite(yt) & np.isfinite(yp)
            record["labeled"] = int(ok.sum())
            record.update(perf.regressor_metrics(yt[ok], yp[ok]))
        records.append(record)
    return kind, records

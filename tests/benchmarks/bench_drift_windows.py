"""Drift and performance over the prediction log: 1,000,000 logged predictions of a 30-column model in 30 days.

Targets (issue 10): ``drift_windows(uri, every="1d")`` under 5 s the first time
and under 0.5 s when reopened (its windows are stored). ``performance`` (realised
metrics on the labeled tenth of the first 20 days, CBPE estimates on every
window) is reported beside them; it stores nothing, so each call is a first.

The floor, measured in the same run, is ``get_predictions`` over the same
period, one call per day: decoding what was logged, which the first drift computation cannot
skip. Reopening's floor is the per-window count query alone. Setup (fitting,
logging 1,000,000 rows in 100-row requests, importing labels) is not timed.
Run: make bench (or .venv/bin/python tests/benchmarks/bench_drift_windows.py [--rows N]).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

import numpy as np

DAY0 = 1_767_225_600.0          # 2026-01-01 00:00 UTC
DAYS = 30
PER_REQUEST = 100
LABELED_DAYS = 20
TARGET_FIRST_S, TARGET_REOPEN_S = 5.0, 0.5


def build(path: Path, rows: int):
    """A project with a registered 30-column model, its training data and ``rows`` logged predictions."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import modeldesk as md
    from modeldesk.core.serving.prediction_log import LogEntry, set_labels, write_predictions
    from modeldesk.core.serving.served_model import load_served

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    md.set_project(path)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    with md.start_run(name="bench") as run:
        md.log_dataset(X.assign(target=y), name="train", role="training", target="target")
        md.log_model(model, input_example=X.iloc[:5])
    md.flush()
    md.register_model(f"runs:/{run.id}/model", "bench")
    uri = "models:/bench/1"
    project = md.get_project()
    served = load_served(project, uri)
    rng = np.random.default_rng(0)
    pick = rng.integers(0, len(X), rows)
    frame = X.iloc[pick].reset_index(drop=True)
    frame = frame * (1 + rng.normal(0, 0.02, frame.shape))
    truth = y.to_numpy()[pick]
    predictions = model.predict(frame).tolist()
    probabilities = model.predict_proba(frame).round(6).tolist()
    times = np.sort(DAY0 + rng.uniform(0, DAYS * 86400, rows // PER_REQUEST))
    entries = [LogEntry(f"r{k}", float(times[k]), served, frame.iloc[k * PER_REQUEST:(k + 1) * PER_REQUEST],
                        predictions[k * PER_REQUEST:(k + 1) * PER_REQUEST], 1.0,
                        probabilities[k * PER_REQUEST:(k + 1) * PER_REQUEST]) for k in range(len(times))]
    write_predictions(project, entries, chunk_rows=50_000)
    labeled = [(f"r{k}", j, int(truth[k * PER_REQUEST + j])) for k in range(len(times))
               if times[k] < DAY0 + LABELED_DAYS * 86400 for j in range(0, PER_REQUEST, 10)]
    set_labels(project, labeled)
    return md, uri, len(labeled)


def timed(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def line(what: str, seconds: float, floor: float, target: float | None = None) -> str:
    verdict = "" if target is None else f"  target < {target:g} s: {'ok' if seconds < target else 'MISSED'}"
    return f"{what:<34} {seconds:7.3f} s   floor {floor:7.3f} s   ratio {seconds / floor:5.2f}x{verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        md, uri, labeled = build(Path(tmp) / "bench.mdesk", args.rows)
        print(f"setup: {args.rows:,} predictions of a 30-column model over {DAYS} days, {labeled:,} labeled, "
              f"in {time.perf_counter() - t0:.1f} s (not timed below)")
        from modeldesk.core.monitoring.performance import performance
        from modeldesk.core.monitoring.windows import drift_windows
        from modeldesk.core.serving.prediction_log import get_predictions

        project = md.get_project()
        floor, n = timed(lambda: sum(len(get_predictions(project, uri, since=DAY0 + d * 86400,
                                                          until=DAY0 + (d + 1) * 86400)) for d in range(DAYS)))
        assert n == args.rows
        first, frame = timed(lambda: drift_windows(project, uri, every="1d"))
        assert frame.attrs["computed"] == DAYS and frame["window_start"].nunique() == DAYS
        reopen, again = timed(lambda: drift_windows(project, uri, every="1d"))
        assert again.attrs == {"computed": 0, "reused": DAYS}
        count_floor, _ = timed(lambda: project.read(
            "SELECT CAST(time / 86400 AS INTEGER) AS b, SUM(rows) FROM prediction_requests GROUP BY b"))
        perf, table = timed(lambda: performance(project, uri, every="1d"))
        assert len(table) == DAYS and table["labeled"].sum() == labeled
        print(line("drift_windows 1d, first time", first, floor, TARGET_FIRST_S))
        print(line("drift_windows 1d, reopened", reopen, max(count_floor, 1e-6), TARGET_REOPEN_S))
        print(line("performance 1d (CBPE), first time", perf, floor))
        gap = (table["estimated_accuracy"] - table["accuracy"]).abs().dropna()
        print(f"  (floor: get_predictions of the same {args.rows:,} rows, day by day; "
              "reopened: the per-day count query)")
        print(f"  CBPE vs realised accuracy on the labeled days: mean |gap| {gap.mean():.4f}, max {gap.max():.4f}")
        project.close()
    missed = first >= TARGET_FIRST_S or reopen >= TARGET_REOPEN_S
    return 1 if missed and args.rows >= 1_000_000 else 0


if __name__ == "__main__":
    raise SystemExit(main())

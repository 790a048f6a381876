"""Importing an MLflow store: 2,000 runs with 100 metric points each (issue 14, "Must show").

Target: ``modeldesk import mlflow`` of the store under 10 s. The store is built
with MLflow's own client (``log_batch``; not timed). The floor, measured in the
same run, is reading the same runs and metric histories through
``MlflowClient`` alone (``search_runs`` and one ``get_metric_history`` per
metric), which any import through MLflow's client must pay; the ratio says what
our writing adds on top. A second import (nothing new) is timed too.
Run: make bench (or .venv/bin/python tests/benchmarks/bench_mlflow_import.py [--runs N] [--points P]).
"""

from __future__ import annotations

import argparse
import gc
import logging
import tempfile
import time
import warnings
from pathlib import Path

TARGET_S = 10.0


def timed(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def line(what: str, seconds: float, floor: float, target: float | None = None) -> str:
    verdict = "" if target is None else f"  target < {target:g} s: {'ok' if seconds < target else 'MISSED'}"
    return f"{what:<34} {seconds:7.3f} s   floor {floor:7.3f} s   ratio {seconds / floor:5.2f}x{verdict}"


def build(root: Path, runs: int, points: int) -> str:
    """An MLflow sqlite store with ``runs`` runs, each with 4 params and one ``points``-point loss curve."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    exp = client.create_experiment("sweep", artifact_location=(root / "artifacts").as_uri())
    t0 = 1_767_225_600_000
    for i in range(runs):
        run = client.create_run(exp, start_time=t0 + i * 1000, run_name=f"run-{i}")
        rid = run.info.run_id
        client.log_batch(rid, params=[Param(k, str(i % (j + 2))) for j, k in enumerate(("a", "b", "c", "d"))],
                         metrics=[Metric("loss", 1.0 / (s + 1 + i), t0 + i * 1000 + s, s) for s in range(points)])
        client.set_terminated(rid, "FINISHED", end_time=t0 + i * 1000 + points)
    return uri


def floor_read(uri: str) -> int:
    """Everything an import reads through the client, and nothing else: how many points."""
    from mlflow import MlflowClient
    from mlflow.entities import ViewType
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    from modeldesk.core.interop.mlflow_import import _histories

    client = MlflowClient(uri, uri)
    n = 0
    for exp in client.search_experiments(view_type=ViewType.ALL):
        token = None
        while True:
            page = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000,
                                      page_token=token)
            for histories in (_histories(client, page[i:i + 200]) for i in range(0, len(page), 200)):
                n += sum(len(points) for metrics in histories.values() for points in metrics.values())
            for run in page:
                get_artifact_repository(run.info.artifact_uri, tracking_uri=uri).list_artifacts(None)
            token = page.token
            if not token:
                break
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--points", type=int, default=100)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    from modeldesk.core.interop.mlflow_import import import_mlflow
    from modeldesk.core.storage.project import open_project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        uri = build(root, args.runs, args.points)
        print(f"(built an MLflow store of {args.runs:,} runs x {args.points} points in "
              f"{time.perf_counter() - t:.1f} s, not timed)")
        floor_read(uri)   # once to warm MLflow up (imports, engine, caches), as the import is warm too
        floor, n = timed(lambda: floor_read(uri))
        assert n == args.runs * args.points
        project = open_project(root / "import.mdesk", user="bench")
        first, summary = timed(lambda: import_mlflow(project, uri))
        assert summary.counts["runs"] == args.runs and summary.counts["metric points"] == n, summary.counts
        again, second = timed(lambda: import_mlflow(project, uri))
        assert second.counts == {}
        print(line(f"import {args.runs:,} runs x {args.points} pts", first, floor, TARGET_S))
        print(line("import again (nothing new)", again, floor))
        print("  (floor: search_runs + get_metric_history_bulk + the artifact repository's list_artifacts, same store)")
        project.close()
    return 1 if first >= TARGET_S and args.runs >= 2000 else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Tracking benchmark: ModelDesk's public API against plain sqlite3 floors.

Each figure is printed next to a floor measured in the same run on the same
machine: the same rows written with plain sqlite3 in one transaction into the
same schema, or read back with one SQL query. Run: make bench (or
.venv/bin/python tests/benchmarks/bench_tracking.py [--quick]).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import modeldesk as md
from modeldesk.core.storage.project import open_project

ROWS = []
import numpy  # noqa: E402,F401  (loaded before the baseline so the floor counts them)
import pandas  # noqa: E402,F401

START_RSS_MIB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # imports done, nothing run yet


def report(name: str, ours: float, floor: float, unit: str, target: str, higher_is_better: bool,
           absolute: float) -> None:
    """A figure against its floor; the target is ``absolute`` (at least, or under) and at most 3x the floor."""
    ratio = (floor / ours) if higher_is_better else (ours / floor)
    met = ratio <= 3 and (ours >= absolute if higher_is_better else ours < absolute)
    ROWS.append((name, ours, floor, unit, ratio, target, met))
    print(f"  {name:<44} {ours:>14,.1f} {unit:<9} floor {floor:>14,.1f}  ratio {ratio:5.2f}x  target {target}"
          f"  {'ok' if met else 'MISSED'}", flush=True)


def fresh(tmp: Path, name: str) -> Path:
    path = tmp / name
    open_project(path).close()
    return path


def floor_metrics(path: Path, rows: list[tuple]) -> float:
    """The naive design's best case: one row per point, plain sqlite3, one transaction.

    Same points, same pragmas, a (run, key) index as a history query needs.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE points (run_rid INTEGER, key_id INTEGER, step INTEGER, value REAL, timestamp REAL)")
    conn.execute("CREATE INDEX points_run_key ON points (run_rid, key_id)")
    t = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO points (run_rid, key_id, step, value, timestamp) VALUES (1, 1, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def bench_per_call(tmp: Path, n: int) -> None:
    path = fresh(tmp, "percall.mdesk")
    md.set_project(path)
    md.set_experiment("bench")
    with md.start_run(name="per-call"):
        log = md.log_metric
        t = time.perf_counter()
        for i in range(n):
            log("loss", 1.0 / (i + 1), step=i)
        md.flush()
        ours = time.perf_counter() - t
    now = time.time()
    floor = floor_metrics(tmp / "floor1.db", [(i, 1.0 / (i + 1), now) for i in range(n)])
    report(f"log_metric per call ({n:,} points)", n / ours, n / floor, "points/s", ">= 100,000/s, <= 3x", True, 100_000)


def bench_batched(tmp: Path, steps: int, width: int = 10) -> None:
    path = fresh(tmp, "batch.mdesk")
    md.set_project(path)
    md.set_experiment("bench")
    keys = [f"m{k}" for k in range(width)]
    with md.start_run(name="batched"):
        t = time.perf_counter()
        for i in range(steps):
            md.log_metrics({k: i * 0.5 for k in keys}, step=i)
        md.flush()
        ours = time.perf_counter() - t
    n = steps * width
    now = time.time()
    floor = floor_metrics(tmp / "floor2.db", [(i, i * 0.5, now) for i in range(n)])
    report(f"log_metrics batch of {width} ({n:,} points)", n / ours, n / floor, "points/s",
           ">= 500,000/s, <= 3x", True, 500_000)


def bench_runs(tmp: Path, n_runs: int) -> Path:
    path = fresh(tmp, "runs.mdesk")
    md.set_project(path)
    md.set_experiment("sweep")
    with md.start_run(name="warm-up"):  # environment capture happens once per process
        pass
    t = time.perf_counter()
    for i in range(n_runs):
        with md.start_run(name=f"run-{i}"):
            md.log_params({f"p{k}": (i * (k + 1)) % 97 for k in range(10)})
            md.log_metrics({"auc": (i % 1000) / 1000, "loss": 1 / (i + 1), "acc": (i % 7) / 7,
                            "f1": (i % 13) / 13, "rmse": i % 5})
    ours = time.perf_counter() - t

    fpath = fresh(tmp, "floor3.mdesk")
    conn = sqlite3.connect(fpath, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("INSERT INTO experiments (name, created_at) VALUES ('sweep', 0)")
    for k in ("auc", "loss", "acc", "f1", "rmse"):
        conn.execute("INSERT INTO metric_keys (name) VALUES (?)", (k,))
    now = time.time()
    t = time.perf_counter()
    conn.execute("BEGIN")
    runs = [(i + 1, f"{i:032x}", 1, f"run-{i}", "FINISHED", "b", now, now) for i in range(n_runs)]
    conn.executemany("INSERT INTO runs (rid, id, experiment_id, name, status, user, start_time, end_time)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", runs)
    conn.executemany("INSERT INTO params VALUES (?, ?, ?)",
                     [(i + 1, f"p{k}", str((i * (k + 1)) % 97)) for i in range(n_runs) for k in range(10)])
    from array import array

    names = ("auc", "loss", "acc", "f1", "rmse")
    values = [(i + 1, k, float(i % (k + 3))) for i in range(n_runs) for k in range(5)]
    conn.executemany(
        "INSERT INTO metric_chunks (run_rid, key_id, n, min_step, max_step, steps, vals, timestamps)"
        " VALUES (?, ?, 1, 0, 0, ?, ?, ?)",
        [(r, k + 1, array("q", [0]).tobytes(), array("d", [v]).tobytes(), array("d", [now]).tobytes())
         for r, k, v in values])
    conn.executemany("INSERT INTO latest_metrics VALUES (?, ?, ?, 0, ?)",
                     [(r, names[k], v, now) for r, k, v in values])
    conn.execute("COMMIT")
    floor = time.perf_counter() - t
    conn.close()
    report(f"create {n_runs:,} runs (10 params, 5 metrics)", n_runs / ours, n_runs / floor, "runs/s",
           ">= 5,000/s, <= 3x", True, 5_000)
    per_run = floor_runs_committed_each(tmp, n_runs // 5)
    print(f"  {'  (plain sqlite3, one transaction per run)':<44} {per_run:>14,.1f} runs/s  ratio "
          f"{per_run / (n_runs / ours):5.2f}x  (each run committed alone; the API group-commits runs ending"
          " back to back)", flush=True)
    return path


def floor_runs_committed_each(tmp: Path, n_runs: int) -> float:
    """The same rows with plain sqlite3, but committed run by run as the API must."""
    from array import array

    fpath = fresh(tmp, "floor4.mdesk")
    conn = sqlite3.connect(fpath, isolation_level=None)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("INSERT INTO experiments (name, created_at) VALUES ('sweep', 0)")
    names = ("auc", "loss", "acc", "f1", "rmse")
    for k in names:
        conn.execute("INSERT INTO metric_keys (name) VALUES (?)", (k,))
    now = time.time()
    t = time.perf_counter()
    for i in range(n_runs):
        conn.execute("BEGIN IMMEDIATE")
        rid = conn.execute("INSERT INTO runs (id, experiment_id, name, status, user, start_time, end_time)"
                           " VALUES (?, 1, ?, 'FINISHED', 'b', ?, ?)", (f"{i:032x}", f"run-{i}", now, now)).lastrowid
        conn.executemany("INSERT INTO params VALUES (?, ?, ?)",
                         [(rid, f"p{k}", str((i * (k + 1)) % 97)) for k in range(10)])
        conn.executemany(
            "INSERT INTO metric_chunks (run_rid, key_id, n, min_step, max_step, steps, vals, timestamps)"
            " VALUES (?, ?, 1, 0, 0, ?, ?, ?)",
            [(rid, k + 1, array("q", [0]).tobytes(), array("d", [float(i % (k + 3))]).tobytes(),
              array("d", [now]).tobytes()) for k in range(5)])
        conn.executemany("INSERT INTO latest_metrics VALUES (?, ?, ?, 0, ?)",
                         [(rid, names[k], float(i % (k + 3)), now) for k in range(5)])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t
    conn.close()
    return n_runs / elapsed


def bench_search(path: Path) -> None:
    md.set_project(path)
    flt = "metrics.auc > 0.5 and params.p1 < 40"
    order = ["metrics.loss DESC"]
    md.search_runs(experiment="sweep", filter=flt, order_by=order)  # warm the page cache
    best = []
    for _ in range(3):
        t = time.perf_counter()
        frame = md.search_runs(experiment="sweep", filter=flt, order_by=order)
        best.append(time.perf_counter() - t)
    ours = min(best)
    conn = sqlite3.connect(path)
    # One SQL query returning the same information (matching runs in order,
    # with all their params, metrics and tags as long rows), without a frame.
    sql = (
        "WITH sel AS (SELECT r.rid, r.id, r.name, r.status, r.start_time, l.value AS loss FROM runs r"
        " JOIN latest_metrics m ON m.run_rid = r.rid AND m.key = 'auc'"
        " JOIN params p ON p.run_rid = r.rid AND p.key = 'p1'"
        " JOIN latest_metrics l ON l.run_rid = r.rid AND l.key = 'loss'"
        " WHERE m.value > 0.5 AND CAST(p.value AS REAL) < 40)"
        " SELECT s.id, s.name, s.status, s.start_time, s.loss, x.key, x.value FROM sel s"
        " JOIN params x ON x.run_rid = s.rid"
        " UNION ALL SELECT s.id, s.name, s.status, s.start_time, s.loss, x.key, x.value FROM sel s"
        " JOIN latest_metrics x ON x.run_rid = s.rid"
        " UNION ALL SELECT s.id, s.name, s.status, s.start_time, s.loss, x.key, x.value FROM sel s"
        " JOIN tags x ON x.run_rid = s.rid ORDER BY 5 DESC")
    best = []
    for _ in range(3):
        t = time.perf_counter()
        floor_rows = conn.execute(sql).fetchall()
        best.append(time.perf_counter() - t)
    conn.close()
    assert len({r[0] for r in floor_rows}) == len(frame), (len(floor_rows), len(frame))
    report(f"search_runs over {count_runs(path):,} runs -> {len(frame):,} rows", ours * 1000, min(best) * 1000,
           "ms", "< 1,000 ms, <= 3x", False, 1_000)


def count_runs(path: Path) -> int:
    conn = sqlite3.connect(path)
    n = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    conn.close()
    return n


def bench_history(tmp: Path, n: int) -> None:
    path = fresh(tmp, "history.mdesk")
    md.set_project(path)
    md.set_experiment("bench")
    tracker = md._tracker
    with md.start_run(name="long") as run:
        tracker.log_metric_batch(md.active_run()._handle, "loss", [1.0 / (i + 1) for i in range(n)])
    md.get_metric_history(run.id, "loss")
    best = []
    for _ in range(7):
        t = time.perf_counter()
        frame = md.get_metric_history(run.id, "loss")
        best.append(time.perf_counter() - t)
    assert len(frame) == n
    conn = sqlite3.connect(path)
    best_floor = []
    for _ in range(7):
        t = time.perf_counter()
        chunks = conn.execute("SELECT steps, vals, timestamps FROM metric_chunks WHERE run_rid = 1 AND key_id = 1"
                            " ORDER BY seq").fetchall()
        best_floor.append(time.perf_counter() - t)
    conn.close()
    assert chunks
    # And the naive design: the same points one row each, read with one query.
    naive = tmp / "naive-history.db"
    now = time.time()
    floor_metrics(naive, [(i, 1.0 / (i + 1), now) for i in range(n)])
    conn = sqlite3.connect(naive)
    t = time.perf_counter()
    naive_rows = conn.execute("SELECT step, value, timestamp FROM points WHERE run_rid = 1 AND key_id = 1").fetchall()
    naive_s = time.perf_counter() - t
    conn.close()
    assert len(naive_rows) == n
    print(f"  {'  (one row per point, one SQL query)':<44} {naive_s * 1000:>14,.1f} ms", flush=True)
    report(f"get_metric_history of {n:,} points", min(best) * 1000, min(best_floor) * 1000, "ms",
           "< 1,000 ms, <= 3x", False, 1_000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10x smaller sizes (a smoke run)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    print(f"bench_tracking: Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} cores{' (quick)' if args.quick else ''}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_per_call(tmp, 500_000 // scale)
        gc.collect()
        bench_batched(tmp, 100_000 // scale)
        gc.collect()
        runs_path = bench_runs(tmp, 100_000 // scale)
        bench_search(runs_path)
        bench_history(tmp, 1_000_000 // scale)
        md.set_project(tmp / "last.mdesk")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {'peak resident memory':<44} {peak:>14,.1f} MiB       floor {START_RSS_MIB:>14,.1f}  "
          f"(the process after importing modeldesk, pandas, numpy, before any work)")
    worst = max(r[4] for r in ROWS)
    print(f"worst ratio to floor: {worst:.2f}x")
    missed = [r[0] for r in ROWS if not r[6]]
    print("targets missed: " + "; ".join(missed) if missed else "every target met")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())

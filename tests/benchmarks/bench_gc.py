"""gc benchmark: purge 10,000 of 20,000 runs, each with params, a tag, a 20-point
metric history and a small artifact of its own (target: under 3x the floor).

The floor, measured in the same run on a copy of the same file, is the work no
purge can skip: one transaction of plain DELETEs of those runs' rows in every
table that holds them, then of their blobs. Ours also checks which runs must be
kept (registered, served, running, referred to by other tables), works in
batches of 500 with progress and cancel, writes an audit entry per batch, and
finds unreferenced blobs, datasets and environments through the schema's
foreign keys. Run: make bench (or .venv/bin/python tests/benchmarks/bench_gc.py [--runs N]).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

from modeldesk.core import clock
from modeldesk.core.storage.blobs import put_blob
from modeldesk.core.storage.project import open_project
from modeldesk.core.tracking import gc, lifecycle
from modeldesk.core.tracking.tracker import Tracker

TARGET_RATIO = 3.0


def build(path: Path, n: int) -> list[str]:
    """``n`` finished runs; returns the ids of every other one (to delete)."""
    project = open_project(path, user="bench")
    tracker = Tracker(project, max_buffer=5_000_000)
    tracker._ensure_thread = lambda: None   # one writer: our own large transactions
    exp = tracker.experiment("sweep")
    rng, base, runs = random.Random(0), time.time() - n * 60, []
    for start in range(0, n, 5000):
        with project.write():
            for i in range(start, min(n, start + 5000)):
                run = tracker.start_run(exp.id, f"run-{i:06d}", start_time=base + i * 60)
                tracker.log_params(run, {"lr": rng.choice([0.1, 0.01]), "depth": rng.randint(2, 12)})
                tracker.set_tags(run, {"owner": rng.choice(["ana", "bo"])})
                for step in range(20):
                    tracker.log_metrics(run, {"loss": rng.random(), "auc": rng.random()}, step=step)
                tracker.end_run(run, "FINISHED", end_time=base + i * 60 + 30)
                runs.append(run)
    tracker.close()
    with project.write() as w:
        for run in runs:
            digest = put_blob(w, f"notes of {run.id}".encode())
            w.execute("INSERT INTO artifacts (run_rid, path, sha256, size, created_at) VALUES"
                      " ((SELECT rid FROM runs WHERE id = ?), 'notes.txt', ?, ?, ?)",
                      (run.id, digest, len(run.id) + 9, clock.now()))
    doomed = [r.id for r in runs[::2]]
    lifecycle.delete_runs(project, doomed)
    project.close()
    return doomed


def floor(path: Path, doomed: list[str]) -> float:
    project = open_project(path, create=False, user="bench")   # the same connection settings as ours
    t = time.perf_counter()
    with project.write() as conn:
        rids = json.dumps([r[0] for r in conn.execute(
            "SELECT rid FROM runs WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(doomed),))])
        each = "SELECT value FROM json_each(?)"
        blobs = json.dumps([r[0] for r in conn.execute(f"SELECT sha256 FROM artifacts WHERE run_rid IN ({each})",
                                                       (rids,))])
        for table in ("params", "tags", "latest_metrics", "metric_chunks", "artifacts"):
            conn.execute(f"DELETE FROM {table} WHERE run_rid IN ({each})", (rids,))
        conn.execute(f"DELETE FROM runs WHERE rid IN ({each})", (rids,))
        conn.execute(f"DELETE FROM blob_chunks WHERE sha256 IN ({each})", (blobs,))
        conn.execute(f"DELETE FROM blobs WHERE sha256 IN ({each})", (blobs,))
    elapsed = time.perf_counter() - t
    project.close()
    return elapsed


def ours(path: Path, n_doomed: int) -> float:
    project = open_project(path, create=False, user="bench")
    t = time.perf_counter()
    result = gc.collect(project)
    elapsed = time.perf_counter() - t
    project.close()
    assert len(result.purged_runs) == n_doomed and result.blobs == n_doomed, result
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "gc.mdesk"
        t = time.perf_counter()
        doomed = build(source, args.runs)
        print(f"  built {args.runs:,} runs, {len(doomed):,} deleted, in {time.perf_counter() - t:.1f} s", flush=True)
        floors, times = [], []
        for i in range(3):
            copy = Path(tmp) / f"copy{i}.mdesk"
            shutil.copy(source, copy)
            floors.append(floor(copy, doomed))
            shutil.copy(source, copy)
            times.append(ours(copy, len(doomed)))
    best, best_floor = min(times), min(floors)
    ratio = best / best_floor
    print(f"  gc, {len(doomed):,} of {args.runs:,} runs purged      {best:8.2f} s   floor {best_floor:6.2f} s  "
          f"ratio {ratio:5.2f}x  target < {TARGET_RATIO:.0f}x  {'OK' if ratio < TARGET_RATIO else 'MISSED'}")
    return 0 if ratio < TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())

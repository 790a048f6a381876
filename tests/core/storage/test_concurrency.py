"""Several processes writing one project, and a writer killed mid-flight."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

WRITER = textwrap.dedent(
    """
    import sys, modeldesk as md
    path, worker, points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    md.set_project(path)
    md.set_experiment("load")
    with md.start_run(name=f"worker-{worker}"):
        md.log_param("worker", worker)
        for i in range(points):
            md.log_metric("value", float(i), step=i)
            if i % 500 == 0:
                md.set_tag("progress", str(i))
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_six_processes_logging_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared.mdesk"
    from modeldesk.core.storage.project import open_project

    open_project(path).close()
    points = 5000
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(w), str(points)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(6)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        assert "database is locked" not in err
        assert out.strip() == "done"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    from modeldesk.core.tracking.runs import get_metric_history, search_runs

    with open_project(path) as project:
        runs = search_runs(project, order_by="attributes.run_name")
        assert runs["run_name"].tolist() == [f"worker-{w}" for w in range(6)]
        assert set(runs["status"]) == {"FINISHED"}
        for run_id in runs["run_id"]:
            hist = get_metric_history(project, run_id, "value")
            assert hist["step"].tolist() == list(range(points))
            assert hist["value"].tolist() == [float(i) for i in range(points)]


KILLED = textwrap.dedent(
    """
    import sys, time, modeldesk as md
    md.set_project(sys.argv[1])
    with md.start_run(name="doomed"):
        i = 0
        while True:
            md.log_metric("value", float(i), step=i)
            if i % 200 == 0:
                print(i, time.time(), flush=True)
                time.sleep(0.002)
            i += 1
    """
)


@pytest.mark.slow
def test_sigkill_keeps_file_intact_and_loses_at_most_the_last_second(tmp_path):
    path = tmp_path / "killed.mdesk"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(path)], stdout=subprocess.PIPE, text=True)
    logged: list[tuple[int, float]] = []
    started = time.time()
    try:
        while time.time() - started < 30:
            line = proc.stdout.readline()
            if not line:
                break
            i, t = line.split()
            logged.append((int(i), float(t)))
            if len(logged) > 20 and logged[-1][1] - logged[0][1] > 3.0:
                break
        assert proc.poll() is None, "the writer died on its own"
        os.kill(proc.pid, signal.SIGKILL)
        killed_at = time.time()
    finally:
        proc.kill()
        proc.wait(timeout=10)
    # Points logged more than 1 s (the flush interval bound) before the kill must be in the file.
    must_have = max(i for i, t in logged if t < killed_at - 1.0)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    # And ModelDesk opens the file again normally, with every flushed point.
    from modeldesk.core.storage.project import open_project
    from modeldesk.core.tracking.runs import get_metric_history, search_runs

    with open_project(path) as project:
        frame = search_runs(project)
        assert frame["status"].tolist() == ["KILLED"]   # its process is gone (issue 9, item 8)
        steps = get_metric_history(project, frame["run_id"][0], "value")["step"].tolist()
    assert steps[-1] >= must_have
    assert steps == list(range(len(steps))), "flushed points form a gap-free prefix"

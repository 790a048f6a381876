"""The fluent tracking API against a real project file."""

from __future__ import annotations

import math
import os
import sqlite3
import threading

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modeldesk.core.errors import FilterError, IntegrityError, NotFoundError, RefusedError, UsageError
from support.data import breast_cancer


def test_run_finishes_and_fails(md):
    md.set_experiment("churn")
    with md.start_run(name="ok") as ok:
        md.log_metric("loss", 0.5)
    with pytest.raises(ZeroDivisionError):
        with md.start_run(name="boom") as bad:
            1 / 0
    assert md.get_run(ok.id).status == "FINISHED"
    failed = md.get_run(bad.id)
    assert failed.status == "FAILED" and failed.end_time is not None
    assert md.get_run(ok.id).experiment == "churn"
    assert md.get_run(ok.id).user == "tester"


def test_nested_run_gets_parent(md):
    with md.start_run(name="sweep") as parent:
        with md.start_run(name="trial") as child:
            assert md.active_run().id == child.id
        assert md.active_run().id == parent.id
    assert md.get_run(child.id).parent_id == parent.id
    assert md.get_run(parent.id).parent_id is None


def test_params_cannot_change_but_same_value_is_fine(md):
    with md.start_run() as run:
        md.log_params({"n_estimators": 200, "max_depth": 8})
        md.log_param("max_depth", 8)
        with pytest.raises(RefusedError, match="already '8'"):
            md.log_param("max_depth", 9)
    assert md.get_run(run.id).params == {"n_estimators": "200", "max_depth": "8"}


def test_param_relog_refused_after_resume(md):
    with md.start_run() as run:
        md.log_param("lr", 0.1)
    with md.start_run(run_id=run.id):
        with pytest.raises(RefusedError):
            md.log_param("lr", 0.2)


def test_metric_history_steps_and_timestamps(md):
    with md.start_run() as run:
        for step in range(5):
            md.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1000.0 + step)
        md.log_metric("auc", 0.7)
        md.log_metric("auc", 0.8)  # default step: the next one
        md.log_metrics({"acc": 0.9, "f1": 0.85}, step=3)
    hist = md.get_metric_history(run.id, "loss")
    assert list(hist.columns) == ["step", "value", "timestamp"]
    assert hist["step"].tolist() == [0, 1, 2, 3, 4]
    assert hist["value"].tolist() == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    assert hist["timestamp"].tolist() == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0]
    assert md.get_metric_history(run.id, "auc")["step"].tolist() == [0, 1]
    got = md.get_run(run.id)
    assert got.metrics == {"loss": pytest.approx(0.2), "auc": 0.8, "acc": 0.9, "f1": 0.85}


def test_latest_metric_is_highest_step_not_last_logged(md):
    with md.start_run() as run:
        md.log_metric("loss", 0.1, step=10)
        md.log_metric("loss", 0.9, step=2)
    assert md.get_run(run.id).metrics["loss"] == 0.1
    assert md.get_metric_history(run.id, "loss")["step"].tolist() == [2, 10]


def test_nan_and_bad_metric_values(md):
    with md.start_run() as run:
        md.log_metric("loss", float("nan"))
        md.log_metric("big", float("inf"))
        md.log_metric("np", np.float32(0.5))
        with pytest.raises(UsageError, match="must be a number"):
            md.log_metric("loss", "high")
        with pytest.raises(UsageError, match="integer"):
            md.log_metric("loss", 1.0, step=1.5)
        with pytest.raises(UsageError, match="non-empty"):
            md.log_metric("", 1.0)
    run = md.get_run(run.id)
    assert math.isnan(run.metrics["loss"]) and run.metrics["big"] == math.inf and run.metrics["np"] == 0.5


def test_tags_can_be_overwritten(md):
    with md.start_run() as run:
        md.set_tags({"owner": "ana", "stage": "dev"})
        md.set_tag("owner", "ben")
    assert md.get_run(run.id).tags == {"owner": "ben", "stage": "dev"}


def test_artifacts_from_path_and_bytes(md, tmp_path, project):
    from modeldesk.core.tracking.artifacts import list_artifacts, read_artifact

    f = tmp_path / "notes.txt"
    f.write_text("hello")
    with md.start_run() as run:
        md.log_artifact(f)
        md.log_artifact(b"\x89PNG fake", name="plots/roc.png")
        with pytest.raises(UsageError, match="no such file"):
            md.log_artifact(tmp_path / "missing.txt")
        with pytest.raises(UsageError, match="needs a name"):
            md.log_artifact(b"x")
    names = [a.path for a in list_artifacts(project, run.id)]
    assert names == ["notes.txt", "plots/roc.png"]
    assert read_artifact(project, run.id, "notes.txt") == b"hello"


def test_changed_artifact_is_refused(md, project):
    from modeldesk.core.tracking.artifacts import read_artifact

    with md.start_run() as run:
        art = md.log_artifact(b"original bytes", name="a.bin")
    md.flush()
    raw = sqlite3.connect(project.path)
    raw.execute("UPDATE blob_chunks SET data = ? WHERE sha256 = ?", (b"tampered bytes", art.sha256))
    raw.commit()
    raw.close()
    with pytest.raises(IntegrityError, match="changed after it was logged"):
        read_artifact(project, run.id, "a.bin")


def test_blobs_are_chunked_and_deduplicated(md, project, monkeypatch):
    from modeldesk.core.storage import blobs
    from modeldesk.core.tracking.artifacts import read_artifact

    monkeypatch.setattr(blobs, "CHUNK_SIZE", 1000)
    payload = np.random.default_rng(0).bytes(5500)
    with md.start_run() as r1:
        md.log_artifact(payload, name="a.bin")
    with md.start_run() as r2:
        md.log_artifact(payload, name="copy.bin")
    assert project.read("SELECT COUNT(*) FROM blobs")[0][0] == 1
    assert project.read("SELECT COUNT(*) FROM blob_chunks")[0][0] == 6
    assert read_artifact(project, r2.id, "copy.bin") == payload == read_artifact(project, r1.id, "a.bin")


def test_dataset_fingerprint_profile_sample_and_dedupe(md, project):
    from modeldesk.core.tracking.artifacts import list_datasets, load_dataset_sample

    X, y = breast_cancer()
    train = X.assign(target=y)
    with md.start_run() as r1:
        rec = md.log_dataset(train, name="train", role="training", target="target", sample_cap=100)
    with md.start_run() as r2:
        md.log_dataset(train.copy(), name="train", role="training", target="target", sample_cap=100)
        md.log_dataset(train.iloc[:100], name="val", role="validation")
    assert rec.rows == len(train) and rec.columns == train.shape[1] and rec.sample_rows == 100
    assert project.read("SELECT COUNT(*) FROM datasets")[0][0] == 2  # same data stored once
    first, second = list_datasets(project, r1.id), list_datasets(project, r2.id)
    assert {d.fingerprint for d in first} <= {d.fingerprint for d in second}
    sample = load_dataset_sample(project, rec.fingerprint)
    assert list(sample.columns) == list(train.columns) and len(sample) == 100
    per_col = {c["name"]: c for c in rec.profile["per_column"]}
    assert per_col["mean radius"]["kind"] == "numerical"
    assert per_col["mean radius"]["mean"] == pytest.approx(train["mean radius"].mean())
    with md.start_run():
        with pytest.raises(UsageError, match="Target column"):
            md.log_dataset(train, target="nope")


def test_log_model_signature_environment_and_load(md, project):
    from modeldesk.core.tracking.artifacts import get_environment, get_logged_model

    X, y = breast_cancer()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with md.start_run() as run:
        logged = md.log_model(model, name="model", input_example=X.iloc[:5])
    sig = logged.signature
    assert [c["name"] for c in sig["inputs"]] == list(X.columns)
    assert {c["type"] for c in sig["inputs"]} == {"double"}
    assert sig["classes"] == [0, 1] and sig["has_proba"]
    env = get_environment(project, get_logged_model(project, run.id).environment_sha256)
    assert env["python"].startswith("3.") and "scikit-learn" in env["packages"]
    loaded = md.load_model(f"runs:/{run.id}/model")
    assert (loaded.predict(X) == model.predict(X)).all()


def test_changed_model_is_refused_on_load(md, project):
    X, y = breast_cancer()
    model = LogisticRegression(max_iter=50).fit(X.values[:, :3], y)
    with md.start_run() as run:
        logged = md.log_model(model, input_example=X.values[:3, :3])
    raw = sqlite3.connect(project.path)
    raw.execute("UPDATE blob_chunks SET data = substr(data, 1, length(data) - 1) || x'00' WHERE sha256 = ?",
                (logged.sha256,))
    raw.commit()
    raw.close()
    with pytest.raises(IntegrityError, match="changed after it was logged"):
        md.load_model(f"runs:/{run.id}/model")


def test_load_model_bad_uris(md):
    with md.start_run() as run:
        pass
    with pytest.raises(NotFoundError, match="no logged model"):
        md.load_model(f"runs:/{run.id}/model")
    with pytest.raises(UsageError, match="Bad model URI"):
        md.load_model("s3://bucket/model")
    with pytest.raises(NotFoundError, match="No run"):
        md.load_model("runs:/ffffffffffffffffffffffffffffffff/model")


def _sweep(md):
    md.set_experiment("sweep")
    ids = {}
    for depth in (2, 4, 8):
        for lr in (0.1, 0.01):
            with md.start_run(name=f"d{depth}-lr{lr}") as run:
                md.log_params({"max_depth": depth, "lr": lr})
                md.log_metric("val_auc", 0.8 + depth / 100 + lr)
                md.set_tag("family", "gbm" if depth > 2 else "tree")
            ids[(depth, lr)] = run.id
    md.set_experiment("other")
    with md.start_run(name="elsewhere"):
        md.log_metric("val_auc", 0.99)
    return ids


def test_search_runs_filter_order_and_columns(md):
    ids = _sweep(md)
    df = md.search_runs(experiment="sweep", filter="metrics.val_auc > 0.85 and params.max_depth = '8'",
                        order_by=["metrics.val_auc DESC"])
    assert df["run_id"].tolist() == [ids[(8, 0.1)], ids[(8, 0.01)]]
    for col in ("run_id", "run_name", "status", "start_time", "params.max_depth", "metrics.val_auc", "tags.family"):
        assert col in df.columns
    assert str(df["start_time"].dtype).startswith("datetime64")
    everything = md.search_runs(order_by="metrics.val_auc ASC")
    assert len(everything) == 7 and everything["run_name"].iloc[-1] == "elsewhere"
    ored = md.search_runs(experiment="sweep", filter="tags.family = 'tree' or params.lr = '0.01'")
    assert len(ored) == 4
    assert md.search_runs(experiment=["sweep", "other"], max_results=3).shape[0] == 3


def test_search_runs_bad_filter_names_token(md):
    _sweep(md)
    with pytest.raises(FilterError) as info:
        md.search_runs(filter="metrics.auc >>> 1")
    assert info.value.token == ">" and info.value.position == 13
    assert "metrics.auc >>> 1" in str(info.value)
    with pytest.raises(NotFoundError, match="No experiment 'nope'"):
        md.search_runs(experiment="nope")


def test_get_run_by_prefix_and_unknown(md):
    with md.start_run() as run:
        pass
    assert md.get_run(run.id[:8]).id == run.id
    with pytest.raises(NotFoundError, match="No run with id") as info:
        md.get_run("0000000000000000000000000000000z")
    assert info.value.hint.action == "list_runs"


def test_logging_without_active_run_starts_one(md):
    md.log_metric("x", 1.0)
    run = md.active_run()
    assert run is not None
    md.end_run()
    assert md.get_run(run.id).status == "FINISHED"


def test_script_ending_with_open_run(tmp_path):
    """A script that ends without end_run leaves FINISHED; one that crashes leaves FAILED."""
    import subprocess
    import sys

    path = tmp_path / "s.mdesk"
    ok = "import modeldesk as md, sys; md.set_project(sys.argv[1]); md.start_run(name='ok'); md.log_metric('x', 1)"
    bad = "import modeldesk as md, sys; md.set_project(sys.argv[1]); md.start_run(name='bad'); raise SystemError('x')"
    subprocess.run([sys.executable, "-c", ok, str(path)], check=True)
    proc = subprocess.run([sys.executable, "-c", bad, str(path)], capture_output=True)
    assert proc.returncode != 0
    from modeldesk.core.storage.project import open_project
    from modeldesk.core.tracking.runs import search_runs

    with open_project(path) as project:
        frame = search_runs(project, order_by="attributes.run_name")
    assert dict(zip(frame["run_name"], frame["status"])) == {"bad": "FAILED", "ok": "FINISHED"}
    assert frame.loc[frame["run_name"] == "ok", "metrics.x"].item() == 1.0


def _statuses_on_disk(path) -> dict[str, str]:
    """What another process would read now (a separate connection, no flush)."""
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT name, status FROM runs"))
    finally:
        conn.close()


def test_a_run_is_committed_when_its_with_block_ends(md, project_path):
    md._tracker.burst_gap = 0          # no run ended just before: the end is written inline
    with md.start_run(name="single"):
        md.log_metric("loss", 0.3)
    assert _statuses_on_disk(project_path) == {"single": "FINISHED"}


def test_runs_ending_back_to_back_are_group_committed(md, project_path):
    import time

    tracker = md._tracker
    tracker.burst_gap = 3600           # every end after the first counts as back to back
    commits = []
    real_flush = tracker.flush

    def counting_flush():
        commits.append(threading.current_thread().name)
        real_flush()

    tracker.flush = counting_flush
    for i in range(50):
        with md.start_run(name=f"quick-{i}"):
            md.log_metric("loss", i)
    inline = [name for name in commits if name != "modeldesk-flush"]
    assert len(inline) == 1            # only the first end was written by the script's own thread
    # The writer thread commits the rest without anyone asking (well within its 0.5 s interval).
    deadline = time.monotonic() + 10
    while set(_statuses_on_disk(project_path).values()) != {"FINISHED"} or len(_statuses_on_disk(project_path)) < 50:
        assert time.monotonic() < deadline, _statuses_on_disk(project_path)
        time.sleep(0.01)
    assert len(_statuses_on_disk(project_path)) == 50
    # and the script's own reads never miss a run
    with md.start_run(name="last"):
        pass
    assert len(md.search_runs()) == 51 and md.get_run(md.search_runs()["run_id"].iloc[0]).status == "FINISHED"


@pytest.mark.timeout(30)   # before the fix this waited out SQLite's 60 s busy timeout
def test_flushing_inside_an_open_write_transaction_does_not_wait_for_the_writer_thread(project):
    """A thread holding the write transaction flushes inline while the writer thread,
    woken by back-to-back run ends, waits for that same transaction."""
    import time

    from modeldesk.core.tracking.tracker import Tracker

    tracker = Tracker(project)
    tracker.burst_gap = 3600
    exp = tracker.experiment("big")
    with project.write():
        for i in range(20):
            run = tracker.start_run(exp.id, f"run-{i}")
            tracker.log_metrics(run, {"auc": i / 20})
            tracker.end_run(run)          # after the first: wakes the writer thread, which blocks on our lock
        time.sleep(0.2)                   # let it take the flush lock and wait for the file
        tracker.flush()                   # inline, inside our transaction: must get the flush lock soon
        assert tracker.pending() == 0
    tracker.close()
    assert project.read("SELECT COUNT(*), SUM(status = 'FINISHED') FROM runs") == [(20, 20)]
    assert project.read("SELECT COUNT(*) FROM latest_metrics") == [(20,)]


def test_a_full_buffer_is_written_at_once(project):
    from modeldesk.core.tracking.tracker import Tracker

    tracker = Tracker(project, max_buffer=1_000, flush_interval=1.0)
    tracker._ensure_thread = lambda: None               # no timer: only the size limit can flush
    run = tracker.start_run(tracker.experiment("e").id, "big")
    for i in range(999):
        tracker.log_metric(run, "loss", 1 / (i + 1))
    assert tracker.pending() >= 999                     # under the size limit: still buffered
    tracker.log_metric(run, "loss", 0.0)                # the 1,000th point fills it
    assert tracker.pending() == 0
    other = sqlite3.connect(project.path)               # another process would see them now
    try:
        assert other.execute("SELECT SUM(n) FROM metric_chunks").fetchone()[0] == 1_000
    finally:
        other.close()
    tracker.close()


def test_the_writer_thread_flushes_on_its_own(project):
    import time

    from modeldesk.core.tracking.tracker import Tracker

    tracker = Tracker(project, flush_interval=0.2)
    run = tracker.start_run(tracker.experiment("e").id, "live")
    tracker.log_metrics(run, {"loss": 0.5, "auc": 0.7})
    other = sqlite3.connect(project.path)               # what another process sees, without any flush()
    try:
        deadline = time.monotonic() + 10
        while other.execute("SELECT COUNT(*) FROM latest_metrics").fetchone()[0] < 2:
            assert time.monotonic() < deadline, "the background flush never came"
            time.sleep(0.02)
        assert other.execute("SELECT status FROM runs").fetchall() == [("RUNNING",)]
        assert tracker.pending() == 0
    finally:
        other.close()
    tracker.close()


def test_a_background_write_failure_other_than_a_lock_is_reported_once(project, recwarn):
    import time

    from modeldesk.core.tracking.tracker import Tracker

    tracker = Tracker(project, flush_interval=0.05)
    calls = []

    def failing_flush():
        calls.append(1)
        raise (sqlite3.OperationalError("database is locked") if len(calls) < 3
               else sqlite3.DatabaseError("disk I/O error"))

    tracker.flush = failing_flush
    tracker._ensure_thread()
    deadline = time.monotonic() + 10
    while len(calls) < 8:                       # locks twice (quiet), then the same I/O error again and again
        assert time.monotonic() < deadline
        time.sleep(0.01)
    tracker._stop.set()
    tracker._wake.set()
    tracker._thread.join(5)
    messages = [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "disk I/O error" in messages[0] and "keeps the data in memory" in messages[0]


# -- issue 9, item 8: runs that died say so ---------------------------------------

_HOLD_A_RUN = """
import sys
import modeldesk as md
md.set_project(sys.argv[1])
md.set_experiment("train")
run = md.start_run(name=sys.argv[2])
md.log_metric("loss", 0.5)
md.flush()
print(run.id, flush=True)
sys.stdin.readline()   # alive until told (or killed)
md.end_run()
"""


def _hold_a_run(path, name):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", _HOLD_A_RUN, str(path), name], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    assert run_id, "the child did not start its run"
    return proc, run_id


def _cli(*args):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "modeldesk", *map(str, args)], capture_output=True, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_a_sigkilled_run_shows_as_killed_everywhere(md, project_path):
    import os
    import signal

    proc, run_id = _hold_a_run(project_path, "doomed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    run = md.get_run(run_id)
    assert run.status == "KILLED" and run.end_time is not None and run.end_time >= run.start_time
    frame = md.search_runs()
    assert frame.set_index("run_id").loc[run_id, "status"] == "KILLED"
    assert md.search_runs(filter="status = 'KILLED'")["run_id"].tolist() == [run_id]
    assert md.search_runs(filter="status = 'RUNNING'").empty
    code, out, err = _cli("--project", project_path, "runs", "list")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith(run_id[:8]))
    assert "KILLED" in line and "RUNNING" not in line
    code, out, err = _cli("--project", project_path, "runs", "show", run_id)
    assert code == 0 and "KILLED" in out, err
    # written back: a tool reading the file directly agrees
    conn = sqlite3.connect(project_path)
    assert conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone() == ("KILLED",)
    conn.close()


def test_a_live_run_in_another_process_stays_running(md, project_path):
    proc, run_id = _hold_a_run(project_path, "alive")
    try:
        assert md.get_run(run_id).status == "RUNNING"
        assert md.search_runs().set_index("run_id").loc[run_id, "status"] == "RUNNING"
        code, out, err = _cli("--project", project_path, "runs", "list")
        assert code == 0 and "RUNNING" in out, err
    finally:
        proc.communicate("\n", timeout=30)
    assert proc.returncode == 0
    assert md.get_run(run_id).status == "FINISHED"


def _foreign_run(project, *, host, pid, heartbeat, start_time=None):
    import time
    import uuid

    run_id = uuid.uuid4().hex
    with project.write() as w:
        exp = w.execute("INSERT OR IGNORE INTO experiments (name, created_at) VALUES ('remote', 1.0)")
        exp = w.execute("SELECT id FROM experiments WHERE name = 'remote'").fetchone()[0]
        w.execute("INSERT INTO runs (id, experiment_id, name, status, user, start_time, host, pid, heartbeat)"
                  " VALUES (?, ?, 'r', 'RUNNING', 'ana', ?, ?, ?, ?)",
                  (run_id, exp, start_time if start_time is not None else time.time() - 7200, host, pid, heartbeat))
    return run_id


def test_a_stale_heartbeat_from_another_host_shows_killed_and_a_fresh_one_running(md):
    import time

    from modeldesk.core.tracking.runs import HEARTBEAT_TIMEOUT_S

    project = md.get_project()
    stale = _foreign_run(project, host="gpu-box-7", pid=os.getpid(), heartbeat=time.time() - HEARTBEAT_TIMEOUT_S - 60)
    fresh = _foreign_run(project, host="gpu-box-7", pid=1, heartbeat=time.time() - 30)
    legacy = _foreign_run(project, host=None, pid=None, heartbeat=None)   # from before heartbeats: 2 h old
    assert md.get_run(stale).status == "KILLED"
    assert md.get_run(stale).end_time == pytest.approx(time.time() - HEARTBEAT_TIMEOUT_S - 60, abs=5)
    assert md.get_run(fresh).status == "RUNNING"   # another host's pid means nothing here
    assert md.get_run(legacy).status == "KILLED"
    statuses = md.search_runs(experiment="remote").set_index("run_id")["status"]
    assert statuses[stale] == "KILLED" and statuses[fresh] == "RUNNING" and statuses[legacy] == "KILLED"


def test_killed_is_shown_even_when_it_cannot_be_written(md, monkeypatch):
    import contextlib
    import time

    from modeldesk.core.tracking.runs import get_run, search_runs

    project = md.get_project()
    run_id = _foreign_run(project, host="elsewhere", pid=5, heartbeat=time.time() - 86400)

    @contextlib.contextmanager
    def read_only():
        raise sqlite3.OperationalError("attempt to write a readonly database")
        yield

    monkeypatch.setattr(project, "write", read_only)
    assert get_run(project, run_id).status == "KILLED"
    assert search_runs(project).set_index("run_id").loc[run_id, "status"] == "KILLED"
    monkeypatch.undo()
    assert project.read("SELECT status FROM runs WHERE id = ?", (run_id,)) == [("RUNNING",)]   # not written


def test_the_flush_thread_beats_for_open_runs_and_revives_a_wrongly_killed_one(project, monkeypatch):
    import time

    from modeldesk.core.tracking import tracker as tracking

    monkeypatch.setattr(tracking, "HEARTBEAT_INTERVAL_S", 0.05)
    tracker = tracking.Tracker(project, flush_interval=0.05)
    try:
        exp = tracker.experiment("e")
        handle = tracker.start_run(exp.id, "beating")
        rid = tracker.written_rid(handle)
        host, pid, first = project.read("SELECT host, pid, heartbeat FROM runs WHERE rid = ?", (rid,))[0]
        assert pid == os.getpid() and host and first is not None
        # a reader took it for dead (say the machine slept past the timeout)
        with project.write() as w:
            w.execute("UPDATE runs SET status = 'KILLED', end_time = heartbeat WHERE rid = ?", (rid,))
        deadline = time.time() + 10
        while time.time() < deadline:
            status, beat = project.read("SELECT status, heartbeat FROM runs WHERE rid = ?", (rid,))[0]
            if beat > first and status == "RUNNING":
                break
            time.sleep(0.05)
        assert beat > first and status == "RUNNING"
        tracker.end_run(handle)
        tracker.flush()
        time.sleep(0.3)   # further beats leave an ended run alone
        assert project.read("SELECT status FROM runs WHERE rid = ?", (rid,)) == [("FINISHED",)]
    finally:
        tracker.close()

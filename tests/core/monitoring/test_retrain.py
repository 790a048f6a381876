"""Retraining: the run it logs lands as a pending request, failures keep their output, one at a time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading

import pytest
from core.monitoring.monitored import END, FAILING_SCRIPT, RETRAIN_SCRIPT, monitored_project, write_script

from modeldesk.core import audit
from modeldesk.core.monitoring import checks, retrain
from modeldesk.core.monitoring import monitors as mon
from modeldesk.core.registry import approvals
from modeldesk.core.registry.versions import alias_version, list_versions

APP = os.path.join(os.path.dirname(__file__), "..", "..", "..", "app")


@pytest.fixture
def watched(md, tmp_path):
    project, uri = monitored_project(md)
    return project, uri, tmp_path


def drift_monitor(project, command, **kw):
    return mon.set_monitor(project, "drift", "cancer", thresholds=mon.make_thresholds(drift_share=0.5),
                           retrain=command, actor="ana", **kw)


def test_a_retrain_that_logs_a_run_opens_a_pending_request_and_leaves_production_alone(watched):
    project, _, folder = watched
    drift_monitor(project, write_script(folder, "retrain.py", RETRAIN_SCRIPT))
    (result,) = checks.check(project, now=END, wait=True)
    assert result.firing and result.retrain["started"] and result.retrain["status"] == "done"
    r = retrain.get_retrain(project, result.retrain["id"])
    assert r.status == "done" and r.exit_code == 0 and r.version == 2 and r.owner == "ana"
    assert "retraining because: monitor drift fired" in r.output and "logged the retrained model" in r.output
    # the run is the one tagged with the retrain id, registered as the next version
    assert [v.version for v in list_versions(project, "cancer")] == [1, 2]
    from modeldesk.core.tracking.runs import get_run

    run = get_run(project, r.run_id)
    assert run.tags[retrain.RETRAIN_TAG] == r.id and run.user == "ana"
    # a pending request by the owner, with its gate results, and production unchanged
    req = approvals.get_request(project, r.request_id)
    assert req.status == "pending" and req.requested_by == "ana" and req.target_alias == "production"
    assert req.version == 2 and {g.gate for g in req.gates} >= {"artifact", "predict", "signature"}
    assert all(g.passed for g in req.gates)
    assert alias_version(project, "cancer", "production") == 1
    actions = [e.action for e in audit.list_entries(project) if e.action.startswith(("retrain", "monitor.alert"))]
    assert actions == ["monitor.alert", "retrain.start", "retrain.done"]
    done = audit.list_entries(project, action="retrain.done")[0]
    assert done.details["request_id"] == req.id and done.details["gates"][0]["passed"]


def test_a_failing_retrain_is_recorded_with_its_output(watched):
    project, _, folder = watched
    drift_monitor(project, write_script(folder, "broken.py", FAILING_SCRIPT))
    (result,) = checks.check(project, now=END, wait=True)
    r = retrain.get_retrain(project, result.retrain["id"])
    assert r.status == "failed" and r.exit_code == 3 and "exited with code 3" in r.message
    assert "loading the new labels" in r.output and "the labels file is missing" in r.output
    entry = audit.list_entries(project, action="retrain.failed")[-1]
    assert entry.details["exit_code"] == 3 and "the labels file is missing" in entry.details["last_lines"]
    assert [v.version for v in list_versions(project, "cancer")] == [1]


def test_a_command_that_logs_no_model_fails_saying_so(watched):
    project, _, _ = watched
    drift_monitor(project, f'"{sys.executable}" -c "print(42)"')
    (result,) = checks.check(project, now=END, wait=True)
    r = retrain.get_retrain(project, result.retrain["id"])
    assert r.status == "failed" and "no run tagged" in r.message and r.output.strip() == "42"


def test_the_command_runs_in_the_project_folder_with_the_environment(watched):
    project, _, folder = watched
    script = ("import os; print(os.getcwd()); print(os.environ['MODELDESK_PROJECT']);"
              " print(os.environ['MODELDESK_RETRAIN_ID']); print(os.environ['MODELDESK_USER'])")
    (folder / "env.py").write_text(script)
    drift_monitor(project, f'"{sys.executable}" env.py')
    (result,) = checks.check(project, now=END, wait=True)
    r = retrain.get_retrain(project, result.retrain["id"])
    cwd, path, rid, user = r.output.splitlines()
    assert os.path.samefile(cwd, project.path.parent) and os.path.samefile(path, project.path)
    assert rid == r.id and user == "ana"


def test_a_detached_retrain_records_itself_after_the_check_returned(watched, monkeypatch):
    project, _, folder = watched
    gate = folder / "go"
    monkeypatch.setenv("RETRAIN_GATE", str(gate))    # the command waits for it: still running when we look
    drift_monitor(project, write_script(folder, "retrain.py", RETRAIN_SCRIPT))
    try:
        (result,) = checks.check(project, now=END)      # wait=False: what a scheduler runs
        r = retrain.get_retrain(project, result.retrain["id"])
        assert r.status == "running" and r.pid != os.getpid()
    finally:
        gate.write_text("go")
    r = retrain.wait_for(project, r.id, timeout=180)
    assert r.status == "done" and r.version == 2 and approvals.get_request(project, r.request_id).status == "pending"


def test_two_threads_claiming_at_once_start_one_retrain(watched):
    project, _, _ = watched
    monitor = drift_monitor(project, "true")
    barrier = threading.Barrier(2)
    claims = []

    def claim():
        barrier.wait()
        with project.write() as w:
            claims.append(retrain.claim(w, monitor, "race", 1.0))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    started = [c for c in claims if c.retrain is not None]
    assert len(started) == 1 and len(claims) == 2
    refused = next(c for c in claims if c.retrain is None)
    assert refused.running == started[0].retrain.id and "not started twice" in refused.message
    assert project.read("SELECT COUNT(*) FROM retrains")[0][0] == 1


def test_the_one_running_index_refuses_a_second_claim_whatever_the_code_says(watched):
    project, _, _ = watched
    import sqlite3

    drift_monitor(project, "true")
    row = ("drift", "cancer", "production", "ana", "r", "true", "running", socket.gethostname(), os.getpid(), 1.0)
    with project.write() as w:
        w.execute("INSERT INTO retrains (id, monitor, model, alias, owner, reason, command, status, host, pid,"
                  " started_at) VALUES ('a', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    with pytest.raises(sqlite3.IntegrityError):
        with project.write() as w:
            w.execute("INSERT INTO retrains (id, monitor, model, alias, owner, reason, command, status, host, pid,"
                      " started_at) VALUES ('b', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)


def test_a_claim_whose_process_died_no_longer_blocks(watched):
    project, _, _ = watched
    monitor = drift_monitor(project, "true")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with project.write() as w:
        first = retrain.claim(w, monitor, "first", 1.0)
        w.execute("UPDATE retrains SET pid = ? WHERE id = ?", (dead.pid, first.retrain.id))
    with project.write() as w:
        second = retrain.claim(w, monitor, "second", 2.0)
    assert second.retrain is not None
    old = retrain.get_retrain(project, first.retrain.id)
    assert old.status == "failed" and "is gone" in old.message
    assert any(e.details["retrain_id"] == old.id for e in audit.list_entries(project, action="retrain.failed"))


def _check_process(path, env):
    return subprocess.Popen([sys.executable, "-m", "modeldesk", "--project", str(path), "monitor", "check",
                             "--format", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_check_processes_at_once_start_one_retrain(watched):
    import json

    project, _, folder = watched
    sleeper = RETRAIN_SCRIPT   # waits for the file RETRAIN_GATE: the retrain runs until the test lets it end
    gate = folder / "go"
    # yesterday's traffic, drifted: the checks run at the real time, over the last two days
    import time

    from core.monitoring.logged_predictions import DAY0, log_day
    log_day(project, "models:/cancer/1", int((time.time() - DAY0) // 86400) - 1, shifted=True)
    mon.set_monitor(project, "drift", "cancer", window="2d", thresholds=mon.make_thresholds(drift_share=0.5),
                    retrain=write_script(folder, "retrain.py", sleeper), actor="ana")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(APP), RETRAIN_GATE=str(gate), MODELDESK_USER="ci")
    procs = [_check_process(project.path, env) for _ in range(2)]
    try:
        outs = [p.communicate(timeout=180) for p in procs]
        assert [p.returncode for p in procs] == [1, 1], [o[1] for o in outs]
        results = [json.loads(o[0])["monitors"][0] for o in outs]
        assert all(r["state"] == "firing" for r in results)
        started = [r for r in results if r["retrain"] and r["retrain"]["started"]]
        assert len(started) == 1
        assert project.read("SELECT COUNT(*) FROM retrains")[0][0] == 1
        assert project.read("SELECT COUNT(*) FROM monitor_alerts")[0][0] == 1
        # while it runs, a new alert does not start it twice
        from modeldesk.core.monitoring import alerts

        alerts.acknowledge(project, started[0]["alert_id"], actor="ben")
        third = checks.check(project)[0]
        assert third.new_alert and third.retrain["started"] is False and "still running" in third.retrain["message"]
    finally:
        gate.write_text("go")     # let the retrain end, whatever happened above
    r = retrain.wait_for(project, started[0]["retrain"]["id"], timeout=180)
    assert r.status == "done", r.output
    assert project.read("SELECT COUNT(*) FROM retrains")[0][0] == 1


def test_retrain_every_starts_a_scheduled_retrain_once_per_period(watched):
    project, _, _ = watched
    m = mon.set_monitor(project, "weekly", "cancer", retrain=f'"{sys.executable}" -c "print(1)"',
                        retrain_every="7d", actor="ana")
    assert not retrain.schedule_due(m, m.created_at + 86400)
    (r,) = checks.check(project, "weekly", now=m.created_at + 7 * 86400, wait=True)
    assert r.state == "ok" and r.retrain["started"] and r.retrain["reason"].startswith("scheduled")
    (r,) = checks.check(project, "weekly", now=m.created_at + 8 * 86400, wait=True)
    assert r.retrain is None
    assert len(retrain.list_retrains(project, "weekly")) == 1


def test_only_the_end_of_a_long_output_is_kept(watched, monkeypatch):
    project, _, _ = watched
    monkeypatch.setattr(retrain, "MAX_OUTPUT", 1000)
    drift_monitor(project, f'"{sys.executable}" -c "print(\'x\' * 5000); print(\'the end\')"')
    (result,) = checks.check(project, now=END, wait=True)
    r = retrain.get_retrain(project, result.retrain["id"])
    assert len(r.output) == 1000 and r.output.rstrip().endswith("the end")


def test_a_frozen_app_runs_the_retrain_through_its_own_hidden_command(watched, monkeypatch, capsys):
    from pathlib import Path

    from modeldesk.cli import main

    project, _, _ = watched
    monitor = drift_monitor(project, f'"{sys.executable}" -c "print(7)"')
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert retrain.runner_command(Path("/p/x.mdesk"), "abc") == [
        sys.executable, "--project", "/p/x.mdesk", "monitor", "run-retrain", "abc"]
    monkeypatch.delattr(sys, "frozen")
    with project.write() as w:
        claim = retrain.claim(w, monitor, "by hand", 1.0)
    with pytest.raises(SystemExit) as exit_:
        main(["--project", str(project.path), "monitor", "run-retrain", claim.retrain.id[:10]])
    assert exit_.value.code == 1         # the command logged no model: failed, and said so
    assert "failed" in capsys.readouterr().out
    assert retrain.get_retrain(project, claim.retrain.id).output.strip() == "7"

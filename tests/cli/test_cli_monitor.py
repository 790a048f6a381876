"""`modeldesk monitor set|list|remove|check|alerts|ack|retrains|output`: exit codes, table and JSON."""

from __future__ import annotations

import json
import sys

import pytest
from core.monitoring.monitored import FAILING_SCRIPT, log_yesterday, production, write_script

from modeldesk.core import audit
from support.cli import run_cli


@pytest.fixture
def served(md, project_path):
    uri = production(md)
    md.flush()
    return project_path, md.get_project(), uri


def run(capsys, path, *args):
    return run_cli(capsys, "--project", path, *args)


def test_set_list_remove_with_as(served, capsys):
    path, project, _ = served
    code, out, err = run(capsys, path, "monitor", "set", "cancer", "--drift-share", "0.5", "--window", "2d",
                         "--p99-ms", "250", "--as", "ana")
    assert code == 0, err
    assert "Monitor cancer watches cancer@production over the last 2d: drift share >= 0.5; p99 > 250 ms" in out
    assert "Owner: ana" in out
    code, out, _ = run(capsys, path, "monitor", "list")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["name", "watches", "window"]
    assert "cancer@production" in out and "never" in out
    code, out, _ = run(capsys, path, "monitor", "list", "--format", "json")
    (m,) = json.loads(out)
    assert m["owner"] == "ana" and m["thresholds"]["drift_share"] == 0.5 and m["alias"] == "production"
    code, out, _ = run(capsys, path, "--as", "ben", "monitor", "remove", "cancer")
    assert code == 0 and "Removed monitor cancer" in out
    assert audit.list_entries(project, action="monitor.remove")[-1].actor == "ben"
    code, out, _ = run(capsys, path, "monitor", "list")
    assert "No monitors yet" in out


def test_bad_usage_exits_2_with_a_message(served, capsys):
    path, _, _ = served
    code, _, err = run(capsys, path, "monitor", "set", "cancer")
    assert code == 2 and "nothing to watch" in err and "Traceback" not in err
    code, _, err = run(capsys, path, "monitor", "set", "cancer", "--metric", "accuracy")
    assert code == 2 and "--min" in err
    code, _, err = run(capsys, path, "monitor", "check", "nope")
    assert code == 2 and "No monitor named 'nope'" in err


def test_check_exits_1_when_a_monitor_fires_with_json(served, capsys):
    path, project, _ = served
    log_yesterday(project, shifted=True)
    run(capsys, path, "monitor", "set", "cancer", "--drift-share", "0.5", "--window", "2d")
    run(capsys, path, "monitor", "set", "latency", "--model", "cancer", "--p99-ms", "100", "--window", "2d")
    code, out, err = run(capsys, path, "monitor", "check", "--format", "json")
    assert code == 1, err
    data = json.loads(out)
    assert data["firing"] is True
    by = {m["monitor"]: m for m in data["monitors"]}
    assert by["cancer"]["state"] == "firing" and by["cancer"]["figures"][0]["crossed"]
    assert by["cancer"]["alert_id"] is not None and by["cancer"]["version"] == 1
    assert by["latency"]["state"] == "ok" and by["latency"]["figures"][0]["value"] == 1.0
    code, out, _ = run(capsys, path, "monitor", "check", "latency")
    assert code == 0 and out.startswith("OK") and "p99 latency (ms): 1 (threshold 100)" in out
    code, out, _ = run(capsys, path, "monitor", "check", "cancer")
    assert code == 1 and out.startswith("FIRING") and "CROSSED" in out and "(still open)" in out
    code, out, _ = run(capsys, path, "monitor", "alerts", "--open", "--format", "json")
    (alert,) = json.loads(out)
    code, out, _ = run(capsys, path, "monitor", "ack", alert["id"], "--as", "ben")
    assert code == 0 and "acknowledged by ben" in out
    code, out, _ = run(capsys, path, "monitor", "alerts", "--open")
    assert "No alerts." in out


def test_check_exits_0_when_nothing_fires(served, capsys):
    path, project, _ = served
    log_yesterday(project, shifted=False)
    run(capsys, path, "monitor", "set", "cancer", "--drift-share", "0.5", "--window", "2d",
        "--error-rate", "0.01")
    code, out, err = run(capsys, path, "monitor", "check", "--format", "json")
    assert code == 0, err
    (m,) = json.loads(out)["monitors"]
    assert m["state"] == "ok" and not m["figures"][0]["crossed"]
    assert m["figures"][1]["note"] == "0 of 150 requests failed" and m["figures"][1]["value"] == 0.0


def test_a_failing_retrain_is_listed_and_its_output_viewable(served, capsys, tmp_path):
    path, project, _ = served
    log_yesterday(project, shifted=True)
    command = write_script(tmp_path, "broken.py", FAILING_SCRIPT)
    run(capsys, path, "monitor", "set", "cancer", "--drift-share", "0.5", "--window", "2d", "--retrain", command)
    code, out, _ = run(capsys, path, "monitor", "check", "--wait")
    assert code == 1 and "retrain: the command exited with code 3" in out
    code, out, _ = run(capsys, path, "monitor", "retrains", "--format", "json")
    (r,) = json.loads(out)
    assert r["status"] == "failed" and r["exit_code"] == 3 and "the labels file is missing" in r["last_lines"]
    code, out, err = run(capsys, path, "monitor", "output", r["id"][:8])
    assert code == 0 and "loading the new labels" in out and "failed" in err


def test_retrain_every_needs_a_command(served, capsys):
    path, _, _ = served
    code, _, err = run(capsys, path, "monitor", "set", "cancer", "--retrain-every", "7d")
    assert code == 2 and "--retrain" in err
    code, out, err = run(capsys, path, "monitor", "set", "cancer", "--retrain-every", "7d",
                         "--retrain", f'"{sys.executable}" -c "pass"')
    assert code == 0, err
    assert "(and every 7d)" in out

"""`modeldesk predictions health`: serving health per window as a table, CSV or JSON; --max-error-rate for CI."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from core.monitoring.logged_predictions import DAY0, day, log_failures, log_requests, register

from modeldesk.core.monitoring.serving_health import FIELDS
from modeldesk.core.text import fmt_time, iso_time
from support.cli import run_cli


@pytest.fixture
def served(md, project_path):
    """cancer v1: day 0 100 requests of 3 rows (1..100 ms) and 25 failures, day 2 ten requests (5 ms),
    day 3 only 4 failures; another model's traffic beside it."""
    uri = register(md)
    other = register(md, "other")
    project = md.get_project()
    log_requests(project, uri, 0, np.arange(1, 101), rows=3)
    log_failures(project, uri, 0, 25)
    log_requests(project, uri, 2, [5.0] * 10)
    log_failures(project, uri, 3, 4)
    log_requests(project, other, 3, [50.0] * 7)
    log_failures(project, other, 2, 9)
    return project_path, uri


def run(capsys, path, *args):
    return run_cli(capsys, "--project", path, "predictions", "health", *args)


def test_table_has_one_line_per_window_with_traffic(served, capsys):
    path, uri = served
    code, out, err = run(capsys, path, uri)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["window_start", "requests", "rows", "failed", "error_rate", "p50_ms", "p99_ms"]
    assert len(lines) == 1 + 3 + 1                       # days 0, 2 and 3; day 1 saw nothing
    assert lines[1].startswith(fmt_time(DAY0, "min"))
    p50, p99 = np.percentile(np.arange(1, 101), [50, 99])
    assert lines[1].split()[-5:] == ["300", "25", "20.0%", f"{p50:.1f}", f"{p99:.1f}"]
    assert lines[2].startswith(fmt_time(DAY0 + 2 * 86400, "min"))
    assert lines[2].split()[-6:] == ["10", "10", "0", "0.0%", "5.0", "5.0"]
    assert lines[3].split()[-6:] == ["0", "0", "4", "100.0%", "-", "-"]    # every request failed: no latency
    assert lines[-1] == ("3 window(s): 110 requests answered, 29 failed (error rate 20.9%); "
                         "the last window's error rate is 100.0%.")


def test_hour_windows_in_a_period(served, capsys):
    path, uri = served
    code, out, _ = run(capsys, path, uri, "--every", "1h", "--since", day(0).isoformat(), "--until",
                       day(1).isoformat())
    lines = out.splitlines()
    assert code == 0 and len(lines) == 1 + 2 + 1
    assert lines[1].startswith(fmt_time(DAY0 + 3600, "min")) and lines[1].split()[-6:-2] == ["100", "300", "0",
                                                                                             "0.0%"]
    assert lines[2].startswith(fmt_time(DAY0 + 2 * 3600, "min")) and lines[2].split()[-6:] == [
        "0", "0", "25", "100.0%", "-", "-"]


def test_csv_has_the_core_fields_with_iso_times(served, capsys):
    path, uri = served
    code, out, err = run(capsys, path, uri, "--format", "csv")
    assert code == 0 and err == ""
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns) == list(FIELDS)
    assert frame["window_start"].tolist() == [iso_time(DAY0 + d * 86400) for d in (0, 2, 3)]
    assert frame["window_end"].tolist() == [iso_time(DAY0 + d * 86400) for d in (1, 3, 4)]
    assert frame["requests"].tolist() == [100, 10, 0] and frame["failed"].tolist() == [25, 0, 4]
    assert frame["error_rate"].tolist() == pytest.approx([0.2, 0.0, 1.0])
    assert np.isnan(frame["p50_ms"].iloc[2])             # an empty cell, not 0


def test_json_shape(served, capsys):
    path, uri = served
    code, out, _ = run(capsys, path, uri, "--every", "1d", "--since", day(0).isoformat(), "--format", "json")
    body = json.loads(out)
    assert code == 0
    assert set(body) == {"model", "every", "since", "until", "max_error_rate", "exceeded", "windows"}
    assert body["model"] == uri and body["every"] == "1d" and body["exceeded"] is False
    assert [set(w) for w in body["windows"]] == [set(FIELDS)] * 3
    first, last = body["windows"][0], body["windows"][-1]
    assert first["window_start"] == iso_time(DAY0) and first["window_end"] == iso_time(DAY0 + 86400)
    assert (first["requests"], first["rows"], first["failed"], first["error_rate"]) == (100, 300, 25, 0.2)
    assert first["p99_ms"] == pytest.approx(np.percentile(np.arange(1, 101), 99))
    assert last["p50_ms"] is None and last["p99_ms"] is None and last["error_rate"] == 1.0


def test_max_error_rate_fails_when_the_last_window_is_above_it(served, capsys):
    path, uri = served
    code, out, err = run(capsys, path, uri, "--max-error-rate", "0.5")
    assert code == 1
    assert len(out.splitlines()) == 5                      # the table is still printed
    assert err == "The last window's error rate, 100.0%, is above --max-error-rate 0.5.\n"
    # up to day 3, the last window is day 2: no failure
    assert run(capsys, path, uri, "--max-error-rate", "0", "--until", day(3).isoformat())[0] == 0
    # day 0 alone: 25 of 125 requests failed, exactly 0.2 is not above 0.2
    assert run(capsys, path, uri, "--max-error-rate", "0.2", "--until", day(1).isoformat())[0] == 0
    assert run(capsys, path, uri, "--max-error-rate", "0.19", "--until", day(1).isoformat())[0] == 1
    code, out, err = run(capsys, path, uri, "--max-error-rate", "0.5", "--format", "json")
    body = json.loads(out)
    assert code == 1 and body["exceeded"] is True and body["max_error_rate"] == 0.5 and "above" in err
    code, out, err = run(capsys, path, uri, "--max-error-rate", "0.5", "--format", "csv")
    assert code == 1 and out.startswith("window_start,") and "above" in err


def test_an_empty_period_says_so_and_exits_0(served, capsys):
    path, uri = served
    later = day(20).isoformat()
    code, out, err = run(capsys, path, uri, "--since", later, "--max-error-rate", "0")
    assert code == 0 and err == ""
    assert out.startswith(f"No requests to {uri} were logged since {fmt_time(day(20))}, answered or failed")
    assert f"modeldesk serve {uri}" in out and len(out.splitlines()) == 1
    code, out, err = run(capsys, path, uri, "--since", later, "--format", "json")
    assert code == 0 and json.loads(out)["windows"] == [] and "No requests" in err
    code, out, err = run(capsys, path, uri, "--since", later, "--format", "csv")
    assert code == 0 and out.strip() == ",".join(FIELDS) and "No requests" in err


def test_a_model_never_served_says_so(md, project_path, capsys):
    uri = register(md, "quiet")
    code, out, _ = run(capsys, project_path, uri)
    assert code == 0 and out.startswith(f"No requests to {uri} were logged yet")


@pytest.mark.parametrize("args, says", [
    (["--every", "500"], "Serving health needs a time window such as 1h or 1d, not every 500 predictions"),
    (["--every", "fortnight"], "is not a window"),
    (["--since", "last tuesday"], "is not a time"),
    (["--since", "2026-01-05", "--until", "2026-01-02"], "must be before until"),
    (["--max-error-rate", "5%"], "'5%' is not a valid float"),
    (["--max-error-rate", "1.5"], "1.5 is not in the range 0<=x<=1"),
    (["--format", "xml"], "'xml' is not one of"),
])
def test_bad_usage_exits_2_with_one_line(served, capsys, args, says):
    path, uri = served
    code, out, err = run(capsys, path, uri, *args)
    assert code == 2 and out == ""
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("uri, says", [
    ("models:/nobody/1", "nobody"),
    ("cancer/7", "7"),
    ("runs:/0000000000/model", "No run with id '0000000000'"),
    ("churn@production", "No registered model 'churn'"),
    ("cancer@@production", "cancer"),
    ("cancer@production", "production"),
])
def test_an_unknown_model_exits_2_with_what_is_wrong(served, capsys, uri, says):
    path, _ = served
    code, out, err = run(capsys, path, uri)
    assert code == 2 and out == ""
    first, *rest = err.strip().splitlines()
    assert first.startswith("Error: ") and says in first and "Traceback" not in err
    assert rest in ([], ["  List runs with: modeldesk runs list"])     # at most the core hint's command


def test_requests_through_the_real_server_are_counted(md, project_path, capsys):
    """What a `modeldesk serve` app answers and refuses lands in the health figures, for its version only."""
    from modeldesk.server.app import create_app
    from support.data import breast_cancer

    uri = register(md)
    X, _ = breast_cancer()
    app = create_app(project_path, uri, reload_interval=0)
    client = app.test_client()
    answers = [client.post("/predict", json={"records": X.iloc[k:k + 2].to_dict(orient="records")}).status_code
               for k in range(3)]
    answers += [client.post("/predict", json={"records": [{"x": 1}]}).status_code,
                client.post("/predict", data=b"{not json", content_type="application/json").status_code]
    app.extensions["modeldesk"].close()                  # writes what the log's thread still holds
    assert answers == [200, 200, 200, 400, 400]
    code, out, _ = run(capsys, project_path, uri, "--since", "1d", "--format", "json", "--max-error-rate", "0.5")
    windows = json.loads(out)["windows"]
    assert code == 0 and len(windows) == 1
    w = windows[0]
    assert (w["requests"], w["rows"], w["failed"]) == (3, 6, 2) and w["error_rate"] == pytest.approx(0.4)
    assert 0 <= w["p50_ms"] <= w["p99_ms"]
    code, _, err = run(capsys, project_path, uri, "--since", "1d", "--max-error-rate", "0.3")
    assert code == 1 and "40.0%" in err

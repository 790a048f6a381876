"""Failed /predict and /invocations requests are logged (off the request thread) for the error rate."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from modeldesk.core.serving.prediction_failures import FailedRequest
from modeldesk.core.serving.prediction_log import PredictionLog
from modeldesk.core.storage.project import open_project


def records(X, n=1, start=0):
    return X.iloc[start:start + n].to_dict(orient="records")


def _failures(path) -> list[tuple]:
    with open_project(path) as p:
        return p.read("SELECT status, code, run_id, artifact, latency_ms FROM prediction_failures ORDER BY id")


def test_error_answers_are_logged_with_status_code_and_model(make_app, logged, project_path):
    app = make_app(max_rows=5)
    client = app.test_client()
    sent = []
    for call in (lambda: client.post("/predict", json={"records": records(logged.X, 2)}),
                 lambda: client.post("/predict", json={"records": [{"x": 1}]}),
                 lambda: client.post("/predict", data=b"{not json", content_type="application/json"),
                 lambda: client.post("/predict", json={"records": records(logged.X, 6)}),
                 lambda: client.get("/predict"),
                 lambda: client.post("/invocations", json={"nonsense": 1}),
                 lambda: client.get("/health"),
                 lambda: client.get("/nowhere")):       # not a prediction endpoint: not a failed request
        response = call()
        sent.append((response.status_code, (response.get_json() or {}).get("error", {}).get("code")))
    assert [s[0] for s in sent] == [200, 400, 400, 413, 405, 400, 200, 404]
    app.extensions["modeldesk"].close()                         # flushes the log
    got = _failures(project_path)
    assert [r[:2] for r in got] == [s for s in sent[1:6]]
    assert {(r[2], r[3]) for r in got} == {(logged.run_id, "model")}
    assert all(r[4] >= 0 for r in got)
    with open_project(project_path) as p:
        assert p.read("SELECT COUNT(*) FROM prediction_requests")[0][0] == 1   # only the answered one


def test_codes_are_the_ones_sent(make_app, logged, project_path):
    app = make_app()
    client = app.test_client()
    body = client.post("/predict", json={"records": [{"x": 1}]}).get_json()
    app.extensions["modeldesk"].close()
    assert _failures(project_path)[0][1] == body["error"]["code"]


def test_a_token_refusal_is_a_failed_request(make_app, logged, project_path):
    app = make_app(token="s3cret")
    client = app.test_client()
    assert client.post("/predict", json={"records": records(logged.X, 1)}).status_code == 401
    assert client.post("/predict", json={"records": records(logged.X, 1)},
                       headers={"Authorization": "Bearer s3cret"}).status_code == 200
    app.extensions["modeldesk"].close()
    assert [r[:2] for r in _failures(project_path)] == [(401, "unauthorized")]


def test_no_log_records_no_failures(make_app, logged, project_path):
    app = make_app(log_predictions=False)
    app.test_client().post("/predict", json={"records": [{"x": 1}]})
    app.extensions["modeldesk"].close()
    assert _failures(project_path) == []


def test_the_request_thread_never_writes(make_app, logged, project_path, monkeypatch):
    """Recording a failure only queues it: the write happens on the log's own thread."""
    from modeldesk.core.serving import prediction_failures

    writers = []
    real = prediction_failures.write_failures

    def spy(project, failures):
        writers.append(threading.current_thread().name)
        return real(project, failures)

    monkeypatch.setattr(prediction_failures, "write_failures", spy)
    app = make_app()
    app.test_client().post("/predict", json={"records": [{"x": 1}]})
    app.extensions["modeldesk"].close()
    assert writers and set(writers) == {"modeldesk-prediction-log"}


def test_a_failed_write_keeps_failures_once(project, logged):
    """A disk error after the failures were written re-queues only the answered entries: no duplicates."""
    from modeldesk.core.serving import prediction_log
    from modeldesk.core.serving.served_model import load_served

    served = load_served(project, logged.uri)
    log = PredictionLog(project, autostart=False)
    calls = []

    def broken(*a, **k):
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("disk I/O error")
        return real(*a, **k)

    real = prediction_log.write_predictions
    prediction_log.write_predictions = broken
    try:
        log.submit(prediction_log.LogEntry("r1", 1.0, served, logged.X.iloc[:1], [0], 1.0))
        log.submit(FailedRequest(2.0, served, 400, "bad_request", 0.5))
        batch = list(log._queue)
        assert log._write(batch) is False
        assert batch and all(not isinstance(e, FailedRequest) for e in batch)   # what goes back in the queue
        assert log._write(batch) is True
    finally:
        prediction_log.write_predictions = real
    assert project.read("SELECT COUNT(*) FROM prediction_failures")[0][0] == 1
    assert project.read("SELECT COUNT(*) FROM prediction_requests")[0][0] == 1
    assert log.stats.written_failures == 1 and log.stats.written_requests == 1


@pytest.mark.parametrize("n", [3])
def test_failures_weigh_in_the_bounded_queue(project, logged, n):
    from modeldesk.core.serving.served_model import load_served

    served = load_served(project, logged.uri)
    log = PredictionLog(project, autostart=False, capacity_rows=n)
    for i in range(n + 2):
        log.submit(FailedRequest(float(i), served, 400, "bad_request", 0.5))
    assert log.stats.pending_rows == n and log.stats.dropped_requests == 2


def test_retention_days_and_prune_apply_to_failed_requests(project, logged, md):
    """Failed requests do not pile up forever: the days rules and prune by age delete them too."""
    from modeldesk.core import clock
    from modeldesk.core.serving.prediction_failures import write_failures
    from modeldesk.core.serving.prediction_retention import apply_retention, prune_predictions, set_retention
    from modeldesk.core.serving.served_model import load_served

    md.register_model(logged.uri, "cancer")
    served = load_served(project, "models:/cancer/1")
    now = clock.now()
    write_failures(project, [FailedRequest(now - 10 * 86400, served, 400, "bad_request", 1.0),
                             FailedRequest(now - 3 * 86400, served, 400, "bad_request", 1.0),
                             FailedRequest(now - 60, served, 400, "bad_request", 1.0)])

    def ages() -> list[int]:
        return [round((now - r[0]) / 86400) for r in project.read("SELECT time FROM prediction_failures ORDER BY time")]

    set_retention(project, days=7)
    apply_retention(project)
    assert ages() == [3, 0]
    set_retention(project, days=2, model="cancer")          # the model's own rule wins for its failures
    apply_retention(project)
    assert ages() == [0]
    prune_predictions(project, older_than="30s", model="other")
    assert ages() == [0]                                     # another model's prune leaves them
    prune_predictions(project, older_than="30s", model="cancer")
    assert ages() == []

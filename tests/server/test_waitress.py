"""A real waitress server on 127.0.0.1, port 0: requests, logging, clean stop, version switches.

Every endpoint and format over waitress: test_waitress_formats.py."""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import threading
import time

import pytest

from modeldesk.core.serving.metrics_text import parse_metrics
from modeldesk.core.serving.prediction_log import get_predictions
from modeldesk.core.storage.project import open_project
from modeldesk.server.app import create_app
from modeldesk.server.runner import ServerHandle, is_loopback
from support.http import http_call
from support.registry import fitted_logreg, log_run

pytestmark = pytest.mark.timeout(120)


def _records(X, n=1, start=0):
    return [{k: float(v) for k, v in r.items()} for r in X.iloc[start:start + n].to_dict("records")]


class Client:
    """A keep-alive HTTP client (one per thread)."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body=None, headers=None):
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        hdrs.update(headers or {})
        self.conn.request(method, path, data, hdrs)
        resp = self.conn.getresponse()
        raw = resp.read()
        return resp.status, json.loads(raw) if raw[:1] in (b"{", b"[") else raw

    def close(self):
        self.conn.close()


def _threads() -> set[int]:
    return {t.ident for t in threading.enumerate()}


def _wait_threads_gone(before: set[int], timeout: float = 5.0) -> set:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        extra = {t for t in threading.enumerate() if t.ident not in before}
        if not extra:
            return set()
        time.sleep(0.02)
    return {t.name for t in threading.enumerate() if t.ident not in before}


def _port_closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_requests_logging_and_clean_stop(logged, project_path):
    before = _threads()
    app = create_app(logged.path, logged.uri, reload_interval=0.2)
    handle = ServerHandle(app, port=0, threads=4).start()
    port = handle.port
    assert port > 0 and handle.url == f"http://127.0.0.1:{port}"
    answered: list[str] = []
    errors: list = []

    def worker(k: int) -> None:
        client = Client(port)
        try:
            for i in range(25):
                status, body = client.call("POST", "/predict", {"records": _records(logged.X, 1, start=k * 25 + i)})
                if status != 200:
                    errors.append((status, body))
                else:
                    answered.append(body["request_id"])
        except Exception as exc:   # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            client.close()

    workers = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    client = Client(port)
    status, health = client.call("GET", "/health")
    assert status == 200 and health["status"] == "ok"
    status, body = client.call("POST", "/invocations", {"dataframe_records": _records(logged.X, 3)})
    assert status == 200 and body == {"predictions": logged.model.predict(logged.X.iloc[:3]).tolist()}
    status, body = client.call("POST", "/predict", {"records": _records(logged.X, 300)})   # on the batch thread
    assert status == 200 and body["predictions"] == logged.model.predict(logged.X.iloc[:300]).tolist()
    client.close()
    assert not errors and len(answered) == 100
    handle.stop()
    assert _wait_threads_gone(before) == set(), "threads left running after stop"
    assert _port_closed(port)
    with socket.socket() as s:   # the port can be bound again
        s.bind(("127.0.0.1", port))
    with open_project(project_path) as p:
        df = get_predictions(p, logged.uri)
        events = [r[0] for r in p.read("SELECT event FROM serving_events ORDER BY id")]
        audit = [r[0] for r in p.read("SELECT action FROM audit_log WHERE action LIKE 'serving.%' ORDER BY seq")]
    assert len(df) == 403 and set(answered) <= set(df["request_id"])
    assert events == ["start", "stop"] and audit == ["serving.start", "serving.stop"]


def test_stop_finishes_requests_in_flight(logged, project_path):
    app = create_app(logged.path, logged.uri, reload_interval=0)
    handle = ServerHandle(app, port=0, threads=2).start()
    results: list = []
    stop_at = threading.Event()

    def worker() -> None:
        client = Client(handle.port)
        try:
            while True:
                status, _ = client.call("POST", "/predict", {"records": _records(logged.X, 200)})
                results.append(status)
                stop_at.set()
        except (OSError, http.client.HTTPException):
            pass   # the connection closes once the server has stopped
        finally:
            client.close()

    t = threading.Thread(target=worker)
    t.start()
    stop_at.wait(10)
    handle.stop()
    t.join(10)
    assert results and set(results) == {200}
    with open_project(project_path) as p:
        n = p.read("SELECT COUNT(*) FROM predictions")[0][0]
    assert n == 200 * len(results)   # every answered request was logged, none half-written


def test_waitress_level_errors_are_json(logged):
    app = create_app(logged.path, logged.uri, reload_interval=0, max_body=10_000)
    with ServerHandle(app, port=0, threads=2) as handle:
        with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 50000000\r\n\r\n{")
            raw = _read_all(s)
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413") and b"application/json" in head
        assert json.loads(body)["error"]["code"] == "body_too_large"
        for raw, code in ((b"GARBAGE\r\n\r\n", b"bad_request"),
                          (b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                           b"bad_request")):
            with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as s:
                s.sendall(raw)
                head, _, body = _read_all(s).partition(b"\r\n\r\n")
            assert b" 400 " in head.split(b"\r\n")[0] and json.loads(body)["error"]["code"] == code.decode()
        client = Client(handle.port)   # a body just over the limit, sent in full, is refused the same way
        status, body = client.call("POST", "/predict", {"records": _records(logged.X, 60)})
        assert status == 413 and body["error"]["code"] == "body_too_large"
        status, text = client.call("GET", "/metrics")   # waitress answered those, yet /metrics counts them
        client.close()
        assert status == 200
        samples = parse_metrics(text.decode())
        assert samples['modeldesk_requests_total{endpoint="/predict",method="POST",status="413"}'] == 2
        assert samples['modeldesk_request_errors_total{code="body_too_large",endpoint="/predict"}'] == 2
        assert samples['modeldesk_requests_total{endpoint="/predict",method="POST",status="400"}'] == 1
        assert samples['modeldesk_request_errors_total{code="bad_request",endpoint="/predict"}'] == 1
        assert samples['modeldesk_request_errors_total{code="bad_request",endpoint="other"}'] == 1   # GARBAGE
        assert samples["modeldesk_last_error_timestamp_seconds"] > 0


def test_oversize_body_is_counted_in_metrics(logged):
    app = create_app(logged.path, logged.uri, reload_interval=0, max_body=10_000)
    with ServerHandle(app, port=0, threads=2) as handle:
        status, _, raw = http_call(handle.port, "POST", "/invocations", {"dataframe_records": _records(logged.X, 60)})
        assert status == 413 and json.loads(raw)["error"]["code"] == "body_too_large"
        status, _, raw = http_call(handle.port, "GET", "/metrics")
    samples = parse_metrics(raw.decode())
    assert samples['modeldesk_requests_total{endpoint="/invocations",method="POST",status="413"}'] == 1
    assert samples['modeldesk_request_errors_total{code="body_too_large",endpoint="/invocations"}'] == 1
    assert samples['modeldesk_request_duration_seconds_count{endpoint="/invocations"}'] == 1


def test_ping_and_version_over_waitress_with_a_token(logged):
    import modeldesk

    app = create_app(logged.path, logged.uri, reload_interval=0, token="tok-123")
    with ServerHandle(app, port=0, threads=2) as handle:
        assert http_call(handle.port, "GET", "/ping")[::2] == (200, b"\n")   # open, like /health
        status, _, raw = http_call(handle.port, "GET", "/version")
        assert status == 401 and json.loads(raw)["error"]["code"] == "unauthorized"
        status, headers, raw = http_call(handle.port, "GET", "/version", headers={"Authorization": "Bearer tok-123"})
        assert status == 200 and headers["content-type"].startswith("application/json")
        assert json.loads(raw) == {"name": "modeldesk", "version": modeldesk.__version__}


def _read_all(s: socket.socket) -> bytes:
    chunks = []
    while True:
        data = s.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def test_loopback_rules():
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.20") and not is_loopback("::")


# -- switching versions under load ------------------------------------------------------------------
def _hammer(port: int, X, stop: threading.Event, seen: list, errors: list) -> None:
    client = Client(port)
    i = 0
    try:
        while not stop.is_set():
            status, body = client.call("POST", "/predict", {"records": _records(X, 1, start=i % 500)})
            i += 1
            if status != 200:
                errors.append((status, body))
            else:
                seen.append((body["request_id"], body["version"], body["run_id"], body["predictions"][0],
                             (i - 1) % 500, threading.get_ident()))
    except Exception as exc:   # noqa: BLE001 - a dropped request fails the test
        errors.append(repr(exc))
    finally:
        client.close()


def _wait_for(predicate, timeout: float = 10.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def _under_load(logged, uri: str, steps) -> tuple[list, list, "ServerHandle"]:
    """Serve ``uri`` with 4 busy clients while each step() runs; returns (answers, errors)."""
    app = create_app(logged.path, uri, reload_interval=0.25)
    handle = ServerHandle(app, port=0, threads=4).start()
    stop = threading.Event()
    seen: list = []
    errors: list = []
    clients = [threading.Thread(target=_hammer, args=(handle.port, logged.X, stop, seen, errors)) for _ in range(4)]
    for c in clients:
        c.start()
    try:
        for step in steps:
            step(handle, seen)
    finally:
        stop.set()
        for c in clients:
            c.join(30)
        handle.stop()
    return seen, errors, handle


def test_switch_of_a_runs_uri_under_load_drops_nothing(md, logged, project_path):
    """Logging another model under the same run and name: the server picks up the new bytes."""
    flipped = fitted_logreg(y=1 - logged.y)   # predicts the opposite class: easy to tell apart
    with open_project(project_path) as p:
        old_sha = p.read("SELECT sha256 FROM logged_models")[0][0]

    def relog(handle, seen):
        _wait_for(lambda: len(seen) > 50)
        with md.start_run(run_id=logged.run_id):
            md.log_model(flipped, input_example=logged.X.iloc[:5])
        md.flush()
        waited = _wait_for(lambda: handle.state.current.sha256 != old_sha)
        assert waited < 5
        n = len(seen)
        _wait_for(lambda: len(seen) > n + 50)

    seen, errors, handle = _under_load(logged, logged.uri, [relog])
    assert errors == []
    old = logged.model.predict(logged.X.iloc[:500])
    new = flipped.predict(logged.X.iloc[:500])
    by_old = sum(s[3] == old[s[4]] for s in seen)
    by_new = sum(s[3] == new[s[4]] for s in seen)
    assert by_old > 50 and by_new > 50 and by_old + by_new == len(seen)
    with open_project(project_path) as p:
        df = get_predictions(p, logged.uri)
        shas = set(r[0] for r in p.read("SELECT DISTINCT sha256 FROM predictions"))
        events = [r[0] for r in p.read("SELECT event FROM serving_events ORDER BY id")]
    assert len(df) == len(seen) and set(df["request_id"]) == {s[0] for s in seen}
    assert len(shas) == 2 and events == ["start", "switch", "stop"]


def test_production_alias_moves_under_load_without_dropping_a_request(md, logged, project_path):
    from modeldesk.core.registry import aliases, approvals
    from modeldesk.core.registry import versions as registry

    second = log_run(md, fitted_logreg(C=0.001), name="weaker", fit=False)
    with open_project(project_path, user="ana") as p:
        registry.register_model(p, logged.uri, "cancer")
        registry.register_model(p, f"runs:/{second}/model", "cancer")

    def promote(version: int) -> None:
        with open_project(project_path, user="ana") as p:
            approvals.request_promotion(p, "cancer", version, actor="ana")
            approvals.approve(p, "cancer", version, actor="ben", comment="ok")

    promote(1)
    timings = []

    def to_v2(handle, seen):
        _wait_for(lambda: len(seen) > 50)
        promote(2)
        timings.append(_wait_for(lambda: seen and seen[-1][1] == 2))
        n = len(seen)
        _wait_for(lambda: len(seen) > n + 50)

    def rollback(handle, seen):
        with open_project(project_path, user="ben") as p:
            aliases.rollback(p, "cancer", reason="test rollback", actor="ben")
        timings.append(_wait_for(lambda: seen and seen[-1][1] == 1))
        n = len(seen)
        _wait_for(lambda: len(seen) > n + 50)

    seen, errors, handle = _under_load(logged, "cancer@production", [to_v2, rollback])
    assert errors == []
    assert all(t < 5 for t in timings), timings
    assert {1, 2} <= {s[1] for s in seen}
    # each client's requests are sequential: v1 ... v2 ... v1, never back and forth
    for client in {s[5] for s in seen}:
        runs = [v for v, _ in itertools.groupby(s[1] for s in seen if s[5] == client)]
        assert runs in ([1, 2, 1], [1, 2], [2, 1], [1], [2]), runs
    with open_project(project_path) as p:
        df = get_predictions(p, "models:/cancer@production")
        audit = [r[0] for r in p.read("SELECT action FROM audit_log WHERE action LIKE 'serving.%' ORDER BY seq")]
    assert len(df) == len(seen)
    by_id = {s[0]: s[1] for s in seen}
    assert all(by_id[r] == v for r, v in zip(df["request_id"], df["version"]))
    assert audit == ["serving.start", "serving.switch", "serving.switch", "serving.stop"]
    health_version = handle.state.current.version
    assert health_version == 1


def test_a_busy_port_leaves_no_thread(logged):
    before = _threads()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        app = create_app(logged.path, logged.uri, reload_interval=0.2)
        with pytest.raises(OSError):
            ServerHandle(app, port=busy.getsockname()[1]).start()
        app.extensions["modeldesk"].close()
    assert _wait_threads_gone(before) == set()


def test_stop_still_completes_when_the_loop_trigger_is_gone(logged, project_path):
    """Seen once: waitress's trigger pipe already closed (EBADF) during a stop. The stop
    then closes from the calling thread: no exception, the stop recorded, nothing left."""
    before = _threads()
    handle = ServerHandle(create_app(logged.path, logged.uri, reload_interval=0), port=0, threads=2).start()
    port = handle.port
    client = Client(port)
    assert client.call("GET", "/health")[0] == 200
    client.close()
    trigger = handle._listeners()[0].trigger

    def broken(thunk=None):
        raise OSError(9, "Bad file descriptor")

    trigger.pull_trigger = broken
    handle.stop()
    assert _port_closed(port) and not _wait_threads_gone(before)
    with open_project(project_path) as p:
        assert [r[0] for r in p.read("SELECT event FROM serving_events ORDER BY id")] == ["start", "stop"]


def test_two_hundred_idle_connections_do_not_lock_others_out(logged):
    """With waitress's defaults, 100 idle sockets made the server unreachable for ~2 minutes."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 512:   # 200 client sockets + 200 server sides: ask for the room this process may have
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 512:
        pytest.skip(f"this machine allows a process only {hard} open files (the test needs 512)")
    app = create_app(logged.path, logged.uri, reload_interval=0)
    idle: list[socket.socket] = []
    try:
        with ServerHandle(app, port=0, threads=2) as handle:
            for _ in range(200):
                idle.append(socket.create_connection(("127.0.0.1", handle.port), timeout=5))
            time.sleep(0.2)                                  # the server has accepted them
            started = time.perf_counter()
            status, _, _ = http_call(handle.port, "GET", "/health")
            assert status == 200 and time.perf_counter() - started < 1.0
    finally:
        for s in idle:
            s.close()

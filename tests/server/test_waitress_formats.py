"""Every endpoint and input format against one real waitress server on 127.0.0.1, port 0.

The server is started once for the module (starting one costs more than all
the requests); each case checks the status, the answer's shape and that the
predictions equal the model's own ``predict`` on the same rows.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from modeldesk.core.serving.metrics_text import parse_metrics
from modeldesk.server.app import create_app
from modeldesk.server.runner import ServerHandle
from support.data import breast_cancer
from support.http import http_call
from support.registry import fitted_logreg, log_run

pytestmark = pytest.mark.timeout(120)

ROWS = slice(10, 15)   # five rows that are not the logged input example


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import modeldesk as md

    path = tmp_path_factory.mktemp("waitress-formats") / "formats.mdesk"
    md.set_project(path)
    X, _ = breast_cancer()
    model = fitted_logreg()
    run_id = log_run(md, model, fit=False)
    uri = f"runs:/{run_id}/model"
    app = create_app(path, uri, reload_interval=0)
    handle = ServerHandle(app, port=0, threads=4).start()
    rows = X.iloc[ROWS]
    try:
        yield SimpleNamespace(port=handle.port, model=model, X=X, rows=rows, uri=uri, run_id=run_id,
                              expected=model.predict(rows).tolist())
    finally:
        handle.stop()


def _records(frame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def _npy(array) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _split(frame) -> dict:
    split = json.loads(frame.to_json(orient="split"))
    split.pop("index")
    return split


# name: (method, path, body builder (rows -> body) or None, content type)
CASES = {
    "GET /health": ("GET", "/health", None, None),
    "GET /ping": ("GET", "/ping", None, None),
    "GET /version": ("GET", "/version", None, None),
    "GET /metadata": ("GET", "/metadata", None, None),
    "GET /metrics": ("GET", "/metrics", None, None),
    "/predict records": ("POST", "/predict", lambda r: {"records": _records(r)}, None),
    "/predict columns+data": ("POST", "/predict", lambda r: _split(r), None),
    "/predict text/csv": ("POST", "/predict", lambda r: r.to_csv(index=False).encode(), "text/csv"),
    "/predict .npy records": ("POST", "/predict", lambda r: _npy(r.to_records(index=False)), "application/x-npy"),
    "/predict .npy 2-D": ("POST", "/predict", lambda r: _npy(r.to_numpy()), "application/x-npy"),
    "/predict?proba=true": ("POST", "/predict?proba=true", lambda r: {"records": _records(r)}, None),
    "/invocations dataframe_split": ("POST", "/invocations", lambda r: {"dataframe_split": _split(r)}, None),
    "/invocations dataframe_records": ("POST", "/invocations", lambda r: {"dataframe_records": _records(r)}, None),
    "/invocations instances": ("POST", "/invocations", lambda r: {"instances": _records(r)}, None),
    "/invocations inputs": ("POST", "/invocations",
                            lambda r: {"inputs": {c: r[c].tolist() for c in r.columns}}, None),
    "/invocations CSV": ("POST", "/invocations", lambda r: r.to_csv(index=False).encode(), "text/csv"),
    "/invocations .npy": ("POST", "/invocations", lambda r: _npy(r.to_records(index=False)), "application/x-npy"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_endpoint_and_format_over_waitress(server, case):
    import modeldesk

    method, path, build, ctype = CASES[case]
    status, headers, raw = http_call(server.port, method, path, build(server.rows) if build else None, ctype)
    assert status == 200, (case, raw[:500])
    endpoint = path.split("?")[0]
    if endpoint == "/ping":
        assert raw == b"\n" and headers["content-type"].startswith("application/json")
        return
    if endpoint == "/metrics":
        assert headers["content-type"].startswith("text/plain")
        text = raw.decode()
        samples = parse_metrics(text)
        assert "# TYPE modeldesk_requests_total counter" in text
        info = [k for k in samples if k.startswith("modeldesk_model_info")]
        assert len(info) == 1 and server.run_id in info[0]
        return
    assert headers["content-type"].startswith("application/json")
    body = json.loads(raw)
    if endpoint == "/health":
        assert body["status"] == "ok" and body["model"] == server.uri and body["run_id"] == server.run_id
    elif endpoint == "/version":
        assert body == {"name": "modeldesk", "version": modeldesk.__version__}
    elif endpoint == "/metadata":
        assert body["run_id"] == server.run_id and body["has_proba"] is True and body["classes"] == [0, 1]
        assert [c["name"] for c in body["signature"]["inputs"]] == list(server.X.columns)
        assert body["limits"]["max_body_bytes"] > 0 and body["prediction_log"] is True
    elif endpoint == "/invocations":
        assert body == {"predictions": server.expected}   # MLflow's answer: nothing else
        assert "x-request-id" in headers
    else:   # /predict
        assert body["predictions"] == server.expected
        assert body["model"] == server.uri and body["run_id"] == server.run_id and body["warnings"] == []
        assert headers["x-request-id"] == body["request_id"]
        if "proba=true" in path:
            assert body["classes"] == [0, 1]
            expected = server.model.predict_proba(server.rows)
            assert len(body["probabilities"]) == len(server.rows)
            for got, want in zip(body["probabilities"], expected.tolist()):
                assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
        else:
            assert "probabilities" not in body

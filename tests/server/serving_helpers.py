"""Helpers for serving tests (a module name of its own: `conftest` is taken by tests/)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=None)
def cancer_data():
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    return bunch.data, bunch.target


def fit_pipeline(C: float = 1.0, y=None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, target = cancer_data()
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=C, max_iter=2000))]).fit(
        X, target if y is None else y)


def log_pipeline(md, model, name: str = "cancer"):
    X, _ = cancer_data()
    with md.start_run(name=name) as run:
        md.log_model(model, input_example=X.iloc[:5])
    md.flush()
    return run.id


def http_call(port: int, method: str, path: str, body=None, content_type: str | None = None, headers=None):
    """One request to a real server on 127.0.0.1: (status, headers as a lower-cased dict, raw body)."""
    import http.client
    import json

    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    hdrs = {"Content-Type": content_type or "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, data, hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()

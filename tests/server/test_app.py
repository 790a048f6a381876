"""The serving app through Flask's test client: endpoints, formats, errors, tokens."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from modeldesk.core.serving.metrics_text import parse_metrics
from modeldesk.core.serving.prediction_log import get_predictions
from modeldesk.core.storage.project import open_project
from support.data import breast_cancer
from support.registry import fitted_logreg, log_run


def records(X, n=3, start=0):
    return [{k: float(v) for k, v in row.items()} for row in X.iloc[start:start + n].to_dict("records")]


def error_of(resp):
    body = resp.get_json()
    assert body is not None, resp.data
    assert set(body["error"]) == {"code", "message"}
    assert "Traceback" not in resp.get_data(as_text=True)
    return body["error"]


# -- endpoints -------------------------------------------------------------------------------------
def test_health_reports_model_and_version(client, logged):
    resp = client.get("/health")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok" and body["model"] == logged.uri
    assert body["run_id"] == logged.run_id and body["version"] is None   # a runs:/ URI, not registered


def test_metadata_lists_signature_classes_and_identity(client, logged, project_path):
    body = client.get("/metadata").get_json()
    assert body["run_id"] == logged.run_id
    with open_project(project_path) as p:
        sha = p.read("SELECT sha256 FROM logged_models")[0][0]
    assert body["sha256"] == sha
    assert [f["name"] for f in body["signature"]["inputs"]] == list(logged.X.columns)
    assert {f["type"] for f in body["signature"]["inputs"]} == {"double"}
    assert body["classes"] == [0, 1] and body["has_proba"] is True
    assert body["limits"]["max_body_bytes"] == 32 * 2**20
    assert body["example"]["records"][0]["mean radius"] == pytest.approx(float(logged.X.iloc[0]["mean radius"]))
    assert body["curl"].startswith("curl ") and "/predict" in body["curl"]


def test_predict_records(client, logged):
    recs = records(logged.X, 5)
    resp = client.post("/predict", json={"records": recs})
    assert resp.status_code == 200, resp.data
    body = resp.get_json()
    assert body["predictions"] == logged.model.predict(logged.X.iloc[:5]).tolist()
    assert body["model"] == logged.uri and body["warnings"] == []
    assert len(body["request_id"]) == 32 and resp.headers["X-Request-ID"] == body["request_id"]


def test_predict_columns_data_in_any_order(client, logged):
    cols = list(logged.X.columns)[::-1]
    data = logged.X.iloc[10:14][cols].to_numpy().tolist()
    resp = client.post("/predict", json={"columns": cols, "data": data})
    assert resp.status_code == 200, resp.data
    assert resp.get_json()["predictions"] == logged.model.predict(logged.X.iloc[10:14]).tolist()


def test_predict_csv(client, logged):
    text = logged.X.iloc[20:26].to_csv(index=False)
    resp = client.post("/predict", data=text, content_type="text/csv; charset=utf-8")
    assert resp.status_code == 200, resp.data
    assert resp.get_json()["predictions"] == logged.model.predict(logged.X.iloc[20:26]).tolist()


def test_proba_follows_metadata_class_order(make_app, md, logged):
    # string classes whose sorted order differs from "first seen": the answer must follow /metadata
    _, y = breast_cancer()
    named = y.map({0: "malignant", 1: "benign"})
    model = fitted_logreg(y=named)
    run_id = log_run(md, model, name="named", fit=False)
    client = make_app(f"runs:/{run_id}/model").test_client()
    classes = client.get("/metadata").get_json()["classes"]
    assert classes == ["benign", "malignant"]
    resp = client.post("/predict?proba=true", json={"records": records(logged.X, 4)})
    body = resp.get_json()
    assert body["classes"] == classes
    expected = model.predict_proba(logged.X.iloc[:4])
    assert np.allclose(body["probabilities"], expected)
    for pred, probs in zip(body["predictions"], body["probabilities"]):
        assert pred == classes[int(np.argmax(probs))]


def test_proba_false_and_bad_value(client, logged):
    assert "probabilities" not in client.post("/predict?proba=false", json={"records": records(logged.X, 1)}).get_json()
    resp = client.post("/predict?proba=maybe", json={"records": records(logged.X, 1)})
    assert resp.status_code == 400 and error_of(resp)["code"] == "bad_parameter"


def test_unknown_columns_are_ignored_and_named(client, logged):
    recs = [{**r, "customer_id": 7, "note": "x"} for r in records(logged.X, 2)]
    body = client.post("/predict", json={"records": recs}).get_json()
    assert body["predictions"] == logged.model.predict(logged.X.iloc[:2]).tolist()
    assert len(body["warnings"]) == 1 and "'customer_id'" in body["warnings"][0] and "'note'" in body["warnings"][0]


def test_ping_answers_like_mlflows_scoring_server(client):
    resp = client.get("/ping")   # what ScoringServerClient.wait_server_ready polls: 200, a bare newline
    assert resp.status_code == 200 and resp.data == b"\n" and resp.mimetype == "application/json"
    assert client.post("/ping").status_code == 405


def test_version_names_modeldesk_and_its_version(client):
    import modeldesk

    resp = client.get("/version")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    assert resp.get_json() == {"name": "modeldesk", "version": modeldesk.__version__}


# -- MLflow's scoring protocol ---------------------------------------------------------------------
@pytest.fixture
def mlflow_bodies(logged):
    X = logged.X.iloc[:3]
    split = json.loads(X.to_json(orient="split"))
    split.pop("index")
    return {
        "dataframe_split": {"dataframe_split": split},
        "dataframe_split with index": {"dataframe_split": json.loads(X.to_json(orient="split"))},
        "dataframe_records": {"dataframe_records": json.loads(X.to_json(orient="records"))},
        "instances (records)": {"instances": json.loads(X.to_json(orient="records"))},
        "instances (lists)": {"instances": X.to_numpy().tolist()},
        "inputs (columns)": {"inputs": {c: X[c].tolist() for c in X.columns}},
        "inputs (records)": {"inputs": json.loads(X.to_json(orient="records"))},
        "with params": {"dataframe_records": json.loads(X.to_json(orient="records")), "params": {}},
    }


@pytest.mark.parametrize("fmt", ["dataframe_split", "dataframe_split with index", "dataframe_records",
                                 "instances (records)", "instances (lists)", "inputs (columns)",
                                 "inputs (records)", "with params"])
def test_invocations_answers_like_mlflow(client, logged, mlflow_bodies, fmt):
    resp = client.post("/invocations", json=mlflow_bodies[fmt])
    assert resp.status_code == 200, resp.data
    assert resp.get_json() == {"predictions": logged.model.predict(logged.X.iloc[:3]).tolist()}
    assert resp.mimetype == "application/json"


def test_invocations_csv(client, logged):
    resp = client.post("/invocations", data=logged.X.iloc[:3].to_csv(index=False), content_type="text/csv")
    assert resp.get_json() == {"predictions": logged.model.predict(logged.X.iloc[:3]).tolist()}


def test_invocations_error_also_speaks_mlflow(client):
    resp = client.post("/invocations", json={"records": []})
    body = resp.get_json()
    assert resp.status_code == 400 and body["error"]["code"] == "bad_format"
    assert body["error_code"] == "BAD_REQUEST" and "dataframe_split" in body["message"]


def test_invocations_extra_columns_warn_in_a_header(client, logged):
    recs = [{**r, "extra": 1} for r in records(logged.X, 1)]
    resp = client.post("/invocations", json={"dataframe_records": recs})
    assert set(resp.get_json()) == {"predictions"}
    assert "'extra'" in resp.headers["X-ModelDesk-Warnings"]


# -- bad input: the right 4xx and a JSON error that names the problem ---------------------------------
def _one(logged, **change):
    rec = records(logged.X, 1)[0]
    for k, v in change.items():
        rec[k.replace("_", " ")] = v
    return rec


BAD = [
    # (name, endpoint, body builder, content type, status, code, text in message)
    ("missing column", "/predict", lambda L: {"records": [{k: v for k, v in _one(L).items() if k != "mean radius"}]},
     "application/json", 400, "missing_columns", "'mean radius'"),
    ("string not a number", "/predict", lambda L: {"records": [_one(L, mean_radius="big")]},
     "application/json", 400, "wrong_type", "'mean radius'"),
    ("null where training had none", "/predict", lambda L: {"records": [_one(L, mean_texture=None)]},
     "application/json", 400, "null_value", "'mean texture'"),
    ("boolean for a number", "/predict", lambda L: {"records": [_one(L, mean_area=True)]},
     "application/json", 400, "wrong_type", "'mean area'"),
    ("list for a number", "/predict", lambda L: {"records": [_one(L, mean_area=[1, 2])]},
     "application/json", 400, "wrong_type", "'mean area'"),
    ("infinity", "/predict", lambda L: json.dumps({"records": [_one(L)]}).replace("17.99", "1e999"),
     "application/json", 400, "wrong_type", "finite"),
    ("empty body", "/predict", lambda L: b"", "application/json", 400, "empty_body", "empty"),
    ("whitespace body", "/invocations", lambda L: b"  \n", "application/json", 400, "empty_body", "empty"),
    ("malformed JSON", "/predict", lambda L: b'{"records": [', "application/json", 400, "malformed_json", "JSON"),
    ("not UTF-8", "/predict", lambda L: b"\xff\xfe{", "application/json", 400, "malformed_json", "JSON"),
    ("wrong media type", "/predict", lambda L: {"records": [_one(L)]}, "text/plain", 415,
     "unsupported_media_type", "application/json"),
    ("form post", "/invocations", lambda L: b"a=1", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type", "text/csv"),
    ("no content type", "/predict", lambda L: b'{"records": []}', None, 415, "unsupported_media_type", "Content-Type"),
    ("no rows", "/predict", lambda L: {"records": []}, "application/json", 400, "no_rows", "no rows"),
    ("records not a list", "/predict", lambda L: {"records": 5}, "application/json", 400, "bad_format", "records"),
    ("unknown shape", "/predict", lambda L: {"rows": []}, "application/json", 400, "bad_format", "'rows'"),
    ("a bare number", "/predict", lambda L: b"3", "application/json", 400, "bad_format", "a number"),
    ("ragged data", "/predict", lambda L: {"columns": ["a", "b"], "data": [[1]]}, "application/json", 400,
     "bad_format", "data[0]"),
    ("two MLflow keys", "/invocations", lambda L: {"instances": [], "inputs": []}, "application/json", 400,
     "bad_format", "exactly one"),
    ("positional rows of the wrong width", "/invocations", lambda L: {"instances": [[1.0, 2.0]]},
     "application/json", 400, "wrong_width", "30 columns"),
    ("CSV with a bad cell", "/predict",
     lambda L: L.X.iloc[:2].to_csv(index=False).replace("17.99", "n/a?"), "text/csv", 400, "wrong_type",
     "'mean radius'"),
    ("CSV with a ragged row", "/predict", lambda L: "a,b\n1\n", "text/csv", 400, "malformed_csv", "row 1"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_gets_the_right_4xx(client, logged, case):
    _, endpoint, build, ctype, status, code, text = case
    body = build(logged)
    if isinstance(body, dict):
        body = json.dumps(body)
    headers = {"Content-Type": ctype} if ctype else {}
    resp = client.post(endpoint, data=body, headers=headers)
    assert resp.status_code == status, resp.data
    err = error_of(resp)
    assert err["code"] == code
    assert text.lower() in err["message"].lower(), err["message"]


def test_row_is_named_for_multi_row_requests(client, logged):
    recs = records(logged.X, 4)
    recs[2]["mean smoothness"] = "oops"
    err = error_of(client.post("/predict", json={"records": recs}))
    assert "'mean smoothness'" in err["message"] and "row 2" in err["message"]


def test_body_over_the_limit_is_413(make_app, logged):
    client = make_app(max_body=2000).test_client()
    resp = client.post("/predict", json={"records": records(logged.X, 30)})
    assert resp.status_code == 413
    err = error_of(resp)
    assert err["code"] == "body_too_large" and "2,000 bytes" in err["message"]


def test_too_many_rows_is_413(make_app, logged):
    client = make_app(max_rows=5).test_client()
    resp = client.post("/predict", json={"records": records(logged.X, 6)})
    assert resp.status_code == 413 and error_of(resp)["code"] == "too_many_rows"
    assert client.post("/predict", json={"records": records(logged.X, 5)}).status_code == 200


def test_unknown_path_and_wrong_method(client):
    resp = client.get("/nope")
    assert resp.status_code == 404 and error_of(resp)["code"] == "not_found"
    resp = client.get("/predict")
    assert resp.status_code == 405 and error_of(resp)["code"] == "method_not_allowed"
    assert "POST" in resp.headers["Allow"]
    resp = client.post("/health")
    assert resp.status_code == 405


def test_integer_columns_take_integral_floats(make_app, md):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"age": [20, 35, 50, 65, 30, 70], "visits": [1, 3, 2, 8, 0, 9]})
    model = LogisticRegression().fit(X, [0, 0, 1, 1, 0, 1])
    with md.start_run() as run:
        md.log_model(model, input_example=X.iloc[:3])
    md.flush()
    client = make_app(f"runs:/{run.id}/model").test_client()
    ok = client.post("/predict", json={"records": [{"age": 41.0, "visits": "2"}]})
    assert ok.status_code == 200, ok.data
    bad = client.post("/predict", json={"records": [{"age": 41.5, "visits": 2}]})
    assert bad.status_code == 400 and "whole number" in error_of(bad)["message"] and "'age'" in error_of(bad)["message"]


class Picky:
    """A model that refuses some valid rows (defined here so joblib can load it)."""

    classes_ = np.array([0, 1])

    def predict(self, X):
        if (np.asarray(X)[:, 0] > 100).any():
            raise ValueError("values over 100 are not supported")
        return np.zeros(len(X), dtype=int)


def test_model_failure_is_a_400_not_a_500(make_app, md):
    import pandas as pd

    X = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    with md.start_run() as run:
        md.log_model(Picky(), input_example=X)
    md.flush()
    client = make_app(f"runs:/{run.id}/model").test_client()
    assert client.post("/predict", json={"records": [{"a": 1, "b": 2}]}).status_code == 200
    resp = client.post("/predict", json={"records": [{"a": 500, "b": 2}]})
    assert resp.status_code == 400
    err = error_of(resp)
    assert err["code"] == "prediction_failed" and "over 100" in err["message"]
    resp = client.post("/predict?proba=true", json={"records": [{"a": 1, "b": 2}]})
    assert resp.status_code == 400 and error_of(resp)["code"] == "proba_unavailable"


# -- token --------------------------------------------------------------------------------------------
TOKEN = "s3cret-token-Zq9"


def test_token_rules(make_app, logged, project_path):
    client = make_app(token=TOKEN).test_client()
    assert client.get("/health").status_code == 200        # open for load balancers
    assert client.get("/ping").status_code == 200          # open for MLflow's readiness poll
    good = {"Authorization": f"Bearer {TOKEN}"}
    for path, method in (("/metadata", "get"), ("/metrics", "get"), ("/predict", "post"), ("/invocations", "post"),
                         ("/version", "get"), ("/nope", "get")):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                        {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}):
            resp = getattr(client, method)(path, headers=headers)
            assert resp.status_code == 401, (path, headers)
            assert error_of(resp)["code"] == "unauthorized"
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metadata", headers=good).status_code == 200
    assert client.get("/version", headers=good).status_code == 200
    resp = client.post("/predict", json={"records": records(logged.X, 1)}, headers=good)
    assert resp.status_code == 200
    assert client.post("/invocations", json={"instances": records(logged.X, 1)}, headers=good).status_code == 200
    metrics = client.get("/metrics", headers=good).get_data(as_text=True)
    assert TOKEN not in metrics and 'status="401"' in metrics


def test_token_is_never_written_to_the_project(make_app, logged, project_path):
    app = make_app(token=TOKEN)
    client = app.test_client()
    client.post("/predict", json={"records": records(logged.X, 1)}, headers={"Authorization": f"Bearer {TOKEN}"})
    state = app.extensions["modeldesk"]
    state.record("start", state.current, token_required=True, token=TOKEN)   # a careless caller
    state.close()
    for suffix in ("", "-wal"):
        path = project_path.with_name(project_path.name + suffix)
        if path.exists():
            assert TOKEN.encode() not in path.read_bytes()


# -- metrics and the prediction log -------------------------------------------------------------------
def test_metrics_count_requests_errors_and_latency(client, logged):
    for _ in range(3):
        client.post("/predict", json={"records": records(logged.X, 2)})
    client.post("/predict", json={"records": [{"x": 1}]})
    client.post("/invocations", json={"instances": records(logged.X, 1)})
    text = client.get("/metrics").get_data(as_text=True)
    samples = parse_metrics(text)
    assert samples['modeldesk_requests_total{endpoint="/predict",method="POST",status="200"}'] == 3
    assert samples['modeldesk_requests_total{endpoint="/predict",method="POST",status="400"}'] == 1
    assert samples['modeldesk_request_errors_total{code="missing_columns",endpoint="/predict"}'] == 1
    assert samples['modeldesk_predicted_rows_total{endpoint="/predict"}'] == 6
    assert samples['modeldesk_request_duration_seconds_count{endpoint="/predict"}'] == 4
    assert samples['modeldesk_request_duration_seconds_bucket{endpoint="/predict",le="+Inf"}'] == 4
    assert samples['modeldesk_prediction_latency_seconds_count'] == 4
    assert 0 < samples['modeldesk_prediction_latency_seconds{quantile="0.5"}'] < 1
    assert samples["modeldesk_prediction_log_dropped_rows_total"] == 0
    info = [k for k in samples if k.startswith("modeldesk_model_info")]
    assert len(info) == 1 and logged.run_id in info[0]
    assert "# TYPE modeldesk_request_duration_seconds histogram" in text


def test_every_prediction_is_logged(make_app, logged, project_path):
    app = make_app()
    client = app.test_client()
    ids = []
    for i in range(5):
        body = client.post("/predict", json={"records": records(logged.X, 2, start=i * 2)}).get_json()
        ids.append(body["request_id"])
    mine = client.post("/predict", json={"records": records(logged.X, 1)},
                       headers={"X-Request-ID": "order-42"}).get_json()
    assert mine["request_id"] == "order-42"
    client.post("/predict", json={"records": records(logged.X, 1)}, headers={"X-Request-ID": "bad id!"})
    client.post("/predict", json={"records": [{"x": 1}]})     # refused: not logged
    app.extensions["modeldesk"].close()                      # flushes the log
    with open_project(project_path) as p:
        df = get_predictions(p, logged.uri)
    assert len(df) == 12
    assert df["request_id"].iloc[:10].tolist() == [i for i in ids for _ in range(2)]
    assert "order-42" in set(df["request_id"])
    assert df["row"].iloc[:2].tolist() == [0, 1]
    assert np.allclose(df["mean radius"].iloc[:10], logged.X["mean radius"].iloc[:10])
    assert df["prediction"].iloc[:10].tolist() == logged.model.predict(logged.X.iloc[:10]).tolist()
    assert (df["latency_ms"] > 0).all() and df["label"].isna().all()


def test_no_log_writes_nothing(make_app, logged, project_path):
    app = make_app(log_predictions=False)
    app.test_client().post("/predict", json={"records": records(logged.X, 1)})
    assert "modeldesk_prediction_log_enabled 0" in app.test_client().get("/metrics").get_data(as_text=True)
    app.extensions["modeldesk"].close()
    with open_project(project_path) as p:
        assert p.read("SELECT COUNT(*) FROM predictions")[0][0] == 0


def test_unknown_model_uri_is_a_clear_error(logged):
    from modeldesk.core.errors import NotFoundError
    from modeldesk.server.app import create_app

    with pytest.raises(NotFoundError):
        create_app(logged.path, "runs:/doesnotexist/model")


# -- switching --------------------------------------------------------------------------------------------
class Broken:
    """Fails on every input: a version that must never be served."""

    def predict(self, X):
        raise RuntimeError("weights missing")


def test_a_new_version_is_verified_before_it_is_served(make_app, md, logged, project_path):
    app = make_app()
    state = app.extensions["modeldesk"]
    client = app.test_client()
    old_sha = state.current.sha256
    assert state.holder.check() is False                       # nothing moved
    with md.start_run(run_id=logged.run_id):
        md.log_model(Broken(), input_example=logged.X.iloc[:5])
    md.flush()
    assert state.holder.check() is False and state.holder.check() is False
    assert state.current.sha256 == old_sha                      # kept serving the old model
    assert client.post("/predict", json={"records": records(logged.X, 1)}).status_code == 200
    with md.start_run(run_id=logged.run_id):
        md.log_model(fitted_logreg(C=0.5), input_example=logged.X.iloc[:5])
    md.flush()
    assert state.holder.check() is True and state.current.sha256 != old_sha
    assert client.get("/health").get_json()["sha256"] == state.current.sha256
    state.close()
    with open_project(project_path) as p:
        events = [r[0] for r in p.read("SELECT event FROM serving_events ORDER BY id")]
        audit = [r[0] for r in p.read("SELECT action FROM audit_log WHERE action LIKE 'serving.%' ORDER BY seq")]
    assert events == ["reload_failed", "switch"]                # the refusal is recorded once, not per poll
    assert audit == ["serving.reload_failed", "serving.switch"]


def test_registered_version_is_reported(make_app, md, logged):
    from modeldesk.core.registry import versions as registry

    registry.register_model(md.get_project(), logged.uri, "cancer")
    client = make_app().test_client()     # a runs:/ URI whose model is registered: its version is known
    body = client.get("/metadata").get_json()
    assert body["name"] == "cancer" and body["version"] == 1
    client = make_app("cancer/1").test_client()
    health = client.get("/health").get_json()
    assert health["model"] == "models:/cancer/1" and health["version"] == 1


def test_mixed_type_model_end_to_end(make_app, md, project_path):
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame({"plan": ["basic", "pro", "pro", "basic", "team", "team"], "age": [20, 35, 50, 65, 30, 70],
                      "spend": [1.5, 3.0, np.nan, 8.0, 0.5, 9.0], "member": [True, False, True, True, False, True]})
    model = make_pipeline(make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                                                  ("passthrough", ["age", "member"])),
                          LogisticRegression()).fit(X, [0, 0, 1, 1, 0, 1])
    with md.start_run() as run:
        md.log_model(model, input_example=X)
    md.flush()
    app = make_app(f"runs:/{run.id}/model")
    client = app.test_client()
    sig = {f["name"]: f for f in client.get("/metadata").get_json()["signature"]["inputs"]}
    assert sig["plan"]["type"] == "string" and sig["age"]["type"] == "long" and sig["spend"]["nullable"] is True
    recs = [{"plan": "enterprise", "age": 44.0, "spend": None, "member": "yes"},
            {"plan": "pro", "age": "51", "spend": "2.5", "member": 0}]
    body = client.post("/predict", json={"records": recs}).get_json()
    expected = model.predict(pd.DataFrame({"plan": ["enterprise", "pro"], "age": [44, 51], "spend": [np.nan, 2.5],
                                           "member": [True, False]}))
    assert body["predictions"] == expected.tolist()
    csv_text = "plan,age,spend,member\nbasic,33,,true\n"
    assert client.post("/predict", data=csv_text, content_type="text/csv").status_code == 200
    assert client.post("/predict", json={"records": [{**recs[1], "member": None}]}).status_code == 400
    app.extensions["modeldesk"].close()
    with open_project(project_path) as p:
        df = get_predictions(p, f"runs:/{run.id}/model")
    assert df["plan"].tolist() == ["enterprise", "pro", "basic"] and df["age"].tolist() == [44, 51, 33]
    assert df["member"].tolist() == [True, False, True] and pd.isna(df["spend"].iloc[0])


def test_an_alias_moved_around_the_audit_log_is_not_followed(make_app, md, logged, project_path, capfd):
    """UPDATE aliases with sqlite3: the server keeps its version, says why on stderr and /health."""
    import sqlite3

    from modeldesk.core.registry import approvals

    for v, uri in ((1, logged.uri), (2, f"runs:/{log_run(md, fitted_logreg(C=0.5), fit=False)}/model")):
        md.register_model(uri, "cancer")
        approvals.request_promotion(md.get_project(), "cancer", v, actor="ana")
        approvals.approve(md.get_project(), "cancer", v, actor="ben")
    app = make_app("models:/cancer@production")
    state = app.extensions["modeldesk"]
    assert state.current.version == 2 and "reload_refused" not in app.test_client().get("/health").get_json()
    with sqlite3.connect(project_path) as conn:
        conn.execute("UPDATE aliases SET version = 1 WHERE alias = 'production'")
    assert state.holder.check() is False and state.current.version == 2
    health = app.test_client().get("/health").get_json()
    assert health["version"] == 2 and "last logged move put v2 there" in health["reload_refused"]
    assert "not following models:/cancer@production" in capfd.readouterr().err


def test_the_server_applies_the_log_retention(make_app, logged, project_path):
    """A project keeping 3 logged rows: a server started on it prunes the rest, and counts them."""
    from modeldesk.core.serving.prediction_retention import set_retention

    app = make_app()
    client = app.test_client()
    for i in range(5):
        assert client.post("/predict", json={"records": records(logged.X, 1, start=i)}).status_code == 200
    app.extensions["modeldesk"].close()                       # writes the log
    with open_project(project_path) as p:
        set_retention(p, rows=3)
    app = make_app()
    state = app.extensions["modeldesk"]
    deadline = time.time() + 10
    while state.metrics.pruned_rows < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert state.metrics.pruned_rows == 2
    assert "modeldesk_prediction_log_pruned_rows_total 2" in app.test_client().get("/metrics").get_data(True)
    with open_project(project_path) as p:
        assert len(get_predictions(p, logged.uri)) == 3

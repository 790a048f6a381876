"""Performance over the prediction log: realised metrics per window, CBPE estimates, prediction drift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from core.monitoring.logged_predictions import DAY0, day, register
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, mean_squared_error, r2_score, roc_auc_score

from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring import cbpe
from modeldesk.core.monitoring.performance import CLASSIFIER_FIELDS, REGRESSOR_FIELDS
from modeldesk.core.monitoring.prediction_drift import prediction_drift
from modeldesk.core.serving.prediction_log import LogEntry, get_predictions, set_labels, write_predictions
from modeldesk.core.serving.served_model import load_served
from support.data import breast_cancer
from support.registry import log_run


def log_rows(project, uri: str, frame: pd.DataFrame, d: int, *, tag: str, proba: bool = True, seed: int = 0):
    """Log each row of ``frame`` as a single-row request on day ``d``; return the request ids."""
    served = load_served(project, uri)
    rng = np.random.default_rng(seed)
    times = np.sort(DAY0 + d * 86400 + rng.uniform(0.01, 0.99, len(frame)) * 86400)
    predictions = served.model.predict(frame).tolist()
    probabilities = served.model.predict_proba(frame).tolist() if proba else None
    ids = [f"{tag}-{d}-{k}" for k in range(len(frame))]
    write_predictions(project, [
        LogEntry(ids[k], float(times[k]), served, frame.iloc[k:k + 1], [predictions[k]], 1.0,
                 [probabilities[k]] if proba else None) for k in range(len(frame))])
    return ids


@pytest.fixture
def cancer(md):
    """Four days of the breast-cancer model: day 0 labeled, day 1 not, day 2 labels of one class, day 3 labeled."""
    uri = register(md)
    project = md.get_project()
    X, y = breast_cancer()
    rng = np.random.default_rng(7)
    labels = {}
    for d in range(4):
        pick = rng.integers(0, len(X), 120)
        ids = log_rows(project, uri, X.iloc[pick].reset_index(drop=True), d, tag="c", seed=d)
        truth = y.iloc[pick].tolist()
        if d in (0, 3):
            labels.update(zip(ids, truth))
        elif d == 2:
            labels.update((i, v) for i, v in zip(ids, truth) if v == 1)
    set_labels(project, [(i, 0, v) for i, v in labels.items()])
    return md, project, uri


def test_realised_metrics_equal_sklearn_on_the_same_rows(cancer):
    md, project, uri = cancer
    frame = md.performance(uri, every="1d")
    assert list(frame.columns) == list(CLASSIFIER_FIELDS)
    assert list(frame["window_start"]) == [day(d) for d in range(4)]
    assert (frame["rows"] == 120).all()
    assert frame.attrs["kind"] == "classifier" and frame.attrs["positive"] == 1
    log = get_predictions(project, uri)
    for d in (0, 3):
        rows = log[(log["time"] >= day(d)) & (log["time"] < day(d + 1)) & log["label"].notna()]
        y_true, y_pred = rows["label"].astype(int), rows["prediction"].astype(int)
        p1 = np.array(rows["probabilities"].tolist())[:, 1]
        got = frame.iloc[d]
        assert got["labeled"] == len(rows) == 120
        assert got["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-12)
        assert got["f1"] == pytest.approx(f1_score(y_true, y_pred), abs=1e-12)
        assert got["roc_auc"] == pytest.approx(roc_auc_score(y_true, p1), abs=1e-12)
    # estimates exist for every window with probabilities, labels or not
    assert frame["estimated_accuracy"].between(0, 1).all() and frame["estimated_roc_auc"].between(0, 1).all()
    assert frame.attrs["estimated"] is True


def test_a_window_with_no_labels_has_nan_metrics(cancer):
    md, _, uri = cancer
    got = md.performance(uri, every="1d").iloc[1]
    assert got["labeled"] == 0
    assert math.isnan(got["accuracy"]) and math.isnan(got["f1"]) and math.isnan(got["roc_auc"])
    assert not math.isnan(got["estimated_accuracy"])     # available before labels arrive


def test_a_window_whose_labels_hold_one_class_has_no_roc_auc(cancer):
    md, _, uri = cancer
    got = md.performance(uri, every="1d").iloc[2]
    assert 0 < got["labeled"] < 120
    assert math.isnan(got["roc_auc"]) and not math.isnan(got["accuracy"]) and not math.isnan(got["f1"])


def test_periods_and_count_windows(cancer):
    md, _, uri = cancer
    frame = md.performance(uri, every=100, since=day(1), until=day(3))
    assert frame["rows"].tolist() == [100, 100, 40] and frame["labeled"].tolist()[0] == 0


def synthetic(n: int, rng, shift: float = 0.0):
    X = pd.DataFrame({"a": rng.normal(shift, 1, n), "b": rng.normal(-shift, 1, n), "c": rng.normal(0, 1, n)})
    logit = 1.5 * X["a"] - 1.0 * X["b"] + 0.3 * X["c"]
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int), name="target")
    return X, y


def test_cbpe_estimates_accuracy_of_a_calibrated_model_within_3_points(md):
    rng = np.random.default_rng(11)
    X, y = synthetic(5_000, rng)
    run_id = log_run(md, LogisticRegression(), X=X, y=y, dataset=True, example=X.iloc[:5])
    md.register_model(f"runs:/{run_id}/model", "synthetic")
    uri = "models:/synthetic/1"
    project = md.get_project()
    current, truth = synthetic(2_000, rng, shift=0.4)        # covariate shift: calibration still holds
    ids = log_rows(project, uri, current, 0, tag="s")
    set_labels(project, [(i, 0, int(v)) for i, v in zip(ids, truth)])
    got = md.performance(uri, every="1d").iloc[0]
    assert got["rows"] == got["labeled"] == 2_000
    assert abs(got["estimated_accuracy"] - got["accuracy"]) <= 0.03
    assert abs(got["estimated_roc_auc"] - got["roc_auc"]) <= 0.03


def test_expected_roc_auc_matches_sampled_labels():
    rng = np.random.default_rng(3)
    p = rng.beta(2, 2, 200_000)
    y = rng.uniform(size=p.size) < p        # labels drawn from calibrated probabilities
    assert cbpe.expected_roc_auc(p) == pytest.approx(roc_auc_score(y, p), abs=0.005)
    assert math.isnan(cbpe.expected_roc_auc(np.ones(10))) and math.isnan(cbpe.expected_roc_auc(np.array([])))


def test_regressor_metrics(md):
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600)})
    y = pd.Series(2 * X["a"] - X["b"] + rng.normal(0, 0.5, 600), name="target")
    run_id = log_run(md, LinearRegression(), X=X, y=y, dataset=True, example=X.iloc[:5])
    md.register_model(f"runs:/{run_id}/model", "reg")
    uri = "models:/reg/1"
    project = md.get_project()
    served = load_served(project, uri)
    ids = log_rows(project, uri, X.iloc[:300], 0, tag="r", proba=False)
    log_rows(project, uri, X.iloc[300:301], 1, tag="r1", proba=False)
    set_labels(project, [(i, 0, float(v)) for i, v in zip(ids[:250], y.iloc[:250])])
    frame = md.performance(uri, every="1d")
    assert list(frame.columns) == list(REGRESSOR_FIELDS) and frame.attrs["kind"] == "regressor"
    pred = served.model.predict(X.iloc[:250])
    got = frame.iloc[0]
    assert got["labeled"] == 250
    assert got["rmse"] == pytest.approx(math.sqrt(mean_squared_error(y.iloc[:250], pred)), rel=1e-9)
    assert got["mae"] == pytest.approx(mean_absolute_error(y.iloc[:250], pred), rel=1e-9)
    assert got["r2"] == pytest.approx(r2_score(y.iloc[:250], pred), rel=1e-9)
    assert frame.iloc[1]["labeled"] == 0 and math.isnan(frame.iloc[1]["rmse"])


def test_multiclass_is_macro():
    from modeldesk.core.monitoring.performance import classifier_metrics

    rng = np.random.default_rng(2)
    y_true, y_pred = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    proba = rng.dirichlet([1, 1, 1], 500)
    got = classifier_metrics(y_true, y_pred, proba, 3, None)
    assert got["f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"), abs=1e-12)
    assert got["roc_auc"] == pytest.approx(roc_auc_score(y_true, proba, multi_class="ovr", average="macro"),
                                           abs=1e-12)


def test_prediction_drift_compares_outputs_with_reference_predictions(cancer):
    _, project, uri = cancer
    report = prediction_drift(project, uri, since=day(0), until=day(4))
    cols = report.columns.set_index("column")
    assert cols.loc["prediction", "type"] == "categorical"
    assert {"proba_0", "proba_1"} <= set(cols.index)


def test_prediction_drift_follows_the_projects_drift_settings(cancer):
    """The team's drift.options (tests, thresholds, share) hold for the outputs as for the inputs."""
    import json

    from modeldesk.core.monitoring.overrides import SETTING_KEY

    _, project, uri = cancer
    before = prediction_drift(project, uri, since=day(0), until=day(4))
    assert before.share_threshold == 0.5
    options = {"share": 0.2, "columns": {"prediction": {"test": "psi", "threshold": 0.3},
                                         "age": {"test": "psi"}}}   # an input column: not among the outputs
    with project.write() as w:
        w.execute("INSERT INTO project_settings (key, value) VALUES (?, ?)", (SETTING_KEY, json.dumps(options)))
    after = prediction_drift(project, uri, since=day(0), until=day(4))
    cols = after.columns.set_index("column")
    assert after.share_threshold == 0.2
    assert cols.loc["prediction", "test"] == "psi" and cols.loc["prediction", "threshold"] == 0.3
    with project.write() as w:
        w.execute("UPDATE project_settings SET value = ? WHERE key = ?", ('{"sharee": 1}', SETTING_KEY))
    with pytest.raises(UsageError, match="sharee"):
        prediction_drift(project, uri, since=day(0), until=day(4))


def test_a_model_that_cannot_score_its_reference_warns_instead_of_estimating(monkeypatch):
    """No CBPE estimate is not silent: the warning says why the estimated_* columns are NaN."""
    from modeldesk.core.monitoring import performance as perf

    class Broken:
        def predict_proba(self, X):
            raise ValueError("weights missing")

    target = perf.Target("models:/churn/1", None, (0, 1), None)
    monkeypatch.setattr(perf, "reference_predictions", lambda project, t: (Broken(), np.zeros((3, 2)), [0, 1, 1]))
    with pytest.warns(RuntimeWarning, match="No CBPE estimate for models:/churn/1.*weights missing"):
        assert perf.calibration(None, target) is None

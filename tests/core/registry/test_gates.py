"""The four promotion gates pass and fail for the right reasons, on real models."""

from __future__ import annotations

import dataclasses

import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from modeldesk.core.registry import approvals, gates
from modeldesk.core.registry import versions as registry
from modeldesk.core.registry.entities import RegistrySettings
from modeldesk.core.registry.settings import update_settings
from support.data import breast_cancer
from support.registry import log_run, logreg, tamper_blob


def register(md, model=None, **kw):
    run_id = log_run(md, model, **kw)
    return md.register_model(f"runs:/{run_id}/model", "churn")


def by_gate(req):
    return {g.gate: g for g in req.gates}


def make_production(md, model=None, **kw):
    v = register(md, model, **kw)
    approvals.request_promotion(md.get_project(), "churn", v.version, actor="ana")
    approvals.approve(md.get_project(), "churn", v.version, actor="ben")
    return v


def test_first_request_passes_and_comparison_gates_say_there_is_no_production(md):
    update_settings(md.get_project(), primary_metric="roc_auc")
    register(md)
    req = approvals.request_promotion(md.get_project(), "churn", 1, actor="ana")
    g = by_gate(req)
    assert list(g) == list(gates.GATES)
    assert all(r.passed for r in req.gates) and not req.blocking_gates
    assert "verified" in g["artifact"].message and g["artifact"].details["model_class"].endswith("Pipeline")
    assert "Predicted 5 rows" in g["predict"].message and len(g["predict"].details["predictions"]) == 5
    for name in ("signature", "metric"):
        assert "no production version to compare with" in g[name].message
    # Stored, not just returned: read back the same results.
    assert approvals.get_request(md.get_project(), req.id).gates == req.gates


def test_tampered_artifact_fails_the_artifact_gate(md, project_path):
    v = register(md)
    tamper_blob(project_path, v.sha256)
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 1, actor="ana"))
    assert not g["artifact"].passed and "changed after it was logged" in g["artifact"].message
    assert not g["predict"].passed and "artifact did not load" in g["predict"].message


def test_model_that_cannot_predict_on_its_example_fails(md):
    X, y = breast_cancer()
    # Fit on a bare array of 30 features, log an example with only 10 columns.
    model = LogisticRegression(max_iter=5000).fit(X.to_numpy(), y)
    register(md, model, example=X.iloc[:5, :10], fit=False, roc_auc=0.99)
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 1, actor="ana"))
    assert g["artifact"].passed
    assert not g["predict"].passed
    assert "Predicting on its input example failed" in g["predict"].message and "10 features" in g["predict"].message


def test_model_without_an_input_example_fails_the_predict_gate(md):
    register(md, with_example=False)
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 1, actor="ana"))
    assert not g["predict"].passed and "input_example" in g["predict"].message


def test_missing_column_is_an_incompatible_signature(md):
    X, y = breast_cancer()
    make_production(md)
    register(md, X=X.drop(columns=["mean radius"]), y=y)
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 2, actor="ana"))
    assert not g["signature"].passed
    assert "drops column(s) production v1 takes: mean radius" in g["signature"].message
    assert g["signature"].details["drops"] == ["mean radius"]


def test_extra_column_is_an_incompatible_signature(md):
    X, y = breast_cancer()
    make_production(md, X=X.drop(columns=["mean radius"]), y=y)
    register(md)
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 2, actor="ana"))
    assert not g["signature"].passed and "needs column(s) production v1 does not take: mean radius" in \
        g["signature"].message


def test_string_instead_of_number_is_an_incompatible_signature(md):
    X, y = breast_cancer()
    make_production(md)
    Xs = X.assign(**{"mean radius": X["mean radius"].round().astype(int).astype(str)})
    encode = ColumnTransformer([("radius", OneHotEncoder(handle_unknown="ignore"), ["mean radius"])],
                               remainder=StandardScaler())
    register(md, make_pipeline(encode, LogisticRegression(max_iter=5000)), X=Xs, y=y)
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 2, actor="ana"))
    assert g["predict"].passed
    assert not g["signature"].passed and "incompatible type(s): mean radius double→string" in g["signature"].message


def test_long_to_double_is_compatible_but_double_to_long_is_not(md):
    X, y = breast_cancer()
    as_long = X.assign(**{"mean radius": X["mean radius"].round().astype("int64")})
    make_production(md, X=as_long, y=y)            # production takes a long column
    register(md)                                   # candidate takes double: callers' ints still work
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 2, actor="ana"))
    assert g["signature"].passed and "widened long→double" in g["signature"].message
    # The other way round: production double, candidate long.
    prod = registry.get_version(md.get_project(), "churn", 2)
    cand = registry.get_version(md.get_project(), "churn", 1)
    result = gates.signature_gate(cand, prod)
    assert not result.passed and "mean radius double→long" in result.message


@pytest.mark.parametrize("prod_type, cand_type, ok", [
    ("double", "double", True), ("long", "double", True), ("double", "long", False),
    ("string", "double", False), ("long", "string", False), ("boolean", "long", False),
])
def test_signature_type_rules(md, prod_type, cand_type, ok):
    v = register(md)

    def with_type(t):
        sig = dict(v.signature, inputs=[dict(f, type=t) if f["name"] == "mean radius" else f
                                        for f in v.signature["inputs"]])
        return dataclasses.replace(v, signature=sig)

    assert gates.signature_gate(with_type(cand_type), with_type(prod_type)).passed is ok


def _metric_case(md, prod_auc, cand_auc, **settings):
    update_settings(md.get_project(), primary_metric="metrics.roc_auc", **settings)
    make_production(md, roc_auc=prod_auc)
    register(md, logreg(0.5), roc_auc=cand_auc)
    return by_gate(approvals.request_promotion(md.get_project(), "churn", 2, actor="ana"))["metric"]


def test_metric_worse_than_production_beyond_tolerance_fails(md):
    g = _metric_case(md, 0.95, 0.93, tolerance=0.01)
    assert not g.passed
    assert g.message == ("roc_auc 0.93 vs production v1 0.95 (higher is better): worse by 0.02, "
                         "beyond the tolerance 0.01.")
    assert g.details["worse_by"] == pytest.approx(0.02)


def test_metric_worse_within_tolerance_passes(md):
    g = _metric_case(md, 0.95, 0.945, tolerance=0.01)
    assert g.passed and "within the tolerance 0.01" in g.message


def test_metric_better_passes_and_zero_tolerance_is_strict(md):
    assert _metric_case(md, 0.90, 0.95).passed


def test_lower_is_better_metrics(md):
    update_settings(md.get_project(), metric_direction="lower")
    g = _metric_case(md, 0.20, 0.25, tolerance=0.01)
    assert not g.passed and "(lower is better): worse by 0.05" in g.message


def test_candidate_without_the_primary_metric_fails(md):
    make_production(md)
    update_settings(md.get_project(), primary_metric="metrics.f1")
    register(md, logreg(0.5))
    g = by_gate(approvals.request_promotion(md.get_project(), "churn", 2, actor="ana"))["metric"]
    assert not g.passed and "has no metric 'f1'" in g.message


def test_no_primary_metric_set_passes_with_a_hint(md):
    register(md)
    result = gates.metric_gate(md.get_project(), registry.get_version(md.get_project(), "churn", 1), None,
                               RegistrySettings())
    assert result.passed and "no primary metric is set" in result.message

"""The model registry: versions with lineage, aliases with history, model URIs, rollback."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier

from modeldesk.core.errors import Hint, IntegrityError, NotFoundError, RefusedError, UsageError
from modeldesk.core.registry import aliases, approvals
from modeldesk.core.registry import versions as registry
from modeldesk.core.tracking import artifacts
from support.data import breast_cancer
from support.registry import log_run, logreg, tamper_blob


def promote(project, name, version, requester="ana", reviewer="ben"):
    """Through the front door: request, then a second person approves."""
    approvals.request_promotion(project, name, version, actor=requester)
    return approvals.approve(project, name, version, actor=reviewer)


def test_register_from_uri_and_run_id_numbers_versions(md):
    first, second = log_run(md, name="a", dataset=True), log_run(md, logreg(C=0.1), name="b")
    v1 = md.register_model(f"runs:/{first}/model", "churn")
    v2 = registry.register_model(md.get_project(), second[:8], "churn", artifact="model", actor="ben")
    assert (v1.name, v1.version, v2.version) == ("churn", 1, 2)
    assert v1.created_by == "tester" and v2.created_by == "ben"
    assert v1.status == "registered" and v1.aliases == ()
    assert v1.uri == "models:/churn/1" and v1.source == f"runs:/{first}/model"
    logged = artifacts.get_logged_model(md.get_project(), first)
    assert (v1.sha256, v1.signature, v1.input_example_sha256) == (logged.sha256, logged.signature,
                                                                  logged.input_example_sha256)
    [model] = registry.list_models(md.get_project())
    assert (model.name, model.latest_version, model.version_count) == ("churn", 2, 2)
    assert [v.version for v in registry.list_versions(md.get_project(), "churn")] == [1, 2]


def test_lineage_has_run_datasets_and_environment(md):
    run_id = log_run(md, dataset=True)
    md.register_model(f"runs:/{run_id}/model", "churn")
    lineage = registry.version_lineage(md.get_project(), "churn", 1)
    assert lineage.run.id == run_id and "roc_auc" in lineage.run.metrics
    assert [d.role for d in lineage.datasets] == ["training"]
    assert lineage.datasets[0].rows == len(breast_cancer()[0])
    assert lineage.environment and "python" in lineage.environment


def test_registering_the_same_model_twice_returns_the_existing_version(md):
    run_id = log_run(md)
    v1 = md.register_model(f"runs:/{run_id}/model", "churn")
    again = md.register_model(f"runs:/{run_id}/model", "churn")
    assert again.version == v1.version == 1
    assert len(registry.list_versions(md.get_project(), "churn")) == 1
    assert registry.versions_of_run(md.get_project(), run_id)[0].version == 1


def test_bad_registrations_are_usage_errors(md):
    run_id = log_run(md)
    with pytest.raises(NotFoundError, match="No run with id"):
        md.register_model("runs:/nosuchrun/model", "churn")
    with pytest.raises(NotFoundError, match="has no model 'clf'.*Its models: model"):
        md.register_model(f"runs:/{run_id}/clf", "churn")
    with pytest.raises(UsageError, match="Bad model name"):
        md.register_model(f"runs:/{run_id}/model", "churn@prod")
    with pytest.raises(UsageError, match="not 'models:/x/1'"):
        md.register_model("models:/x/1", "churn")
    with pytest.raises(NotFoundError, match="No registered model 'nope'"):
        registry.get_version(md.get_project(), "nope", 1)


def test_a_version_keeps_its_bytes_when_the_run_relogs_the_model(md):
    X, y = breast_cancer()
    run_id = log_run(md)
    md.register_model(f"runs:/{run_id}/model", "churn")
    with md.start_run(run_id=run_id):
        md.log_model(RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y), input_example=X.iloc[:5])
    assert type(md.load_model(f"runs:/{run_id}/model")).__name__ == "RandomForestClassifier"
    assert type(md.load_model("models:/churn/1")).__name__ == "Pipeline"


def test_model_uris_long_and_short_forms(md):
    X, y = breast_cancer()
    ids = [log_run(md, name="a"), log_run(md, logreg(C=0.01), name="b")]
    for run_id in ids:
        md.register_model(f"runs:/{run_id}/model", "churn")
    project = md.get_project()
    promote(project, "churn", 1)
    aliases.set_alias(project, "churn", "staging", 2)
    for uri, version in (("models:/churn/2", 2), ("churn/1", 1), ("models:/churn@production", 1),
                         ("churn@staging", 2)):
        assert registry.resolve_version(project, uri).version == version
    model = md.load_model("models:/churn@production")
    assert (model.predict(X) == y).mean() > 0.95
    with pytest.raises(NotFoundError, match="no alias 'champion'.*production → v1"):
        md.load_model("models:/churn@champion")
    with pytest.raises(NotFoundError, match="has no version 7; its versions: 1, 2"):
        md.load_model("models:/churn/7")
    with pytest.raises(UsageError, match="Bad model URI"):
        md.load_model("models:/churn")


def test_load_refuses_a_tampered_registered_version(md, project_path):
    md.register_model(f"runs:/{log_run(md)}/model", "churn")
    tamper_blob(project_path, registry.get_version(md.get_project(), "churn", 1).sha256)
    with pytest.raises(IntegrityError, match="changed after it was logged"):
        md.load_model("models:/churn/1")


def test_aliases_are_set_directly_but_production_is_protected(md):
    for C in (1.0, 0.1):
        md.register_model(f"runs:/{log_run(md, logreg(C))}/model", "churn")
    project = md.get_project()
    aliases.set_alias(project, "churn", "staging", 1, actor="ana", reason="smoke tests")
    move = aliases.set_alias(project, "churn", "staging", 2, actor="ben")
    assert (move.from_version, move.to_version, move.kind) == (1, 2, "set")
    assert registry.alias_version(project, "churn", "staging") == 2
    assert registry.get_version(project, "churn", 2).aliases == ("staging",)
    history = aliases.alias_history(project, "churn", "staging")
    assert [(h.from_version, h.to_version, h.actor, h.reason) for h in history] == [
        (None, 1, "ana", "smoke tests"), (1, 2, "ben", "")]
    with pytest.raises(RefusedError, match="production is protected") as info:
        aliases.set_alias(project, "churn", "production", 2)
    assert info.value.hint == Hint("request", model="churn", version=2, alias="production")
    assert registry.alias_version(project, "churn", "production") is None
    with pytest.raises(UsageError, match="Bad alias"):
        aliases.set_alias(project, "churn", "3", 1)
    with pytest.raises(UsageError, match="already points"):
        aliases.set_alias(project, "churn", "staging", 2)


def test_rollback_restores_the_exact_previous_version_step_by_step(md):
    project = md.get_project()
    for C in (1.0, 0.5, 0.2):
        md.register_model(f"runs:/{log_run(md, logreg(C))}/model", "churn")
    for version in (1, 2, 3):
        promote(project, "churn", version)
    assert aliases.previous_version(project, "churn") == 2
    move = aliases.rollback(project, "churn", reason="v3 mislabels new customers", actor="ben")
    assert (move.from_version, move.to_version, move.kind, move.actor) == (3, 2, "rollback", "ben")
    assert move.reason == "v3 mislabels new customers"
    assert registry.alias_version(project, "churn", "production") == 2
    assert aliases.rollback(project, "churn", reason="v2 too").to_version == 1
    with pytest.raises(RefusedError, match="Nothing to roll back to: v1 is the first version"):
        aliases.rollback(project, "churn", reason="again")
    # Promoting again and rolling back returns to the version it replaced.
    promote(project, "churn", 3)
    assert aliases.rollback(project, "churn", reason="still bad").to_version == 1
    kinds = [(h.kind, h.from_version, h.to_version) for h in aliases.alias_history(project, "churn", "production")]
    assert kinds == [("promote", None, 1), ("promote", 1, 2), ("promote", 2, 3), ("rollback", 3, 2),
                     ("rollback", 2, 1), ("promote", 1, 3), ("rollback", 3, 1)]


def test_rollback_refusals(md, project_path):
    project = md.get_project()
    md.register_model(f"runs:/{log_run(md)}/model", "churn")
    with pytest.raises(RefusedError, match="churn@production is not set"):
        aliases.rollback(project, "churn", reason="x")
    promote(project, "churn", 1)
    with pytest.raises(RefusedError, match="Nothing to roll back to"):
        aliases.rollback(project, "churn", reason="x")
    with pytest.raises(UsageError, match="needs a reason"):
        aliases.rollback(project, "churn", reason="  ")
    md.register_model(f"runs:/{log_run(md, logreg(0.3))}/model", "churn")
    promote(project, "churn", 2)
    tamper_blob(project_path, registry.get_version(project, "churn", 1).sha256)
    with pytest.raises(IntegrityError):
        aliases.rollback(project, "churn", reason="back to v1")
    assert registry.alias_version(project, "churn", "production") == 2


def test_find_version_for_a_logged_model(md):
    run_id = log_run(md)
    md.register_model(f"runs:/{run_id}/model", "churn")
    logged = artifacts.get_logged_model(md.get_project(), run_id)
    assert registry.find_version_for(md.get_project(), logged).version == 1
    assert registry.find_version_for(md.get_project(), logged, "other") is None


def test_versions_predict_identically_to_the_logged_model(md):
    X, _ = breast_cancer()
    run_id = log_run(md)
    md.register_model(f"runs:/{run_id}/model", "churn")
    np.testing.assert_array_equal(md.load_model("churn/1").predict(X),
                                  md.load_model(f"runs:/{run_id}/model").predict(X))

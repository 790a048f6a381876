"""Importing a real MLflow store (built with MLflow's client) into a project."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from support.mlflow_store import need_mlflow, using

pytestmark = pytest.mark.timeout(600)   # MLflow itself takes seconds to import and to build a store


@pytest.fixture(scope="module")
def imported(store, tmp_path_factory):
    """A project with the store imported once, and that import's summary."""
    from modeldesk.core.interop.mlflow_import import import_mlflow
    from modeldesk.core.storage.project import open_project

    project = open_project(tmp_path_factory.mktemp("project") / "team.mdesk", user="ana")
    fractions = []
    summary = import_mlflow(project, store.uri, progress=lambda f, m="": fractions.append(f))
    yield project, summary, fractions
    project.close()


def _local_id(project, mlflow_run_id: str) -> str:
    return project.conn.execute("SELECT local_id FROM mlflow_imports WHERE kind = 'run' AND mlflow_id = ?",
                                (mlflow_run_id,)).fetchone()[0]


def test_runs_come_across_with_params_tags_status_times_and_parents(store, imported):
    from mlflow import MlflowClient

    from modeldesk.core.tracking.runs import get_run, search_runs

    project, summary, _ = imported
    client = MlflowClient(store.uri, store.uri)
    frame = search_runs(project, experiments=["iris"])
    assert sorted(frame["run_name"]) == ["custom", "logreg", "sweep", "tree"]   # the deleted run stays out
    assert summary.counts["runs"] == 4
    assert any(store.deleted[:8] in what and "deleted" in why for what, why in summary.skipped)
    for label, mlflow_id in store.runs.items():
        ours = get_run(project, _local_id(project, mlflow_id))
        theirs = client.get_run(mlflow_id)
        assert ours.id == mlflow_id            # MLflow's run id is kept when it is free
        assert ours.name == theirs.info.run_name == label
        assert ours.status == theirs.info.status == "FINISHED"
        assert ours.start_time == pytest.approx(theirs.info.start_time / 1000)
        assert ours.end_time == pytest.approx(theirs.info.end_time / 1000)
        assert ours.params == theirs.data.params
        assert {k: v for k, v in ours.tags.items() if k != "modeldesk.imported_from"} == theirs.data.tags
        assert ours.tags["modeldesk.imported_from"] == f"mlflow:{mlflow_id}"
        assert ours.metrics == pytest.approx(theirs.data.metrics)
    child = get_run(project, store.runs["logreg"])
    assert child.parent_id == store.runs["sweep"]
    assert child.user == client.get_run(store.runs["logreg"]).data.tags["mlflow.user"]


def test_metric_histories_are_complete(store, imported):
    from modeldesk.core.tracking.runs import get_metric_history

    project, _, _ = imported
    for name, points in store.histories.items():
        label, key = name.split("/")
        hist = get_metric_history(project, store.runs[label], key)
        assert list(zip(hist["step"], hist["value"], (hist["timestamp"] * 1000).round().astype(int))) == \
            [(s, pytest.approx(v), t) for s, v, t in points]
    assert len(store.histories["logreg/loss"]) == 10


def test_artifacts_keep_their_bytes(store, imported):
    from modeldesk.core.tracking.artifacts import list_artifacts, read_artifact

    project, _, _ = imported
    assert [a.path for a in list_artifacts(project, store.runs["logreg"])] == ["notes/readme.txt"]
    assert read_artifact(project, store.runs["logreg"], "notes/readme.txt") == b"trained on iris"


def test_sklearn_models_become_modeldesk_models_that_predict_as_in_mlflow(store, imported):
    import hashlib

    import mlflow.sklearn
    from sklearn.datasets import load_iris

    from modeldesk.core.registry.uris import load_model, resolve_model
    from modeldesk.core.storage.blobs import get_blob

    project, _, _ = imported
    X, _ = load_iris(return_X_y=True, as_frame=True)
    for label, mlflow_version in (("logreg", 1), ("tree", 2)):
        logged = resolve_model(project, f"runs:/{store.runs[label]}/model")
        assert logged.flavor == "sklearn"
        assert hashlib.sha256(get_blob(project.conn, logged.sha256)).hexdigest() == logged.sha256
        assert [c["name"] for c in logged.signature["inputs"]] == list(X.columns)
        assert logged.signature["outputs"]["type"] == "long"
        ours = load_model(project, f"models:/iris-clf/{mlflow_version}")
        with using(store.uri):
            reference = mlflow.sklearn.load_model(f"models:/iris-clf/{mlflow_version}")
        np.testing.assert_array_equal(ours.predict(X), reference.predict(X))
    v1 = resolve_model(project, f"runs:/{store.runs['logreg']}/model")
    v2 = resolve_model(project, f"runs:/{store.runs['tree']}/model")
    assert v1.input_example_sha256 is not None and v1.signature["imported_from"] == "mlflow input example"
    assert v2.input_example_sha256 is None and v2.signature["imported_from"] == "mlflow signature"


def test_a_non_sklearn_flavor_is_kept_as_artifacts_and_named(store, imported):
    from modeldesk.core.tracking.artifacts import list_artifacts, list_models

    project, summary, _ = imported
    run = store.runs["custom"]
    assert list_models(project, run) == []
    paths = [a.path for a in list_artifacts(project, run)]
    assert "constant/MLmodel" in paths and "constant/python_model.pkl" in paths
    named = [(what, why) for what, why in summary.skipped if "'constant'" in what]
    assert len(named) == 1 and "python_function" in named[0][1] and "not scikit-learn" in named[0][1]
    assert any("constant" in line for line in summary.lines())


def test_registered_versions_aliases_and_descriptions_go_through_governance(store, imported):
    from modeldesk.core.audit import list_entries, verify
    from modeldesk.core.registry.approvals import list_requests
    from modeldesk.core.registry.versions import get_model, list_versions

    project, summary, _ = imported
    model = get_model(project, "iris-clf")
    assert model.description == "Iris species from flower measurements"
    versions = list_versions(project, "iris-clf")
    assert [(v.version, v.run_id, v.created_by) for v in versions] == \
        [(1, store.runs["logreg"], "ana"), (2, store.runs["tree"], "ana")]
    assert project.conn.execute("SELECT note FROM mlflow_imports WHERE kind = 'version' AND mlflow_id = "
                                "'iris-clf/1'").fetchone()[0] == "first try"
    # champion is an ordinary alias: set, with an audit entry naming the source
    assert model.aliases == {"champion": 1}
    (entry,) = list_entries(project, model="iris-clf", action="alias.set")
    assert entry.actor == "ana" and store.uri in entry.details["reason"]
    # production is protected: an import never sets it; it opens a request with the gates run
    (request,) = list_requests(project, "iris-clf")
    assert (request.version, request.target_alias, request.status, request.requested_by) == \
        (2, "production", "pending", "ana")
    assert [g.gate for g in request.blocking_gates] == ["predict"]   # v2 has no input example in MLflow
    assert any("production" in note and f"#{request.id}" in note and "gates failed: predict" in note
               for note in summary.notes)
    assert [e.action for e in list_entries(project, action="import.mlflow")] == ["import.mlflow"]
    assert verify(project).ok


def test_progress_goes_from_zero_to_one(imported):
    _, _, fractions = imported
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and len(fractions) >= 6


def test_a_second_import_adds_nothing_and_an_approved_production_is_remembered(store, imported):
    from modeldesk.core.audit import list_entries
    from modeldesk.core.interop.mlflow_import import import_mlflow
    from modeldesk.core.registry.approvals import approve, override_gate
    from modeldesk.core.registry.versions import get_model

    project, _, _ = imported

    def sizes():
        return {t: project.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("runs", "params", "tags", "metric_chunks", "artifacts", "logged_models", "model_versions",
                          "aliases", "promotion_requests", "experiments")}

    before = sizes()
    again = import_mlflow(project, store.uri)
    assert again.counts == {}
    assert sizes() == before
    assert [w for w, _ in again.skipped if "production" in w] == ["alias iris-clf@production"]
    # v2 came without an input example, so its predict gate failed: an approver overrides it, then approves
    override_gate(project, "iris-clf", 2, "predict", reason="served from MLflow for a year", actor="bob")
    approve(project, "iris-clf", 2, actor="bob", comment="same as in MLflow")
    assert get_model(project, "iris-clf").aliases == {"champion": 1, "production": 2}
    third = import_mlflow(project, store.uri)
    assert third.counts == {} and third.skipped == [s for s in third.skipped if "deleted" in s[1]]
    assert len(list_entries(project, action="import.mlflow")) == 3
    assert len(list_entries(project, action="alias.set")) == 1


def test_missing_mlflow_is_one_clear_sentence(project, monkeypatch):
    from modeldesk.core.interop.mlflow_import import import_mlflow
    from modeldesk.core.interop.mlflow_store import MISSING, MlflowMissingError

    monkeypatch.setitem(sys.modules, "mlflow", None)   # `import mlflow` now raises ImportError
    with pytest.raises(MlflowMissingError) as err:
        import_mlflow(project, "mlruns")
    assert str(err.value) == MISSING == "MLflow is not installed: pip install 'modeldesk[mlflow]'"


@pytest.mark.parametrize("source, words", [
    ("sqlite:////no/such/mlflow.db", "No MLflow database at"),
    ("/no/such/mlruns", "No MLflow tracking directory"),
    ("mlflow.db", "sqlite:///"),
    ("ftp://host/x", "Unsupported MLflow store"),
])
def test_a_bad_source_says_what_to_give(project, source, words):
    need_mlflow()
    from modeldesk.core.errors import UsageError
    from modeldesk.core.interop.mlflow_import import import_mlflow

    with pytest.raises(UsageError, match=words):
        import_mlflow(project, source)
    assert project.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0

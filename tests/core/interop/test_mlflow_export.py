"""Exporting a project into a fresh MLflow store, and one version as an MLflow model directory."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from support.mlflow_store import using

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory):
    """The MLflow store imported, production approved here, then exported to a new sqlite store."""
    from modeldesk.core.interop.mlflow_export import export_mlflow
    from modeldesk.core.interop.mlflow_import import import_mlflow
    from modeldesk.core.registry.approvals import approve, override_gate
    from modeldesk.core.storage.project import open_project

    project = open_project(tmp_path_factory.mktemp("project") / "round.mdesk", user="ana")
    import_mlflow(project, store.uri)
    override_gate(project, "iris-clf", 2, "predict", reason="no example in MLflow", actor="bob")
    approve(project, "iris-clf", 2, actor="bob")
    target = f"sqlite:///{tmp_path_factory.mktemp('target') / 'mlflow.db'}"
    summary = export_mlflow(project, target)
    yield project, target, summary
    project.close()


def test_runs_and_metric_histories_round_trip(store, exported):
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    project, target, summary = exported
    source, back = MlflowClient(store.uri, store.uri), MlflowClient(target, target)
    exp = back.get_experiment_by_name("iris")
    runs = {r.info.run_name: r for r in back.search_runs([exp.experiment_id], run_view_type=ViewType.ALL)}
    assert sorted(runs) == ["custom", "logreg", "sweep", "tree"]
    assert summary.counts["runs"] == 4
    for label, original_id in store.runs.items():
        original, copy = source.get_run(original_id), runs[label]
        assert copy.info.status == original.info.status
        assert copy.info.start_time == original.info.start_time
        assert copy.info.end_time == original.info.end_time
        assert copy.data.params == original.data.params
        assert copy.data.metrics == pytest.approx(original.data.metrics)
        assert copy.data.tags["modeldesk.run_id"] == original_id
        assert {k: v for k, v in original.data.tags.items() if not k.startswith("mlflow.")} == \
            {k: v for k, v in copy.data.tags.items() if not k.startswith(("mlflow.", "modeldesk."))}
        for key in original.data.metrics:
            assert [(m.step, m.value, m.timestamp) for m in back.get_metric_history(copy.info.run_id, key)] == \
                [(m.step, m.value, m.timestamp) for m in source.get_metric_history(original_id, key)]
    assert runs["logreg"].data.tags["mlflow.parentRunId"] == runs["sweep"].info.run_id
    text = back.download_artifacts(runs["logreg"].info.run_id, "notes/readme.txt")
    assert open(text).read() == "trained on iris"


def test_registered_versions_and_aliases_round_trip_and_predict_the_same(exported):
    from mlflow import MlflowClient
    from sklearn.datasets import load_iris

    from modeldesk.core.registry.uris import load_model

    project, target, _ = exported
    back = MlflowClient(target, target)
    model = back.get_registered_model("iris-clf")
    assert model.description == "Iris species from flower measurements"
    assert model.aliases == {"champion": 1, "production": 2}
    versions = sorted(back.search_model_versions("name = 'iris-clf'"), key=lambda v: int(v.version))
    assert [v.tags["modeldesk.version"] for v in versions] == ["1", "2"]
    X, _ = load_iris(return_X_y=True, as_frame=True)
    with using(target) as mlflow:
        import mlflow.pyfunc

        for alias, version in (("champion", 1), ("production", 2)):
            theirs = mlflow.pyfunc.load_model(f"models:/iris-clf@{alias}")
            ours = load_model(project, f"models:/iris-clf/{version}")
            np.testing.assert_array_equal(np.asarray(theirs.predict(X)), ours.predict(X))


def test_a_second_export_adds_nothing(exported):
    from mlflow import MlflowClient

    from modeldesk.core.audit import list_entries
    from modeldesk.core.interop.mlflow_export import export_mlflow

    project, target, _ = exported
    again = export_mlflow(project, target)
    assert again.counts == {}
    back = MlflowClient(target, target)
    assert len(back.search_runs([back.get_experiment_by_name("iris").experiment_id])) == 4
    assert len(back.search_model_versions("name = 'iris-clf'")) == 2
    assert len(list_entries(project, action="export.mlflow")) == 2


def test_sqlite_exports_keep_artifacts_beside_the_database(exported, tmp_path):
    from pathlib import Path

    _, target, _ = exported
    folder = Path(target[len("sqlite:///"):]).parent / "mlartifacts"
    assert (folder / "iris").is_dir() and any((folder / "iris").rglob("MLmodel"))


@pytest.fixture
def registered(md):
    from support.registry import log_run

    run_id = log_run(md)
    md.register_model(f"runs:/{run_id}/model", "cancer")
    return md


def test_a_version_exports_as_a_model_directory_mlflow_loads_and_serves(registered, project_path, tmp_path):
    from mlflow.models import Model

    from modeldesk.core.interop.mlflow_models import save_model_dir
    from modeldesk.core.storage.project import open_project
    from support.data import breast_cancer

    project = open_project(project_path)
    target = save_model_dir(project, "cancer/1", tmp_path / "cancer")
    meta = Model.load(str(target))
    assert {"python_function", "sklearn"} <= set(meta.flavors)
    assert meta.signature.inputs.input_names()[:2] == ["mean radius", "mean texture"]
    assert (target / "input_example.json").is_file()
    assert any(line.startswith("scikit-learn==") for line in (target / "requirements.txt").read_text().split())
    X, _ = breast_cancer()
    ours = registered.load_model("models:/cancer/1").predict(X)
    import mlflow.pyfunc

    np.testing.assert_array_equal(np.asarray(mlflow.pyfunc.load_model(str(target)).predict(X)), ours)
    # what `mlflow models serve` runs per request, offline: the scoring CLI with the local environment
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps({"dataframe_split": json.loads(X.head(20).to_json(orient="split", index=False))}))
    out = tmp_path / "out.json"
    done = subprocess.run([sys.executable, "-m", "mlflow", "models", "predict", "-m", str(target), "-i", str(rows),
                           "-t", "json", "-o", str(out), "--env-manager", "local"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(out.read_text())["predictions"] == ours[:20].tolist()
    project.close()


def test_a_model_directory_is_not_written_over(registered, project_path, tmp_path):
    from modeldesk.core.errors import UsageError
    from modeldesk.core.interop.mlflow_models import save_model_dir
    from modeldesk.core.storage.project import open_project

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    project = open_project(project_path)
    with pytest.raises(UsageError, match="not empty"):
        save_model_dir(project, "cancer/1", tmp_path / "busy")
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"
    project.close()

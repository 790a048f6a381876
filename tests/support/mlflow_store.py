"""A real MLflow store built with MLflow's own client, for the import/export tests.

MLflow is in the test extra (pyproject.toml): these tests always run against a
real MLflow. Without it they fail with the command to install it, never skip.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def need_mlflow():
    """The mlflow module, or a failed test naming the missing test dependency."""
    try:
        import mlflow
    except ImportError:
        pytest.fail("MLflow is missing from the test environment: pip install -e '.[test]' "
                    "(the import/export tests need a real MLflow).")
    return mlflow


@dataclass
class MlflowStore:
    uri: str
    root: Path
    runs: dict[str, str] = field(default_factory=dict)          # our label -> MLflow run id
    histories: dict[str, list] = field(default_factory=dict)    # "label/key" -> [(step, value, timestamp ms)]
    deleted: str = ""


@contextmanager
def using(uri: str):
    """MLflow's fluent API (and models:/ URIs) pointed at ``uri`` for a while."""
    mlflow = need_mlflow()
    old = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield mlflow
    finally:
        mlflow.set_tracking_uri(old[0])
        mlflow.set_registry_uri(old[1])


def _constant_model():
    """A python_function-only model (not scikit-learn), defined where cloudpickle can pickle it."""
    import mlflow.pyfunc

    class Constant(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return [7] * len(model_input)

    return Constant()


def build_store(root: Path) -> MlflowStore:
    """An MLflow sqlite store: a parent run with a child that trained a registered scikit-learn
    model (v1, with an input example), a second model run (v2, signature but no example), a run
    whose model is a plain pyfunc, and a deleted run; aliases champion -> v1, production -> v2."""
    need_mlflow()
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    root.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    store = MlflowStore(uri, root)
    client = MlflowClient(uri, uri)
    old = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        exp = client.create_experiment("iris", artifact_location=(root / "artifacts").as_uri())
        X, y = load_iris(return_X_y=True, as_frame=True)
        reqs = ["scikit-learn"]   # given, so MLflow does not load the model in a subprocess to infer them
        with mlflow.start_run(experiment_id=exp, run_name="sweep") as parent:
            store.runs["sweep"] = parent.info.run_id
            mlflow.log_param("grid", "C")
            with mlflow.start_run(experiment_id=exp, run_name="logreg", nested=True) as run:
                store.runs["logreg"] = run.info.run_id
                model = LogisticRegression(max_iter=500).fit(X, y)
                mlflow.log_params({"C": 1.0, "max_iter": 500})
                mlflow.set_tags({"owner": "ana", "stage": "dev"})
                for step in range(10):
                    mlflow.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1_700_000_000_000 + step)
                mlflow.log_metric("accuracy", float(model.score(X, y)))
                mlflow.log_text("trained on iris", "notes/readme.txt")
                mlflow.sklearn.log_model(model, name="model", input_example=X.head(3), pip_requirements=reqs,
                                         registered_model_name="iris-clf")
        with mlflow.start_run(experiment_id=exp, run_name="tree") as run:
            store.runs["tree"] = run.info.run_id
            tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
            mlflow.log_param("max_depth", 3)
            mlflow.log_metric("accuracy", float(tree.score(X, y)))
            mlflow.sklearn.log_model(tree, name="model", signature=infer_signature(X, tree.predict(X)),
                                     pip_requirements=reqs, registered_model_name="iris-clf",
                                     serialization_format="cloudpickle")   # as MLflow 2 wrote every model
        with mlflow.start_run(experiment_id=exp, run_name="custom") as run:
            store.runs["custom"] = run.info.run_id
            mlflow.pyfunc.log_model(name="constant", python_model=_constant_model(), pip_requirements=["mlflow"])
        with mlflow.start_run(experiment_id=exp, run_name="mistake") as run:
            store.deleted = run.info.run_id
            mlflow.log_metric("loss", 9.0)
        client.delete_run(store.deleted)
        client.update_registered_model("iris-clf", description="Iris species from flower measurements")
        client.update_model_version("iris-clf", "1", description="first try")
        client.set_registered_model_alias("iris-clf", "champion", "1")
        client.set_registered_model_alias("iris-clf", "production", "2")
        for label in ("logreg",):
            for key in ("loss", "accuracy"):
                store.histories[f"{label}/{key}"] = [(m.step, m.value, m.timestamp)
                                                     for m in client.get_metric_history(store.runs[label], key)]
    finally:
        mlflow.set_tracking_uri(old[0])
        mlflow.set_registry_uri(old[1])
    return store

"""Reading one MLflow model directory: what is not kept as MLflow had it is said, never dropped silently."""

from __future__ import annotations

import pytest

from support.mlflow_store import need_mlflow

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def model_dir(tmp_path):
    """An MLflow sklearn model directory saved with an input example and a signature."""
    need_mlflow()
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    path = tmp_path / "model"
    mlflow.sklearn.save_model(model, str(path), input_example=X.head(3),
                              signature=infer_signature(X, model.predict(X)))
    return path


def _store(md, project_path, read):
    """Store ``read`` as a model of a fresh run; the notes it gave."""
    from modeldesk.core.interop.mlflow_models import store_sklearn_model
    from modeldesk.core.storage.project import open_project

    with md.start_run(name="holder") as run:
        pass
    md.flush()
    notes: list[str] = []
    with open_project(project_path) as p:
        rid = p.conn.execute("SELECT rid FROM runs WHERE id = ?", (run.id,)).fetchone()[0]
        with p.write() as w:
            store_sklearn_model(w, rid, "model", read, 0.0, notes)
    return notes


def test_an_unreadable_input_example_is_named_in_the_notes(md, project_path, model_dir):
    from modeldesk.core.interop.mlflow_models import read_model_dir

    example = next(model_dir.glob("input_example*"))
    example.write_text("{ this is not json")
    read = read_model_dir(model_dir)
    assert read.estimator is not None and read.example is None
    assert "input example could not be read" in read.example_problem
    assert read.placeholder is not None   # the signature still gives the model its columns
    notes = _store(md, project_path, read)
    assert len(notes) == 1 and "could not be read" in notes[0] and "MLflow's signature" in notes[0]


def test_a_readable_example_gives_no_note(md, project_path, model_dir):
    from modeldesk.core.interop.mlflow_models import read_model_dir

    read = read_model_dir(model_dir)
    assert read.example is not None and read.example_problem is None
    assert _store(md, project_path, read) == []


def test_a_model_that_fails_on_its_example_is_imported_and_named(md, project_path, model_dir):
    import dataclasses

    from modeldesk.core.interop.mlflow_models import read_model_dir

    read = read_model_dir(model_dir)
    odd = dataclasses.replace(read, example=read.example.to_numpy()[:, :2])   # 2 columns for a 4-column model
    notes = _store(md, project_path, odd)
    assert len(notes) == 1 and "failed on its input example" in notes[0] and "ValueError" in notes[0]

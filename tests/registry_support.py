"""Real models for the registry tests: scikit-learn on breast cancer, logged
through the fluent API as a training script would log them."""

from __future__ import annotations

import functools
import sqlite3

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@functools.lru_cache(maxsize=1)
def cancer():
    bunch = load_breast_cancer(as_frame=True)
    return bunch.data, bunch.target


def logreg(C: float = 1.0):
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def log_run(md, model=None, *, X=None, y=None, name: str = "logreg", roc_auc: float | None = None,
            example=None, with_example: bool = True, dataset: bool = False, fit: bool = True) -> str:
    """Fit ``model`` (default: scaled logistic regression), log it with its input
    example and its roc_auc (measured, or the given value); return the run id.
    ``fit=False`` logs ``model`` as it is (already fitted)."""
    if X is None:
        X, y = cancer()
    model = model if model is not None else logreg()
    with md.start_run(name=name) as run:
        if fit:
            model.fit(X, y)
        if dataset:
            md.log_dataset(X.assign(target=y), name="train", role="training", target="target")
        md.log_model(model, input_example=(X.iloc[:5] if example is None else example) if with_example else None)
        if roc_auc is None and hasattr(model, "predict_proba"):
            roc_auc = float(roc_auc_score(y, model.predict_proba(X)[:, 1]))
        if roc_auc is not None:
            md.log_metric("roc_auc", roc_auc)
    md.flush()
    return run.id


def tamper_blob(path, sha256: str) -> None:
    """Flip one byte of a stored blob, as someone editing the file would."""
    conn = sqlite3.connect(path)
    data = bytearray(conn.execute("SELECT data FROM blob_chunks WHERE sha256 = ? AND seq = 0", (sha256,)).fetchone()[0])
    data[len(data) // 2] ^= 0xFF
    conn.execute("UPDATE blob_chunks SET data = ? WHERE sha256 = ? AND seq = 0", (bytes(data), sha256))
    conn.commit()
    conn.close()


def shown_project_view(qtbot, view_class, size):
    """A project view (Models, Audit) shown at ``size``; yields it, then lets go of
    its project and waits for its workers so no job outlives the test."""
    view = view_class()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    yield view
    project = view.project
    view.set_project(None)
    view.jobs.wait()
    if project is not None:
        project.close()

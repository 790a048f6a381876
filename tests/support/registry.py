"""Real models for tests: a scaled logistic regression on breast cancer, logged
through the fluent API as a training script would log it."""

from __future__ import annotations

import sqlite3

from .data import breast_cancer


def logreg(C: float = 1.0):
    """An unfitted scaler + logistic-regression pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))


def fitted_logreg(C: float = 1.0, y=None):
    """:func:`logreg` fitted on breast cancer (on the labels ``y`` when given)."""
    X, target = breast_cancer()
    return logreg(C).fit(X, target if y is None else y)


def log_run(md, model=None, *, X=None, y=None, name: str = "logreg", roc_auc: float | None = None,
            example=None, with_example: bool = True, dataset: bool = False, fit: bool = True) -> str:
    """Fit ``model`` (default: :func:`logreg`), log it with its input example
    and its roc_auc (measured, or the given value); return the run id.
    ``fit=False`` logs ``model`` as it is (already fitted)."""
    from sklearn.metrics import roc_auc_score

    if X is None:
        X, y = breast_cancer()
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

"""Prediction drift: are a model's answers still distributed as they were on its reference data?

An early signal that needs no labels: the logged outputs of a period against
the model's own predictions on the reference sample (the version's training
data), compared with the drift engine (``drift.compare``). A classifier's
``prediction`` is compared as a category; when probabilities were logged for
every row of the period, each class's probability (``proba_<class>``) is
compared too, as a number. A regressor's ``prediction`` is a number.
"""

from __future__ import annotations

from ..errors import UsageError
from ..storage.project import Project


def prediction_drift(project: Project, uri: str, since=None, until=None, *, options=None):
    """The drift report of ``uri``'s logged outputs in ``[since, until)`` against its predictions on the reference.

    No training dataset, or no prediction in the period, is a ``UsageError``.
    Returns a :class:`~modeldesk.core.monitoring.drift.DriftReport`.
    """
    import numpy as np
    import pandas as pd

    from . import windows as win
    from .drift import compare
    from .performance import read_outputs, reference_predictions, served_ids, target

    start, end = win.period_bounds(since, until)
    t = target(project, uri)
    if t.monitored is None:
        from .reference import monitored

        monitored(project, uri)     # raises the engine's own "no reference data" error
    model, X, _ = reference_predictions(project, t)
    out = read_outputs(project, served_ids(project, t.logged), start, end)
    if not out.predictions:
        raise UsageError(f"No predictions of {t.uri} were logged {win.describe_period(start, end)}: "
                         "there is nothing to compare.")
    reference = pd.DataFrame({"prediction": np.asarray(model.predict(X)).reshape(len(X), -1)[:, 0]})
    current = pd.DataFrame({"prediction": out.predictions})
    if not t.classifier:
        current["prediction"] = pd.to_numeric(current["prediction"], errors="coerce")
    proba = out.probabilities
    if t.classifier and proba is not None and proba.shape[1] == len(t.classes) and np.isfinite(proba).all() \
            and hasattr(model, "predict_proba"):
        ref_proba = np.asarray(model.predict_proba(X), dtype=np.float64)
        for k, c in enumerate(t.classes):
            reference[f"proba_{c}"] = ref_proba[:, k]
            current[f"proba_{c}"] = proba[:, k]
    if t.classifier:   # the same kind on both sides: the class labels as text
        reference["prediction"] = reference["prediction"].map(_label)
        current["prediction"] = current["prediction"].map(_label)
    return compare(reference, current, categorical=["prediction"] if t.classifier else None,
                   options=win.drift_options(project, options))   # the project's drift settings, as for inputs


def _label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and value.is_integer():
            value = int(value)
    return str(value)

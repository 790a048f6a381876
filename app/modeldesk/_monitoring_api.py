"""The fluent API's monitoring calls: drift, windows, performance, serving health, prediction drift.

``md.drift_for``, ``md.serving_health``... live here so the fluent API's
``__init__`` stays small; ``modeldesk`` re-exports them by name (its
``__getattr__``, as it does ``md.sklearn``), so ``import modeldesk`` stays
light and this module can read the current project from it without an
import cycle. Each call is a thin face over ``modeldesk.core.monitoring``.
"""

from __future__ import annotations

import modeldesk as md

__all__ = ["drift", "drift_for", "drift_windows", "performance", "serving_health", "prediction_drift"]


def drift(reference_df, current_df, categorical=None, options=None):
    """Data drift of ``current_df`` against ``reference_df``, column by column.

    Tests and thresholds are those of Evidently's default data-drift preset
    (docs/monitoring.md); ``categorical`` names columns to compare as
    categories, ``options`` overrides tests and thresholds, e.g.
    ``{"columns": {"age": {"test": "psi", "threshold": 0.2}}}``, over the
    current project's ``drift.options`` setting when a project is set.
    Returns a report: ``.share``, ``.drifted``, ``.columns`` (a DataFrame),
    ``.to_dict()``.
    """
    from .core.monitoring.drift import compare
    from .core.monitoring.overrides import merge_options, project_options

    project = md._project      # only a project already set: md.drift on two frames opens none
    if project is not None:
        options = merge_options(project_options(project), options)
    return compare(reference_df, current_df, categorical=categorical, options=options)


def drift_for(uri: str, since=None, until=None):
    """Data drift of what ``uri`` was asked in ``[since, until)`` (its prediction log) against its training data.

    The reference is the seeded sample of the dataset logged with the
    version's run in role ``training``, cut to the model's signature inputs.
    ``since``/``until``: ISO time, datetime or an age like "24h". Returns the
    same report as :func:`drift`.
    """
    from .core.monitoring.windows import drift_for as _drift_for

    md.flush()
    return _drift_for(md.get_project(), uri, since=since, until=until)


def drift_windows(uri: str, every="1d", since=None, until=None):
    """Drift of ``uri``'s prediction log per window: ``every`` "1h", "1d", "1w" or N predictions.

    A DataFrame, one row per window and column: ``window_start``,
    ``window_end``, ``rows``, ``column``, ``score``, ``threshold``,
    ``drifted``, ``share``, ``dataset_drifted`` (plus ``test``, ``note``).
    Windows are stored in the project: reopening computes only new ones.
    """
    from .core.monitoring.windows import drift_windows as _drift_windows

    md.flush()
    return _drift_windows(md.get_project(), uri, every=every, since=since, until=until)


def performance(uri: str, every="1d", since=None, until=None):
    """Performance of ``uri`` per window of its prediction log: ``every`` "1h", "1d", "1w" or N predictions.

    A DataFrame, one row per window: ``window_start``, ``window_end``,
    ``rows``, ``labeled``, then ``accuracy``, ``f1``, ``roc_auc``,
    ``estimated_accuracy``, ``estimated_roc_auc`` for a classifier (the
    estimates from logged probabilities calibrated on the training data, so
    before labels arrive), or ``rmse``, ``mae``, ``r2`` for a regressor.
    Realised metrics use the rows with imported labels; NaN: not defined.
    """
    from .core.monitoring.performance import performance as _performance

    md.flush()
    return _performance(md.get_project(), uri, every=every, since=since, until=until)


def serving_health(uri: str, every="1d", since=None, until=None):
    """How the server answered ``uri``'s version per time window: ``every`` "1h", "1d", "1w" (or "6h", "2d"...).

    A DataFrame, one row per window that saw a request (empty windows are
    left out): ``window_start``, ``window_end`` (UTC, end exclusive),
    ``requests`` (answered), ``rows`` (predicted), ``failed`` (answered
    with an error), ``error_rate`` (failed / all requests), ``p50_ms``,
    ``p99_ms`` (latency of the answered requests; NaN in a window where
    every request failed). A number of predictions as ``every`` is refused:
    failed requests have no rows to count.
    """
    from .core.monitoring.serving_health import serving_health as _serving_health

    md.flush()
    return _serving_health(md.get_project(), uri, every=every, since=since, until=until)


def prediction_drift(uri: str, since=None, until=None):
    """Drift of what ``uri`` answered in ``[since, until)`` against its own predictions on its training data.

    No labels needed: a classifier's ``prediction`` is compared as a
    category, and each class's ``proba_<class>`` as a number when every row
    of the period logged probabilities; a regressor's ``prediction`` as a
    number. Returns the same report as :func:`drift_for`; no training
    dataset, or no prediction in the period, is a ``UsageError``.
    """
    from .core.monitoring.prediction_drift import prediction_drift as _prediction_drift

    md.flush()
    return _prediction_drift(md.get_project(), uri, since=since, until=until)

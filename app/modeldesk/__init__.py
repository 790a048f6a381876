"""ModelDesk: track, compare, approve, serve and audit scikit-learn models.

The fluent tracking API. It keeps one "current project" and a stack of
active runs for the calling process, at the edge, and forwards every call to
``modeldesk.core``::

    import modeldesk as md
    md.set_project("team.mdesk")
    md.set_experiment("churn")
    with md.start_run(name="rf-200") as run:
        md.log_params({"n_estimators": 200})
        md.log_metric("val_auc", 0.91, step=3)
"""

from __future__ import annotations

import atexit
import os
import sys
import threading

from .core.version import __version__  # noqa: F401  (md.__version__)

__all__ = [
    "set_project", "get_project", "set_experiment", "start_run", "end_run", "active_run",
    "log_param", "log_params", "log_metric", "log_metrics", "set_tag", "set_tags",
    "log_artifact", "log_dataset", "log_model", "search_runs", "get_run",
    "get_metric_history", "load_model", "register_model", "get_predictions", "drift", "drift_for", "drift_windows",
    "performance", "report", "flush",
    "ActiveRun",
]

_lock = threading.RLock()
_project = None
_tracker = None
_experiment = None
_env_sha: str | None = None
_runs: list["ActiveRun"] = []


def _core():
    from .core.storage import project
    from .core.tracking import tracker as tracking

    return project, tracking


def set_project(path=None, *, user: str | None = None):
    """Use the project file at ``path`` (created if missing) from now on.

    A file that is not a ModelDesk project, an empty one included, is refused
    and left as it is.

    Without a path: ``MODELDESK_PROJECT`` or ./modeldesk.mdesk. Returns the
    core ``Project``.
    """
    global _project, _tracker, _experiment, _env_sha
    project_mod, tracking = _core()
    with _lock:
        if _runs:
            from .core.errors import UsageError

            raise UsageError("End the active run before switching projects.")
        if _tracker is not None:
            _tracker.close()
            _project.close()
            # A path that is refused (a foreign or empty file) leaves no
            # closed project behind: the next call opens the default again.
            _project = _tracker = None
        # Creates a project only where nothing exists yet; an empty or
        # foreign file is refused untouched (only `modeldesk init` claims it).
        _project = project_mod.open_project(path, user=user)
        _tracker = tracking.Tracker(_project)
        from .core.audit import on_open

        warning = on_open(_project)
        if warning:
            import warnings

            warnings.warn(f"{warning} Run `modeldesk audit verify`.", RuntimeWarning, stacklevel=2)
        _experiment = None
        _env_sha = None
        return _project


def get_project():
    """The current project (opening the default one on first use)."""
    if _project is None:
        set_project()
    return _project


def _get_tracker():
    if _tracker is None:
        set_project()
    return _tracker


def set_experiment(name: str):
    """Log new runs into experiment ``name`` (created if missing)."""
    global _experiment
    _experiment = _get_tracker().experiment(name)
    return _experiment


class ActiveRun:
    """A run being logged. A context manager: FINISHED on exit, FAILED on error."""

    def __init__(self, handle, parent: "ActiveRun | None"):
        self._handle = handle
        self.parent = parent

    @property
    def id(self) -> str:
        return self._handle.id

    @property
    def name(self) -> str:
        return self._handle.name

    @property
    def parent_id(self) -> str | None:
        return self.parent.id if self.parent else None

    def __enter__(self) -> "ActiveRun":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        status = "FINISHED"
        if exc_type is KeyboardInterrupt:
            status = "KILLED"
        elif exc_type is not None:
            status = "FAILED"
        end_run(status, run=self)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.id} {self.name!r}>"


def _environment_sha() -> str | None:
    global _env_sha
    if _env_sha is None:
        from .core.tracking.artifacts import store_environment
        from .core.tracking.environment import capture_environment

        _env_sha = store_environment(get_project(), capture_environment())
    return _env_sha


def start_run(name: str | None = None, *, run_id: str | None = None, experiment: str | None = None,
              tags: dict | None = None, nested: bool = True) -> ActiveRun:
    """Start a run (or resume ``run_id``). Inside an active run it becomes a child.

    A run started by a monitor's retrain command (``MODELDESK_RETRAIN_ID`` set)
    is tagged ``modeldesk.retrain_id``, so the retrain finds and registers it.

    Use it as a context manager so the run ends FINISHED or FAILED.
    """
    tracker = _get_tracker()
    with _lock:
        if run_id is not None:
            handle = tracker.resume_run(run_id)
            run = ActiveRun(handle, _runs[-1] if _runs else None)
        else:
            if experiment is not None:
                set_experiment(experiment)
            exp = _experiment or set_experiment("Default")
            parent = _runs[-1] if (_runs and nested) else None
            retrain_id = os.environ.get("MODELDESK_RETRAIN_ID")
            if retrain_id:   # started by a monitor's retrain: the tag is how it finds this run
                tags = {**(tags or {}), "modeldesk.retrain_id": retrain_id}
            handle = tracker.start_run(
                exp.id, name, parent=parent._handle if parent else None, tags=tags,
                environment_sha256=_environment_sha())
            run = ActiveRun(handle, parent)
        _runs.append(run)
        return run


def end_run(status: str = "FINISHED", *, run: ActiveRun | None = None) -> None:
    """End the active run (and any child still open inside it)."""
    with _lock:
        if not _runs:
            return
        target = run or _runs[-1]
        if target not in _runs:
            return  # already ended
        while _runs:
            top = _runs.pop()
            _tracker.end_run(top._handle, status if top is target else "FAILED" if status == "FAILED" else "FINISHED")
            if top is target:
                break


def active_run() -> ActiveRun | None:
    """The innermost active run, or None."""
    return _runs[-1] if _runs else None


def _current():
    if _runs:
        return _runs[-1]._handle
    return start_run()._handle  # like MLflow: logging without a run starts one


def _rid() -> int:
    """The active run's row id (its row is flushed to the file first if needed)."""
    return _tracker.written_rid(_current())


def log_param(key: str, value) -> None:
    """Log one param; logging the same key with another value is an error."""
    _tracker_or_default().log_params(_current(), {key: value})


def log_params(params: dict) -> None:
    _tracker_or_default().log_params(_current(), params)


def log_metric(key: str, value, step: int | None = None, timestamp: float | None = None) -> None:
    """Log one metric point; the full history is kept. Buffered, see flush()."""
    if _runs:
        _tracker.log_metric(_runs[-1]._handle, key, value, step, timestamp)
    else:
        _tracker_or_default().log_metric(_current(), key, value, step, timestamp)


def log_metrics(metrics: dict, step: int | None = None, timestamp: float | None = None) -> None:
    _tracker_or_default().log_metrics(_current(), metrics, step, timestamp)


def set_tag(key: str, value) -> None:
    _tracker_or_default().set_tags(_current(), {key: value})


def set_tags(tags: dict) -> None:
    _tracker_or_default().set_tags(_current(), tags)


def _tracker_or_default():
    return _tracker if _tracker is not None else _get_tracker()


def log_artifact(source, name: str | None = None):
    """Store a file (path) or bytes (with ``name``) with the active run."""
    from .core.tracking.artifacts import log_artifact as _log

    return _log(get_project(), _rid(), source, name)


def log_dataset(data, name: str = "dataset", role: str = "training", target: str | None = None, **kw):
    """Log a dataset: full-data fingerprint, per-column profile, seeded sample."""
    from .core.tracking.artifacts import log_dataset as _log

    return _log(get_project(), _rid(), data, name=name, role=role, target=target, **kw)


def log_model(model, name: str = "model", input_example=None):
    """Log a fitted estimator (joblib) with its signature and environment."""
    from .core.tracking.artifacts import log_model as _log

    return _log(get_project(), _rid(), model, name=name, input_example=input_example,
                environment_sha256=_environment_sha())


def flush() -> None:
    """Write buffered metrics now (they are also written at least every second)."""
    if _tracker is not None:
        _tracker.flush()


def search_runs(experiment=None, filter: str | None = None, order_by=None, max_results: int | None = None,
                experiments=None):
    """Runs matching ``filter`` as a pandas DataFrame (MLflow-style columns)."""
    from .core.tracking.runs import search_runs as _search

    flush()
    return _search(get_project(), experiments if experiments is not None else experiment, filter, order_by,
                   max_results)


def get_run(run_id: str):
    """A run's params, latest metrics, tags and status."""
    from .core.tracking.runs import get_run as _get

    flush()
    return _get(get_project(), run_id)


def get_metric_history(run_id: str, key: str):
    """Every point of a metric: DataFrame with step, value, timestamp."""
    from .core.tracking.runs import get_metric_history as _hist

    flush()
    return _hist(get_project(), run_id, key)


def load_model(uri: str):
    """Load a model by URI after verifying its sha256 (runs:/, models:/)."""
    from .core.registry.uris import load_model as _load

    flush()
    return _load(get_project(), uri)


def get_predictions(model_uri: str, since=None, until=None):
    """Logged predictions of a served model as a DataFrame: request id, time, version,
    input columns, prediction, label (when imported). ``since``/``until``: ISO time or "24h"."""
    from .core.serving.prediction_log import get_predictions as _get

    return _get(get_project(), model_uri, since=since, until=until)


def register_model(model_uri: str, name: str):
    """Register a run's logged model (``runs:/<run_id>/<name>``) as the next version of ``name``.

    Returns the ``ModelVersion`` (``.name``, ``.version``); the model is created if new.
    """
    from .core.registry.versions import register_model as _register

    flush()
    return _register(get_project(), model_uri, name)


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

    if _project is not None:
        options = merge_options(project_options(_project), options)
    return compare(reference_df, current_df, categorical=categorical, options=options)


def drift_for(uri: str, since=None, until=None):
    """Data drift of what ``uri`` was asked in ``[since, until)`` (its prediction log) against its training data.

    The reference is the seeded sample of the dataset logged with the
    version's run in role ``training``, cut to the model's signature inputs.
    ``since``/``until``: ISO time, datetime or an age like "24h". Returns the
    same report as :func:`drift`.
    """
    from .core.monitoring.windows import drift_for as _drift_for

    flush()
    return _drift_for(get_project(), uri, since=since, until=until)


def drift_windows(uri: str, every="1d", since=None, until=None):
    """Drift of ``uri``'s prediction log per window: ``every`` "1h", "1d", "1w" or N predictions.

    A DataFrame, one row per window and column: ``window_start``,
    ``window_end``, ``rows``, ``column``, ``score``, ``threshold``,
    ``drifted``, ``share``, ``dataset_drifted`` (plus ``test``, ``note``).
    Windows are stored in the project: reopening computes only new ones.
    """
    from .core.monitoring.windows import drift_windows as _drift_windows

    flush()
    return _drift_windows(get_project(), uri, every=every, since=since, until=until)


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

    flush()
    return _performance(get_project(), uri, every=every, since=since, until=until)


def report(uri: str | None, path, *, letter: bool = False):
    """Write the audit report of model version ``uri`` (``None``: the whole project) to ``path``.

    The format comes from the extension (``.pdf``, A4 unless ``letter``, or ``.html``); the export is
    recorded in the audit log (``report.export`` with the file's sha256). Returns the file's path::

        md.report("models:/churn/3", "churn-v3.pdf")
    """
    from .gui.reports.export import export_report

    flush()
    return export_report(get_project(), uri, path, page_size="Letter" if letter else "A4").path


def __getattr__(name: str):
    if name == "sklearn":
        import importlib

        return importlib.import_module(".sklearn", __name__)
    raise AttributeError(f"module 'modeldesk' has no attribute {name!r}")


_uncaught = False
_previous_excepthook = sys.excepthook


def _excepthook(exc_type, exc, tb):
    global _uncaught
    _uncaught = True
    _previous_excepthook(exc_type, exc, tb)


sys.excepthook = _excepthook


@atexit.register
def _end_runs_at_exit() -> None:
    # Runs left open by a script that simply ended are FINISHED, like MLflow;
    # a script that died of an uncaught exception leaves them FAILED.
    failed = _uncaught or getattr(sys, "last_type", None) is not None
    while _runs:
        try:
            end_run("FAILED" if failed else "FINISHED")
        except Exception:
            break

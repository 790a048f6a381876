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
    "performance", "serving_health", "prediction_drift", "report", "flush",
    "ActiveRun",
    # MLflow's habits (docs/tracking.md, "For MLflow users") and the run lifecycle
    "set_tracking_uri", "get_tracking_uri", "log_artifacts", "log_text", "log_dict", "log_figure",
    "delete_run", "restore_run", "rename_run", "create_experiment", "rename_experiment", "delete_experiment",
    "restore_experiment", "search_experiments", "get_experiment_by_name",
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


def set_experiment(name: str | None = None, *, experiment_name: str | None = None, experiment_id=None):
    """Log new runs into experiment ``name`` (created if missing; MLflow's
    ``experiment_name=``/``experiment_id=`` work too). A deleted one is refused."""
    global _experiment
    from .core.tracking.keywords import pick

    name = pick(name=name, experiment_name=experiment_name)
    if experiment_id is not None:
        from .core.tracking.lifecycle import get_experiment

        found = get_experiment(get_project(), experiment_id)
        name = pick(name=name, experiment_id=found.name)
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
              tags: dict | None = None, nested: bool = True, run_name: str | None = None,
              experiment_id=None) -> ActiveRun:
    """Start a run (or resume ``run_id``). Inside an active run it becomes a child.

    A run started by a monitor's retrain command (``MODELDESK_RETRAIN_ID`` set)
    is tagged ``modeldesk.retrain_id``, so the retrain finds and registers it.

    Use it as a context manager so the run ends FINISHED or FAILED. MLflow's
    ``run_name=`` and ``experiment_id=`` work too.
    """
    from .core.tracking.keywords import pick

    name = pick(name=name, run_name=run_name)
    tracker = _get_tracker()
    if experiment_id is not None:
        from .core.tracking.lifecycle import get_experiment

        experiment = pick(experiment=experiment, experiment_id=get_experiment(get_project(), experiment_id).name)
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
                experiments=None, *, experiment_names=None, experiment_ids=None, filter_string: str | None = None,
                run_view_type="active", output_format: str = "pandas"):
    """Runs matching ``filter`` as a pandas DataFrame (MLflow-style columns).

    MLflow's keywords work too: ``experiment_names=``, ``experiment_ids=``,
    ``filter_string=``, ``run_view_type=`` (``"active"``, ``"deleted"``,
    ``"all"`` or ViewType's 1/2/3). Deleted runs are left out unless asked for.
    ``output_format="list"`` returns ``Run`` objects (with ``.info``/``.data``) instead.
    """
    from .core.tracking.keywords import experiments_of, output_format_of, pick
    from .core.tracking.runs import find_runs
    from .core.tracking.runs import search_runs as _search

    flush()
    search = find_runs if output_format_of(output_format) == "list" else _search
    return search(get_project(), experiments_of(experiment, experiments, experiment_names, experiment_ids),
                  pick(filter=filter, filter_string=filter_string), order_by, max_results, lifecycle=run_view_type)


def get_run(run_id: str):
    """A run's params, latest metrics, tags and status; ``.info`` and ``.data`` as MLflow's ``Run`` has them."""
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


def report(uri: str | None, path, *, letter: bool = False):
    """Write the audit report of model version ``uri`` (``None``: the whole project) to ``path``.

    The format comes from the extension (``.pdf``, A4 unless ``letter``, or ``.html``); the export is
    recorded in the audit log (``report.export`` with the file's sha256). Returns the file's path::

        md.report("models:/churn/3", "churn-v3.pdf")
    """
    from .gui.reports.export import export_report

    flush()
    return export_report(get_project(), uri, path, page_size="Letter" if letter else "A4").path


def set_tracking_uri(uri):
    """MLflow's spelling of :func:`set_project`: a ``.mdesk`` path, ``sqlite:///team.mdesk`` or ``file:`` URI."""
    from .core.tracking.keywords import project_path_of_uri

    return set_project(project_path_of_uri(uri))


def get_tracking_uri() -> str:
    """The current project file's path."""
    return str(get_project().path)


def log_artifacts(local_dir, artifact_path: str | None = None):
    """Store every file under ``local_dir`` with the active run (as ``artifact_path/...``), all or none."""
    from .core.tracking.artifact_logging import log_artifacts as _log

    return _log(get_project(), _rid(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str):
    """Store ``text`` as the artifact ``artifact_file`` (UTF-8)."""
    from .core.tracking.artifact_logging import log_text as _log

    return _log(get_project(), _rid(), text, artifact_file)


def log_dict(dictionary, artifact_file: str):
    """Store a dict as JSON (or YAML for .yaml/.yml, with PyYAML) under ``artifact_file``."""
    from .core.tracking.artifact_logging import log_dict as _log

    return _log(get_project(), _rid(), dictionary, artifact_file)


def log_figure(figure, artifact_file: str):
    """Store a matplotlib figure, a pyqtgraph plot or any Qt widget as an image (``plot.png``)."""
    from .core.tracking.artifact_logging import log_figure as _log

    return _log(get_project(), _rid(), figure, artifact_file)


def delete_run(run_id: str):
    """Soft-delete a run: hidden from lists and searches until restored or purged (``modeldesk gc``)."""
    from .core.tracking.lifecycle import delete_runs

    flush()
    return delete_runs(get_project(), [run_id])[0]


def restore_run(run_id: str):
    """Bring a deleted run back."""
    from .core.tracking.lifecycle import restore_runs

    flush()
    return restore_runs(get_project(), [run_id])[0]


def rename_run(run_id: str, name: str):
    """Give a run another name (MLflow: ``MlflowClient().update_run(run_id, name=...)``)."""
    from .core.tracking.lifecycle import rename_run as _rename

    flush()
    return _rename(get_project(), run_id, name)


def create_experiment(name: str):
    """A new experiment; returns it (``.experiment_id`` is its id as text, as MLflow's)."""
    from .core.tracking.lifecycle import create_experiment as _create

    return _create(get_project(), name)


def rename_experiment(experiment, new_name: str):
    """Rename an experiment (by name or id)."""
    from .core.tracking.lifecycle import rename_experiment as _rename

    return _rename(get_project(), experiment, new_name)


def delete_experiment(experiment):
    """Soft-delete an experiment (by name or id) and its runs; restore_experiment undoes it."""
    from .core.tracking.lifecycle import delete_experiment as _delete

    flush()
    return _delete(get_project(), experiment)


def restore_experiment(experiment):
    """Bring a deleted experiment back, with the runs deleted with it."""
    from .core.tracking.lifecycle import restore_experiment as _restore

    return _restore(get_project(), experiment)


def search_experiments(view_type="active"):
    """Experiments (``active``, ``deleted`` or ``all``), by name."""
    from .core.tracking.runs import list_experiments

    return list_experiments(get_project(), view_type)


def get_experiment_by_name(name: str):
    """The experiment called ``name`` (deleted ones too; ``.lifecycle_stage`` says), or None."""
    from .core.errors import NotFoundError
    from .core.tracking.lifecycle import get_experiment

    try:
        found = get_experiment(get_project(), name)
    except NotFoundError:
        return None
    return found if found.name == name else None


# The monitoring calls live in _monitoring_api.py (md.drift_for, md.serving_health...); they are looked up
# by name on first use, like md.sklearn, so `import modeldesk` stays light and that module may import this one.
_MONITORING = ("drift", "drift_for", "drift_windows", "performance", "serving_health", "prediction_drift")


def __getattr__(name: str):
    import importlib

    if name == "sklearn":
        return importlib.import_module(".sklearn", __name__)
    if name in _MONITORING:
        value = globals()[name] = getattr(importlib.import_module("._monitoring_api", __name__), name)
        return value
    raise AttributeError(f"module 'modeldesk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MONITORING, "sklearn"})


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

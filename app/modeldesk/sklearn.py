"""Automatic logging of scikit-learn training: ``md.sklearn.autolog()``.

``fit`` of every scikit-learn estimator class is replaced by a wrapper. Only
a top-level fit logs: fits made by a fit (pipeline steps, search candidates,
ensemble members) are told apart by a thread-local depth counter. Fits that
joblib runs in worker threads while a logged fit is in progress are not
logged either (the fluent run stack is per process); worker processes run
unpatched code. Logging never breaks training: its failures become warnings.
"""

from __future__ import annotations

import functools
import inspect
import threading
import uuid
import warnings

import modeldesk as md
from modeldesk.core.errors import RefusedError, UsageError

__all__ = ["autolog"]

MAX_PARAM_REPR = 250
EXAMPLE_ROWS = 5

_lock = threading.RLock()
_local = threading.local()  # .depth: patched fits in progress on this thread
_busy = 0  # top-level autologged fits in progress in this process
_config: dict = {}  # empty while autolog is disabled
_patched: dict[type, tuple[bool, object]] = {}  # class -> (fit was its own, original fit)
_signature = functools.lru_cache(maxsize=None)(inspect.signature)


def autolog(log_models: bool = True, log_datasets: bool = True, max_tuning_runs: int | None = None,
            disable: bool = False, silent: bool = False) -> None:
    """Log every scikit-learn ``fit`` from now on (``disable=True`` to stop).

    Each top-level fit logs into the active run, or starts a run named after
    the estimator (``RandomForestClassifier-3fa2``) and ends it after fit,
    FAILED if fit raises. Logged: params (``get_params(deep=True)`` as text,
    values whose repr exceeds 250 characters skipped), tags ``estimator_name``
    and ``estimator_class``, ``training_score`` and further training metrics
    when ``y`` is given, per-iteration curves (``loss``, ``validation_score``,
    ``train_loss``), the model as ``model`` (``log_models``) and ``X`` joined
    with ``y`` as the dataset ``train`` (``log_datasets``). A search logs its
    own params, ``best_<param>`` params, ``best_cv_score`` and its
    ``best_estimator_`` as ``model``, plus one child run per candidate (the
    ``max_tuning_runs`` best ranked ones when given). ``silent`` hides the
    warnings that logging failures produce.

    Example::

        import modeldesk as md
        from sklearn.ensemble import RandomForestClassifier

        md.set_project("team.mdesk")
        md.sklearn.autolog()
        RandomForestClassifier(n_estimators=200).fit(X_train, y_train)  # one run
        md.sklearn.autolog(disable=True)
    """
    with _lock:
        if disable:
            _unpatch()
            _config.clear()
            return
        if max_tuning_runs is not None and (isinstance(max_tuning_runs, bool) or not isinstance(
                max_tuning_runs, int) or max_tuning_runs < 0):
            raise UsageError(f"max_tuning_runs must be None or a count >= 0, not {max_tuning_runs!r}.")
        _config.update(log_models=bool(log_models), log_datasets=bool(log_datasets),
                       max_tuning_runs=max_tuning_runs, silent=bool(silent))
        if not _patched:
            _patch()


# -- patching ----------------------------------------------------------------
def _estimator_classes() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = {cls for _, cls in all_estimators()} | {Pipeline, GridSearchCV, RandomizedSearchCV}
    return sorted(classes, key=lambda c: (c.__module__, c.__qualname__))


def _patch() -> None:
    # Read every original first, so that a subclass never wraps its parent's wrapper.
    originals = {}
    for cls in _estimator_classes():
        fit = inspect.getattr_static(cls, "fit", None)
        if inspect.isfunction(fit) and not getattr(fit, "_modeldesk_autolog", False):
            originals[cls] = ("fit" in cls.__dict__, fit)
    for cls, (_, fit) in originals.items():
        setattr(cls, "fit", _wrap(fit))
    _patched.update(originals)


def _unpatch() -> None:
    for cls, (own, fit) in _patched.items():
        if own:
            setattr(cls, "fit", fit)
        elif "fit" in cls.__dict__:
            delattr(cls, "fit")
    _patched.clear()


def _wrap(original):
    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        top = _claim()
        _local.depth = getattr(_local, "depth", 0) + 1
        try:
            if not top:
                return original(self, *args, **kwargs)
            return _fit_and_log(original, self, args, kwargs, dict(_config))
        finally:
            _local.depth -= 1
            if top:
                _release()

    fit._modeldesk_autolog = True
    return fit


def _claim() -> bool:
    """True when this fit is a top-level one that autolog should log."""
    global _busy
    with _lock:
        if getattr(_local, "depth", 0) or not _config or _busy:
            return False
        _busy += 1
        return True


def _release() -> None:
    global _busy
    with _lock:
        _busy -= 1


# -- one logged fit ---------------------------------------------------------------
def _fit_and_log(original, est, args, kwargs, cfg):
    run, ok = _start(est, cfg)
    if not ok:
        return original(est, *args, **kwargs)
    try:
        result = original(est, *args, **kwargs)
    except BaseException as exc:
        if run is not None:
            status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            _guard(cfg, "ending the run", lambda: md.end_run(status, run=run))
        raise
    status = "FINISHED"
    try:
        _log_all(est, _fit_inputs(original, est, args, kwargs), cfg)
    except BaseException as exc:  # KeyboardInterrupt, or a warning turned into an error
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        raise
    finally:
        if run is not None:
            _guard(cfg, "ending the run", lambda: md.end_run(status, run=run))
    return result


def _start(est, cfg):
    """(run started for this fit or None, whether to log at all)."""
    if md.active_run() is not None:
        return None, True
    name = f"{type(est).__name__}-{uuid.uuid4().hex[:4]}"
    try:
        return md.start_run(name=name), True
    except Exception as exc:
        _warn(cfg, f"could not start a run for {type(est).__name__}, fit is not logged: {exc}")
        return None, False


def _fit_inputs(original, est, args, kwargs):
    try:
        bound = _signature(original).bind_partial(est, *args, **kwargs).arguments
    except (TypeError, ValueError):
        bound = {"X": args[0] if args else None}
    y = bound.get("y", bound.get("Y"))
    return bound.get("X"), y, bound.get("sample_weight")


def _log_all(est, inputs, cfg) -> None:
    X, y, weight = inputs
    cls = type(est)
    results = getattr(est, "cv_results_", None)
    search = isinstance(results, dict) and "params" in results  # a *SearchCV, not RidgeCV's array
    _guard(cfg, "logging params", lambda: _log_params(est.get_params(deep=True)))
    _guard(cfg, "setting tags", lambda: md.set_tags(
        {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__qualname__}"}))
    fitted = getattr(est, "best_estimator_", None) if search else est
    if y is not None and X is not None and fitted is not None:
        _guard(cfg, "computing training metrics", lambda: _log_training_metrics(est, X, y, weight))
    _guard(cfg, "logging curves", lambda: _log_curves(_final_estimator(fitted)))
    if search:
        _guard(cfg, "logging the search results", lambda: _log_search(est, cfg))
    if cfg["log_models"] and fitted is not None and hasattr(fitted, "predict"):
        _guard(cfg, "logging the model", lambda: _log_model(fitted, X))
    if cfg["log_datasets"] and X is not None:
        _guard(cfg, "logging the training data", lambda: _log_dataset(X, y))


def _log_params(params: dict, prefix: str = "") -> None:
    conflicts = []
    for key, value in params.items():
        key = f"{prefix}{key}"
        text = _param_text(value)
        if text is None or len(key) > 250:
            continue
        try:
            md.log_param(key, text)
        except RefusedError:
            conflicts.append(key)
    if conflicts:
        raise RefusedError(f"params already logged with other values in this run were kept: "
                           f"{', '.join(conflicts)}")


def _param_text(value) -> str | None:
    text = repr(value)
    if len(text) > MAX_PARAM_REPR:
        return None
    if hasattr(value, "get_params"):  # an estimator: its (possibly wrapped) repr on one line
        return " ".join(text.split())
    return str(value)


def _log_training_metrics(est, X, y, weight) -> None:
    import numpy as np
    from sklearn import metrics as skm
    from sklearn.base import is_classifier, is_regressor

    kw = {} if weight is None else {"sample_weight": weight}
    out = {}

    def attempt(key, compute):
        try:
            out[key] = float(compute())
        except Exception:  # a metric that does not apply to this estimator or target
            pass

    if hasattr(est, "score"):
        attempt("training_score", lambda: est.score(X, y, **kw) if kw else est.score(X, y))
        if "training_score" not in out and kw:
            attempt("training_score", lambda: est.score(X, y))
    if (is_classifier(est) or is_regressor(est)) and hasattr(est, "predict"):
        pred = est.predict(X)
        if is_classifier(est):
            attempt("training_accuracy", lambda: skm.accuracy_score(y, pred, **kw))
            attempt("training_f1", lambda: skm.f1_score(y, pred, average="weighted", **kw))
            if hasattr(est, "predict_proba") and len(getattr(est, "classes_", ())) == 2:
                attempt("training_roc_auc", lambda: skm.roc_auc_score(y, est.predict_proba(X)[:, 1], **kw))
        else:
            attempt("training_r2", lambda: skm.r2_score(y, pred, **kw))
            attempt("training_mae", lambda: skm.mean_absolute_error(y, pred, **kw))
            attempt("training_rmse", lambda: np.sqrt(skm.mean_squared_error(y, pred, **kw)))
    if out:
        md.log_metrics(out)


def _final_estimator(est):
    """The estimator that holds the learning curves: a search's best, a pipeline's last step."""
    while est is not None:
        if hasattr(est, "best_estimator_"):
            est = est.best_estimator_
        elif hasattr(est, "steps") and isinstance(est.steps, list) and est.steps:
            est = est.steps[-1][1]
        else:
            return est
    return None


def _log_curves(est) -> None:
    if est is None or isinstance(est, str):
        return
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor

    boosting = isinstance(est, (GradientBoostingClassifier, GradientBoostingRegressor))
    curves = (("loss_curve_", "loss"), ("validation_scores_", "validation_score"),
              ("validation_score_", "validation_score"),
              ("train_score_", "train_loss" if boosting else "train_score"))
    for attr, key in curves:
        values = getattr(est, attr, None)
        if values is None:
            continue
        for step, value in enumerate(values):
            md.log_metric(key, float(value), step=step)


def _log_search(est, cfg) -> None:
    import numpy as np

    if hasattr(est, "best_params_"):
        _log_params(est.best_params_, prefix="best_")
    if hasattr(est, "best_score_"):
        md.log_metric("best_cv_score", float(est.best_score_))
    results = est.cv_results_
    chosen = list(range(len(results["params"])))
    rank_key = f"rank_test_{est.refit}" if isinstance(est.refit, str) else "rank_test_score"
    if cfg["max_tuning_runs"] is not None:
        if rank_key in results:  # keep the best ranked candidates
            chosen = [int(i) for i in np.argsort(np.asarray(results[rank_key]), kind="stable")]
        chosen = sorted(chosen[:cfg["max_tuning_runs"]])
    numeric = [k for k, v in results.items()
               if not k.startswith("param") and np.asarray(v).dtype.kind in "biuf"]
    parent = md.active_run().name
    for i in chosen:
        with md.start_run(name=f"{parent}-candidate-{i}"):
            _log_params(results["params"][i])
            md.log_metrics({k: float(results[k][i]) for k in numeric})


def _log_model(model, X) -> None:
    try:
        example = X.iloc[:EXAMPLE_ROWS] if hasattr(X, "iloc") else X[:EXAMPLE_ROWS]
        md.log_model(model, name="model", input_example=example)
    except Exception:
        md.log_model(model, name="model")  # the example could not be used; keep the model


def _log_dataset(X, y) -> None:
    import numpy as np
    import pandas as pd

    if isinstance(X, pd.DataFrame):
        frame = X
    elif isinstance(X, np.ndarray) and X.ndim == 2 and not X.dtype.names:
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    else:
        return  # sparse matrices, text and other inputs are not tabular data we can profile
    target = None
    values = None if y is None else np.asarray(y)
    if values is not None and (values.ndim == 1 or (values.ndim == 2 and values.shape[1] == 1)):
        target = getattr(y, "name", None)
        if not isinstance(target, str) or not target or target in frame.columns:
            target = "target"
        while target in frame.columns:
            target = f"_{target}"
        frame = frame.assign(**{target: values.ravel()})
    md.log_dataset(frame, name="train", role="training", target=target)


# -- failures ------------------------------------------------------------------
def _guard(cfg, what: str, action) -> None:
    try:
        action()
    except Exception as exc:
        _warn(cfg, f"{what} failed: {type(exc).__name__}: {exc}")


def _warn(cfg, message: str) -> None:
    if not cfg.get("silent"):
        warnings.warn(f"ModelDesk autolog: {message}", stacklevel=2)

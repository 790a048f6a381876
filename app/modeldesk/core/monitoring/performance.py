"""Performance over the prediction log: realised metrics where labels arrived, estimates where they have not.

:func:`performance` cuts the log of a model version into the same windows as
``drift_windows`` (``windows``: ``"1h"``, ``"1d"``, ``"1w"``, ``"6h"``... or
N predictions) and gives one row per non-empty window: ``window_start``,
``window_end``, ``rows``, ``labeled`` (rows with an imported label), then

- classifiers: ``accuracy``, ``f1``, ``roc_auc`` over the labeled rows, and
  ``estimated_accuracy``, ``estimated_roc_auc`` over every row whose
  probabilities were logged (``cbpe``: confidence-based estimation,
  calibrated on the reference);
- regressors: ``rmse``, ``mae``, ``r2`` over the labeled rows.

Classifier or regressor: a classifier has classes, in its signature
(``classes``, recorded when it was logged) or on the loaded model
(``classes_``); anything else is a regressor. F1 is binary for two classes,
the positive class being the larger label (scikit-learn's order: ``1`` of
``0/1``, ``"yes"`` of ``"no"/"yes"``), else macro. ROC AUC needs logged
probabilities; for multiclass it is the macro mean of one-vs-rest AUCs over
the classes with both positive and negative labels in the window (scikit-
learn's ``ovr`` macro when every class is there). NaN means "not defined
here": no labeled rows, a single class among the labels (ROC AUC), fewer than
two labeled rows (R²), no probabilities logged or no reference to calibrate on
(the estimates).

Only the outputs, probabilities and labels are read, never the logged inputs,
and nothing is stored: windows are recomputed on each call.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import UsageError
from ..serving.prediction_log import rows_before, served_where
from ..storage.project import Project
from . import reference as ref_mod
from . import windows as win

CLASSIFIER_FIELDS = ("window_start", "window_end", "rows", "labeled", "accuracy", "f1", "roc_auc",
                     "estimated_accuracy", "estimated_roc_auc")
REGRESSOR_FIELDS = ("window_start", "window_end", "rows", "labeled", "rmse", "mae", "r2")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Target:
    """The model version behind a URI, as performance needs it."""

    uri: str
    logged: object               # tracking LoggedModel
    classes: tuple | None        # None: a regressor
    monitored: ref_mod.Monitored | None     # None: no training dataset (no reference to calibrate on)

    @property
    def classifier(self) -> bool:
        return self.classes is not None

    @property
    def positive(self):
        """The binary positive class: the larger label."""
        return max(self.classes) if self.classes and len(self.classes) == 2 else None


def target(project: Project, uri: str) -> Target:
    """Resolve ``uri``; its reference dataset is optional here (an unknown model is a ``UsageError``)."""
    from ..registry.uris import resolve_model

    uri = ref_mod.full_uri(uri)
    logged = resolve_model(project, uri)
    try:
        m = ref_mod.monitored(project, uri)
    except UsageError:
        m = None
    classes = (logged.signature or {}).get("classes")
    if classes is None and not (logged.signature or {}).get("outputs"):
        classes = _model_classes(project, logged)     # no signature to tell: ask the model itself
    return Target(uri, logged, tuple(classes) if classes is not None else None, m)


def _model_classes(project: Project, logged):
    from ..tracking.artifacts import load_logged_model
    from ..tracking.signature import to_json

    classes = getattr(load_logged_model(project, logged), "classes_", None)
    return to_json(classes) if classes is not None else None


# -- reading the log -------------------------------------------------------------------------------------
@dataclass
class Outputs:
    """Predictions, probabilities (rows × classes, NaN rows where not logged) and labels of a period."""

    predictions: list
    probabilities: object        # numpy array or None when none was logged
    labels: list


def served_ids(project: Project, logged) -> list[int]:
    return [r[0] for r in project.read("SELECT id FROM served_versions WHERE run_id = ? AND artifact = ?"
                                       " ORDER BY id", (logged.run_id, logged.name))]


def read_outputs(project: Project, served: list[int], start, end) -> Outputs:
    """The outputs of ``[start, end)`` in log order (``time, id``), labels joined; inputs are not decoded."""
    import numpy as np

    where, args = served_where(served, start, end)
    got = project.read(f"SELECT id, rows, outputs, probabilities FROM prediction_requests WHERE {where}"
                       " ORDER BY time, id", args)
    ids = [g[0] for g in got]
    counts = [g[1] for g in got]
    predictions = _flat([g[2] for g in got])
    probabilities = None
    texts = [g[3] for g in got]
    probabilities = _numeric_probabilities(texts, counts)
    if probabilities is None and any(t is not None for t in texts):
        rows = _flat([t if t is not None else json.dumps([None] * n) for t, n in zip(texts, counts)])
        width = max((len(r) for r in rows if r is not None), default=0)
        blank = [math.nan] * width
        rows = [r if r is not None and len(r) == width else blank for r in rows]
        probabilities = np.asarray(rows, dtype=np.float64).reshape(len(rows), width)
    labels: list = [None] * len(predictions)
    where, args = served_where(served, start, end, "r.")
    found = project.read("SELECT l.request, l.row, l.label FROM prediction_labels l JOIN prediction_requests r"
                         f" ON r.id = l.request WHERE {where}", args)
    if found:
        position = dict(zip(ids, itertools.accumulate([0, *counts[:-1]])))
        values = json.loads("[" + ",".join(f[2] for f in found) + "]")
        for (request, row, _), value in zip(found, values):
            if request in position:
                labels[position[request] + row] = value
    return Outputs(predictions, probabilities, labels)


def _numeric_probabilities(texts: list, counts: list):
    """The probability matrix parsed by numpy straight from the JSON text, or None when that is not
    plain (a request without probabilities, a null, rows of unequal width): then the caller parses JSON.

    One list per row from ``json.loads`` is a container the garbage collector tracks; a few hundred
    thousand of them make it run full collections that hold Python's GIL for ~0.3 s each, which
    stalls the app's GUI thread while a worker computes performance."""
    import numpy as np

    if not texts or any(t is None for t in texts):
        return None
    width = len(json.loads(texts[0])[0]) if counts[0] else 0
    total = sum(counts)
    if not width or any(("n" in t) or ("N" in t) for t in texts):    # null, NaN, Infinity: the JSON way
        return None
    parts = []
    piece, size = [], 0
    for text in texts:
        piece.append(text)
        size += len(text)
        if size >= PARSE_CHARS * 10:
            parts.append(_numbers_of(piece))
            piece, size = [], 0
    if piece:
        parts.append(_numbers_of(piece))
    flat = np.concatenate(parts) if parts else np.zeros(0)
    if flat.size != total * width:
        return None
    return flat.reshape(total, width)


def _numbers_of(texts: list[str]):
    import numpy as np

    joined = ",".join(texts).replace("[", " ").replace("]", " ")
    return np.array(joined.split(","), dtype=np.float64) if joined.strip() else np.zeros(0)


PARSE_CHARS = 20_000    # JSON parsed per call: json.loads holds the GIL (~2-5 ms for this much)


def _flat(texts) -> list:
    """Per-request JSON arrays as one flat list, parsed a few hundred KB at a time, so a worker
    thread never holds Python's GIL for long (the app's GUI thread waits for it meanwhile)."""
    out: list = []
    piece: list[str] = []
    size = 0
    for text in texts:
        piece.append(text)
        size += len(text)
        if size >= PARSE_CHARS:
            out.extend(itertools.chain.from_iterable(json.loads("[" + ",".join(piece) + "]")))
            piece, size = [], 0
    if piece:
        out.extend(itertools.chain.from_iterable(json.loads("[" + ",".join(piece) + "]")))
    return out


def encode(values, classes) -> object:
    """Class codes of ``values``: the position in ``classes``, -1 for a missing value, and codes from
    ``len(classes)`` on for values that are not classes (each distinct value its own code)."""
    import numpy as np

    n = len(classes)
    numeric = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes)
    if numeric and n:
        try:
            arr = np.asarray(values, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            arr = None
        if arr is not None:
            known = np.asarray(classes, dtype=np.float64)
            order = np.argsort(known)
            at = np.clip(np.searchsorted(known[order], arr), 0, n - 1)
            hit = known[order][at] == arr
            codes = np.where(hit, order[at], -1).astype(np.int64)
            other = ~hit & ~np.isnan(arr)
            if other.any():
                codes[other] = n + np.unique(arr[other], return_inverse=True)[1].reshape(-1)
            return codes
    mapping = {_norm(c): k for k, c in enumerate(classes)}
    codes = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            codes[i] = -1
        else:
            codes[i] = mapping.setdefault(_norm(v), len(mapping))
    return codes


def _norm(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return str(value) if not isinstance(value, bool) else value


# -- metrics ---------------------------------------------------------------------------------------------
def classifier_metrics(y_true, y_pred, proba, n_classes: int, positive: int | None) -> dict:
    """Realised accuracy, F1 and ROC AUC of labeled rows (codes as from :func:`encode`; NaN when undefined)."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    nan = {"accuracy": math.nan, "f1": math.nan, "roc_auc": math.nan}
    if y_true.size == 0:
        return nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {"accuracy": float(accuracy_score(y_true, y_pred))}
        if positive is not None:
            out["f1"] = float(f1_score(y_true, y_pred, labels=[positive], average="macro", zero_division=0.0))
        else:
            out["f1"] = float(f1_score(y_true, y_pred, average="macro", zero_division=0.0))
        aucs = []
        if proba is not None:
            ok = np.isfinite(proba).all(axis=1)
            scored_true, scored = y_true[ok], proba[ok]
            for k in ([positive] if positive is not None else range(n_classes)):
                hits = scored_true == k
                if hits.any() and not hits.all():
                    aucs.append(float(roc_auc_score(hits, scored[:, k])))
        out["roc_auc"] = float(np.mean(aucs)) if aucs else math.nan
    return out


def regressor_metrics(y_true, y_pred) -> dict:
    """Realised RMSE, MAE and R² of labeled rows (R² NaN below two rows)."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    if y_true.size == 0:
        return {"rmse": math.nan, "mae": math.nan, "r2": math.nan}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"rmse": math.sqrt(float(mean_squared_error(y_true, y_pred))),
                "mae": float(mean_absolute_error(y_true, y_pred)),
                "r2": float(r2_score(y_true, y_pred)) if y_true.size >= 2 else math.nan}


# -- the reference -------------------------------------------------------------------------------------
def reference_predictions(project: Project, t: Target):
    """``(model, X, target labels or None)`` on the reference sample; None without a reference."""
    from ..serving.validation import model_input
    from ..tracking.artifacts import load_dataset_sample, load_logged_model

    if t.monitored is None:
        return None
    X = model_input(t.logged.signature or {}, ref_mod.reference_frame(project, t.monitored))
    labels = None
    if t.monitored.target:
        sample = load_dataset_sample(project, t.monitored.reference)
        if t.monitored.target in sample.columns:
            labels = sample[t.monitored.target].tolist()
    return load_logged_model(project, t.logged), X, labels


def calibration(project: Project, t: Target):
    """CBPE's calibration of ``t``'s probabilities on its reference (None when it cannot be had)."""
    from .cbpe import fit_calibration

    got = reference_predictions(project, t) if t.classifier else None
    if got is None or got[2] is None or not hasattr(got[0], "predict_proba"):
        return None
    model, X, labels = got
    try:
        proba = model.predict_proba(X)
    except Exception as exc:   # a model that cannot score its own training sample: no estimate, not a crash
        warnings.warn(f"No CBPE estimate for {t.uri}: its model could not score its training sample "
                      f"({type(exc).__name__}: {exc}); the estimated_* columns are NaN.", RuntimeWarning,
                      stacklevel=3)
        return None
    return fit_calibration(proba, encode(labels, t.classes), range(len(t.classes)))


# -- windows ---------------------------------------------------------------------------------------------
def performance(project: Project, uri: str, every="1d", since=None, until=None, *,
                progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
                chunk_rows: int = win.CHUNK_ROWS):
    """Realised and estimated performance of ``uri`` per window (see the module docstring).

    ``chunk_rows``: about how many predictions are read and parsed at once (a
    window is never split). The app passes a small one: parsing a chunk's JSON
    holds Python's GIL, and a worker must not hold it long enough to stall
    the GUI thread.

    ``frame.attrs``: ``kind`` (``"classifier"``/``"regressor"``),
    ``classes``, ``positive`` (binary), ``estimated`` (whether CBPE could
    calibrate). Returns None when ``should_stop`` said stop.
    """
    import numpy as np

    from .cbpe import estimate

    every = win.parse_every(every)
    start, end = win.period_bounds(since, until)
    t = target(project, uri)
    served = served_ids(project, t.logged)
    windows = (win.time_windows if every.seconds else win.count_windows)(project, served, every, start, end)
    n = len(t.classes) if t.classifier else 0
    positive = t.classes.index(t.positive) if t.classifier and t.positive is not None else None
    calib, calibrated_yet = None, False
    records, done = [], 0
    for group in win.window_groups(windows, chunk_rows):
        if should_stop is not None and should_stop():
            return None
        lo, hi, counted = win.group_bounds(group, every)
        skip = group[0].first - rows_before(project, served, start, lo) if counted else 0
        out = read_outputs(project, served, lo, hi)
        if t.classifier:
            y_pred, y_true = encode(out.predictions, t.classes), encode(out.labels, t.classes)
            proba = out.probabilities if out.probabilities is not None and \
                out.probabilities.shape[1] == n else None
            if proba is not None and not calibrated_yet:
                calib, calibrated_yet = calibration(project, t), True
        else:
            y_pred = np.asarray(_numbers(out.predictions))
            y_true = np.asarray(_numbers(out.labels))
        offset = skip
        for w in group:
            part = slice(offset, offset + w.rows)
            offset += w.rows
            record = {"window_start": w.start, "window_end": w.end, "rows": w.rows}
            if t.classifier:
                yt, yp = y_true[part], y_pred[part]
                pp = proba[part] if proba is not None else None
                labeled = yt >= 0
                record["labeled"] = int(labeled.sum())
                record.update(classifier_metrics(yt[labeled], yp[labeled], pp[labeled] if pp is not None else None,
                                                 n, positive))
                record["estimated_accuracy"] = record["estimated_roc_auc"] = math.nan
                if calib is not None and pp is not None:
                    has = np.isfinite(pp).all(axis=1)
                    predicted = np.where(yp[has] < n, yp[has], -1)
                    record["estimated_accuracy"], record["estimated_roc_auc"] = estimate(calib, pp[has], predicted)
            else:
                yt, yp = y_true[part], y_pred[part]
                labeled = np.isfinite(yt) & np.isfinite(yp)
                record["labeled"] = int(labeled.sum())
                record.update(regressor_metrics(yt[labeled], yp[labeled]))
            records.append(record)
            done += 1
            if progress is not None:
                progress(done / len(windows), f"{done} of {len(windows)} performance windows computed")
    frame = _frame(records, CLASSIFIER_FIELDS if t.classifier else REGRESSOR_FIELDS)
    frame.attrs.update(kind="classifier" if t.classifier else "regressor", classes=list(t.classes or ()),
                       positive=t.positive, estimated=calib is not None)
    return frame


def _numbers(values) -> list:
    import pandas as pd

    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64").tolist()


def _frame(records: list[dict], fields: tuple):
    import pandas as pd

    frame = pd.DataFrame.from_records(records, columns=list(fields))
    for name in ("window_start", "window_end"):
        frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
    return frame.astype({"rows": "int64", "labeled": "int64",
                         **{f: "float64" for f in fields[4:]}})

"""Build a realistic demo project from data that ships with scikit-learn.

``modeldesk demo`` (and the app) call :func:`build_demo`. It logs real,
seeded hyperparameter sweeps through the public fluent API, as a team's
training scripts would, into three experiments: ``breast-cancer`` (binary),
``wine`` (multiclass) and ``diabetes-progression`` (regression). Gradient
boosting logs per-stage curves, SGD/MLP runs per-epoch curves; one sweep is
a parent run with child runs; two diverging configs end FAILED. Finished
runs carry params, metrics, tags (a fake teammate in ``author``; the run's
user stays the project user), training/validation datasets and the model;
some carry a confusion-matrix PNG drawn here (no matplotlib) and JSON/CSV
reports. Nothing is downloaded.
"""

from __future__ import annotations

import json
import math
import os
import random
import shlex
import struct
import time
import warnings
import zlib
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable

import modeldesk as md
from modeldesk.core import clock
from modeldesk.core.errors import UsageError

SEED = 42
DAY = 86400.0
SWEEP_DAYS = (24.0, 10.0)   # the runs are stamped from 24 to 10 days ago, the registry moves after
AUTHORS = ("ana", "ben", "chloe", "dev")


class _Diverged(RuntimeError):
    """A training run blew up: it ends FAILED and the build goes on."""


# -- data ----------------------------------------------------------------------
@dataclass
class _Data:
    key: str     # experiment name
    title: str   # dataset tag
    target: str
    task: str    # "binary" | "multiclass" | "regression"
    X_train: Any
    X_val: Any
    y_train: Any
    y_val: Any

    @property
    def train_df(self):
        return self.X_train.assign(**{self.target: self.y_train})

    @property
    def val_df(self):
        return self.X_val.assign(**{self.target: self.y_val})


def _load(key: str) -> _Data:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loader, title, target, task = {
        "breast-cancer": (datasets.load_breast_cancer, "breast_cancer_wisconsin", "benign", "binary"),
        "wine": (datasets.load_wine, "uci_wine", "cultivar", "multiclass"),
        "diabetes-progression": (datasets.load_diabetes, "diabetes", "progression", "regression"),
    }[key]
    bunch = loader(as_frame=True)
    X, y = bunch.data, bunch.target.rename(target)
    parts = train_test_split(X, y, test_size=0.25, random_state=SEED,
                             stratify=None if task == "regression" else y)
    return _Data(key, title, target, task, parts[0], parts[1], parts[2], parts[3])


# -- the plan: one job per run ---------------------------------------------------------
@dataclass
class _Job:
    name: str
    family: str
    make: Callable[[], Any]        # a fresh, unfitted estimator
    params: dict
    train: str = "fit"             # "fit" | "staged" | "epochs"
    epochs: int = 0
    scale: bool = True             # epochs only: standardise inputs first
    artifacts: bool = False
    children: list = field(default_factory=list)   # a sweep: parent run with child runs

    def count(self) -> int:
        return 1 + sum(c.count() for c in self.children)


def _logreg(C, penalty, solver):
    import inspect

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    kw = dict(C=C, solver=solver, max_iter=2000, random_state=SEED)
    if inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated":
        kw["l1_ratio"] = 1.0 if penalty == "l1" else 0.0   # scikit-learn >= 1.8
    else:
        kw["penalty"] = penalty
    return make_pipeline(StandardScaler(), LogisticRegression(**kw))


def _linear(cls_name, alpha):
    from sklearn import linear_model
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), getattr(linear_model, cls_name)(alpha=alpha, random_state=SEED))


def _est(module, cls_name, **kw):
    import importlib

    return getattr(importlib.import_module(f"sklearn.{module}"), cls_name)(random_state=SEED, **kw)


def _logreg_jobs(Cs, penalties, solver):
    return [_Job(f"logreg-{p}-C{C:g}", "logistic_regression", partial(_logreg, C, p, solver),
                 {"C": C, "penalty": p, "solver": solver, "scaler": "standard"}, artifacts=(C == 1.0))
            for p in penalties for C in Cs]


def _forest_jobs(grid, regressor=False):
    cls = "RandomForestRegressor" if regressor else "RandomForestClassifier"
    return [_Job(f"rf-{n}-d{d}", "random_forest", partial(_est, "ensemble", cls, n_estimators=n, max_depth=d),
                 {"n_estimators": n, "max_depth": d, "min_samples_leaf": 1}, artifacts=(i == 0))
            for i, (n, d) in enumerate(grid)]


def _boosting_jobs(grid, regressor=False):
    cls = "GradientBoostingRegressor" if regressor else "GradientBoostingClassifier"
    return [_Job(f"gbm-lr{lr:g}-n{n}-d{d}", "gradient_boosting",
                 partial(_est, "ensemble", cls, learning_rate=lr, n_estimators=n, max_depth=d, subsample=0.8),
                 {"learning_rate": lr, "n_estimators": n, "max_depth": d, "subsample": 0.8},
                 train="staged", artifacts=(i == 0))
            for i, (lr, n, d) in enumerate(grid)]


def _cancer_plan(quick: bool) -> list[_Job]:
    sgd = partial(_est, "linear_model", "SGDClassifier", loss="log_loss")
    epochs = 10 if quick else 30
    gbm = [(0.1, 50, 2), (0.3, 50, 2)] if quick else \
        [(0.05, 200, 2), (0.1, 100, 2), (0.1, 200, 3), (0.3, 100, 3), (0.1, 100, 5), (0.5, 150, 3)]
    jobs = _logreg_jobs([0.1, 1.0] if quick else [0.01, 0.1, 1.0, 10.0, 100.0],
                        ["l2"] if quick else ["l1", "l2"], "liblinear")
    jobs += _forest_jobs([(100, 6)] if quick else [(n, d) for n in (50, 200) for d in (3, 6, None)])
    jobs.append(_Job("gbm-sweep", "gradient_boosting", lambda: None,
                     {"grid": "learning_rate x n_estimators x max_depth", "candidates": len(gbm)},
                     children=_boosting_jobs(gbm)))
    jobs += [_Job(f"sgd-alpha{a:g}", "sgd", partial(sgd, alpha=a, learning_rate="optimal"),
                  {"alpha": a, "learning_rate": "optimal", "loss": "log_loss", "epochs": epochs,
                   "scaler": "standard"}, train="epochs", epochs=epochs, artifacts=(a == 1e-3))
             for a in ([1e-3] if quick else [1e-4, 1e-3, 1e-2])]
    # A teammate forgot the scaler and cranked the learning rate up: it diverges.
    jobs.append(_Job("sgd-noscale-eta100", "sgd", partial(sgd, alpha=1e-4, learning_rate="constant", eta0=100.0),
                     {"alpha": 1e-4, "learning_rate": "constant", "eta0": 100.0, "loss": "log_loss",
                      "epochs": epochs, "scaler": "none"}, train="epochs", epochs=epochs, scale=False))
    return jobs


def _wine_plan(quick: bool) -> list[_Job]:
    mlp = partial(_est, "neural_network", "MLPClassifier")
    epochs = 10 if quick else 40
    jobs = _logreg_jobs([1.0] if quick else [0.01, 0.1, 1.0, 10.0, 100.0], ["l2"], "lbfgs")
    jobs += _forest_jobs([(100, 4)] if quick else [(n, d) for n in (30, 150) for d in (2, 4, None)])
    jobs += _boosting_jobs([(0.1, 50, 2)] if quick else [(0.05, 150, 2), (0.1, 100, 3), (0.3, 60, 2), (0.1, 150, 1)])
    for sizes, lr in ([((32,), 0.01)] if quick else [((16,), 0.003), ((64,), 0.01), ((64, 32), 0.01)]):
        label = "x".join(map(str, sizes))
        jobs.append(_Job(f"mlp-{label}-lr{lr:g}", "mlp", partial(mlp, hidden_layer_sizes=sizes, learning_rate_init=lr),
                         {"hidden_layer_sizes": label, "solver": "adam", "learning_rate_init": lr, "epochs": epochs,
                          "scaler": "standard"}, train="epochs", epochs=epochs, artifacts=(sizes == (64,))))
    jobs.append(_Job("mlp-64-sgd-lr5", "mlp",
                     partial(mlp, hidden_layer_sizes=(64,), solver="sgd", learning_rate_init=5.0, momentum=0.9),
                     {"hidden_layer_sizes": "64", "solver": "sgd", "learning_rate_init": 5.0, "momentum": 0.9,
                      "epochs": epochs, "scaler": "standard"}, train="epochs", epochs=epochs))
    return jobs


def _diabetes_plan(quick: bool) -> list[_Job]:
    jobs = [_Job(f"{cls.lower()}-a{a:g}", "linear", partial(_linear, cls, a),
                 {"alpha": a, "model": cls, "scaler": "standard"}, artifacts=(cls == "Ridge" and a == 1.0))
            for cls, alphas in (("Ridge", [1.0] if quick else [0.01, 0.1, 1.0, 10.0, 100.0]),
                                ("Lasso", [0.1] if quick else [0.01, 0.1, 1.0, 5.0]))
            for a in alphas]
    jobs += _forest_jobs([(100, 4)] if quick else [(n, d) for n in (100, 300) for d in (3, 6, None)], regressor=True)
    jobs += _boosting_jobs([(0.1, 60, 2)] if quick else [(0.02, 300, 2), (0.05, 200, 2), (0.1, 100, 3),
                                                         (0.1, 200, 3), (0.3, 100, 2), (0.05, 150, 4)], regressor=True)
    return jobs


PLANS = (("breast-cancer", _cancer_plan), ("wine", _wine_plan), ("diabetes-progression", _diabetes_plan))


# -- training ------------------------------------------------------------------------------
def _curve_loss(y_idx, proba) -> float:
    p = proba[range(len(y_idx)), y_idx]
    return float(-sum(math.log(min(max(v, 1e-15), 1.0)) for v in p) / len(y_idx))


def _train_fit(job: _Job, d: _Data):
    return job.make().fit(d.X_train, d.y_train)


def _train_staged(job: _Job, d: _Data):
    """Fit gradient boosting, then log its learning curves: one step per stage."""
    import numpy as np

    model = job.make().fit(d.X_train, d.y_train)
    if d.task == "regression":
        yt, yv = d.y_train.to_numpy(), d.y_val.to_numpy()
        var = float(np.var(yv))
        for stage, (pt, pv) in enumerate(zip(model.staged_predict(d.X_train), model.staged_predict(d.X_val)), 1):
            mse_v = float(np.mean((pv - yv) ** 2))
            md.log_metrics({"train_rmse": float(np.sqrt(np.mean((pt - yt) ** 2))), "val_rmse": math.sqrt(mse_v),
                            "val_r2": 1.0 - mse_v / var}, step=stage)
        return model
    classes = model.classes_
    it, iv = np.searchsorted(classes, d.y_train), np.searchsorted(classes, d.y_val)
    for stage, (pt, pv) in enumerate(zip(model.staged_predict_proba(d.X_train),
                                         model.staged_predict_proba(d.X_val)), 1):
        md.log_metrics({"train_loss": _curve_loss(it, pt), "val_loss": _curve_loss(iv, pv),
                        "val_accuracy": float(np.mean(pv.argmax(axis=1) == iv))}, step=stage)
    return model


def _train_epochs(job: _Job, d: _Data):
    """partial_fit one epoch at a time, logging train/val loss per epoch; stop a diverging run."""
    import numpy as np
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = job.make()
    scaler = StandardScaler().fit(d.X_train) if job.scale else None
    Xt = scaler.transform(d.X_train) if scaler else d.X_train
    Xv = scaler.transform(d.X_val) if scaler else d.X_val
    classes = np.unique(d.y_train)
    it, iv = np.searchsorted(classes, d.y_train), np.searchsorted(classes, d.y_val)
    chance = math.log(len(classes))
    for epoch in range(1, job.epochs + 1):
        model.partial_fit(Xt, d.y_train, classes=classes)
        pt, pv = model.predict_proba(Xt), model.predict_proba(Xv)
        if not (np.isfinite(pt).all() and np.isfinite(pv).all()):
            raise _Diverged(f"Training diverged at epoch {epoch}: the model predicts NaN.")
        val_loss = _curve_loss(iv, pv)
        md.log_metrics({"train_loss": _curve_loss(it, pt), "val_loss": val_loss,
                        "val_accuracy": float(np.mean(pv.argmax(axis=1) == iv))}, step=epoch)
        if val_loss > 5 * chance:
            message = (f"Training diverged at epoch {epoch}: val_loss {val_loss:.3g} is over 5x chance level "
                       f"({chance:.3g}). Lower the learning rate or scale the inputs.")
            md.set_tags({"error": message})
            raise _Diverged(message)
    return make_pipeline(scaler, model) if scaler else model


TRAINERS = {"fit": _train_fit, "staged": _train_staged, "epochs": _train_epochs}


def _scores(model, d: _Data) -> dict:
    """Final validation metrics (and training fit) of a fitted model."""
    import numpy as np
    from sklearn import metrics as skm

    if d.task == "regression":
        pred = model.predict(d.X_val)
        return {"r2": skm.r2_score(d.y_val, pred), "mae": skm.mean_absolute_error(d.y_val, pred),
                "rmse": math.sqrt(skm.mean_squared_error(d.y_val, pred)),
                "train_r2": skm.r2_score(d.y_train, model.predict(d.X_train))}
    proba = model.predict_proba(d.X_val)
    pred = model.classes_[np.argmax(proba, axis=1)]
    binary = d.task == "binary"
    return {"accuracy": skm.accuracy_score(d.y_val, pred),
            "f1": skm.f1_score(d.y_val, pred, average="binary" if binary else "macro"),
            "roc_auc": skm.roc_auc_score(d.y_val, proba[:, 1]) if binary
            else skm.roc_auc_score(d.y_val, proba, multi_class="ovr"),
            "log_loss": skm.log_loss(d.y_val, proba, labels=model.classes_),
            "train_accuracy": skm.accuracy_score(d.y_train, model.predict(d.X_train))}


# -- artifacts -----------------------------------------------------------------------------
_DIGITS = ("111101101101111", "010110010010111", "111001111100111", "111001111001111", "101101111001001",
           "111100111001111", "111100111101111", "111001001001001", "111101111101111", "111101111001111")


def png_bytes(rgb) -> bytes:
    """Encode an (height, width, 3) uint8 array as a PNG (no imaging library needed)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def confusion_png(cm, cell: int = 56, scale: int = 3) -> bytes:
    """A heatmap of a confusion matrix (rows: true class, columns: predicted), counts drawn in."""
    import numpy as np

    cm = np.asarray(cm, dtype=int)
    n, m = cm.shape
    pad = 4
    img = np.full((n * cell + 2 * pad, m * cell + 2 * pad, 3), 255, dtype=np.uint8)
    top = max(int(cm.max()), 1)
    for i in range(n):
        for j in range(m):
            t = cm[i, j] / top
            color = np.array([255 - t * (255 - 31), 255 - t * (255 - 119), 255 - t * (255 - 180)])
            y0, x0 = pad + i * cell, pad + j * cell
            img[y0 + 1:y0 + cell - 1, x0 + 1:x0 + cell - 1] = color.astype(np.uint8)
            text = str(cm[i, j])
            ink = (255, 255, 255) if t > 0.55 else (40, 40, 40)
            tw = len(text) * 4 * scale - scale
            tx, ty = x0 + (cell - tw) // 2, y0 + (cell - 5 * scale) // 2
            for k, ch in enumerate(text):
                for b, bit in enumerate(_DIGITS[int(ch)]):
                    if bit == "1":
                        y, x = ty + (b // 3) * scale, tx + k * 4 * scale + (b % 3) * scale
                        img[y:y + scale, x:x + scale] = ink
    return png_bytes(img)


def _log_artifacts(model, d: _Data) -> int:
    from sklearn import metrics as skm

    pred = model.predict(d.X_val)
    if d.task == "regression":
        lines = ["row,y_true,y_pred,residual"] + [
            f"{idx},{t:.4g},{p:.4g},{t - p:.4g}" for idx, t, p in zip(d.X_val.index, d.y_val, pred)]
        md.log_artifact(("\n".join(lines) + "\n").encode(), name="validation_predictions.csv")
        count = 1
    else:
        cm = skm.confusion_matrix(d.y_val, pred, labels=model.classes_)
        md.log_artifact(confusion_png(cm), name="confusion_matrix.png")
        report = skm.classification_report(d.y_val, pred, output_dict=True, zero_division=0)
        md.log_artifact(json.dumps(report, indent=2).encode(), name="classification_report.json")
        count = 2
    importances = getattr(_final(model), "feature_importances_", None)
    if importances is not None:
        ranked = sorted(zip(d.X_train.columns, importances), key=lambda kv: -kv[1])
        text = "feature,importance\n" + "".join(f"{k},{v:.6f}\n" for k, v in ranked)
        md.log_artifact(text.encode(), name="feature_importances.csv")
        count += 1
    return count


# -- the builder ---------------------------------------------------------------------------
class _Builder:
    def __init__(self, path: str, total: int, progress, should_stop):
        self.path, self.total = path, total
        self.progress, self.should_stop = progress, should_stop
        self.done = self.failed = self.datasets = self.models = self.artifacts = 0
        self.authors = random.Random(SEED)

    def report(self, message: str) -> None:
        if self.progress is not None:
            self.progress(min(self.done / self.total, 1.0), message)

    def check_stop(self) -> None:
        if self.should_stop is not None and self.should_stop():
            md.flush()
            raise UsageError(f"Demo build cancelled after {self.done} of {self.total} runs; {self.path} holds "
                             "what was built so far. Delete it, or build again into another path.")

    def run(self, job: _Job, d: _Data) -> dict | None:
        """Log one run (or a sweep: a parent run with its children). Returns final metrics."""
        from sklearn.exceptions import ConvergenceWarning

        self.check_stop()
        tags = {"model_family": job.family, "dataset": d.title, "author": self.authors.choice(AUTHORS),
                "task": d.task}
        if job.children:
            return self._sweep(job, d, tags)
        metrics = None
        try:
            with md.start_run(name=job.name, tags=tags):
                md.log_params({**job.params, "random_state": SEED, "estimator": type(_final(job.make())).__name__})
                md.log_dataset(d.train_df, name=f"{d.key}-train", role="training", target=d.target)
                md.log_dataset(d.val_df, name=f"{d.key}-validation", role="validation", target=d.target)
                self.datasets += 2
                started = time.perf_counter()
                with warnings.catch_warnings():   # convergence chatter of small grids, overflow when diverging
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    warnings.simplefilter("ignore", RuntimeWarning)
                    model = TRAINERS[job.train](job, d)
                    metrics = _scores(model, d)
                metrics["train_seconds"] = time.perf_counter() - started
                md.log_metrics(metrics)
                md.log_model(model, name="model", input_example=d.X_val.head(5))
                self.models += 1
                if job.artifacts:
                    self.artifacts += _log_artifacts(model, d)
        except _Diverged:
            self.failed += 1
            metrics = None
        self.done += 1
        self.report(f"{d.key}: {job.name}" + (" (failed, as planned)" if metrics is None else ""))
        return metrics

    def _sweep(self, job: _Job, d: _Data, tags: dict) -> dict:
        key = "r2" if d.task == "regression" else "roc_auc"
        with md.start_run(name=job.name, tags={**tags, "sweep": "grid"}):
            md.log_params(job.params)
            results = [(m[key], c.name) for c in job.children if (m := self.run(c, d)) is not None]
            best = max(results) if results else (float("nan"), "")
            md.log_metrics({f"best_{key}": best[0]})
            md.set_tags({"best_child": best[1]})
        self.done += 1
        self.report(f"{d.key}: {job.name} done (best {best[1]})")
        return {key: best[0]}


def _final(model):
    return model[-1] if hasattr(model, "steps") else model   # a Pipeline's estimator


def build_demo(path, *, user: str | None = None, quick: bool = False,
               progress: Callable[[float, str], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> str:
    """Build a demo project at ``path`` (which must not exist); return a one-line summary.

    ``quick``: 17 runs in seconds instead of 67. ``progress(fraction, message)``
    is called after each run; ``should_stop()`` before each, and a true answer
    stops the build with a UsageError. Afterwards md's current project is the demo.
    """
    path = os.fspath(path)
    if os.path.exists(path):
        raise UsageError(f"{path} already exists; the demo never overwrites a file. "
                         "Pick another path, or delete that file first.")
    from .demo_monitor import add_monitor, check_free  # the monitor and its retrain script (issue 11)

    check_free(path)
    started = time.perf_counter()
    md.set_project(path, user=user)
    plans = [(key, plan(quick)) for key, plan in PLANS]
    total = sum(job.count() for _, jobs in plans for job in jobs)
    builder = _Builder(path, total, progress, should_stop)
    builder.report("Loading scikit-learn's bundled datasets")
    first, last = SWEEP_DAYS
    with clock.shifted(-first * DAY):   # this thread only: a history over the past weeks, not one second
        for key, jobs in plans:
            data = _load(key)
            for job in jobs:
                # Runs spread over those weeks in build order; a sweep's children share its moment.
                clock.set_offset(-(first - (first - last) * builder.done / total) * DAY)
                md.set_experiment(key)
                builder.run(job, data)
        md.flush()
        builder.check_stop()
        registered = _registry_story()
    builder.report(f"Registry: {registered}")
    from .demo_traffic import add_served_traffic, default_model_uri  # served predictions (issue 5)

    traffic = add_served_traffic(path, default_model_uri(md.get_project()))
    builder.report(f"Serving: {traffic}")
    monitored = add_monitor(md.get_project(), path)
    builder.report(f"Monitoring: {monitored}")
    elapsed = time.perf_counter() - started
    return (f"Built {path}: {len(plans)} experiments, {builder.done} runs ({builder.failed} failed), "
            f"{builder.datasets} datasets, {builder.models} models, {builder.artifacts} artifacts, "
            f"{registered}, {traffic}, {monitored} in {elapsed:.0f} s. Open it with: modeldesk ui {shlex.quote(path)}")


# -- the registry story ----------------------------------------------------------------------
def _ranked(experiment: str, metric: str) -> list[str]:
    """Finished runs with a model, worst to best by ``metric`` (sweep parents have none)."""
    runs = md.search_runs(experiment=experiment, filter="attributes.status = 'FINISHED'",
                          order_by=[f"metrics.{metric} ASC"])
    return [rid for rid, value in zip(runs["run_id"], runs[f"metrics.{metric}"]) if value == value]


def _registry_story() -> str:
    """Registered models with a history a reviewer would recognise.

    cancer-classifier: v1 approved into production (ana asks, ben approves),
    v2 approved (chloe asks, ana approves), then rolled back to v1 by ben;
    v3 rejected by ben with a comment; v4 on staging with a pending request.
    diabetes-regressor: v1 in production, v2 registered. Teammates act
    through the core's ``actor`` argument, as they would with ``--as``; each
    move is stamped at its own moment of the past ten days (core.clock).
    """
    from modeldesk.core.registry import aliases, approvals
    from modeldesk.core.registry import versions as registry
    from modeldesk.core.registry.settings import update_settings

    project = md.get_project()
    cancer = _ranked("breast-cancer", "roc_auc")
    diabetes = _ranked("diabetes-progression", "r2")
    name, reg = "cancer-classifier", "diabetes-regressor"

    def at(days_ago: float) -> None:      # each move at its own moment of the past weeks
        clock.set_offset(-days_ago * DAY)

    def promote(model, version, asker, reviewer, why, said, days_ago):
        at(days_ago)
        approvals.request_promotion(project, model, version, actor=asker, comment=why)
        at(days_ago - 0.12)               # the reviewer answers about three hours later
        approvals.approve(project, model, version, actor=reviewer, comment=said)

    def register(model, run_id, who, days_ago):
        at(days_ago)
        registry.register_model(project, f"runs:/{run_id}/model", model, actor=who)

    at(9.6)
    update_settings(project, actor="ben", primary_metric="metrics.roc_auc", metric_direction="higher",
                    tolerance=0.002)
    register(name, cancer[len(cancer) // 2], "ana", 9.5)
    promote(name, 1, "ana", "ben", "Baseline for the screening pilot.",
            "Validated on the hold-out set; calibration fine.", 9.4)
    register(reg, diabetes[len(diabetes) // 2], "chloe", 8.9)
    at(8.8)
    update_settings(project, model=reg, actor="ben", primary_metric="metrics.r2")
    register(name, cancer[-1], "chloe", 7.2)
    promote(name, 2, "chloe", "ana", "Best validation AUC of the sweep.", "Gates green, reviewed the confusion matrix.",
            7.0)
    at(5.4)
    aliases.rollback(project, name, actor="ben",
                      reason="v2 doubled p95 scoring latency in the pilot; back to v1 while we profile it.")
    register(reg, diabetes[-1], "dev", 4.8)
    promote(reg, 1, "chloe", "dev", "First regressor for the progression score.", "Residuals look unbiased.", 4.6)
    register(name, cancer[0], "dev", 3.9)
    at(3.8)
    approvals.request_promotion(project, name, 3, actor="dev", comment="Simpler model, cheaper to score.")
    at(3.7)
    approvals.reject(project, name, 3, actor="ben",
                     comment="AUC is below production's and recall on malignant cases dropped; the cheaper "
                             "scoring is not worth it. Compare again after the next feature sweep.")
    register(name, cancer[-2], "ana", 1.8)
    at(1.7)
    aliases.set_alias(project, name, "staging", 4, actor="ana", reason="Shadow traffic before promotion.")
    at(0.9)
    approvals.request_promotion(project, name, 4, actor="ana", comment="Beats v1 on validation; ran on staging.")
    at(0)
    return "2 registered models (6 versions, 1 rollback, 1 pending request)"

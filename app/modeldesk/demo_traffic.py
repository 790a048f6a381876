"""Served traffic for the demo project: a week of logged predictions.

:func:`add_served_traffic` writes what a week of serving the production
breast-cancer model would have logged, straight through core.predictions
(no HTTP, so it takes a second or two): mostly single-row requests, a few
small batches, more traffic in working hours, a drifted period in the last
two days (size measurements read larger, as when a clinic changes its imaging
device, so accuracy drops too), and true labels for part of the requests older than half a day, as they come back
from follow-up. The Monitoring view and ``md.drift_for`` have real data.
"""

from __future__ import annotations

import random
import time
from typing import Callable

SEED = 7
# Multiplicative shift of the drifted period: a new imaging device reads sizes, texture and shape
# larger — 16 of the 30 inputs, so the data set as a whole drifts (share >= 0.5) and
# `modeldesk drift models:/cancer-classifier@production` exits 1 on the demo.
DRIFT = {"mean radius": 1.25, "mean perimeter": 1.25, "mean area": 1.5, "mean texture": 1.3,
         "mean smoothness": 1.2, "mean compactness": 1.4, "mean concavity": 1.6, "mean concave points": 1.5,
         "mean symmetry": 1.2, "radius error": 1.3, "texture error": 1.3, "worst radius": 1.3,
         "worst perimeter": 1.3, "worst area": 1.6, "worst concavity": 1.5, "worst concave points": 1.5}


def add_served_traffic(project_path, model_uri: str, *, requests: int = 4000, days: float = 7.0,
                       drift_days: float = 2.0, label_share: float = 0.6, now: float | None = None,
                       seed: int = SEED, progress: Callable[[float, str], None] | None = None) -> str:
    """Log ``requests`` simulated requests to ``model_uri`` over the past ``days``; return a summary.

    Requests in the last ``drift_days`` get shifted feature distributions
    (:data:`DRIFT`); a ``label_share`` of the requests older than half a day
    get their true label (labels come back after half a day). Deterministic
    for a given ``seed`` and ``now``.
    """
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    from .core.serving.prediction_log import LogEntry, set_labels, write_predictions
    from .core.serving.served_model import full_uri, load_served
    from .core.serving.validation import model_input
    from .core.storage.project import open_project

    rng = np.random.default_rng(seed)
    ids = random.Random(seed)
    now = time.time() if now is None else now
    project = open_project(project_path, create=False)
    try:
        served = load_served(project, full_uri(model_uri))
        bunch = load_breast_cancer(as_frame=True)
        X, y = bunch.data, bunch.target.to_numpy()
        columns = [f["name"] for f in served.signature["inputs"]]
        sizes = np.where(rng.random(requests) < 0.03, rng.integers(5, 21, requests), 1)
        n = int(sizes.sum())
        picks = rng.integers(0, len(X), n)
        frame = X.iloc[picks][columns].reset_index(drop=True)
        frame = frame * (1 + rng.normal(0, 0.02, frame.shape))          # no two requests exactly alike
        times = _request_times(rng, requests, now, days)
        row_times = np.repeat(times, sizes)
        drifted = row_times >= now - drift_days * 86400
        for col, factor in DRIFT.items():
            if col in frame.columns:
                frame.loc[drifted, col] *= factor * (1 + rng.normal(0, 0.05, int(drifted.sum())))
        frame = frame.astype("float64")
        inputs = model_input(served.signature, frame)
        predictions = np.asarray(served.model.predict(inputs))
        # as a client asking ?proba=true: the Monitoring view can then estimate accuracy before labels (CBPE)
        proba = np.asarray(served.model.predict_proba(inputs)).round(6) if served.has_proba else None
        latency = rng.lognormal(np.log(1.8), 0.35, requests) + 0.02 * sizes
        entries, labels = [], []
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        for k in range(requests):
            a, b = int(starts[k]), int(starts[k] + sizes[k])
            request_id = f"{ids.getrandbits(128):032x}"
            entries.append(LogEntry(request_id, float(times[k]), served, frame.iloc[a:b],
                                    predictions[a:b].tolist(), float(latency[k]),
                                    proba[a:b].tolist() if proba is not None else None))
            if times[k] < now - 43200 and rng.random() < label_share:
                labels += [(request_id, r, int(y[picks[a + r]])) for r in range(b - a)]
            if progress is not None and k % 1000 == 999:
                progress((k + 1) / requests, f"Simulating served traffic: {k + 1:,} requests")
        rows = write_predictions(project, entries)
        labeled = set_labels(project, labels)
    finally:
        project.close()
    shifted = int(drifted.sum())
    return (f"{rows:,} served predictions over {days:g} days ({requests:,} requests, {shifted:,} in the drifted "
            f"last {drift_days:g} days, {labeled:,} labeled)")


def _request_times(rng, count: int, now: float, days: float):
    """Sorted unix times over the past ``days``, busier in working hours (UTC)."""
    import numpy as np

    day_start = np.floor(now / 86400) * 86400
    first_day = day_start - np.ceil(days) * 86400
    hours = np.arange(24)
    weight = np.where((hours >= 8) & (hours < 19), 6.0, 1.0)
    weight = weight / weight.sum()
    day_index = rng.integers(0, int(np.ceil(days)) + 1, count * 2)
    hour = rng.choice(hours, count * 2, p=weight)
    t = first_day + day_index * 86400 + hour * 3600 + rng.random(count * 2) * 3600
    t = t[(t >= now - days * 86400) & (t < now)][:count]
    while len(t) < count:   # rare: top up uniformly
        t = np.concatenate([t, now - rng.random(count - len(t)) * days * 86400])
    return np.sort(t)


def default_model_uri(project) -> str:
    """``models:/cancer-classifier@production`` when the registry has it, else the best
    breast-cancer run's model (by roc_auc)."""
    from .core.registry.versions import alias_version, model_exists
    from .core.tracking.artifacts import list_models
    from .core.tracking.runs import search_runs

    if model_exists(project, "cancer-classifier") and \
            alias_version(project, "cancer-classifier", "production") is not None:
        return "models:/cancer-classifier@production"

    runs = search_runs(project, ["breast-cancer"], "attributes.status = 'FINISHED'", ["metrics.roc_auc DESC"])
    for run_id in runs["run_id"]:
        if any(m.name == "model" for m in list_models(project, run_id)):
            return f"runs:/{run_id}/model"
    raise LookupError("the demo has no breast-cancer model to serve")

"""A small governed project for report tests: three versions of a real breast-cancer model with
gates, reviews (names and comments), a rejection, a rollback with its reason and logged predictions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import breast_cancer
from .registry import log_run, logreg

DAY0 = 1_767_225_600.0          # 2026-01-01 00:00 UTC
REVIEW_V1 = "AUC holds on the March holdout"
REVIEW_V2 = "Recall better on the new clinic data"
REJECT_V3 = "Calibration is off for small tumours"
ROLLBACK_REASON = "v2 raised false negatives at clinic B"


@dataclass(frozen=True)
class Governed:
    uri: str          # models:/cancer/2, the version with the full story
    model: str
    run_ids: tuple[str, ...]


def build(md, *, predictions_days: int = 4, per_day: int = 60, labels: bool = True) -> Governed:
    """cancer v1 → production (ana approves), v2 → production (ben approves), v3 rejected (ana),
    production rolled back to v1; v2 answered ``predictions_days`` days of logged predictions."""
    from modeldesk.core.registry import aliases, approvals

    X, y = breast_cancer()
    runs = []
    for i, C in enumerate((1.0, 0.3, 0.05)):
        md.set_experiment("cancer")
        runs.append(log_run(md, logreg(C), name=f"logreg-C{C}", dataset=True))
    project = md.get_project()
    for run_id in runs:
        md.register_model(f"runs:/{run_id}/model", "cancer")
    approvals.request_promotion(project, "cancer", 1, comment="first model for the screening pilot")
    approvals.approve(project, "cancer", 1, actor="ana", comment=REVIEW_V1)
    approvals.request_promotion(project, "cancer", 2, comment="stronger regularisation")
    approvals.approve(project, "cancer", 2, actor="ben", comment=REVIEW_V2)
    approvals.request_promotion(project, "cancer", 3, comment="even stronger")
    approvals.reject(project, "cancer", 3, actor="ana", comment=REJECT_V3)
    if predictions_days:
        log_predictions(project, "models:/cancer/2", predictions_days, per_day, labels=labels, y=y, X=X)
    aliases.rollback(project, "cancer", reason=ROLLBACK_REASON, actor="ben")
    return Governed("models:/cancer/2", "cancer", tuple(runs))


def log_predictions(project, uri: str, days: int, per_day: int, *, labels: bool, X=None, y=None,
                    seed: int = 0) -> int:
    """``per_day`` single-row requests a day from DAY0 (the last day shifted), labels for half of them."""
    from modeldesk.core.serving.prediction_labels import set_labels
    from modeldesk.core.serving.prediction_log import LogEntry, write_predictions
    from modeldesk.core.serving.served_model import load_served

    if X is None:
        X, y = breast_cancer()
    served = load_served(project, uri)
    rng = np.random.default_rng(seed)
    written, truth = 0, []
    for day in range(days):
        idx = rng.integers(0, len(X), per_day)
        frame = X.iloc[idx].reset_index(drop=True)
        if day == days - 1:
            frame = frame * 1.5
        times = np.sort(DAY0 + day * 86400 + rng.uniform(0.02, 0.98, per_day) * 86400)
        predictions = served.model.predict(frame)
        proba = served.model.predict_proba(frame)
        entries = []
        for k in range(per_day):
            rid = f"d{day}-{k}"
            entries.append(LogEntry(rid, float(times[k]), served, frame.iloc[k:k + 1], [int(predictions[k])],
                                    1.0, probabilities=[proba[k].tolist()]))
            if k % 2 == 0:
                truth.append((rid, 0, int(y.iloc[idx[k]])))
        written += write_predictions(project, entries)
    if labels:
        set_labels(project, truth)
    return written

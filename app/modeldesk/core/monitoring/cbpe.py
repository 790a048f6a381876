"""Confidence-based performance estimation (CBPE): a classifier's accuracy and ROC AUC before labels arrive.

The idea is NannyML's CBPE. If a classifier's probabilities are calibrated
(of all rows given 0.8, 80 % are positive), then each row's probability *is*
the expected value of "this row is positive", and a metric's expected value
over a window follows from the probabilities alone:

- the model's raw probabilities are calibrated on the reference data (the
  version's training sample, with its true labels): one isotonic regression
  per class, of "the label is this class" on that class's probability (one
  for the positive class of a binary model); multiclass calibrated rows are
  scaled back to sum to 1;
- expected accuracy: the mean calibrated probability of the class the model
  predicted (binary: ``p`` when it predicted the positive class, else
  ``1 - p``);
- expected ROC AUC: with calibrated scores ``p`` sorted from high to low, a
  threshold at score ``t`` has expected true positives ``sum(p >= t)`` and
  false positives ``sum(1 - p >= t)``; dividing by the expected positives
  ``sum(p)`` and negatives ``sum(1 - p)`` gives an expected ROC curve, whose
  area is the estimate. Multiclass: the macro mean of the one-vs-rest
  estimates.

It holds while calibration on the reference still holds on the current data:
covariate shift is fine, a change in how labels follow the inputs (concept
drift) is not, and a reference the model was fit on makes the estimate
optimistic when the model overfits. See docs/monitoring.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calibration:
    """Isotonic calibrators fitted on the reference, one per probability column (binary: one)."""

    classes: tuple
    calibrators: tuple      # sklearn IsotonicRegression, fitted

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2

    def calibrate(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, the same shape as ``proba`` (rows × classes)."""
        proba = np.asarray(proba, dtype=np.float64)
        if self.binary:
            p = self.calibrators[0].predict(proba[:, 1])
            return np.column_stack([1.0 - p, p])
        out = np.column_stack([c.predict(proba[:, k]) for k, c in enumerate(self.calibrators)])
        total = out.sum(axis=1, keepdims=True)
        even = np.full_like(out, 1.0 / out.shape[1])
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), even)


def fit_calibration(proba, labels, classes) -> Calibration | None:
    """Calibrate ``proba`` (reference rows × classes, in ``classes`` order) on the true ``labels``.

    None when the reference cannot calibrate: fewer than two of the classes
    among its labels, or no rows.
    """
    from sklearn.isotonic import IsotonicRegression

    proba = np.asarray(proba, dtype=np.float64)
    labels = np.asarray(labels)
    classes = tuple(classes)
    if proba.ndim != 2 or proba.shape[0] == 0 or proba.shape[1] != len(classes) or len(classes) < 2:
        return None
    hits = [labels == c for c in classes]
    if sum(bool(h.any()) for h in hits) < 2:
        return None
    columns = [1] if len(classes) == 2 else range(len(classes))
    calibrators = []
    for k in columns:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(proba[:, k], hits[k].astype(np.float64))
        calibrators.append(iso)
    return Calibration(classes, tuple(calibrators))


def expected_accuracy(calibrated: np.ndarray, predicted_index: np.ndarray) -> float:
    """Mean calibrated probability of the predicted class (``predicted_index``: column per row, -1 unknown)."""
    ok = predicted_index >= 0
    if not ok.any():
        return math.nan
    rows = np.flatnonzero(ok)
    return float(calibrated[rows, predicted_index[ok]].mean())


def expected_roc_auc(scores: np.ndarray) -> float:
    """The area under the expected ROC curve of calibrated positive-class ``scores`` (NaN when undefined)."""
    p = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    if p.size == 0:
        return math.nan
    positives, negatives = p.sum(), (1.0 - p).sum()
    if positives <= 0 or negatives <= 0:
        return math.nan
    tp, fp = np.cumsum(p), np.cumsum(1.0 - p)
    last = np.append(p[1:] != p[:-1], True)     # one point per distinct score: ties move together
    tpr = np.concatenate([[0.0], tp[last] / positives])
    fpr = np.concatenate([[0.0], fp[last] / negatives])
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0)     # trapezoids


def estimate(calibration: Calibration, proba: np.ndarray, predicted_index: np.ndarray) -> tuple[float, float]:
    """``(estimated accuracy, estimated ROC AUC)`` of one window's raw probabilities."""
    if proba.shape[0] == 0:
        return math.nan, math.nan
    calibrated = calibration.calibrate(proba)
    accuracy = expected_accuracy(calibrated, predicted_index)
    if calibration.binary:
        return accuracy, expected_roc_auc(calibrated[:, 1])
    aucs = [expected_roc_auc(calibrated[:, k]) for k in range(calibrated.shape[1])]
    aucs = [a for a in aucs if not math.isnan(a)]
    return accuracy, (float(np.mean(aucs)) if aucs else math.nan)

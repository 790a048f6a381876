"""Population stability index, shown beside every column's test (and a test itself on request).

PSI = sum over bins of (current share - reference share) * ln(current share /
reference share). Numbers are binned at the reference's deciles (10 bins, fewer
when deciles repeat); categories are their own bins. A bin empty on one side
counts as a share of 0.0001 (as Evidently fills empty bins), so one new
category gives a large but finite index.
"""

from __future__ import annotations

import numpy as np

BINS = 10
EMPTY_SHARE = 1e-4


def psi_counts(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """PSI of two count vectors over the same bins."""
    ref = reference_counts / reference_counts.sum()
    cur = current_counts / current_counts.sum()
    ref = np.where(ref == 0, EMPTY_SHARE, ref)
    cur = np.where(cur == 0, EMPTY_SHARE, cur)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def decile_edges(reference: np.ndarray) -> np.ndarray:
    """The reference's inner deciles (numpy's linear quantiles), repeats removed; ``reference`` sorted."""
    positions = np.linspace(0.0, 1.0, BINS + 1)[1:-1] * (reference.size - 1)
    below = np.floor(positions).astype(np.int64)
    above = np.minimum(below + 1, reference.size - 1)
    fraction = positions - below
    edges = reference[below] + fraction * (reference[above] - reference[below])
    return np.unique(edges)


def psi_sorted(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI of two sorted numeric samples over bins (-inf, d1], (d1, d2], ..., (dk, inf)."""
    edges = decile_edges(reference)

    def counts(values: np.ndarray) -> np.ndarray:
        return np.diff(np.concatenate(([0], np.searchsorted(values, edges, side="right"), [values.size])))

    return psi_counts(counts(reference), counts(current))

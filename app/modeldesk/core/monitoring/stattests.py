"""The per-column drift statistics, on plain numpy arrays.

Each test takes what ``samples`` prepares — a column's finite values sorted
once, or its value counts over the categories of both frames — and returns a
score: a p-value (``ks``, ``chisquare``, ``z``) or a distance
(``wasserstein``, ``jensenshannon``, ``psi``). The choice of test, its ids and
its thresholds are those of Evidently's default data-drift preset, so a user
can check our answers against it; the one deliberate difference is the
chi-square test (two-sample, see :func:`chisquare_pvalue`).
"""

from __future__ import annotations

import math

import numpy as np

TESTS = ("ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi")
P_VALUE_TESTS = ("ks", "chisquare", "z")
# Tests that need numbers: a distance along the value axis means nothing for categories.
NUMERIC_ONLY_TESTS = ("ks", "wasserstein")
DEFAULT_THRESHOLDS = {"ks": 0.05, "chisquare": 0.05, "z": 0.05,
                      "wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1}

SMALL_REFERENCE_ROWS = 1000   # up to here p-value tests, above it distances
FEW_VALUES = 5                # a numeric column with at most this many values is tested as categories
TWO_VALUES = 2                # ... and with at most two, by the Z-test
STURGES_ABOVE = 20            # Jensen-Shannon bins numbers when the reference has more distinct values
STD_FLOOR = 0.001             # Wasserstein is divided by max(reference std, this)


def choose_test(kind: str, reference_rows: int, n_values: int) -> str:
    """The test Evidently's preset picks for a column.

    ``kind`` is ``numerical`` or ``categorical``; ``reference_rows`` counts
    the reference's finite values; ``n_values`` the distinct values of both
    frames together.
    """
    if reference_rows <= SMALL_REFERENCE_ROWS:
        if kind == "numerical" and n_values > FEW_VALUES:
            return "ks"
        return "chisquare" if n_values > TWO_VALUES else "z"
    if kind == "numerical" and n_values > FEW_VALUES:
        return "wasserstein"
    return "jensenshannon"


def is_drift(test: str, score: float, threshold: float) -> bool:
    """Evidently's rule per test: K-S drifts at p <= threshold, chi-square and
    Z at p < threshold, the distances at score >= threshold."""
    if test == "ks":
        return bool(score <= threshold)
    if test in P_VALUE_TESTS:
        return bool(score < threshold)
    return bool(score >= threshold)


def ks_pvalue(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov p-value (scipy's, exact for small samples)."""
    from scipy.stats import ks_2samp

    return float(ks_2samp(reference, current).pvalue)


def wasserstein_sorted(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein-1 distance of two *sorted* samples: the area between their CDFs.

    The same sum scipy's ``wasserstein_distance`` computes, without its three
    sorts: the current values are placed into the reference with one
    ``searchsorted`` (m log n), and each CDF at every merged point is a
    running count.
    """
    n, m = reference.size, current.size
    total = n + m
    is_current = np.zeros(total, dtype=bool)
    # A current value goes after every reference value <= it and after the current values before it.
    is_current[np.searchsorted(reference, current, side="right") + np.arange(m)] = True
    merged = np.empty(total, dtype=np.float64)
    merged[is_current] = current
    merged[~is_current] = reference
    deltas = np.diff(merged)
    current_le = np.cumsum(is_current[:-1], dtype=np.int64)
    reference_le = np.arange(1, total, dtype=np.int64) - current_le
    # Where a value repeats the step is 0, so the CDFs there (which may have counted
    # only part of the tie) do not change the sum.
    cdf_gap = np.abs(reference_le / n - current_le / m)
    return float(np.sum(cdf_gap * deltas))


def wasserstein_norm(reference: np.ndarray, current: np.ndarray) -> float:
    """Wasserstein distance divided by the reference's population std (floored at 0.001)."""
    return wasserstein_sorted(reference, current) / max(float(np.std(reference)), STD_FLOOR)


def sturges_edges(reference: np.ndarray, current: np.ndarray) -> np.ndarray:
    """numpy's ``histogram_bin_edges(concat, bins="sturges")``, from the sorted samples' ends."""
    size = reference.size + current.size
    low = min(reference[0], current[0])
    high = max(reference[-1], current[-1])
    width = (high - low) / (math.log2(size) + 1.0)
    bins = math.ceil((high - low) / width) if width else 1
    if low == high:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bins + 1, endpoint=True)


def histogram_sorted(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(values, edges)[0]`` for sorted values: [a, b) bins, the last one closed."""
    cuts = np.searchsorted(values, edges[1:-1], side="left")
    return np.diff(np.concatenate(([0], cuts, [values.size])))


def jensenshannon_counts(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) of two count vectors over the same values."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(reference_counts / reference_counts.sum(), current_counts / current_counts.sum()))


def jensenshannon_binned(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance of two sorted numeric samples over Sturges bins of both."""
    edges = sturges_edges(reference, current)
    return jensenshannon_counts(histogram_sorted(reference, edges), histogram_sorted(current, edges))


def z_pvalue(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Two-proportion Z-test: the share of the first value against all others.

    Both frames holding one and the same value gives p = 1 (Evidently's rule);
    with exactly two values which one is "first" does not change p.
    """
    from scipy.stats import norm

    if reference_counts.size < 2:
        return 1.0
    n1, n2 = float(reference_counts.sum()), float(current_counts.sum())
    p1 = 1.0 - reference_counts[0] / n1
    p2 = 1.0 - current_counts[0] / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2.0 * norm.sf(abs(z)))


def chisquare_pvalue(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Chi-square test of homogeneity on the 2 x k table of counts.

    Evidently instead takes the reference counts as the exact expected
    frequencies of a goodness-of-fit test, ignoring that the reference is a
    sample too; at 1,000 rows that flags 23 % (3 categories) to 89 %
    (30 categories) of columns that did not drift. Both frames are samples,
    so ours is the two-sample test (``scipy.stats.chi2_contingency``, no Yates
    correction, so with two values it agrees with the Z-test).
    """
    from scipy.stats import chi2_contingency

    if reference_counts.size < 2:
        return 1.0
    table = np.vstack((reference_counts, current_counts))
    return float(chi2_contingency(table, correction=False).pvalue)

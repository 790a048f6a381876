"""One column's reference and current distributions, side by side, for a chart.

:func:`overlay` counts a numerical column on bins shared by both frames (so
the two histograms can be drawn over each other) and a categorical one per
category, marking the categories the reference never had. Shares, not
counts: the frames differ in size. Missing values (NaN, ±inf) are left out of
the shares and reported as ``missing_ref`` / ``missing_cur``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_BINS = 40
MAX_CATEGORIES = 20      # more are folded into one "other" bar


@dataclass(frozen=True)
class Overlay:
    """``kind`` ``"numerical"``: ``edges`` (n+1) and per-bin shares; ``"categorical"``: ``labels``
    and per-category shares, ``unseen[i]`` True when the reference never had ``labels[i]``."""

    column: str
    kind: str
    reference: np.ndarray
    current: np.ndarray
    edges: np.ndarray | None = None
    labels: tuple[str, ...] = ()
    unseen: tuple[bool, ...] = ()
    reference_rows: int = 0        # values counted (missing ones excluded)
    current_rows: int = 0
    missing_ref: float = 0.0
    missing_cur: float = 0.0
    other: int = 0                 # categories folded into "other"

    @property
    def empty(self) -> bool:
        return self.reference_rows == 0 and self.current_rows == 0


def overlay(column: str, reference, current, kind: str | None = None) -> Overlay:
    """The overlaid distributions of ``reference`` and ``current`` (pandas Series) of ``column``.

    ``kind`` is the drift report's column type; None infers it the way the
    drift engine does (from the current values).
    """
    import pandas as pd

    from . import samples

    reference, current = pd.Series(reference), pd.Series(current)
    if kind is None:
        kind = samples.infer_kind(current) or samples.infer_kind(reference) or "categorical"
    if kind == "numerical" and samples.is_numeric(reference) and samples.is_numeric(current):
        return _numbers(column, reference, current)
    return _categories(column, reference, current)


def _finite(series) -> tuple[np.ndarray, float]:
    import pandas as pd

    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isfinite(values)
    return values[ok], (1.0 - ok.mean()) if len(values) else 0.0


def _numbers(column: str, reference, current) -> Overlay:
    ref, miss_ref = _finite(reference)
    cur, miss_cur = _finite(current)
    both = np.concatenate([ref, cur])
    if both.size == 0:
        edges = np.array([0.0, 1.0])
    else:
        # the outer 0.5 % on each side go into the end bins, so one outlier does not squash the rest
        lo, hi = (float(v) for v in np.percentile(both, [0.5, 99.5]))
        ref, cur = np.clip(ref, lo, hi), np.clip(cur, lo, hi)
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        bins = int(np.clip(np.ceil(np.log2(max(both.size, 1)) + 1) * 2, 10, MAX_BINS))
        edges = np.linspace(lo, hi, bins + 1)
    return Overlay(column, "numerical", _shares(np.histogram(ref, edges)[0]), _shares(np.histogram(cur, edges)[0]),
                   edges=edges, reference_rows=int(ref.size), current_rows=int(cur.size),
                   missing_ref=float(miss_ref), missing_cur=float(miss_cur))


def _text(series):
    missing = series.isna()
    return series[~missing].map(str), float(missing.mean()) if len(series) else 0.0


def _categories(column: str, reference, current) -> Overlay:
    ref, miss_ref = _text(reference)
    cur, miss_cur = _text(current)
    ref_counts, cur_counts = ref.value_counts(), cur.value_counts()
    total = (ref_counts / max(len(ref), 1)).add(cur_counts / max(len(cur), 1), fill_value=0.0)
    order = sorted(total.index, key=lambda k: (-total[k], k))
    shown, rest = order[:MAX_CATEGORIES], order[MAX_CATEGORIES:]
    ref_c = [int(ref_counts.get(k, 0)) for k in shown]
    cur_c = [int(cur_counts.get(k, 0)) for k in shown]
    labels = list(shown)
    unseen = [k not in ref_counts.index for k in shown]
    if rest:
        labels.append(f"other ({len(rest)})")
        ref_c.append(int(ref_counts.reindex(rest).fillna(0).sum()))
        cur_c.append(int(cur_counts.reindex(rest).fillna(0).sum()))
        unseen.append(False)
    return Overlay(column, "categorical", _shares(np.asarray(ref_c)), _shares(np.asarray(cur_c)),
                   labels=tuple(labels), unseen=tuple(unseen), reference_rows=len(ref), current_rows=len(cur),
                   missing_ref=float(miss_ref), missing_cur=float(miss_cur), other=len(rest))


def _shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts / total if total else counts

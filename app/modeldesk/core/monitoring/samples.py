"""A column of each frame turned, once, into what the tests need.

Numbers become their finite values sorted once (NaN and ±inf dropped and
counted as missing); categories become counts per value over the values of
both frames. Everything here is vectorised: one sort per numeric column, one
hash pass (``pandas.factorize``) per categorical column, no per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INT_CATEGORICAL_MAX = 10   # integers with at most this many distinct current values are categories (Evidently)


def infer_kind(series) -> str | None:
    """``numerical``, ``categorical``, or None (dates and times: not compared), as Evidently infers it.

    Floats are numerical; integers are numerical above 10 distinct values,
    else categorical; booleans, strings, objects and pandas categories are
    categorical.
    """
    import pandas as pd
    from pandas.api import types

    dtype = series.dtype
    if types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if types.is_datetime64_any_dtype(dtype) or types.is_timedelta64_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        return None
    if types.is_float_dtype(dtype):
        return "numerical"
    if types.is_integer_dtype(dtype):
        return "numerical" if series.nunique() > INT_CATEGORICAL_MAX else "categorical"
    if types.is_complex_dtype(dtype):
        return None
    return "categorical"


def is_numeric(series) -> bool:
    """Can this column be read as float64 numbers (booleans are not numbers here)?"""
    from pandas.api import types

    dtype = series.dtype
    return (types.is_float_dtype(dtype) or types.is_integer_dtype(dtype)) and not types.is_bool_dtype(dtype)


@dataclass(frozen=True)
class Numbers:
    """A numeric column's finite values, sorted, and how many values were missing."""

    values: np.ndarray
    missing: int
    rows: int

    @property
    def distinct(self) -> int:
        v = self.values
        return int(v.size and 1 + np.count_nonzero(v[1:] != v[:-1]))


def numbers(series) -> Numbers:
    """Sort once; NaN sorts last and -inf/+inf at the ends, so the finite values are one slice."""
    raw = series.to_numpy(dtype=np.float64, na_value=np.nan)
    ordered = np.sort(raw)
    low = np.searchsorted(ordered, -np.inf, side="right")
    high = np.searchsorted(ordered, np.inf, side="left")
    return Numbers(ordered[low:high], raw.size - (high - low), raw.size)


@dataclass(frozen=True)
class Counts:
    """Counts per value of one column in both frames, over the values either frame holds."""

    labels: tuple
    reference: np.ndarray
    current: np.ndarray
    missing_reference: int
    missing_current: int

    def unseen(self) -> list:
        """Values the current frame holds that the reference never did."""
        return [label for label, n in zip(self.labels, self.reference) if n == 0]


def number_counts(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of two sorted arrays and the counts of each in both."""
    values = np.union1d(_distinct(reference), _distinct(current))

    def counts(v: np.ndarray) -> np.ndarray:
        return np.searchsorted(v, values, side="right") - np.searchsorted(v, values, side="left")

    return values, counts(reference), counts(current)


def _distinct(v: np.ndarray) -> np.ndarray:
    if v.size == 0:
        return v
    return v[np.concatenate(([True], v[1:] != v[:-1]))]


def _codes(series):
    """Codes per row (-1 for missing) and the distinct values, NaN/None/±inf counted as missing."""
    import pandas as pd

    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable values (lists, dicts): compare their text
        codes, uniques = pd.factorize(series.where(series.isna(), series.astype(str)), use_na_sentinel=True)
    uniques = np.asarray(uniques, dtype=object)
    infinite = np.fromiter((isinstance(u, (float, np.floating)) and not np.isfinite(u) for u in uniques),
                           dtype=bool, count=uniques.size)
    if infinite.any():
        codes = np.where(np.isin(codes, np.flatnonzero(infinite)), -1, codes)
    return np.asarray(codes, dtype=np.int64), uniques, infinite


def category_counts(reference, current) -> Counts:
    """Counts per category in both frames: one ``factorize`` per frame, then a match of the distinct values."""
    import pandas as pd

    ref_codes, ref_values, ref_inf = _codes(reference)
    cur_codes, cur_values, cur_inf = _codes(current)
    ref_all = np.bincount(ref_codes + 1, minlength=ref_values.size + 1)
    cur_all = np.bincount(cur_codes + 1, minlength=cur_values.size + 1)
    position = pd.Index(ref_values).get_indexer(cur_values)
    new = position < 0
    position[new] = ref_values.size + np.arange(int(new.sum()))
    labels = np.concatenate((ref_values, cur_values[new]))
    ref_counts = np.concatenate((ref_all[1:], np.zeros(int(new.sum()), dtype=np.int64)))
    cur_counts = np.zeros(labels.size, dtype=np.int64)
    cur_counts[position] = cur_all[1:]
    keep = (ref_counts + cur_counts) > 0
    keep &= ~np.concatenate((ref_inf, cur_inf[new]))
    labels, ref_counts, cur_counts = labels[keep], ref_counts[keep], cur_counts[keep]
    order = _sorted_order(labels)
    return Counts(tuple(labels[order].tolist()), ref_counts[order], cur_counts[order], int(ref_all[0]),
                  int(cur_all[0]))


def _sorted_order(labels: np.ndarray) -> np.ndarray:
    """Values in sorted order (the Z-test's "first value", stable output); mixed types by their text."""
    keys = list(labels)
    try:
        return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)
    except TypeError:
        return np.array(sorted(range(len(keys)), key=lambda i: (type(keys[i]).__name__, str(keys[i]))),
                        dtype=np.int64)

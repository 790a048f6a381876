"""Data drift between a reference frame and a current frame: one test per column, one verdict.

``compare`` infers each column's type from the current frame (Evidently's
rule), picks the test Evidently's default preset would (see
``stattests.choose_test``) unless ``options`` say otherwise, and reports the
share of drifted columns; the data set drifts when that share is >= 0.5.
Every column ends in a defined answer, never an exception: no data, too few
rows, constant values, unseen categories and schema changes are named in the
column's ``note`` (docs/monitoring.md lists them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import UsageError
from . import psi as psi_mod
from . import samples, stattests
from .overrides import DriftOptions, parse_options

# Fewer finite values than this in either frame: no test ("too few rows"), the column is left out of the share.
MIN_ROWS = 30
FIELDS = ("column", "type", "test", "score", "threshold", "drifted", "psi", "missing_ref", "missing_cur", "note")
NOTE_NAMES = 5   # unseen categories named in a note before "and N more"


@dataclass(frozen=True)
class ColumnDrift:
    """One column's answer; the fields are the columns of ``DriftReport.columns``."""

    column: str
    type: str
    test: str | None
    score: float
    threshold: float
    drifted: bool
    psi: float
    missing_ref: float
    missing_cur: float
    note: str

    @property
    def tested(self) -> bool:
        return self.test is not None and not math.isnan(self.score)


@dataclass(frozen=True)
class DriftReport:
    """The result of :func:`compare`: ``share``, ``drifted`` and one row per column."""

    share: float
    drifted: bool
    results: tuple[ColumnDrift, ...]
    share_threshold: float
    reference_rows: int
    current_rows: int
    missing_columns: tuple[str, ...]
    new_columns: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]   # (column, why): columns of a type no test compares

    @property
    def columns(self):
        """One row per column: column, type, test, score, threshold, drifted, psi, missing_ref, missing_cur, note."""
        import pandas as pd

        frame = pd.DataFrame([[getattr(r, f) for f in FIELDS] for r in self.results], columns=list(FIELDS))
        return frame.astype({"score": float, "threshold": float, "drifted": bool, "psi": float,
                             "missing_ref": float, "missing_cur": float})

    @property
    def tested(self) -> int:
        return sum(r.tested for r in self.results)

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(r.column for r in self.results if r.drifted)

    def to_dict(self) -> dict:
        """The JSON form: plain numbers and text, NaN as null."""
        return {
            "share": self.share, "drifted": self.drifted, "share_threshold": self.share_threshold,
            "columns_tested": self.tested, "columns_drifted": len(self.drifted_columns),
            "reference_rows": self.reference_rows, "current_rows": self.current_rows,
            "missing_columns": list(self.missing_columns), "new_columns": list(self.new_columns),
            "skipped": [{"column": c, "why": why} for c, why in self.skipped],
            "columns": [{k: _plain(v) for k, v in asdict(r).items()} for r in self.results],
        }


def _plain(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _frame(data, which: str):
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        try:
            data = pd.DataFrame(data)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"The {which} data must be a table (a pandas DataFrame): {exc}") from None
    if not data.columns.is_unique:
        dup = data.columns[data.columns.duplicated()][0]
        raise UsageError(f"The {which} data has the column {dup!r} twice; column names must be unique.")
    if len(data) == 0:
        raise UsageError(f"The {which} data has no rows: there is nothing to compare.")
    return data


def compare(reference, current, categorical=None, options: dict | DriftOptions | None = None, *,
            progress: Callable[[float, str], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> DriftReport | None:
    """Compare ``current`` with ``reference`` column by column (see the module docstring).

    ``categorical`` names columns to compare as categories whatever their
    type; ``options`` overrides tests and thresholds (``overrides``).
    ``progress(fraction, message)`` is called after each column;
    ``should_stop()`` before each, and a true answer returns None.
    A frame with no rows, a typo in the options or an unknown name in
    ``categorical`` is a ``UsageError``.
    """
    reference = _frame(reference, "reference")
    current = _frame(current, "current")
    opts = parse_options(options)
    forced = {str(c) for c in ([categorical] if isinstance(categorical, str) else (categorical or ()))}
    names_ref = [str(c) for c in reference.columns]
    names_cur = [str(c) for c in current.columns]
    unknown = sorted(forced - set(names_ref) - set(names_cur))
    if unknown:
        raise UsageError(f"categorical names {unknown[0]!r}, a column neither frame has.")
    by_name_ref = dict(zip(names_ref, reference.columns))
    by_name_cur = dict(zip(names_cur, current.columns))
    missing = tuple(n for n in names_ref if n not in by_name_cur)
    new = tuple(n for n in names_cur if n not in by_name_ref)
    results, skipped = [], []
    order = names_ref + list(new)
    for i, name in enumerate(order):
        if should_stop is not None and should_stop():
            return None
        ref_col = reference[by_name_ref[name]] if name in by_name_ref else None
        cur_col = current[by_name_cur[name]] if name in by_name_cur else None
        kind = "categorical" if name in forced else samples.infer_kind(cur_col if cur_col is not None else ref_col)
        if kind is None:
            skipped.append((name, f"{(cur_col if cur_col is not None else ref_col).dtype} values are not compared"))
        elif cur_col is None:
            results.append(_untested(name, kind, ref_col, None, "missing from current (schema drift)"))
        elif ref_col is None:
            results.append(_untested(name, kind, None, cur_col, "new in current, not in reference (schema drift)"))
        else:
            results.append(_column(name, kind, ref_col, cur_col, opts))
        if progress is not None:
            progress((i + 1) / len(order), f"{i + 1} of {len(order)} columns compared")
    tested = [r for r in results if r.tested]
    share = sum(r.drifted for r in tested) / len(tested) if tested else 0.0
    return DriftReport(share=share, drifted=bool(tested) and share >= opts.share, results=tuple(results),
                       share_threshold=opts.share, reference_rows=len(reference), current_rows=len(current),
                       missing_columns=missing, new_columns=new, skipped=tuple(skipped))


def _untested(name, kind, ref_col, cur_col, note) -> ColumnDrift:
    """A column with no counterpart in the other frame: its missing rate, no test."""
    def rate(col):
        if col is None:
            return math.nan
        if samples.is_numeric(col):
            return float((~np.isfinite(col.to_numpy(dtype=np.float64, na_value=np.nan))).mean())
        return float(col.isna().mean())

    return ColumnDrift(name, kind, None, math.nan, math.nan, False, math.nan, rate(ref_col), rate(cur_col), note)


def _column(name: str, kind: str, ref_col, cur_col, opts: DriftOptions) -> ColumnDrift:
    notes: list[str] = []
    ref_numeric, cur_numeric = samples.is_numeric(ref_col), samples.is_numeric(cur_col)
    as_numbers = kind == "numerical" and ref_numeric and cur_numeric
    if ref_numeric != cur_numeric:
        notes.append(f"types differ (reference {ref_col.dtype}, current {cur_col.dtype}): compared as categories")
    if kind == "numerical" and not as_numbers:
        kind = "categorical"
    if as_numbers:
        ref, cur = samples.numbers(ref_col), samples.numbers(cur_col)
        n_ref, n_cur = ref.values.size, cur.values.size
        miss_ref, miss_cur = ref.missing / ref.rows, cur.missing / cur.rows
        counts = None
    else:
        counts = samples.category_counts(ref_col, cur_col)
        n_ref, n_cur = int(counts.reference.sum()), int(counts.current.sum())
        miss_ref, miss_cur = counts.missing_reference / len(ref_col), counts.missing_current / len(cur_col)

    def answer(test, score, threshold, drifted, psi_value):
        return ColumnDrift(name, kind, test, score, threshold, drifted, psi_value, miss_ref, miss_cur,
                           "; ".join(notes))

    empty = [side for side, n in (("reference", n_ref), ("current", n_cur)) if n == 0]
    if empty:
        notes.insert(0, f"no data in {' and '.join(empty)} (every value missing)")
        return answer(None, math.nan, math.nan, False, math.nan)
    if min(n_ref, n_cur) < MIN_ROWS:
        notes.insert(0, f"too few rows ({min(n_ref, n_cur)} values, a test needs at least {MIN_ROWS})")
        return answer(None, math.nan, math.nan, False, math.nan)
    if as_numbers:
        test, threshold, score, psi_value = _numeric_test(name, ref.values, cur.values, ref.distinct, cur.distinct,
                                                          opts, notes)
    else:
        test, threshold, score, psi_value = _category_test(name, kind, counts, opts, notes)
    return answer(test, score, threshold, stattests.is_drift(test, score, threshold), psi_value)


def _resolve(name: str, kind: str, reference_rows: int, n_values: int, opts: DriftOptions) -> tuple[str, float]:
    test, threshold = opts.choice(name, kind)
    if test is None:
        test = stattests.choose_test(kind, reference_rows, n_values)
    if test in stattests.NUMERIC_ONLY_TESTS and kind != "numerical":
        raise UsageError(f"The {test} test needs numbers; column {name!r} is compared as categories "
                         "(choose chisquare, z, jensenshannon or psi for it).")
    return test, threshold if threshold is not None else stattests.DEFAULT_THRESHOLDS[test]


_VARIES = object()   # a column that is not constant


def _constant_note(ref_value, cur_value, notes: list[str]) -> None:
    """Name constant columns: the same constant in both, different constants, or one side constant."""
    if ref_value is not _VARIES and cur_value is not _VARIES:
        if ref_value == cur_value:
            notes.append(f"constant, the same in both ({ref_value!r})")
        else:
            notes.append(f"constant in each, but different: {ref_value!r} in reference, {cur_value!r} in current")
    elif ref_value is not _VARIES:
        notes.append(f"constant in reference ({ref_value!r})")
    elif cur_value is not _VARIES:
        notes.append(f"constant in current ({cur_value!r})")


def _numeric_test(name, ref, cur, ref_distinct, cur_distinct, opts, notes):
    counts = None
    if max(ref_distinct, cur_distinct) <= stattests.FEW_VALUES:
        counts = samples.number_counts(ref, cur)
        n_values = counts[0].size
    else:
        n_values = stattests.FEW_VALUES + 1     # "more than FEW_VALUES" is all the choice needs to know
    _constant_note(_num(ref[0]) if ref_distinct == 1 else _VARIES, _num(cur[0]) if cur_distinct == 1 else _VARIES,
                   notes)
    test, threshold = _resolve(name, "numerical", ref.size, n_values, opts)
    psi_value = psi_mod.psi_sorted(ref, cur)
    if test == "psi":
        score = psi_value
    elif test == "ks":
        score = stattests.ks_pvalue(ref, cur)
    elif test == "wasserstein":
        score = stattests.wasserstein_norm(ref, cur)
    elif test == "jensenshannon" and ref_distinct > stattests.STURGES_ABOVE:
        score = stattests.jensenshannon_binned(ref, cur)
    else:
        _, ref_counts, cur_counts = counts if counts is not None else samples.number_counts(ref, cur)
        score = _count_test(test, ref_counts, cur_counts)
    return test, threshold, score, psi_value


def _num(value):
    value = float(value)
    return int(value) if value.is_integer() else value


def _count_test(test, ref_counts, cur_counts) -> float:
    if test == "chisquare":
        return stattests.chisquare_pvalue(ref_counts, cur_counts)
    if test == "z":
        return stattests.z_pvalue(ref_counts, cur_counts)
    if test == "jensenshannon":
        return stattests.jensenshannon_counts(ref_counts, cur_counts)
    return psi_mod.psi_counts(ref_counts, cur_counts)


def _category_test(name, kind, counts: samples.Counts, opts, notes):
    present_ref = [lab for lab, n in zip(counts.labels, counts.reference) if n > 0]
    present_cur = [lab for lab, n in zip(counts.labels, counts.current) if n > 0]
    _constant_note(present_ref[0] if len(present_ref) == 1 else _VARIES,
                   present_cur[0] if len(present_cur) == 1 else _VARIES, notes)
    unseen = counts.unseen()
    if unseen:
        shown = ", ".join(repr(v) for v in unseen[:NOTE_NAMES])
        more = f" and {len(unseen) - NOTE_NAMES} more" if len(unseen) > NOTE_NAMES else ""
        notes.append(f"not in reference: {shown}{more}")
    test, threshold = _resolve(name, kind, int(counts.reference.sum()), len(counts.labels), opts)
    score = _count_test(test, counts.reference, counts.current)
    psi_value = score if test == "psi" else psi_mod.psi_counts(counts.reference, counts.current)
    return test, threshold, score, psi_value

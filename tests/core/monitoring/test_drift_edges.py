"""Every awkward column gets its defined answer (docs/monitoring.md), never an exception."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring.drift import FIELDS, MIN_ROWS, compare

RNG = np.random.default_rng(8)
GOOD = RNG.normal(0, 1, 500)


def _row(report, column):
    cols = report.columns.set_index("column")
    return cols.loc[column]


def test_a_column_empty_after_dropping_nan_is_no_data_and_left_out_of_the_share():
    ref = pd.DataFrame({"x": GOOD, "empty": GOOD})
    cur = pd.DataFrame({"x": GOOD + 3, "empty": np.full(500, np.nan)})
    report = compare(ref, cur)
    row = _row(report, "empty")
    assert row["note"].startswith("no data in current") and not row["drifted"]
    assert np.isnan(row["score"]) and row["missing_cur"] == 1.0 and row["missing_ref"] == 0.0
    assert report.tested == 1 and report.share == 1.0


def test_nan_and_inf_are_dropped_and_reported_as_missing_rates():
    ref_values = GOOD.copy()
    ref_values[:50] = np.nan
    cur_values = RNG.normal(0.2, 1, 500)
    cur_values[:25] = np.inf
    cur_values[25:50] = -np.inf
    cur_values[50:100] = np.nan
    row = _row(compare(pd.DataFrame({"x": ref_values}), pd.DataFrame({"x": cur_values})), "x")
    assert row["missing_ref"] == pytest.approx(0.1) and row["missing_cur"] == pytest.approx(0.2)
    expected = stats.ks_2samp(ref_values[50:], cur_values[100:]).pvalue
    assert row["test"] == "ks" and row["score"] == pytest.approx(expected, abs=1e-9)


def test_missing_categories_are_dropped_too():
    ref = pd.DataFrame({"c": ["a", "b", None, np.nan] * 100})
    cur = pd.DataFrame({"c": ["a", "b", "a", None] * 100})
    row = _row(compare(ref, cur), "c")
    assert row["missing_ref"] == 0.5 and row["missing_cur"] == 0.25 and row["test"] == "z"


@pytest.mark.parametrize("rows", [500, 3000])
def test_equal_constants_do_not_drift(rows):
    ref = pd.DataFrame({"k": np.full(rows, 7.0), "s": ["on"] * rows})
    cur = pd.DataFrame({"k": np.full(rows, 7.0), "s": ["on"] * rows})
    report = compare(ref, cur)
    for column in ("k", "s"):
        row = _row(report, column)
        assert not row["drifted"] and row["note"].startswith("constant, the same in both")
        assert row["psi"] == 0
    assert _row(report, "k")["score"] == (1.0 if rows <= 1000 else 0.0)


@pytest.mark.parametrize("rows", [500, 3000])
def test_different_constants_drift_and_say_so(rows):
    ref = pd.DataFrame({"k": np.full(rows, 1.0), "s": ["on"] * rows})
    cur = pd.DataFrame({"k": np.full(rows, 2.0), "s": ["off"] * rows})
    report = compare(ref, cur)
    for column in ("k", "s"):
        row = _row(report, column)
        assert row["drifted"] and "constant in each, but different" in row["note"]
    assert "1 in reference, 2 in current" in _row(report, "k")["note"]


def test_a_column_constant_on_one_side_is_named():
    ref = pd.DataFrame({"x": np.full(2000, 5.0)})
    cur = pd.DataFrame({"x": RNG.normal(5, 1, 2000)})
    row = _row(compare(ref, cur), "x")
    # the reference std is floored at 0.001, so any spread is a large distance
    assert row["note"] == "constant in reference (5)" and row["drifted"] and row["score"] > 100


def test_unseen_categories_are_named_in_the_note():
    ref = pd.DataFrame({"c": ["a", "b", "c"] * 400})
    cur = pd.DataFrame({"c": ["a", "b", "c"] * 380 + ["new1", "new2"] * 30})
    assert _row(compare(ref, cur), "c")["note"] == "not in reference: 'new1', 'new2'"
    many = pd.DataFrame({"c": ["a"] * 600 + [f"v{i}" for i in range(600)]})
    note = _row(compare(ref, many), "c")["note"]
    assert note.startswith("not in reference: 'v0', 'v1'") and note.endswith("and 595 more")


def test_too_few_rows_is_a_stated_answer():
    ref = pd.DataFrame({"x": GOOD, "few": np.r_[GOOD[: MIN_ROWS - 1], np.full(500 - MIN_ROWS + 1, np.nan)]})
    cur = pd.DataFrame({"x": GOOD, "few": GOOD})
    report = compare(ref, cur)
    row = _row(report, "few")
    assert row["note"] == f"too few rows ({MIN_ROWS - 1} values, a test needs at least {MIN_ROWS})"
    assert not row["drifted"] and np.isnan(row["score"]) and report.tested == 1
    tiny = compare(pd.DataFrame({"x": [1.0, 2.0]}), pd.DataFrame({"x": [3.0]}))
    assert tiny.tested == 0 and tiny.share == 0.0 and tiny.drifted is False


def test_schema_drift_names_missing_and_new_columns():
    ref = pd.DataFrame({"kept": GOOD, "gone": GOOD})
    cur = pd.DataFrame({"kept": GOOD, "added": ["a"] * 500})
    report = compare(ref, cur)
    assert report.missing_columns == ("gone",) and report.new_columns == ("added",)
    assert list(report.columns["column"]) == ["kept", "gone", "added"]
    assert _row(report, "gone")["note"] == "missing from current (schema drift)"
    assert _row(report, "added")["note"] == "new in current, not in reference (schema drift)"
    assert _row(report, "added")["type"] == "categorical" and report.tested == 1


@pytest.mark.parametrize("which", ["reference", "current"])
def test_a_frame_with_no_rows_is_a_clear_usage_error(which):
    full, empty = pd.DataFrame({"x": GOOD}), pd.DataFrame({"x": pd.Series([], dtype=float)})
    args = (empty, full) if which == "reference" else (full, empty)
    with pytest.raises(UsageError, match=f"The {which} data has no rows"):
        compare(*args)


def test_mixed_values_dates_and_numbers_stored_as_text():
    n = 400
    ref = pd.DataFrame({"mixed": [1, "a", None, 2.5] * (n // 4), "when": pd.date_range("2024-01-01", periods=n),
                        "num": RNG.normal(0, 1, n), "lists": [[1], [2]] * (n // 2)})
    cur = pd.DataFrame({"mixed": [1, "b", float("inf"), 2.5] * (n // 4), "when": pd.date_range("2025-01-01", periods=n),
                        "num": RNG.normal(0, 1, n).astype(str), "lists": [[1], [3]] * (n // 2)})
    report = compare(ref, cur)
    assert [c for c, _ in report.skipped] == ["when"] and "not compared" in report.skipped[0][1]
    mixed = _row(report, "mixed")
    assert mixed["missing_cur"] == 0.25 and mixed["missing_ref"] == 0.25 and mixed["note"] == "not in reference: 'b'"
    num = _row(report, "num")
    assert num["type"] == "categorical" and num["note"].startswith("types differ (reference float64, current str)")
    assert _row(report, "lists")["drifted"]


def test_progress_and_stop():
    seen = []
    report = compare(pd.DataFrame({"a": GOOD, "b": GOOD}), pd.DataFrame({"a": GOOD, "b": GOOD}),
                     progress=lambda f, m: seen.append(f))
    assert seen == [0.5, 1.0] and report is not None
    assert compare(pd.DataFrame({"a": GOOD}), pd.DataFrame({"a": GOOD}), should_stop=lambda: True) is None


# Hypothesis: random small frames of awkward columns always give a complete, JSON-able report.
_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
_cells = st.one_of(_floats, st.integers(-3, 3), st.sampled_from(["a", "b", "c", None]), st.booleans())


@st.composite
def _column(draw, rows):
    shape = draw(st.sampled_from(["floats", "constant", "ints", "text", "mixed", "bools", "nan"]))
    if shape == "floats":
        return draw(st.lists(_floats, min_size=rows, max_size=rows))
    if shape == "constant":
        return [draw(st.one_of(st.floats(-5, 5), st.sampled_from(["k", "q"])))] * rows
    if shape == "ints":
        return draw(st.lists(st.integers(-20, 20), min_size=rows, max_size=rows))
    if shape == "text":
        return draw(st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=rows, max_size=rows))
    if shape == "bools":
        return draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    if shape == "nan":
        return [np.nan] * rows
    return draw(st.lists(_cells, min_size=rows, max_size=rows))


@st.composite
def _frame(draw, names):
    rows = draw(st.integers(1, 80))
    return pd.DataFrame({name: draw(_column(rows)) for name in names})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_small_frames_never_crash(data):
    ref = data.draw(_frame(data.draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True))))
    cur = data.draw(_frame(data.draw(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=4, unique=True))))
    # repeat rows so some columns pass the minimum and are really tested
    if data.draw(st.booleans()):
        ref = pd.concat([ref] * (MIN_ROWS // len(ref) + 1), ignore_index=True)
        cur = pd.concat([cur] * (MIN_ROWS // len(cur) + 1), ignore_index=True)
    report = compare(ref, cur)
    frame = report.columns
    assert list(frame.columns) == list(FIELDS)
    assert set(frame["column"]) | {c for c, _ in report.skipped} == set(ref.columns) | set(cur.columns)
    json.dumps(report.to_dict(), allow_nan=False)
    assert 0.0 <= report.share <= 1.0
    tested = frame[frame["score"].notna()]
    assert tested["test"].notna().all() and (tested["missing_ref"] <= 1).all()

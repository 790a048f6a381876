"""Overlaid distributions for the Monitoring view, kept windows without computing, CSV batches."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from core.monitoring.logged_predictions import DAYS, SHIFTED, day, fill, log_day, register

from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring.distributions import MAX_CATEGORIES, overlay
from modeldesk.core.monitoring.overview import compare_csv, model_choices, trained_value, window_sample
from modeldesk.core.monitoring.windows import WINDOW_FIELDS, drift_windows
from support.data import breast_cancer


def test_numbers_share_bins_and_shares_sum_to_one():
    rng = np.random.default_rng(0)
    ref = pd.Series(rng.normal(0, 1, 2000))
    cur = pd.Series(np.r_[rng.normal(1, 1, 900), [np.nan] * 100])
    o = overlay("x", ref, cur)
    assert o.kind == "numerical" and len(o.edges) == len(o.reference) + 1 == len(o.current) + 1
    assert o.reference.sum() == pytest.approx(1) and o.current.sum() == pytest.approx(1)
    assert (o.reference_rows, o.current_rows) == (2000, 900) and o.missing_cur == pytest.approx(0.1)
    centres = (o.edges[:-1] + o.edges[1:]) / 2
    assert np.sum(centres * o.current) - np.sum(centres * o.reference) == pytest.approx(1, abs=0.15)   # the shift


def test_an_outlier_does_not_squash_the_bins():
    values = np.r_[np.linspace(0, 1, 999), [1e9]]
    o = overlay("x", pd.Series(values), pd.Series(values))
    assert o.edges[-1] < 10 and o.reference.sum() == pytest.approx(1)          # the outlier sits in the last bin


def test_categories_mark_the_ones_the_reference_never_had():
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    cur = pd.Series(["a"] * 40 + ["b"] * 40 + ["team"] * 20 + [None] * 5)
    o = overlay("plan", ref, cur)
    assert o.kind == "categorical"
    got = dict(zip(o.labels, zip(o.reference.tolist(), o.current.tolist(), o.unseen)))
    assert got["team"] == (0.0, 0.2, True) and got["a"][2] is False
    assert o.missing_cur == pytest.approx(5 / 105)


def test_many_categories_fold_into_other():
    ref = pd.Series([f"c{i}" for i in range(60)] * 3)
    o = overlay("c", ref, ref)
    assert len(o.labels) == MAX_CATEGORIES + 1 and o.labels[-1] == f"other ({60 - MAX_CATEGORIES})"
    assert o.other == 60 - MAX_CATEGORIES and o.reference.sum() == pytest.approx(1)


def test_a_numeric_column_the_report_calls_categorical_is_drawn_as_bars():
    o = overlay("n", pd.Series([1, 2, 3] * 20), pd.Series([1, 2, 4] * 20), kind="categorical")
    assert o.kind == "categorical" and o.unseen[o.labels.index("4")]


def test_nothing_to_draw():
    o = overlay("x", pd.Series([np.nan] * 3), pd.Series([np.nan] * 3), kind="numerical")
    assert o.empty and o.reference.sum() == 0


@pytest.fixture
def logged(md):
    uri = register(md)
    project = md.get_project()
    fill(project, uri)
    return md, project, uri


def test_cached_only_computes_nothing_and_says_what_waits(logged):
    _, project, uri = logged
    first = drift_windows(project, uri, every="1d", cached_only=True)
    assert first.empty and first.attrs == {"computed": 0, "reused": 0, "pending": DAYS}
    assert project.read("SELECT COUNT(*) FROM drift_windows")[0][0] == 0
    full = drift_windows(project, uri, every="1d")
    log_day(project, uri, DAYS, shifted=True)
    kept = drift_windows(project, uri, every="1d", cached_only=True)
    assert kept.attrs == {"computed": 0, "reused": DAYS, "pending": 1}
    assert list(kept.columns) == list(WINDOW_FIELDS)
    pd.testing.assert_frame_equal(kept, full)


def test_window_frames_carry_the_table_fields(logged):
    _, project, uri = logged
    frame = drift_windows(project, uri, every="1d")
    last = frame[frame["window_start"] == day(DAYS - 1)].set_index("column")
    assert (last["type"] == "numerical").all()
    assert last.loc[SHIFTED, "psi"].min() > 0.1 and (last["missing_ref"] == 0).all()


def test_window_sample_and_choices(logged):
    md, project, uri = logged
    sample = window_sample(project, uri, day(DAYS - 1), day(DAYS))
    assert len(sample.current) == 150 and list(sample.current.columns) == list(sample.reference.columns)
    assert "target" not in sample.reference.columns
    choices = model_choices(project)
    assert [c.name for c in choices] == ["cancer"] and choices[0].versions == (1,)


def test_compare_csv_and_its_errors(logged, tmp_path):
    _, project, uri = logged
    X, _ = breast_cancer()
    shifted = X.copy()
    shifted[SHIFTED] = shifted[SHIFTED] * 1.5
    path = tmp_path / "batch.csv"
    shifted.to_csv(path, index=False)
    got = compare_csv(project, uri, str(path))
    assert got.report.drifted and set(got.report.drifted_columns) <= set(SHIFTED)
    assert len(got.sample.current) == len(X)
    (tmp_path / "bad.csv").write_text("a\n1\n")
    with pytest.raises(UsageError, match="lacks 30"):
        compare_csv(project, uri, str(tmp_path / "bad.csv"))


def test_trained_value_is_the_runs_own_metric(logged):
    _, project, uri = logged
    assert 0.9 < trained_value(project, uri, "roc_auc") <= 1.0        # log_run logs roc_auc
    assert math.isnan(trained_value(project, uri, "accuracy"))        # never logged: no line, not a guess

"""Drift over the prediction log: md.drift_for, md.drift_windows, stored windows reused."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from core.monitoring.logged_predictions import DAYS, PER_DAY, SHIFTED, SHIFTED_DAYS, day, fill, log_day, register

from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring import drift as drift_mod
from modeldesk.core.monitoring.windows import WINDOW_FIELDS, drift_for, drift_windows, parse_every
from support.data import breast_cancer


@pytest.fixture
def logged(md):
    uri = register(md)
    project = md.get_project()
    rows = fill(project, uri)
    return md, project, uri, rows


def stored(project) -> int:
    return project.read("SELECT COUNT(*) FROM drift_windows")[0][0]


def by_window(frame):
    return frame.groupby("window_start").agg(rows=("rows", "first"), drifted=("dataset_drifted", "first"),
                                             share=("share", "first"))


def test_daily_windows_flag_the_shifted_days_only(logged):
    md, project, uri, rows = logged
    frame = md.drift_windows(uri, every="1d")
    assert list(frame.columns) == list(WINDOW_FIELDS)
    windows = by_window(frame)
    assert list(windows.index) == [day(d) for d in range(DAYS)]
    assert (windows["rows"] == PER_DAY).all() and windows["rows"].sum() == rows
    assert list(windows["drifted"]) == [False] * 7 + [True] * 3
    assert (windows["share"].iloc[:7] < 0.5).all() and (windows["share"].iloc[7:] >= 0.5).all()
    # the model's inputs only: the training dataset's target is left out
    X, _ = breast_cancer()
    assert set(frame["column"]) == set(X.columns) and "target" not in set(frame["column"])
    last = frame[frame["window_start"] == day(DAYS - 1)].set_index("column")
    assert last.loc[SHIFTED, "drifted"].mean() > 0.9
    first = frame[frame["window_start"] == day(0)]
    assert (first["window_end"] == day(1)).all()
    assert (first["test"] == "ks").all() and (first["threshold"] == 0.05).all()   # 569 reference rows: K-S
    assert frame.attrs == {"computed": DAYS, "reused": 0}
    assert stored(project) == DAYS


def test_reopening_computes_nothing(logged, monkeypatch):
    md, project, uri, _ = logged
    first = md.drift_windows(uri, every="1d")

    def fail(*args, **kwargs):
        raise AssertionError("a stored window was computed again")

    monkeypatch.setattr(drift_mod, "compare", fail)
    again = md.drift_windows(uri, every="1d")
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs == {"computed": 0, "reused": DAYS}
    assert stored(project) == DAYS


def test_a_new_day_adds_one_window(logged):
    md, project, uri, rows = logged
    md.drift_windows(uri, every="1d")
    log_day(project, uri, DAYS, shifted=True)
    frame = md.drift_windows(uri, every="1d")
    assert frame.attrs == {"computed": 1, "reused": DAYS}
    windows = by_window(frame)
    assert len(windows) == DAYS + 1 and bool(windows["drifted"].iloc[-1])
    assert stored(project) == DAYS + 1
    # a late prediction in an earlier (still open) window recomputes that window only
    log_day(project, uri, DAYS, shifted=True, n=5, seed=99)
    frame = md.drift_windows(uri, every="1d")
    assert frame.attrs == {"computed": 1, "reused": DAYS}
    assert by_window(frame)["rows"].iloc[-1] == PER_DAY + 5


def test_windows_of_n_predictions(logged, monkeypatch):
    md, project, uri, rows = logged
    frame = md.drift_windows(uri, every=400)
    windows = by_window(frame)
    assert len(windows) == math.ceil(rows / 400)
    assert list(windows["rows"]) == [400] * (rows // 400) + ([rows % 400] if rows % 400 else [])
    assert windows["rows"].sum() == rows
    assert not windows["drifted"].iloc[0] and windows["drifted"].iloc[-1]   # 1,500 rows: the last 450 shifted
    # a day's 150 rows are split across windows exactly: the first window ends in day 2
    assert windows.index[1] < day(3) and windows.index[1] >= day(2)
    assert frame.attrs["computed"] == len(windows)
    again = md.drift_windows(uri, every="400")
    assert again.attrs["computed"] == 0
    log_day(project, uri, DAYS, shifted=True)      # 150 more: the partial last window grows, one more starts
    grown_frame = md.drift_windows(uri, every=400)
    grown = by_window(grown_frame)
    assert grown["rows"].sum() == rows + PER_DAY and len(grown) == len(windows) + 1
    assert grown_frame.attrs == {"computed": 2, "reused": len(windows) - 1}   # the grown last one and a new one
    assert stored(project) == len(grown)      # the grown window replaced its stored partial self
    # each option set has its own stored windows
    assert md.drift_windows(uri, every="1d").attrs["computed"] == DAYS + 1


def test_windows_with_too_few_rows_get_the_engines_answer(logged):
    md, project, uri, _ = logged
    frame = drift_windows(project, uri, every=10, since=day(0), until=day(1))
    windows = by_window(frame)
    assert len(windows) == PER_DAY // 10 and (windows["rows"] == 10).all()
    assert frame["score"].isna().all() and not frame["drifted"].any() and not frame["dataset_drifted"].any()
    assert frame["note"].str.startswith("too few rows").all()


def test_since_and_until_clip_the_windows(logged):
    md, project, uri, _ = logged
    frame = drift_windows(project, uri, every="1w", since=day(1), until="2026-01-09T12:00:00")
    windows = by_window(frame)
    # 2026-01-05 is a Monday: weeks start on Mondays, clipped to since and until
    assert list(windows.index) == [day(1), day(4)]
    assert list(frame.groupby("window_start")["window_end"].first()) == [day(4), day(8) + pd.Timedelta(hours=12)]


def test_drift_for_a_period(logged):
    md, project, uri, _ = logged
    early = md.drift_for(uri, until=day(5))
    late = md.drift_for(uri, since=day(DAYS - SHIFTED_DAYS))
    assert not early.drifted and late.drifted
    assert early.current_rows == 5 * PER_DAY and late.reference_rows == len(breast_cancer()[0])
    assert "target" not in set(late.columns["column"])
    assert set(late.drifted_columns) >= set(SHIFTED[:15])


def test_drift_for_a_csv_batch(logged, tmp_path):
    md, project, uri, _ = logged
    X, _ = breast_cancer()
    path = tmp_path / "batch.csv"
    X.assign(extra=1).to_csv(path, index=False)
    report = drift_for(project, uri, current=str(path))
    assert not report.drifted and "extra" not in set(report.columns["column"])
    X.drop(columns=["mean radius"]).to_csv(path, index=False)
    with pytest.raises(UsageError, match="lacks 1 of the model's 30 input columns: 'mean radius'"):
        drift_for(project, uri, current=str(path))


@pytest.mark.parametrize("every", ["1x", "0d", 0, -3, "", "day", 1.5, True])
def test_bad_every(every):
    with pytest.raises(UsageError, match="every="):
        parse_every(every)


def test_every_forms():
    assert parse_every("1h").seconds == 3600 and parse_every("6h").seconds == 6 * 3600
    assert parse_every("1w").seconds == 7 * 86400 and parse_every("1w").origin == 4 * 86400
    assert parse_every(500).count == 500 and parse_every("500").count == 500


def test_clear_errors(logged):
    md, project, uri, _ = logged
    with pytest.raises(UsageError, match="is not a time"):
        md.drift_windows(uri, since="yesterday-ish")
    with pytest.raises(UsageError, match="must be before until"):
        md.drift_for(uri, since=day(3), until=day(2))
    with pytest.raises(UsageError, match="nope"):
        md.drift_for("models:/nope@production")
    with pytest.raises(UsageError, match="No predictions of models:/cancer/1 were logged"):
        md.drift_for(uri, since=day(DAYS + 5))
    assert md.drift_windows(uri, since=day(DAYS + 5)).empty


def test_a_version_without_a_training_dataset(md):
    uri = register(md, name="bare", dataset=False)
    with pytest.raises(UsageError, match=r"logged no training dataset; log one with md.log_dataset\(df, "
                                         r"role='training'\)"):
        md.drift_windows(uri)


def test_an_alias_follows_its_version(logged):
    md, project, uri, _ = logged
    md.drift_windows(uri, every="1d")
    from modeldesk.core.registry.aliases import set_alias

    set_alias(project, "cancer", "staging", 1, actor="tester", reason="test")
    assert md.drift_windows("models:/cancer@staging", every="1d").attrs == {"computed": 0, "reused": DAYS}
    # version 2 answered nothing yet: version 1's predictions are not its own
    register(md)   # the same name: version 2, another run
    assert md.drift_windows("models:/cancer/2", every="1d").empty
    set_alias(project, "cancer", "staging", 2, actor="tester", reason="test")
    with pytest.raises(UsageError, match="No predictions of models:/cancer@staging"):
        md.drift_for("cancer@staging")

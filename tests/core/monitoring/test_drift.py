"""md.drift: the report's shape, injected shifts found, options and project settings."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring.drift import FIELDS, compare
from modeldesk.core.monitoring.overrides import (
    SETTING_KEY,
    merge_options,
    parse_options,
    project_options,
)

N = 10_000


def _frames(n: int = N, seed: int = 0):
    """A reference and a current frame; the current has known shifts in the columns named ``shift_*``."""
    rng = np.random.default_rng(seed)

    def base(r):
        return {
            "age": r.normal(40, 10, n), "income": r.lognormal(10, 0.5, n), "score": r.uniform(0, 1, n),
            "visits": r.poisson(20, n), "plan": r.choice(["basic", "plus", "pro"], n, p=[0.6, 0.3, 0.1]),
            "region": r.choice(list("NESW"), n), "flag": r.integers(0, 2, n), "stars": r.integers(1, 6, n),
        }

    ref = pd.DataFrame({**base(rng), "shift_mean": rng.normal(0, 1, n), "shift_scale": rng.normal(0, 1, n),
                        "shift_plan": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
                        "shift_flag": rng.integers(0, 2, n), "shift_new": rng.choice(["x", "y"], n)})
    cur = pd.DataFrame({**base(rng), "shift_mean": rng.normal(0.4, 1, n), "shift_scale": rng.normal(0, 1.8, n),
                        "shift_plan": rng.choice(["a", "b", "c"], n, p=[0.2, 0.3, 0.5]),
                        "shift_flag": (rng.random(n) < 0.85).astype(int),
                        "shift_new": rng.choice(["x", "y", "z"], n, p=[0.35, 0.35, 0.3])})
    return ref, cur


def test_every_injected_shift_is_flagged_and_nothing_else():
    ref, cur = _frames()
    report = compare(ref, cur)
    cols = report.columns.set_index("column")
    flagged = set(cols.index[cols["drifted"]])
    assert flagged == {c for c in ref.columns if c.startswith("shift_")}
    assert cols.loc["shift_mean", "test"] == "wasserstein" and cols.loc["shift_plan", "test"] == "jensenshannon"
    assert cols.loc["visits", "type"] == "numerical" and cols.loc["stars", "type"] == "categorical"
    assert report.share == pytest.approx(5 / 13) and report.drifted is False


def test_small_frames_use_p_value_tests_and_find_the_same_shifts():
    ref, cur = _frames(n=1000, seed=1)
    cols = compare(ref, cur).columns.set_index("column")
    assert set(cols["test"]) == {"ks", "chisquare", "z"}
    assert cols.loc["age", "test"] == "ks" and cols.loc["flag", "test"] == "z"
    assert cols.loc["plan", "test"] == "chisquare" and cols.loc["stars", "test"] == "chisquare"
    assert set(cols.index[cols["drifted"]]) >= {"shift_mean", "shift_scale", "shift_plan", "shift_flag", "shift_new"}


def test_report_columns_are_exactly_the_contract():
    ref, cur = _frames(n=500)
    frame = compare(ref, cur).columns
    assert list(frame.columns) == ["column", "type", "test", "score", "threshold", "drifted", "psi",
                                   "missing_ref", "missing_cur", "note"]
    assert list(frame.columns) == list(FIELDS)
    assert frame["drifted"].dtype == bool
    assert set(frame["type"]) == {"numerical", "categorical"}
    assert frame["psi"].notna().all() and (frame["threshold"] > 0).all()


def test_to_dict_is_json_and_the_report_is_frozen(md):
    ref, cur = _frames(n=300)
    cur["age"] = np.nan   # NaN scores become null
    report = md.drift(ref, cur)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["share"] == report.share and data["drifted"] == report.drifted
    assert [c["column"] for c in data["columns"]] == list(ref.columns)
    age = next(c for c in data["columns"] if c["column"] == "age")
    assert age["score"] is None and age["missing_cur"] == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.share = 0.0


def test_share_rule_is_at_least_half_of_the_tested_columns():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({k: rng.normal(0, 1, 2000) for k in "abcd"})
    cur = pd.DataFrame({"a": rng.normal(2, 1, 2000), "b": rng.normal(2, 1, 2000),
                        "c": rng.normal(0, 1, 2000), "d": rng.normal(0, 1, 2000)})
    report = compare(ref, cur)
    assert report.share == 0.5 and report.drifted is True
    assert compare(ref, cur, options={"share": 0.75}).drifted is False


def test_options_override_test_and_threshold_per_column_and_per_type():
    ref, cur = _frames(n=3000, seed=2)
    options = {"columns": {"age": {"test": "psi", "threshold": 0.2}, "shift_mean": {"threshold": 0.9}},
               "categorical": {"test": "chisquare"}, "numerical": {"threshold": 0.01}}
    cols = compare(ref, cur, options=options).columns.set_index("column")
    assert (cols.loc["age", "test"], cols.loc["age", "threshold"]) == ("psi", 0.2)
    assert cols.loc["age", "score"] == cols.loc["age", "psi"]
    assert (cols.loc["shift_mean", "test"], cols.loc["shift_mean", "threshold"]) == ("wasserstein", 0.9)
    assert not cols.loc["shift_mean", "drifted"]
    assert (cols.loc["plan", "test"], cols.loc["plan", "threshold"]) == ("chisquare", 0.05)
    assert cols.loc["income", "threshold"] == 0.01


def test_a_type_threshold_does_not_carry_over_to_a_column_test():
    opts = parse_options({"columns": {"a": {"test": "psi"}}, "numerical": {"threshold": 0.01}})
    assert opts.choice("a", "numerical") == ("psi", None)
    assert opts.choice("b", "numerical") == (None, 0.01)


@pytest.mark.parametrize("options, words", [
    ({"colums": {}}, "Unknown drift option 'colums'"),
    ({"columns": {"a": {"test": "kolmogorov"}}}, "Unknown drift test 'kolmogorov'"),
    ({"numerical": {"threshold": -1}}, "above 0"),
    ({"columns": {"a": {"test": "psi", "treshold": 1}}}, "treshold"),
    ({"share": 2}, "share"),
    ("ks", "mapping"),
])
def test_bad_options_are_usage_errors(options, words):
    with pytest.raises(UsageError, match=words):
        parse_options(options)


def test_a_numbers_only_test_on_categories_is_refused():
    ref, cur = _frames(n=200)
    with pytest.raises(UsageError, match="needs numbers"):
        compare(ref, cur, options={"columns": {"plan": {"test": "ks"}}})


def test_categorical_argument_compares_numbers_as_categories():
    ref, cur = _frames(n=2000)
    cols = compare(ref, cur, categorical=["visits"]).columns.set_index("column")
    assert cols.loc["visits", "type"] == "categorical" and cols.loc["visits", "test"] == "jensenshannon"
    with pytest.raises(UsageError, match="neither frame"):
        compare(ref, cur, categorical=["nope"])


def test_project_setting_options_are_read_and_merged(md):
    project = md.get_project()
    assert project_options(project) == {}
    with project.write() as w:
        w.execute("INSERT INTO project_settings (key, value) VALUES (?, ?)",
                  (SETTING_KEY, json.dumps({"columns": {"age": {"test": "psi", "threshold": 0.3}},
                                            "numerical": {"threshold": 0.2}})))
    assert project_options(project)["columns"]["age"]["test"] == "psi"
    ref, cur = _frames(n=2000)
    cols = md.drift(ref, cur, options={"columns": {"age": {"threshold": 0.4}}}).columns.set_index("column")
    assert (cols.loc["age", "test"], cols.loc["age", "threshold"]) == ("psi", 0.4)
    assert cols.loc["income", "threshold"] == 0.2


def test_a_broken_project_setting_is_a_usage_error(project):
    with project.write() as w:
        w.execute("INSERT INTO project_settings (key, value) VALUES (?, ?)", (SETTING_KEY, "{not json"))
    with pytest.raises(UsageError, match="not valid JSON"):
        project_options(project)


def test_merge_options_is_per_column_and_per_type():
    base = {"columns": {"a": {"test": "psi", "threshold": 0.3}, "b": {"test": "z"}}, "numerical": {"threshold": 0.2}}
    top = {"columns": {"a": {"threshold": 0.5}}, "numerical": {"test": "psi"}, "share": 0.6}
    assert merge_options(base, top) == {
        "columns": {"a": {"test": "psi", "threshold": 0.5}, "b": {"test": "z"}},
        "numerical": {"threshold": 0.2, "test": "psi"}, "share": 0.6}

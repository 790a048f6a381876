"""Run comparison logic: differing rows, same data / same packages, smoothing, chart data."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest

from modeldesk.core.tracking import compare as cmp
from modeldesk.core.tracking import history
from modeldesk.core.tracking.run_entities import DatasetRecord, Run


def run(name, params=None, metrics=None, start=1000.0):
    return Run(id=f"{name}-id".ljust(32, "0"), name=name, experiment="e", status="FINISHED", user="u",
               start_time=start, end_time=start + 10, parent_id=None, params=params or {},
               metrics=metrics or {}, tags={})


def dataset(fp, name="train", role="training"):
    return DatasetRecord(fp, name, role, "y", 100, 3, {"per_column": []}, "s", 100)


def env(python="3.11.7", packages=None, commit="a" * 40, dirty=False):
    return {"python": python, "platform": "Linux", "packages": packages or {"numpy": "2.0", "pandas": "3.0"},
            "git": {"commit": commit, "dirty": dirty, "branch": "main"}}


# -- rows ----------------------------------------------------------------------
def test_param_rows_mark_differences_and_missing_values():
    runs = [run("a", {"lr": "0.1", "depth": "8", "seed": "1"}), run("b", {"lr": "0.2", "depth": "8"})]
    rows = {r.key: r for r in cmp.param_rows(runs)}
    assert rows["lr"].differs and rows["lr"].values == ("0.1", "0.2")
    assert not rows["depth"].differs
    assert rows["seed"].differs and rows["seed"].values == ("1", None)


def test_metric_rows_compare_floats_not_text():
    runs = [run("a", metrics={"auc": 0.1234567, "loss": 0.5, "x": math.nan}),
            run("b", metrics={"auc": 0.1234568, "loss": 0.5, "x": math.nan})]
    rows = {r.key: r for r in cmp.metric_rows(runs)}
    assert rows["auc"].differs            # same 6-digit text, different numbers
    assert not rows["loss"].differs
    assert not rows["x"].differs          # NaN and NaN are "the same"
    assert rows["loss"].values == ("0.5", "0.5")


def test_environment_rows_show_python_git_and_only_differing_packages():
    envs = [env(packages={"numpy": "2.0", "pandas": "3.0", "scipy": "1.17"}),
            env(python="3.12.1", packages={"numpy": "2.1", "pandas": "3.0"}, commit="b" * 40, dirty=True)]
    rows = {r.key: r for r in cmp.environment_rows(envs)}
    assert rows["Python"].differs and rows["Python"].values == ("3.11.7", "3.12.1")
    assert rows["Git commit"].differs and rows["Git dirty"].values == ("no", "yes")
    assert not rows["Git branch"].differs
    assert rows["package numpy"].values == ("2.0", "2.1")
    assert rows["package scipy"].values == ("1.17", None)
    assert "package pandas" not in rows        # same version: not listed
    assert cmp.same_packages(envs) is False
    assert cmp.same_packages([env(), env()]) is True
    assert cmp.same_packages([env(), None]) is None
    assert cmp.environment_rows([None, None]) == []


def test_dataset_rows_and_same_data():
    same = [[dataset("f1"), dataset("t1", "test", "evaluation")], [dataset("t1", "test", "evaluation"), dataset("f1")]]
    assert cmp.same_data(same) is True
    assert not any(r.differs for r in cmp.dataset_rows(same))
    other = [[dataset("f1")], [dataset("f2")]]
    rows = cmp.dataset_rows(other)
    assert [(r.key, r.values, r.differs) for r in rows] == [("train (training)", ("f1", "f2"), True)]
    assert cmp.same_data(other) is False
    assert cmp.same_data([[], [dataset("f1")]]) is False
    assert cmp.same_data([[], []]) is None


def test_visible_rows_only_differences_and_csv():
    runs = [run("a", {"lr": "0.1", "depth": "8"}, {"auc": 0.9}), run("b", {"lr": "0.2", "depth": "8"}, {"auc": 0.8})]
    comp = cmp.build_comparison(runs, [env(), env()], [[dataset("f1")], [dataset("f1")]])
    keys_all = [r.key for r in comp.visible_rows(False)]
    keys_diff = [r.key for r in comp.visible_rows(True)]
    assert "depth" in keys_all and "depth" not in keys_diff
    assert keys_diff == ["lr", "auc"]
    assert comp.same_data is True and comp.same_packages is True
    assert comp.differing_param_keys == ["lr"]
    rows = list(csv.reader(io.StringIO(cmp.comparison_csv(comp, only_differences=True))))
    assert rows[0] == ["section", "key", f"a ({runs[0].id[:8]})", f"b ({runs[1].id[:8]})", "differs"]
    assert rows[1] == ["Params", "lr", "0.1", "0.2", "yes"]
    assert rows[2] == ["Metrics", "auc", "0.9", "0.8", "yes"]
    assert rows[-2][:3] == ["Summary", "Same data", "yes"] and rows[-1][:3] == ["Summary", "Same packages", "yes"]
    assert all(len(r) == 5 for r in rows)


def test_load_comparison_through_the_public_api(md):
    md.set_experiment("e")
    frame = pd.DataFrame({"a": [1, 2, 3], "y": [0, 1, 0]})
    ids = []
    for name, lr, data in (("a", 0.1, frame), ("b", 0.2, frame.assign(a=[1, 2, 4]))):
        with md.start_run(name=name) as r:
            md.log_params({"lr": lr, "depth": 8})
            md.log_metric("loss", lr, step=0)
            md.log_dataset(data, name="train", role="training", target="y")
        ids.append(r.id)
    md.flush()
    comp = cmp.load_comparison(md.get_project(), ids)
    assert [r.name for r in comp.runs] == ["a", "b"]
    assert comp.same_data is False and comp.same_packages is True
    assert [r.key for r in comp.visible_rows(True) if r.section == cmp.PARAMS] == ["lr"]
    loaded = history.load_history(md.get_project(), ids[0], "loss", comp.runs[0].start_time)
    assert len(loaded) == 1 and loaded.values[0] == pytest.approx(0.1)


# -- smoothing -----------------------------------------------------------------
def test_ema_matches_the_recurrence():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    w = 0.8
    expected = np.empty_like(x)
    expected[0] = x[0]
    for i in range(1, len(x)):
        expected[i] = w * expected[i - 1] + (1 - w) * x[i]
    np.testing.assert_allclose(history.ema(x, w), expected, rtol=1e-12)


def test_ema_edges():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(history.ema(x, 0.0), x)
    assert history.ema([], 0.5).size == 0
    np.testing.assert_allclose(history.ema([5.0] * 10, 0.99), [5.0] * 10)   # constant stays constant
    with pytest.raises(ValueError):
        history.ema(x, 1.0)


def test_ema_skips_non_finite_points():
    y = history.ema([1.0, np.nan, 3.0, np.inf, 5.0], 0.5)
    assert np.isnan(y[1]) and np.isinf(y[3])
    np.testing.assert_allclose(y[[0, 2, 4]], history.ema([1.0, 3.0, 5.0], 0.5))


def test_history_x_modes():
    h = history.History(np.array([0.0, 1.0, 2.0]), np.array([3.0, 2.0, 1.0]), np.array([105.0, 106.0, 108.0]), 100.0)
    np.testing.assert_array_equal(h.x("step"), [0, 1, 2])
    np.testing.assert_array_equal(h.x("relative"), [5, 6, 8])
    np.testing.assert_array_equal(h.x("wall"), [105, 106, 108])
    with pytest.raises(ValueError):
        h.x("minutes")


def test_history_x_at_matches_x_for_indices_and_slices():
    h = history.History(np.arange(5.0), np.arange(5.0), 100.0 + 2 * np.arange(5.0), 90.0)
    for mode in ("step", "relative", "wall"):
        np.testing.assert_array_equal(h.x_at(mode, np.array([0, 3])), h.x(mode)[[0, 3]])
        np.testing.assert_array_equal(h.x_at(mode, slice(1, 4)), h.x(mode)[1:4])
    assert history.History(np.arange(2.0), np.zeros(2), np.array([7.0, 8.0])).origin == 7.0   # no start: first point


# -- previews of long histories ----------------------------------------------------------
def test_peak_indices_keep_each_buckets_extremes_and_the_ends():
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], dtype=float)
    np.testing.assert_array_equal(history.peak_indices(y, 2), [0, 1, 5, 6, 7, 10])
    np.testing.assert_array_equal(history.peak_indices(y, 6), np.arange(11))        # short: every point
    assert history.peak_indices([], 4).size == 0
    with pytest.raises(ValueError):
        history.peak_indices(y, 0)


def test_peak_indices_of_a_long_noisy_curve_draw_the_same_envelope():
    rng = np.random.default_rng(3)
    y = np.cumsum(rng.normal(size=1_000_003))
    idx = history.peak_indices(y, 2000)
    assert idx.size <= 2 * 2000 + 2 and np.all(np.diff(idx) > 0)
    assert idx[0] == 0 and idx[-1] == y.size - 1
    assert y[idx].min() == y.min() and y[idx].max() == y.max()
    # every stretch of the curve keeps its own extremes: the envelope per 1,000 points is exact
    size = -(-y.size // 2000)
    for start in range(0, y.size - size, 97 * size):
        inside = idx[(idx >= start) & (idx < start + size)]
        assert y[inside].max() == y[start:start + size].max() and y[inside].min() == y[start:start + size].min()


def test_peak_indices_keep_gaps_and_skip_non_finite_extremes():
    y = np.sin(np.arange(10_000) / 300.0)
    y[5000:5400] = np.nan
    y[7000] = np.inf
    idx = history.peak_indices(y, 100)
    assert np.isnan(y[idx]).any()                           # the gap stays a gap
    assert np.nanmax(np.where(np.isfinite(y[idx]), y[idx], np.nan)) == pytest.approx(np.nanmax(y[np.isfinite(y)]))
    assert idx.size <= 3 * 100 + 3


def test_history_with_preview_only_when_long():
    n = 50_000
    h = history.History(np.arange(n, dtype=float), np.sin(np.arange(n) / 50.0), 1000.0 + np.arange(n) / 10, 1000.0)
    assert h.with_preview(30_000).preview is None
    p = h.with_preview(1000)
    assert p.preview is not None and len(p.preview) <= 2002 and len(p) == n
    np.testing.assert_array_equal(p.x_at("relative", p.preview), h.x("relative")[p.preview])


def test_load_history_with_preview_and_history_lengths(md):
    with md.start_run(name="long") as r:
        md.log_metric("acc", 0.5)
        for step in range(5000):
            md.log_metric("loss", 1.0 / (step + 1), step=step)
    md.flush()
    project = md.get_project()
    assert history.history_lengths(project, r.id) == {"acc": 1, "loss": 5000}
    loaded = history.load_history(project, r.id, "loss", None, preview_buckets=500)
    assert len(loaded) == 5000 and loaded.preview is not None and len(loaded.preview) <= 1002
    assert history.load_history(project, r.id, "acc", None, preview_buckets=500).preview is None


# -- scatter and parallel coordinates --------------------------------------------------
def test_numeric_params_and_scatter_data():
    runs = [run("a", {"lr": "0.1", "kernel": "rbf"}, {"auc": 0.9}),
            run("b", {"lr": "0.01", "kernel": "linear"}, {"auc": 0.8}),
            run("c", {"kernel": "rbf"}, {"auc": 0.7})]
    assert cmp.numeric_param_keys(runs) == ["lr"]
    data = cmp.scatter_data(runs, "params.lr", "metrics.auc")
    assert data.run_names == ("a", "b") and data.missing == ("c",)
    np.testing.assert_array_equal(data.x, [0.1, 0.01])
    with pytest.raises(ValueError):
        cmp.run_value(runs[0], "lr")


def test_scatter_data_on_a_text_param_places_runs_at_their_category():
    runs = [run("a", {"lr": "0.1", "kernel": "rbf"}, {"auc": 0.9}),
            run("b", {"lr": "0.01", "kernel": "linear"}, {"auc": 0.8}),
            run("c", {"lr": "0.001"}, {"auc": 0.7}),
            run("d", {"kernel": "rbf"}, {"auc": 0.6}),
            run("e", {"kernel": "poly"}, {})]
    assert cmp.categorical_param_keys(runs) == ["kernel"]
    assert cmp.numeric_param_keys(runs) == ["lr"]
    data = cmp.scatter_data(runs, "params.kernel", "metrics.auc")
    # sorted values, then the runs without the param; a category of a run without y still has its place
    assert data.categorical and data.categories == ("linear", "poly", "rbf", cmp.NOT_LOGGED)
    assert data.run_names == ("a", "b", "c", "d") and data.missing == ("e",)
    assert data.x_text == ("rbf", "linear", cmp.NOT_LOGGED, "rbf")
    offsets = data.x - np.array([2, 0, 3, 2])
    assert np.all(np.abs(offsets) < cmp.JITTER)
    np.testing.assert_allclose(offsets, [cmp.jitter(r.id) for r in runs[:4]], atol=1e-12)
    assert offsets[0] != offsets[3]                                   # equal values do not overlap
    np.testing.assert_array_equal(cmp.scatter_data(runs, "params.kernel", "metrics.auc").x, data.x)  # fixed
    np.testing.assert_array_equal(data.y, [0.9, 0.8, 0.7, 0.6])
    numeric = cmp.scatter_data(runs, "params.lr", "metrics.auc")
    assert not numeric.categorical and numeric.x_text == ()
    np.testing.assert_array_equal(numeric.x, [0.1, 0.01, 0.001])


def test_jitter_is_deterministic_and_within_a_quarter():
    values = [cmp.jitter(f"run-{i}") for i in range(2000)]
    assert values == [cmp.jitter(f"run-{i}") for i in range(2000)]
    assert max(abs(v) for v in values) < 0.25 and len(set(values)) == 2000
    assert min(values) < -0.2 and max(values) > 0.2                   # uses the whole width


def test_parallel_data_normalises_numbers_logs_and_categories():
    runs = [run("a", {"lr": "0.0001", "depth": "2", "kernel": "rbf"}, {"auc": 0.5}),
            run("b", {"lr": "0.1", "depth": "6", "kernel": "linear"}, {"auc": 1.0}),
            run("c", {"lr": "0.01", "depth": "4"}, {"auc": 0.75})]
    data = cmp.parallel_data(runs, ["lr", "depth", "kernel"], "auc")
    kinds = [a.kind for a in data.axes]
    assert kinds == ["log", "linear", "categorical", "linear"]
    assert data.axes[2].categories == ("linear", "rbf")
    assert data.positions.shape == (3, 4)
    np.testing.assert_allclose(data.positions[:, 0], [0.0, 1.0, 2 / 3])        # log10 scale
    np.testing.assert_allclose(data.positions[:, 1], [0.0, 1.0, 0.5])
    assert data.positions[0, 2] == 1.0 and data.positions[1, 2] == 0.0 and np.isnan(data.positions[2, 2])
    np.testing.assert_allclose(data.positions[:, 3], [0.0, 1.0, 0.5])
    assert data.colour_range == (0.5, 1.0)
    assert (data.axes[1].lo, data.axes[1].hi) == (2.0, 6.0)
    same = cmp.parallel_data(runs[:1], ["depth"], None)
    assert same.positions[0, 0] == 0.5


def test_coverage_and_preferred_metric():
    runs = [run("a", {"lr": "0.1", "C": "1"}, {"val_loss": 0.3, "roc_auc": 0.9, "accuracy": 0.8}),
            run("b", {"lr": "0.2"}, {"roc_auc": 0.8, "accuracy": 0.7}),
            run("c", {"lr": "0.3"}, {"roc_auc": 0.7, "accuracy": 0.9})]
    assert cmp.coverage(runs, "params.lr") == 3 and cmp.coverage(runs, "params.C") == 1
    assert cmp.coverage(runs, "metrics.val_loss") == 1
    assert cmp.by_coverage(runs, ["C", "lr"], "params") == ["lr", "C"]
    assert cmp.preferred_metric(runs, widest=False) == "val_loss"   # curves: a loss first
    assert cmp.preferred_metric(runs) == "roc_auc"                  # one point per run: what all runs have
    assert cmp.preferred_metric([]) is None

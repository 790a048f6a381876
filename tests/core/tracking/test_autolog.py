"""md.sklearn.autolog(): what a scikit-learn fit logs, and what it must not break."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_diabetes
from sklearn.ensemble import BaggingClassifier, GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import modeldesk as md
from modeldesk.core.tracking.artifacts import list_datasets
from support.data import breast_cancer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def cancer():
    return breast_cancer()


@pytest.fixture(scope="module")
def scaled(cancer):
    """The breast cancer data standardised, so that plain LogisticRegression converges fast."""
    X, y = cancer
    return (X - X.mean()) / X.std(), y


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture
def caught(tmp_path):
    """A fresh project with autolog on; yields the list of warnings recorded."""
    md.set_project(tmp_path / "p.mdesk")
    with warnings.catch_warnings(record=True) as recorded:
        warnings.filterwarnings("always", message="ModelDesk autolog")
        md.sklearn.autolog()
        try:
            yield recorded
        finally:
            md.sklearn.autolog(disable=True)
            while md.active_run() is not None:
                md.end_run()


@pytest.fixture
def project(caught):
    """Autolog on, and no autolog warning allowed."""
    yield
    assert not autolog_messages(caught)


def autolog_messages(recorded):
    return [str(w.message) for w in recorded if str(w.message).startswith("ModelDesk autolog: ")]


def runs():
    return md.search_runs().sort_values("start_time", kind="stable").reset_index(drop=True)


def scaled_lr(**kw):
    return Pipeline([("scaler", StandardScaler()), ("lr", LogisticRegression(**kw))])


def test_plain_fit_logs_one_finished_run(project, scaled):
    X, y = scaled
    model = LogisticRegression(max_iter=300).fit(X, y)
    assert md.active_run() is None
    frame = runs()
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row.status == "FINISHED"
    assert re.fullmatch(r"LogisticRegression-[0-9a-f]{4}", row.run_name)
    assert row["params.C"] == "1.0" and row["params.max_iter"] == "300"
    assert row["params.class_weight"] == "None"
    assert row["tags.estimator_name"] == "LogisticRegression"
    assert row["tags.estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert row["metrics.training_score"] == pytest.approx(model.score(X, y))
    assert row["metrics.training_accuracy"] == pytest.approx(model.score(X, y))
    assert 0.9 < row["metrics.training_f1"] <= 1 and 0.9 < row["metrics.training_roc_auc"] <= 1

    loaded = md.load_model(f"runs:/{row.run_id}/model")
    assert type(loaded) is LogisticRegression
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))

    (dataset,) = list_datasets(md.get_project(), row.run_id)
    assert (dataset.name, dataset.role, dataset.target) == ("train", "training", "target")
    assert (dataset.rows, dataset.columns) == (len(X), X.shape[1] + 1)


def test_regressor_logs_regression_metrics(project, diabetes):
    X, y = diabetes
    model = Ridge(alpha=0.5).fit(X.to_numpy(), y.to_numpy())
    row = runs().iloc[0]
    pred = model.predict(X.to_numpy())
    assert row["metrics.training_score"] == pytest.approx(model.score(X.to_numpy(), y.to_numpy()))
    assert row["metrics.training_r2"] == pytest.approx(row["metrics.training_score"])
    assert row["metrics.training_mae"] == pytest.approx(np.mean(np.abs(y - pred)))
    assert row["metrics.training_rmse"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)))
    assert "metrics.training_accuracy" not in row.index
    (dataset,) = list_datasets(md.get_project(), row.run_id)
    assert dataset.target == "target" and dataset.columns == X.shape[1] + 1


def test_pipeline_logs_exactly_one_run(project, cancer):
    X, y = cancer
    pipe = scaled_lr(C=0.5).fit(X, y)
    frame = runs()
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row.run_name.startswith("Pipeline-") and row.status == "FINISHED"
    assert row["params.lr__C"] == "0.5" and row["params.scaler__with_mean"] == "True"
    assert row["params.lr"] == "LogisticRegression(C=0.5)"
    assert row["tags.estimator_name"] == "Pipeline"
    loaded = md.load_model(f"runs:/{row.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))


def test_ensembles_log_once(project, scaled):
    X, y = scaled
    RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    BaggingClassifier(LogisticRegression(max_iter=300), n_estimators=3, random_state=0).fit(X, y)
    assert sorted(runs().run_name.str.rsplit("-", n=1).str[0]) == ["BaggingClassifier", "RandomForestClassifier"]


def _check_search(search, frame, n_children):
    parents = frame[frame.parent_run_id.isna()]
    assert len(parents) == 1
    parent = parents.iloc[0]
    children = frame[frame.parent_run_id.notna()]
    assert len(children) == n_children
    assert (children.parent_run_id == parent.run_id).all()
    assert (frame.status == "FINISHED").all()
    assert parent.run_name.startswith(type(search).__name__ + "-")
    assert parent["metrics.best_cv_score"] == pytest.approx(search.best_score_)
    for key, value in search.best_params_.items():
        assert parent[f"params.best_{key}"] == str(value)
    assert parent["params.cv"] == "3"
    results = search.cv_results_
    for _, child in children.iterrows():
        i = int(child.run_name.rsplit("-", 1)[1])
        assert child.run_name == f"{parent.run_name}-candidate-{i}"
        for key, value in results["params"][i].items():
            assert child[f"params.{key}"] == str(value)
        for key in ("mean_test_score", "std_test_score", "rank_test_score", "mean_fit_time",
                    "split0_test_score", "split2_test_score"):
            assert child[f"metrics.{key}"] == pytest.approx(results[key][i]), key
    return parent, children


def test_grid_search_logs_parent_and_one_child_per_candidate(project, cancer):
    X, y = cancer
    grid = {"lr__C": [0.1, 1.0], "lr__fit_intercept": [True, False]}
    search = GridSearchCV(scaled_lr(), grid, cv=3).fit(X, y)
    parent, children = _check_search(search, runs(), 4)
    assert sorted(children.run_name) == [f"{parent.run_name}-candidate-{i}" for i in range(4)]
    assert md.active_run() is None
    best = md.load_model(f"runs:/{parent.run_id}/model")
    assert type(best) is Pipeline
    np.testing.assert_array_equal(best.predict(X), search.predict(X))


def test_randomized_search_and_max_tuning_runs(project, cancer):
    X, y = cancer
    space = {"lr__C": loguniform(1e-2, 1e1)}
    search = RandomizedSearchCV(scaled_lr(), space, n_iter=3, cv=3, random_state=0).fit(X, y)
    _check_search(search, runs(), 3)

    md.sklearn.autolog(max_tuning_runs=2)
    search = RandomizedSearchCV(scaled_lr(), space, n_iter=3, cv=3, random_state=1).fit(X, y)
    frame = runs()
    parent_id = frame.run_id[frame.run_name.str.startswith("RandomizedSearchCV") & frame.parent_run_id.isna()].iloc[-1]
    children = frame[frame.parent_run_id == parent_id]
    best_two = sorted(np.argsort(search.cv_results_["rank_test_score"], kind="stable")[:2])
    assert sorted(int(n.rsplit("-", 1)[1]) for n in children.run_name) == best_two


def test_learning_curves_are_logged_per_step(project, cancer):
    X, y = cancer
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X.to_numpy(), y.to_numpy())
    gb = GradientBoostingClassifier(n_estimators=7, max_depth=2, random_state=0).fit(X, y)
    frame = runs()
    history = md.get_metric_history(frame.run_id[0], "loss")
    assert len(history) == len(mlp.loss_curve_) == 20
    assert history.step.tolist() == list(range(20))
    np.testing.assert_allclose(history.value, mlp.loss_curve_)
    history = md.get_metric_history(frame.run_id[1], "train_loss")
    np.testing.assert_allclose(history.value, gb.train_score_)
    assert history.step.tolist() == list(range(7))


def test_failing_fit_marks_run_failed_and_reraises(project, cancer):
    X, y = cancer
    X = X.copy()
    X.iloc[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(X, y)
    assert md.active_run() is None
    frame = runs()
    assert len(frame) == 1 and frame.status[0] == "FAILED"


def test_fit_inside_active_run_logs_into_it(project, scaled):
    X, y = scaled
    with md.start_run(name="outer") as run:
        LogisticRegression(max_iter=300).fit(X, y)
        assert md.active_run() is run
    frame = runs()
    assert frame.run_name.tolist() == ["outer"]
    row = frame.iloc[0]
    assert row.status == "FINISHED" and row["params.max_iter"] == "300"
    assert row["metrics.training_score"] > 0.9
    assert type(md.load_model(f"runs:/{run.id}/model")) is LogisticRegression


def test_search_inside_active_run_nests_candidates_under_it(project, cancer):
    X, y = cancer
    with md.start_run(name="tuning") as run:
        GridSearchCV(scaled_lr(), {"lr__C": [0.1, 1.0]}, cv=3).fit(X, y)
    frame = runs()
    children = frame[frame.parent_run_id.notna()]
    assert len(frame) == 3 and (children.parent_run_id == run.id).all()
    assert sorted(children.run_name) == ["tuning-candidate-0", "tuning-candidate-1"]


def test_disable_restores_the_original_fit(caught, scaled):
    from sklearn.ensemble._forest import BaseForest

    md.sklearn.autolog(disable=True)
    original = LogisticRegression.fit
    md.sklearn.autolog()
    patched = LogisticRegression.fit
    assert patched is not original and patched.__wrapped__ is original
    assert "fit" in RandomForestClassifier.__dict__
    md.sklearn.autolog()  # enabling twice does not wrap twice
    assert LogisticRegression.fit is patched
    md.sklearn.autolog(disable=True)
    assert LogisticRegression.fit is original
    assert "fit" not in RandomForestClassifier.__dict__ and RandomForestClassifier.fit is BaseForest.fit
    LogisticRegression(max_iter=300).fit(*scaled)
    assert runs().empty


def test_logging_failure_warns_and_never_breaks_training(caught, scaled, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(md, "log_model", broken)
    X, y = scaled
    model = LogisticRegression(max_iter=300).fit(X, y)
    assert model.score(X, y) > 0.9
    frame = runs()
    assert frame.status.tolist() == ["FINISHED"] and frame["metrics.training_score"][0] > 0.9
    assert any("logging the model failed: RuntimeError: disk on fire" in m for m in autolog_messages(caught))

    md.sklearn.autolog(silent=True)
    before = len(autolog_messages(caught))
    LogisticRegression(max_iter=300).fit(X, y)
    assert len(autolog_messages(caught)) == before

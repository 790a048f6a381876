"""modeldesk.core.tracking.signature: inferring and using a model's input/output signature."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from modeldesk.core.errors import UsageError
from modeldesk.core.tracking.signature import example_frame, infer_signature, numpy_input
from support.data import breast_cancer

APP = str(Path(__file__).resolve().parents[3] / "app")


@pytest.fixture(scope="module")
def cancer():
    return breast_cancer()


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def cancer_model(cancer):
    X, y = cancer
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)


def predict_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        return model.predict(X)


def test_dataframe_example_on_real_classifier(cancer, cancer_model):
    X, _ = cancer
    sig = infer_signature(cancer_model, X.head(5))
    json.dumps(sig, allow_nan=False)
    assert [f["name"] for f in sig["inputs"]] == list(X.columns)
    assert {f["type"] for f in sig["inputs"]} == {"double"}
    assert not any(f["nullable"] for f in sig["inputs"])
    assert sig["input_kind"] == "dataframe"
    assert sig["outputs"] == {"type": "long", "shape": [-1]}
    assert sig["classes"] == [0, 1] and all(type(c) is int for c in sig["classes"])
    assert sig["has_proba"] is True and sig["predict_error"] is None


def test_numpy_example_takes_names_from_the_model(cancer, cancer_model):
    X, _ = cancer
    sig = infer_signature(cancer_model, X.head(3).to_numpy())
    assert [f["name"] for f in sig["inputs"]] == list(X.columns)
    assert sig["input_kind"] == "dataframe" and sig["predict_error"] is None
    frame = example_frame(sig, X.head(3).to_numpy())
    assert list(frame.columns) == list(X.columns)
    predict_quietly(cancer_model, numpy_input(sig, frame))


def test_numpy_model_and_example(wine):
    X, y = wine
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X.to_numpy(), y.to_numpy())
    example = X.head(4).to_numpy()
    sig = infer_signature(model, example)
    assert [f["name"] for f in sig["inputs"]] == [f"f{i}" for i in range(13)]
    assert sig["input_kind"] == "ndarray" and sig["classes"] == [0, 1, 2]
    frame = example_frame(sig, example)
    arr = numpy_input(sig, frame)
    assert isinstance(arr, np.ndarray) and arr.shape == (4, 13)
    np.testing.assert_array_equal(predict_quietly(model, arr), model.predict(example))


def test_dataframe_example_for_a_model_fit_without_names(wine):
    X, y = wine
    model = LinearRegression().fit(X.to_numpy(), y.to_numpy().astype(float))
    sig = infer_signature(model, X.head(3))
    assert sig["input_kind"] == "ndarray"  # the model says it was fit on an array
    assert sig["outputs"]["type"] == "double" and sig["classes"] is None
    assert sig["has_proba"] is False
    predict_quietly(model, numpy_input(sig, X.head(3)))


def test_named_example_is_narrowed_to_the_models_features(wine):
    X, y = wine
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    example = X.head(3)[list(reversed(X.columns))].assign(extra=1)
    sig = infer_signature(model, example)
    assert [f["name"] for f in sig["inputs"]] == list(X.columns)
    assert sig["predict_error"] is None


def test_records_and_columns_examples(wine):
    X, y = wine
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    records = X.head(2).to_dict(orient="records")
    columns = X.head(2).to_dict(orient="list")
    for example in (records, columns):
        sig = infer_signature(model, example)
        assert [f["name"] for f in sig["inputs"]] == list(X.columns)
        assert sig["predict_error"] is None and sig["input_kind"] == "dataframe"


def test_string_classes_are_plain_json(wine):
    X, y = wine
    labels = np.array(["barolo", "grignolino", "barbera"])[y.to_numpy()]
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, labels)
    sig = infer_signature(model, X.head(2))
    assert sig["classes"] == ["barbera", "barolo", "grignolino"]
    assert all(type(c) is str for c in sig["classes"])
    assert sig["outputs"]["type"] == "string"
    json.dumps(sig)


def test_nullable_from_missing_values(cancer):
    X, y = cancer
    model = HistGradientBoostingClassifier(max_iter=10).fit(X, y)
    example = X.head(4).copy()
    example.iloc[1, 2] = np.nan
    sig = infer_signature(model, example)
    nullable = [f["name"] for f in sig["inputs"] if f["nullable"]]
    assert nullable == [X.columns[2]] and sig["predict_error"] is None


def test_without_predict_proba(wine):
    X, y = wine
    sig = infer_signature(SVC().fit(X, y), X.head(3))
    assert sig["has_proba"] is False and sig["classes"] == [0, 1, 2]


class Recorder:
    """A minimal model: predicts a constant; never fitted by sklearn."""

    def __init__(self, fail: bool = False):
        self.fail = fail

    def predict(self, X):
        if self.fail:
            raise ValueError("could not convert string to float: 'abc'")
        return np.zeros((len(X), 2))

    def predict_proba(self, X):
        raise RuntimeError("no probabilities today")


def test_types_of_every_dtype_and_predict_errors():
    example = pd.DataFrame({
        "n": [1, 2], "x": [0.5, None], "flag": [True, False], "name": ["a", None],
        "obj": pd.Series(["p", "q"], dtype=object), "when": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        "grade": pd.Categorical(["lo", "hi"], categories=["lo", "hi"]),
    })
    sig = infer_signature(Recorder(), example)
    assert [(f["name"], f["type"], f["nullable"]) for f in sig["inputs"]] == [
        ("n", "long", False), ("x", "double", True), ("flag", "boolean", False),
        ("name", "string", True), ("obj", "string", False), ("when", "datetime", False),
        ("grade", "category", False)]
    assert sig["inputs"][-1]["categories"] == ["lo", "hi"]
    assert sig["outputs"] == {"type": "double", "shape": [-1, 2]}
    assert sig["has_proba"] is False and sig["classes"] is None

    failed = infer_signature(Recorder(fail=True), example)
    assert failed["outputs"] is None and "could not convert" in failed["predict_error"]
    assert failed["inputs"] == sig["inputs"]
    json.dumps(failed, allow_nan=False)


def test_numpy_input_reports_missing_columns(cancer, cancer_model):
    X, _ = cancer
    sig = infer_signature(cancer_model, X.head(2))
    with pytest.raises(UsageError, match="mean radius"):
        numpy_input(sig, X.drop(columns=["mean radius"]).head(2))
    with pytest.raises(UsageError):
        example_frame(sig, np.zeros((2, 3)))
    reordered = X.head(2)[list(reversed(X.columns))]
    assert list(numpy_input(sig, reordered).columns) == list(X.columns)


def test_bad_example_is_a_usage_error(cancer_model):
    with pytest.raises(UsageError):
        infer_signature(cancer_model, "not a table")


def test_core_modules_do_not_import_sklearn():
    code = ("import sys; import modeldesk.core.tracking.datasets, modeldesk.core.tracking.environment, "
            "modeldesk.core.tracking.signature; print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": APP}, check=True)
    assert out.stdout.strip() == "False"

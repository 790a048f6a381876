"""What a served model accepts: nulls where its training data had them, not only where its example did."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modeldesk.core.serving.payloads import ValidationError
from modeldesk.core.serving.served_model import load_served
from modeldesk.core.serving.validation import validate_payload
from support.data import breast_cancer


@pytest.fixture
def imputing_model(md):
    """Trained on data where column ``a`` has gaps; its input example happens to have none."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    frame.loc[::7, "a"] = np.nan
    target = (frame["b"] > 0).astype(int)
    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(frame, target)
    example = frame.dropna().head(5)
    with md.start_run(name="imputer") as run:
        md.log_dataset(frame.assign(y=target), name="train", role="training", target="y")
        md.log_model(model, input_example=example)
    md.flush()
    return md.get_project(), f"runs:/{run.id}/model"


def body(a, b) -> bytes:
    return json.dumps({"records": [{"a": a, "b": b}]}).encode()


def test_a_column_with_gaps_in_training_accepts_nulls(imputing_model):
    project, uri = imputing_model
    from modeldesk.core.tracking.artifacts import get_logged_model

    logged = get_logged_model(project, uri.split("/")[1])
    assert not any(f["nullable"] for f in logged.signature["inputs"])    # the example had no gaps
    served = load_served(project, uri)
    assert {f["name"]: f["nullable"] for f in served.signature["inputs"]} == {"a": True, "b": False}
    batch = validate_payload(body(None, 0.3), "application/json", served.signature)
    assert len(batch.frame) == 1 and np.isnan(batch.frame["a"].iloc[0])
    assert served.model.predict(batch.frame).shape == (1,)                # the imputer fills it
    with pytest.raises(ValidationError) as err:                           # b never had a gap: refused
        validate_payload(body(0.1, None), "application/json", served.signature)
    assert "'b'" in str(err.value) and "none in training" in str(err.value)


def test_without_a_training_dataset_the_example_decides(md):
    X, y = breast_cancer()
    with md.start_run() as run:
        md.log_model(LogisticRegression(max_iter=3000).fit(X, y), input_example=X.iloc[:5])
    md.flush()
    served = load_served(md.get_project(), f"runs:/{run.id}/model")
    assert not any(f["nullable"] for f in served.signature["inputs"])

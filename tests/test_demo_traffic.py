"""modeldesk.demo_traffic: a week of served predictions with a drifted period and labels."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from modeldesk.core.serving.prediction_log import get_predictions
from modeldesk.demo_traffic import DRIFT, add_served_traffic, default_model_uri
from support.registry import log_run


@pytest.fixture
def cancer_uri(md):
    md.set_experiment("breast-cancer")
    return f"runs:/{log_run(md, roc_auc=0.99)}/model"


def test_a_week_of_traffic_with_drift_and_labels(md, project_path, cancer_uri):
    now = time.time()
    summary = add_served_traffic(project_path, cancer_uri, requests=2000, now=now)
    df = get_predictions(md.get_project(), cancer_uri)
    assert len(df) >= 2000 and df["request_id"].nunique() == 2000
    assert f"{len(df):,} served predictions over 7 days" in summary
    span = (df["time"].max() - df["time"].min()).total_seconds() / 86400
    assert 6 < span <= 7
    recent = df["time"] >= df["time"].max() - pd.Timedelta(days=2)
    col = next(iter(DRIFT))
    assert df.loc[recent, col].mean() > 1.15 * df.loc[~recent, col].mean()
    labeled = df.dropna(subset=["label"])
    assert 0.3 < len(labeled) / len(df) < 0.7
    accuracy = (labeled["prediction"] == labeled["label"])
    assert accuracy[~recent.loc[labeled.index]].mean() > accuracy[recent.loc[labeled.index]].mean()


def test_default_model_is_the_best_cancer_run(md, cancer_uri):
    assert default_model_uri(md.get_project()) == cancer_uri

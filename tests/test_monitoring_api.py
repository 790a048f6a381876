"""The fluent API's monitoring calls (app/modeldesk/_monitoring_api.py), re-exported as md.*:
md.serving_health and md.prediction_drift over the prediction log, and the calls that moved there."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from core.monitoring.logged_predictions import DAY0, DAYS, PER_DAY, day, fill, log_failures, log_requests, register

from modeldesk import _monitoring_api
from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring.drift import DriftReport
from modeldesk.core.monitoring.serving_health import FIELDS
from modeldesk.core.monitoring.serving_health import serving_health as core_serving_health

MONITORING = ["drift", "drift_for", "drift_windows", "performance", "serving_health", "prediction_drift"]


def test_the_monitoring_calls_are_md_names():
    import modeldesk as md

    for name in MONITORING:
        assert getattr(md, name) is getattr(_monitoring_api, name), name
        assert name in md.__all__ and name in dir(md)
        assert getattr(md, name).__doc__
    from modeldesk import prediction_drift, serving_health
    assert (serving_health, prediction_drift) == (md.serving_health, md.prediction_drift)
    with pytest.raises(AttributeError, match="no attribute 'serving_healt'"):
        getattr(md, "serving_healt")


def test_import_modeldesk_loads_none_of_them_until_used(tmp_path):
    code = ("import sys, modeldesk as md\n"
            "assert 'modeldesk._monitoring_api' not in sys.modules and 'pandas' not in sys.modules\n"
            "from modeldesk import *\n"
            "assert serving_health is md.serving_health and callable(prediction_drift)\n"
            "import pandas as pd\n"
            "report = md.drift(pd.DataFrame({'a': range(200)}), pd.DataFrame({'a': range(200)}))\n"
            "assert report.drifted is False\n"
            "import os; assert not os.path.exists('modeldesk.mdesk'), 'md.drift opened a project'\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


# -- md.serving_health ---------------------------------------------------------------------------------
@pytest.fixture
def served(md):
    uri = register(md)
    project = md.get_project()
    log_requests(project, uri, 0, np.arange(1, 51), rows=2)
    log_failures(project, uri, 0, 50)
    log_requests(project, uri, 1, [3.0] * 4, hour=23)
    return md, uri


def test_serving_health_is_the_core_frame(served):
    md, uri = served
    frame = md.serving_health(uri)
    assert list(frame.columns) == list(FIELDS)
    pd.testing.assert_frame_equal(frame, core_serving_health(md.get_project(), uri, every="1d"))
    assert frame["requests"].tolist() == [50, 4] and frame["rows"].tolist() == [100, 4]
    assert frame["failed"].tolist() == [50, 0] and frame["error_rate"].tolist() == [0.5, 0.0]
    assert frame["window_start"].tolist() == [day(0), day(1)]


def test_serving_health_windows_and_period(served):
    md, uri = served
    hours = md.serving_health(uri, every="1h", since=DAY0, until=day(1) + pd.Timedelta(hours=23, minutes=30))
    assert hours["window_start"].tolist() == [day(0) + pd.Timedelta(hours=h) for h in (1, 2)] + \
        [day(1) + pd.Timedelta(hours=23)]
    assert hours["window_end"].iloc[-1] == day(1) + pd.Timedelta(hours=23, minutes=30)   # cut at until
    assert md.serving_health(uri, every="1w")["requests"].tolist() == [54]
    assert md.serving_health(uri, since=day(5)).empty


@pytest.mark.parametrize("kw, says", [
    ({"every": 500}, "needs a time window"),
    ({"every": "500"}, "needs a time window"),
    ({"every": "fortnight"}, "is not a window"),
    ({"since": "yesterday-ish"}, "is not a time"),
    ({"since": "2026-01-03", "until": "2026-01-02"}, "must be before until"),
])
def test_serving_health_refuses_bad_arguments(served, kw, says):
    md, uri = served
    with pytest.raises(UsageError, match=says):
        md.serving_health(uri, **kw)


def test_serving_health_of_an_unknown_model_is_refused(md):
    with pytest.raises(UsageError, match="nobody"):
        md.serving_health("models:/nobody/1")


# -- md.prediction_drift -------------------------------------------------------------------------------
@pytest.fixture
def logged(md):
    uri = register(md)
    fill(md.get_project(), uri)
    return md, uri


def test_prediction_drift_when_outputs_shift_and_not_before(logged):
    md, uri = logged
    calm = md.prediction_drift(uri, until=day(5))
    assert isinstance(calm, DriftReport) and type(calm) is type(md.drift_for(uri, until=day(5)))
    assert calm.drifted is False and calm.current_rows == 5 * PER_DAY
    assert calm.columns["column"].tolist() == ["prediction"]          # no probabilities were logged
    shifted = md.prediction_drift(uri, since=day(DAYS - 3))
    assert shifted.drifted is True and list(shifted.drifted_columns) == ["prediction"]
    assert shifted.current_rows == 3 * PER_DAY
    assert shifted.columns.set_index("column").loc["prediction", "type"] == "categorical"


def test_prediction_drift_refuses_what_it_cannot_compare(logged):
    md, uri = logged
    with pytest.raises(UsageError, match="nothing to compare"):
        md.prediction_drift(uri, since=day(DAYS + 5))
    with pytest.raises(UsageError, match="must be before until"):
        md.prediction_drift(uri, since=day(3), until=day(2))
    with pytest.raises(UsageError, match="nope"):
        md.prediction_drift("models:/nope/1")
    bare = register(md, "bare", dataset=False)
    with pytest.raises(UsageError, match="no reference data"):
        md.prediction_drift(bare)

"""Serving health per window: volume, failed requests, error rate, p50/p99 latency of one model version."""

from __future__ import annotations

import math

import numpy as np
import pytest
from core.monitoring.logged_predictions import DAY0, log_failures, log_requests, register

from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring.serving_health import FIELDS, serving_health
from modeldesk.core.storage.project import open_project


@pytest.fixture
def uri(md, project_path):
    return register(md)


def test_volume_errors_and_latency_per_day(uri, project_path):
    with open_project(project_path) as project:
        log_requests(project, uri, 0, np.arange(1, 101), rows=3)       # 100 requests, latency 1..100 ms
        log_failures(project, uri, 0, 25)
        log_requests(project, uri, 2, [5.0] * 10)
        log_failures(project, uri, 3, 4)                                # a day with only failures
        frame = serving_health(project, uri, every="1d")
    assert list(frame.columns) == list(FIELDS)
    assert frame["window_start"].dt.day.tolist() == [1, 3, 4]   # empty days are left out
    first = frame.iloc[0]
    assert (first["requests"], first["rows"], first["failed"]) == (100, 300, 25)
    assert first["error_rate"] == pytest.approx(25 / 125)
    assert first["p50_ms"] == pytest.approx(np.percentile(np.arange(1, 101), 50))
    assert first["p99_ms"] == pytest.approx(np.percentile(np.arange(1, 101), 99))
    assert frame.iloc[1]["error_rate"] == 0.0 and frame.iloc[1]["p99_ms"] == 5.0
    last = frame.iloc[2]
    assert (last["requests"], last["failed"], last["error_rate"]) == (0, 4, 1.0)
    assert math.isnan(last["p50_ms"])                            # no answered request: no latency, not 0


def test_hours_and_period(uri, project_path):
    with open_project(project_path) as project:
        log_requests(project, uri, 0, [1.0] * 5, hour=1)
        log_requests(project, uri, 0, [9.0] * 5, hour=5)
        log_failures(project, uri, 0, 2, hour=5)
        frame = serving_health(project, uri, every="1h", since=DAY0 + 4 * 3600, until=DAY0 + 86400)
    assert frame["window_start"].dt.hour.tolist() == [5]
    assert frame.iloc[0][["requests", "failed"]].tolist() == [5, 2]


def test_only_this_version_counts(md, uri, project_path):
    """Another model's traffic and failures never land in this one's health."""
    other = register(md, "other")
    with open_project(project_path) as project:
        log_requests(project, other, 0, [1.0] * 7)
        log_failures(project, other, 0, 3)
        log_requests(project, uri, 0, [1.0] * 2)
        frame = serving_health(project, uri, every="1d")
    assert frame.iloc[0][["requests", "failed"]].tolist() == [2, 0]


def test_no_traffic_is_an_empty_frame(uri, project_path):
    with open_project(project_path) as project:
        frame = serving_health(project, uri, every="1d")
    assert frame.empty and list(frame.columns) == list(FIELDS)


def test_count_windows_and_unknown_models_are_refused(uri, project_path):
    with open_project(project_path) as project:
        with pytest.raises(UsageError, match="time window"):
            serving_health(project, uri, every=500)
        with pytest.raises(UsageError):
            serving_health(project, "models:/nobody/1", every="1d")


def test_stop_returns_none(uri, project_path):
    with open_project(project_path) as project:
        log_requests(project, uri, 0, [1.0] * 3)
        assert serving_health(project, uri, every="1d", should_stop=lambda: True) is None

"""Monitors: definitions, checks that fire and do not, alerts, audit entries."""

from __future__ import annotations

import pytest
from core.monitoring.logged_predictions import SHIFTED
from core.monitoring.monitored import CALM, END, monitored_project

from modeldesk.core import audit
from modeldesk.core.errors import NotFoundError, UsageError
from modeldesk.core.monitoring import alerts, checks
from modeldesk.core.monitoring import monitors as mon


@pytest.fixture
def watched(md):
    return monitored_project(md)


def set_drift(project, name="drift", **kw):
    return mon.set_monitor(project, name, "cancer", thresholds=mon.make_thresholds(drift_share=0.5), **kw)


def test_set_stores_defaults_owner_and_normalised_alias(watched):
    project, _ = watched
    m = mon.set_monitor(project, "m1", "cancer", alias="Production",
                        thresholds=mon.make_thresholds(drift_share="0.4", columns="mean radius, worst area"),
                        actor="ana")
    assert (m.alias, m.window, m.owner) == ("production", "1d", "ana")
    assert m.thresholds.drift_share == 0.4 and m.thresholds.columns == ("mean radius", "worst area")
    assert [x.name for x in mon.list_monitors(project)] == ["m1"]
    entry = audit.list_entries(project, action="monitor.set")[-1]
    assert entry.actor == "ana" and entry.details["monitor"] == "m1" and entry.details["alias"] == "production"
    # setting it again replaces it, with the new owner
    m2 = mon.set_monitor(project, "m1", "cancer", window="6h", thresholds=mon.make_thresholds(p99_ms=5), actor="ben")
    assert (m2.window, m2.owner, m2.thresholds.drift_share) == ("6h", "ben", None)
    assert mon.remove_monitor(project, "m1", actor="ben").name == "m1"
    assert mon.list_monitors(project) == []
    assert audit.list_entries(project, action="monitor.remove")[-1].details["monitor"] == "m1"


@pytest.mark.parametrize("kwargs, words", [
    ({"thresholds": mon.Thresholds()}, "nothing to watch"),
    ({"window": "yesterday", "thresholds": mon.Thresholds(p99_ms=1.0)}, "not a period"),
    ({"alias": "3", "thresholds": mon.Thresholds(p99_ms=1.0)}, "Bad alias"),
    ({"retrain_every": "7d", "thresholds": mon.Thresholds(p99_ms=1.0)}, "needs the command"),
    ({"thresholds": mon.Thresholds(columns=("no such column",))}, "no input column"),
])
def test_bad_definitions_say_what_to_do(watched, kwargs, words):
    project, _ = watched
    with pytest.raises(UsageError, match=words):
        mon.set_monitor(project, "bad", "cancer", **kwargs)
    assert mon.list_monitors(project) == []


def test_bad_thresholds_and_unknown_model(watched):
    project, _ = watched
    with pytest.raises(UsageError, match="between 0 and 1"):
        mon.make_thresholds(drift_share=1.5)
    with pytest.raises(UsageError, match="needs --min"):
        mon.make_thresholds(metric="accuracy")
    with pytest.raises(UsageError, match="Unknown metric"):
        mon.make_thresholds(metric="precision", metric_min=0.5)
    with pytest.raises(UsageError, match="need --metric"):
        mon.make_thresholds(metric_min=0.5)
    with pytest.raises(NotFoundError):
        mon.set_monitor(project, "x", "nope", thresholds=mon.Thresholds(p99_ms=1.0))
    with pytest.raises(NotFoundError, match="No monitor named"):
        mon.remove_monitor(project, "x")


def test_a_monitor_fires_on_the_drifted_day_and_records_an_alert(watched):
    project, _ = watched
    set_drift(project, actor="ana")
    mon.set_monitor(project, "cols", "cancer", thresholds=mon.make_thresholds(columns=SHIFTED[:2]))
    results = {r.monitor: r for r in checks.check(project, now=END)}
    r = results["drift"]
    assert r.state == "firing" and r.version == 1 and r.rows == 150
    fig = r.figures[0]
    assert fig["kind"] == "drift_share" and fig["crossed"] and fig["value"] >= 0.5 and fig["threshold"] == 0.5
    assert r.new_alert and r.alert_id is not None
    assert results["cols"].state == "firing" and set(results["cols"].figures[0]["value"]) == set(SHIFTED[:2])
    alert = alerts.get_alert(project, r.alert_id)
    assert alert.monitor == "drift" and alert.version == 1 and alert.figures[0]["crossed"]
    entries = [e for e in audit.list_entries(project, action="monitor.alert") if e.details["monitor"] == "drift"]
    assert len(entries) == 1 and entries[0].actor == "ana"
    assert entries[0].details["crossed"][0]["kind"] == "drift_share"
    m = mon.get_monitor(project, "drift")
    assert m.last_state == "firing" and m.last_check == END and "drift share" in m.last_summary


def test_a_monitor_does_not_fire_on_calm_days(watched):
    project, _ = watched
    set_drift(project)
    (r,) = checks.check(project, now=CALM)
    assert r.state == "ok" and not r.firing and r.alert_id is None and r.rows == 150
    assert not r.figures[0]["crossed"] and r.figures[0]["value"] < 0.5
    assert alerts.list_alerts(project) == []
    assert audit.list_entries(project, action="monitor.alert") == []
    assert mon.get_monitor(project, "drift").last_state == "ok"


def test_a_firing_monitor_seen_again_updates_its_open_alert(watched):
    project, _ = watched
    set_drift(project)
    first = checks.check(project, now=END)[0]
    again = checks.check(project, now=END - 60)[0]
    assert again.firing and again.alert_id == first.alert_id and not again.new_alert
    assert alerts.get_alert(project, first.alert_id).checks == 2
    assert len(audit.list_entries(project, action="monitor.alert")) == 1
    acked = alerts.acknowledge(project, first.alert_id, actor="ben")
    assert acked.acknowledged_by == "ben" and not acked.open
    with pytest.raises(UsageError, match="already acknowledged"):
        alerts.acknowledge(project, first.alert_id, actor="ben")
    third = checks.check(project, now=END)[0]
    assert third.new_alert and third.alert_id != first.alert_id
    assert len(audit.list_entries(project, action="monitor.alert")) == 2
    assert [a.id for a in alerts.list_alerts(project, open_only=True)] == [third.alert_id]


def test_p99_error_rate_and_metric_figures(watched):
    project, _ = watched
    mon.set_monitor(project, "health", "cancer", thresholds=mon.make_thresholds(
        p99_ms=0.5, error_rate=0.01, metric="accuracy", metric_min=0.9))
    (r,) = checks.check(project, now=CALM)
    figs = {f["kind"]: f for f in r.figures}
    assert figs["p99_ms"]["value"] == 1.0 and figs["p99_ms"]["crossed"]       # every logged request took 1 ms
    assert figs["error_rate"]["note"] == checks.NO_ERRORS_LOGGED and not figs["error_rate"]["crossed"]
    assert figs["metric_min"]["value"] is None and "no labels" in figs["metric_min"]["note"]
    assert r.state == "firing"


def test_p99_is_numpys_percentile_of_request_latencies():
    import numpy as np

    values = np.arange(1, 201, dtype=float)
    assert checks.p99(values) == pytest.approx(np.percentile(values, 99)) == pytest.approx(198.01)
    assert np.isnan(checks.p99(np.array([])))


def test_metric_min_and_drop_against_the_training_value(watched, md):
    project, uri = watched
    import json

    from modeldesk.core.registry.versions import get_version
    from modeldesk.core.serving.prediction_log import set_labels

    mon.set_monitor(project, "acc", "cancer", thresholds=mon.make_thresholds(metric="accuracy", max_drop=0.1,
                                                                             metric_min=0.9))
    (r,) = checks.check(project, now=CALM)
    assert r.state == "ok" and all(f["note"].startswith("not available") for f in r.figures)
    assert "no labels" in r.figures[0]["note"]
    # labels that disagree with every prediction of day 4: accuracy 0 there
    rows = project.read("SELECT request_id, outputs FROM prediction_requests WHERE time >= ? AND time < ?",
                        (CALM - 86400, CALM))
    set_labels(project, [(rid, 0, 1 - json.loads(out)[0]) for rid, out in rows])
    (r,) = checks.check(project, now=CALM)
    figs = {f["kind"]: f for f in r.figures}
    assert figs["metric_min"]["value"] == 0.0 and figs["metric_min"]["crossed"]
    assert figs["max_drop"]["value"] is None and "logged no accuracy" in figs["max_drop"]["note"]
    with md.start_run(run_id=get_version(project, "cancer", 1).run_id):
        md.log_metric("accuracy", 0.97)
    md.flush()
    (r,) = checks.check(project, now=CALM)
    figs = {f["kind"]: f for f in r.figures}
    assert figs["max_drop"]["value"] == pytest.approx(0.97) and figs["max_drop"]["crossed"]
    assert r.state == "firing" and "accuracy drop 0.97 > 0.1" in r.summary


def test_an_alias_that_points_nowhere_is_an_error_state(watched):
    project, _ = watched
    mon.set_monitor(project, "stage", "cancer", alias="staging", thresholds=mon.make_thresholds(drift_share=0.5))
    (r,) = checks.check(project, now=END)
    assert r.state == "error" and "points at no version" in r.summary
    assert mon.get_monitor(project, "stage").last_state == "error"


def test_no_traffic_in_the_window_is_not_a_firing(watched):
    project, _ = watched
    set_drift(project)
    (r,) = checks.check(project, now=END + 30 * 86400)
    assert r.state == "ok" and r.rows == 0 and "no predictions" in r.figures[0]["note"]

"""The demo's monitor: it fires on the drifted last days, and its retrain lands a candidate for review."""

from __future__ import annotations

import pytest

import modeldesk as md
from modeldesk.core import audit
from modeldesk.core.errors import UsageError
from modeldesk.core.monitoring import checks, monitors, retrain
from modeldesk.core.registry import approvals
from modeldesk.core.registry.versions import alias_version
from modeldesk.demo import build_demo
from modeldesk.demo_monitor import MONITOR, script_path


@pytest.fixture
def demo(tmp_path):
    path = tmp_path / "demo.mdesk"
    build_demo(path, user="tester", quick=True)
    return path, md.get_project()


def test_the_demo_monitor_fires_and_its_retrain_opens_a_pending_request(demo):
    path, project = demo
    m = monitors.get_monitor(project, MONITOR)
    assert (m.model, m.alias, m.window, m.owner) == ("cancer-classifier", "production", "1d", "ana")
    assert script_path(path).exists() and script_path(path).name in m.retrain_command
    production = alias_version(project, "cancer-classifier", "production")
    (result,) = checks.check(project, wait=True)
    assert result.firing and result.figures[0]["kind"] == "drift_share" and result.figures[0]["crossed"]
    r = retrain.get_retrain(project, result.retrain["id"])
    assert r.status == "done", r.output
    assert "labeled served predictions" in r.output
    req = approvals.get_request(project, r.request_id)
    assert req.status == "pending" and req.requested_by == "ana" and req.version == r.version
    assert req.gates and all(g.passed for g in req.gates)
    assert alias_version(project, "cancer-classifier", "production") == production     # retraining never promotes
    assert [e.action for e in audit.list_entries(project, action="retrain")] == ["retrain.start", "retrain.done"]


def test_the_demo_never_overwrites_a_script(tmp_path):
    script_path(tmp_path / "demo.mdesk").write_text("mine")
    with pytest.raises(UsageError, match="already exists"):
        build_demo(tmp_path / "demo.mdesk", quick=True)
    assert script_path(tmp_path / "demo.mdesk").read_text() == "mine"
    assert not (tmp_path / "demo.mdesk").exists()

"""The Monitors panel (monitors, their state, alerts, Check Now, Add, Remove, Acknowledge) and the
background checks with their tray notifications."""

from __future__ import annotations

import pytest
from core.monitoring.monitored import log_yesterday, production
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox, QSystemTrayIcon

from modeldesk.core import audit
from modeldesk.core.monitoring import alerts as core_alerts
from modeldesk.core.monitoring import monitors as mon
from modeldesk.core.storage.project import open_project
from modeldesk.gui.monitoring.alerts import AlertWatcher, TrayNotifier, alert_text
from modeldesk.gui.monitoring.monitors_panel import MONITOR_COLUMNS, MonitorsPanel
from support.gui import shown_project_view


@pytest.fixture
def drifted(md, project_path):
    """cancer v1 in production, yesterday's traffic drifted, a drift monitor and a calm latency monitor."""
    production(md)
    project = md.get_project()
    log_yesterday(project, shifted=True)
    mon.set_monitor(project, "drift", "cancer", window="2d", thresholds=mon.make_thresholds(drift_share=0.5),
                    actor="ana")
    mon.set_monitor(project, "latency", "cancer", window="2d", thresholds=mon.make_thresholds(p99_ms=100),
                    actor="ana")
    md.flush()
    return project_path


@pytest.fixture
def panel(qtbot):
    yield from shown_project_view(qtbot, MonitorsPanel, (1100, 600))


def cells(model, col: int) -> list:
    return [model.index(r, col).data() for r in range(model.rowCount())]


def open_panel(qtbot, panel, path):
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        panel.set_project(open_project(path, create=False))


def test_lists_monitors_with_thresholds_and_no_check_yet(qtbot, panel, drifted):
    open_panel(qtbot, panel, drifted)
    items = panel.monitor_items
    assert [items.horizontalHeaderItem(c).text() for c in range(items.columnCount())] == list(MONITOR_COLUMNS)
    assert cells(items, 0) == ["drift", "latency"]
    assert cells(items, 1) == ["cancer@production"] * 2
    assert cells(items, 3) == ["drift share >= 0.5", "p99 > 100 ms"]
    assert cells(items, 7) == ["never", "never"] and cells(items, 8) == ["not checked"] * 2
    assert cells(items, 4) == ["—", "—"] and cells(items, 5) == ["—", "—"]
    assert panel.alert_items.rowCount() == 0
    assert panel.check_button.isEnabled() and not panel.remove_button.isEnabled()


def test_check_now_shows_state_and_the_alert(qtbot, panel, drifted):
    open_panel(qtbot, panel, drifted)
    with qtbot.waitSignal(panel.checked, timeout=60000) as got:
        panel.check_button.click()
        assert not panel.check_button.isEnabled()       # one check at a time
    assert {r.monitor: r.state for r in got.args[0]} == {"drift": "firing", "latency": "ok"}
    qtbot.waitUntil(lambda: panel.alert_items.rowCount() == 1, timeout=10000)
    assert cells(panel.monitor_items, 8) == ["firing", "ok"]
    assert "drift" in panel.details.text() and "Fired on v1" in panel.details.text()     # the firing one
    panel.monitor_table.selectRow(1)
    assert "latency" in panel.details.text() and "OK on v1" in panel.details.text()
    assert cells(panel.alert_items, 1) == ["drift"] and cells(panel.alert_items, 5) == ["open"]
    assert panel.alert_items.index(0, 6).data().startswith("drift share 0.")
    assert "1 open" in panel.alerts_title.text()
    assert "1 firing" in panel.status.text()
    # acknowledge it
    panel.alert_table.selectRow(0)
    assert panel.ack_button.isEnabled()
    with qtbot.waitSignal(panel.alerts_changed, timeout=10000) as changed:
        panel.ack_button.click()
    assert changed.args == [0]
    assert cells(panel.alert_items, 5) == ["tester"]


def test_add_monitor_through_the_dialog(qtbot, panel, drifted):
    open_panel(qtbot, panel, drifted)
    panel.add_button.click()
    dialog = panel.dialog
    assert dialog.isVisible() and not dialog.ok_button.isEnabled()
    dialog.name.setText("drift")
    assert "exists already" in dialog.hint.text()
    dialog.name.setText("accuracy")
    assert "at least one threshold" in dialog.hint.text()
    dialog.metric_choice.setCurrentText("accuracy")
    assert "minimum or a max drop" in dialog.hint.text()
    dialog.metric_min.setText("abc")
    assert "must be a number" in dialog.hint.text()
    dialog.metric_min.setText("0.9")
    dialog.window_size.setText("tomorrow")
    assert "number and a unit" in dialog.hint.text() and "--" not in dialog.hint.text()
    dialog.window_size.setText("6h")
    assert dialog.ok_button.isEnabled()
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        dialog.buttons.button(QDialogButtonBox.Ok).click()
    assert cells(panel.monitor_items, 0) == ["accuracy", "drift", "latency"]
    m = mon.get_monitor(panel.project, "accuracy")
    assert (m.window, m.owner, m.thresholds.metric, m.thresholds.metric_min) == ("6h", "tester", "accuracy", 0.9)


def test_a_failed_retrain_and_its_output(qtbot, panel, drifted, tmp_path):
    from core.monitoring.monitored import FAILING_SCRIPT, write_script

    from modeldesk.core.monitoring import retrain

    project = open_project(drifted, create=False)
    mon.set_monitor(project, "drift", "cancer", window="2d", thresholds=mon.make_thresholds(drift_share=0.5),
                    retrain=write_script(tmp_path, "broken.py", FAILING_SCRIPT), actor="ana")
    open_panel(qtbot, panel, drifted)
    assert "broken.py" in panel.monitor_items.index(0, 4).data()
    with qtbot.waitSignal(panel.checked, timeout=60000) as got:
        panel.check_now()
    started = got.args[0][0].retrain
    assert started["started"]            # detached, as in the app
    assert retrain.wait_for(project, started["id"], timeout=120).status == "failed"
    panel.reload()
    qtbot.waitUntil(lambda: panel.monitor_items.index(0, 5).data() == "failed (exit 3)", timeout=10000)
    panel.monitor_table.selectRow(0)
    assert panel.output_button.isEnabled()
    panel.output_button.click()
    qtbot.waitUntil(lambda: panel.output_dialog is not None, timeout=10000)
    from PySide6.QtWidgets import QPlainTextEdit

    text = panel.output_dialog.findChild(QPlainTextEdit, "retrainOutput").toPlainText()
    assert "loading the new labels" in text and "the labels file is missing" in text
    panel.output_dialog.reject()
    project.close()


def test_remove_asks_first(qtbot, panel, drifted):
    open_panel(qtbot, panel, drifted)
    panel.monitor_table.selectRow(1)
    assert panel.remove_button.isEnabled()
    panel.remove_button.click()
    box = panel.confirm
    assert "latency" in box.text()
    with qtbot.waitSignal(panel.loaded, timeout=10000):
        box.button(QMessageBox.Yes).click()
    assert cells(panel.monitor_items, 0) == ["drift"]
    assert audit.list_entries(panel.project, action="monitor.remove")[-1].details["monitor"] == "latency"


def test_a_refused_action_shows_core_words_without_a_command(qtbot, panel, drifted):
    open_panel(qtbot, panel, drifted)
    alert_id = None
    project = panel.project
    from modeldesk.core.monitoring import checks

    alert_id = checks.check(project, "drift")[0].alert_id
    core_alerts.acknowledge(project, alert_id, actor="ben")
    with qtbot.waitSignal(panel.runner.failed, timeout=10000) as got:
        panel.runner.run("acknowledge", f"acknowledge alert #{alert_id}",
                          core_alerts.acknowledge, project, alert_id, actor="tester")
    assert "already acknowledged by ben" in got.args[1]
    assert "modeldesk" not in got.args[1]


def test_cancel_a_check(qtbot, panel, drifted, monkeypatch):
    import threading

    from modeldesk.gui.monitoring import monitors_panel

    release = threading.Event()

    def slow_check(project, name=None, *, progress=None, should_stop=None):
        release.wait(10)
        return None if should_stop() else []

    monkeypatch.setattr(monitors_panel, "_check", slow_check)
    open_panel(qtbot, panel, drifted)
    panel.check_now()
    assert panel.cancel_button.isVisibleTo(panel) and panel.progress.isVisibleTo(panel)
    panel.cancel_button.click()
    release.set()
    qtbot.waitUntil(lambda: panel.check_task is None, timeout=10000)
    assert "cancelled" in panel.status.text() and not panel.cancel_button.isVisibleTo(panel)
    assert panel.check_button.isEnabled()


def test_an_empty_project_says_what_to_do(qtbot, panel, md, project_path):
    md.get_project()
    open_panel(qtbot, panel, project_path)
    assert "No monitors yet" in panel.status.text() and not panel.check_button.isEnabled()


# -- the background checks and the tray ---------------------------------------------------------------
def test_the_watcher_reports_new_alerts_once(qtbot, drifted):
    project = open_project(drifted, create=False)
    mon.set_monitor(project, "old", "cancer", window="2d", thresholds=mon.make_thresholds(p99_ms=0.5))
    from modeldesk.core.monitoring import checks

    checks.check(project, "old")          # an alert from before the app opened: not news
    watcher = AlertWatcher(interval_ms=60_000, first_ms=60_000)
    seen = []
    watcher.new_alerts.connect(seen.append)
    watcher.set_project(project)
    qtbot.waitUntil(lambda: watcher.timer.isActive(), timeout=10000)
    with qtbot.waitSignal(watcher.checked, timeout=60000):
        assert watcher.check_now()
        assert not watcher.check_now()       # one at a time
    assert len(seen) == 1 and [a.monitor for a in seen[0]] == ["drift"]
    with qtbot.waitSignal(watcher.open_alerts, timeout=60000) as counted:
        watcher.check_now()
    assert counted.args == [2] and len(seen) == 1       # the same alerts seen again: nothing new
    watcher.set_project(None)
    watcher.jobs.wait()
    project.close()


def test_watcher_runs_on_its_timer(qtbot, drifted):
    project = open_project(drifted, create=False)
    watcher = AlertWatcher(interval_ms=60_000, first_ms=50)
    with qtbot.waitSignal(watcher.new_alerts, timeout=60000) as got:
        watcher.set_project(project)
    assert got.args[0][0].monitor == "drift"
    watcher.stop()
    watcher.set_project(None)
    watcher.jobs.wait()
    project.close()


class FakeAlert:
    def __init__(self, monitor):
        self.monitor, self.model, self.alias, self.summary = monitor, "cancer", "production", "Fired on v1: x"


def test_tray_notifies_where_there_is_a_tray(qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "show", lambda self: None)
    monkeypatch.setattr(QSystemTrayIcon, "showMessage", lambda self, *args: shown.append(args))
    tray = TrayNotifier()
    assert tray.available
    assert tray.notify([FakeAlert("drift")])
    assert shown[0][0] == "Monitor drift fired" and "cancer@production" in shown[0][1]
    assert not tray.notify([])


def test_no_tray_no_notification(qtbot, monkeypatch):
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    tray = TrayNotifier()
    assert not tray.available and tray.tray is None
    assert tray.notify([FakeAlert("drift")]) is False
    assert tray.last == ("Monitor drift fired", "cancer@production: Fired on v1: x")
    assert alert_text([FakeAlert("a"), FakeAlert("b")])[0] == "2 monitors fired"

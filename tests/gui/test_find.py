"""Edit ▸ Find (Ctrl+F) on every page: it lands in the page's filter with the text selected, the
filter works (case-insensitive, with a readable line when nothing matches), Esc clears it, and
where a page has nothing to search the action is disabled with the reason as its tip."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from modeldesk.gui.main_window import VIEWS
from support.gui import wait_table
from support.registry import log_run

MODELS = ("churn-classifier", "fraud-detector", "Churn-Regressor")


@pytest.fixture
def models_project(md, project_path):
    run_id = log_run(md, name="base")
    for name in MODELS:
        md.register_model(f"runs:/{run_id}/model", name)
    return project_path


def open_on(qtbot, win, path, view: str):
    win.open(path)
    qtbot.waitUntil(lambda: win.project is not None and not win.experiments.model.loading, timeout=10000)
    win.nav.setCurrentRow(VIEWS.index(view))


def focus(qtbot, win, widget):
    win.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: win.focusWidget() is widget)


def test_ctrl_f_in_models_filters_the_model_list_by_name(qtbot, window, models_project):
    open_on(qtbot, window, models_project, "Models")
    panel = window.models.panel
    qtbot.waitUntil(lambda: len(panel.names()) == 3, timeout=10000)
    panel.find_field.setText("old text")
    focus(qtbot, window, window.models.model_list)
    qtbot.keyClick(window.models.model_list, "f", modifier=Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.focusWidget() is panel.find_field)
    assert panel.find_field.selectedText() == "old text"            # typing replaces it
    qtbot.keyClicks(panel.find_field, "CHURN")
    assert panel.find_field.text() == "CHURN"
    assert sorted(panel.shown_names()) == ["Churn-Regressor", "churn-classifier"]
    assert panel.no_match.isHidden()
    window.models.refresh()                                          # a refill keeps the filter
    qtbot.waitUntil(lambda: not window.models.jobs.busy(), timeout=10000)
    assert sorted(panel.shown_names()) == ["Churn-Regressor", "churn-classifier"]
    panel.find_field.selectAll()
    qtbot.keyClicks(panel.find_field, "zzz")
    assert panel.shown_names() == []
    assert panel.no_match.isVisible()
    assert panel.no_match.text() == "No model matches “zzz”. Press Esc to clear the filter."
    qtbot.keyClick(panel.find_field, Qt.Key_Escape)
    assert panel.find_field.text() == ""
    assert sorted(panel.shown_names()) == sorted(MODELS)
    assert panel.no_match.isHidden()


def test_find_on_monitoring_lands_in_the_drift_column_filter_and_is_disabled_on_monitors(
        qtbot, window, models_project):
    open_on(qtbot, window, models_project, "Monitoring")
    page = window.monitoring_page
    assert page.currentWidget() is window.monitoring
    assert window.find_action.isEnabled()
    window.find_action.trigger()
    qtbot.waitUntil(lambda: window.focusWidget() is window.monitoring.find_field)
    page.setCurrentWidget(window.monitors)
    assert not window.find_action.isEnabled()
    assert "nothing to search on Monitors and alerts" in window.find_action.toolTip()
    assert window.find_action.statusTip() == window.find_action.toolTip()
    window.find_action.trigger()                                      # a disabled action does nothing
    assert window.focusWidget() is not window.monitoring.find_field
    page.setCurrentWidget(window.monitoring)
    assert window.find_action.isEnabled()
    assert "current view's filter" in window.find_action.toolTip()
    window.nav.setCurrentRow(VIEWS.index("Experiments"))
    assert window.find_action.isEnabled()


def test_find_on_a_page_with_nothing_listed_yet_says_so(qtbot, window, models_project):
    open_on(qtbot, window, models_project, "Serving")              # no server running: the empty state
    window.find_action.trigger()
    assert "Serving lists nothing to search yet" in window.statusBar().currentMessage()


def test_find_on_serving_lands_in_the_server_filter_once_a_server_is_listed(qtbot, window, models_project):
    open_on(qtbot, window, models_project, "Serving")
    server = window.serving.serve("models:/nope/1")                 # no such model: it fails, and stays listed
    try:
        qtbot.waitUntil(lambda: server.status == "failed", timeout=30000)
        window.serving.find_field.setText("nope")
        focus(qtbot, window, window.serving.table)
        qtbot.keyClick(window.serving.table, "f", modifier=Qt.ControlModifier)
        qtbot.waitUntil(lambda: window.focusWidget() is window.serving.find_field)
        assert window.serving.find_field.selectedText() == "nope"
    finally:
        window.serving.stop_all(wait=True)


def test_drift_column_filter_shows_matching_columns_and_esc_clears(qtbot):
    from modeldesk.gui.monitoring.monitoring_view import MonitoringView

    view = MonitoringView()
    qtbot.addWidget(view)
    view.show()
    records = [{"column": name, "type": "num", "test": "ks", "score": 0.5, "threshold": 0.05, "drifted": False}
               for name in ("age", "Income", "income_bracket", "tenure")]
    view.table.set_records(records)
    qtbot.keyClicks(view.find_field, "INCOME")
    assert sorted(view.table.shown_columns()) == ["Income", "income_bracket"]
    view.table.set_records(records)                                  # a new window keeps the filter
    assert sorted(view.table.shown_columns()) == ["Income", "income_bracket"]
    qtbot.keyClick(view.find_field, Qt.Key_Escape)
    assert view.find_field.text() == ""
    assert len(view.table.shown_columns()) == 4
    view.set_project(None)


def test_serving_filter_hides_servers_that_do_not_match(qtbot, md, project_path):
    from modeldesk.core.storage.project import open_project
    from modeldesk.gui.serving.serving_view import ServingView

    md.get_project()
    project = open_project(project_path, create=False)
    view = ServingView()
    qtbot.addWidget(view)
    view.set_project(project)
    view.show()
    try:
        first, second = view.serve("models:/churn/1"), view.serve("models:/fraud/2")   # no such models: they fail
        qtbot.waitUntil(lambda: first.status == "failed" and second.status == "failed", timeout=30000)
        rows = [view.table.topLevelItem(i) for i in range(2)]
        qtbot.keyClicks(view.find_field, "FRAUD")
        assert [r.isHidden() for r in rows] == [True, False]
        view.find_field.selectAll()
        qtbot.keyClicks(view.find_field, "nothing")
        assert all(r.isHidden() for r in rows)
        assert view.no_match.text() == "No server matches “nothing”. Press Esc to clear the filter."
        assert view.no_match.isVisibleTo(view)
        qtbot.keyClick(view.find_field, Qt.Key_Escape)
        assert view.find_field.text() == "" and not any(r.isHidden() for r in rows)
        assert not view.no_match.isVisibleTo(view)
    finally:
        view.stop_all(wait=True)
        project.close()


def test_esc_clears_the_experiments_filter_and_shows_every_run_again(qtbot, window, sample):
    path, ids = sample
    open_on(qtbot, window, path, "Experiments")
    exp = window.experiments
    wait_table(qtbot, exp, timeout=10000)
    total = exp.model.rowCount()
    exp.filter_bar.set_filter("metrics.val_auc > 100")
    qtbot.waitUntil(lambda: not exp.model.loading and exp.model.rowCount() == 0, timeout=10000)
    focus(qtbot, window, exp.experiment_list)                        # the table is hidden: "No runs match"
    qtbot.keyClick(exp.experiment_list, "f", modifier=Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.focusWidget() is exp.filter_bar.edit)
    assert exp.filter_bar.edit.selectedText() == "metrics.val_auc > 100"
    qtbot.keyClick(exp.filter_bar.edit, Qt.Key_Escape)
    QApplication.processEvents()
    assert exp.filter_bar.edit.text() == "" and exp.filter_bar.applied == ""
    qtbot.waitUntil(lambda: not exp.model.loading and exp.model.rowCount() == total, timeout=10000)

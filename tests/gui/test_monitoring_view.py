"""The Monitoring view on a model with ten days of logged predictions, the last three shifted."""

from __future__ import annotations

import time

import numpy as np
import pytest
from core.monitoring.logged_predictions import DAY0, DAYS, SHIFTED, SHIFTED_DAYS, fill, log_day, register
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from modeldesk.core.monitoring import drift as drift_mod
from modeldesk.core.monitoring.windows import drift_windows
from modeldesk.core.serving.prediction_failures import FailedRequest, write_failures
from modeldesk.core.serving.served_model import load_served
from modeldesk.core.storage.project import open_project
from modeldesk.gui.monitoring.monitoring_view import NO_TRAFFIC, MonitoringView
from support.data import breast_cancer

ALL_TIME = 4   # the period box's "All time" (the fixture's days are in January 2026)


@pytest.fixture
def view(qtbot):
    v = MonitoringView()
    qtbot.addWidget(v)
    v.resize(1280, 860)
    v.period_box.setCurrentIndex(ALL_TIME)
    v.show()
    yield v
    project = v.project
    v.set_project(None)
    v.jobs.wait(20)
    if project is not None:
        project.close()


@pytest.fixture
def logged(md, project_path):
    uri = register(md)
    rows = fill(md.get_project(), uri)
    return project_path, uri, rows


def opened(qtbot, view, path, timeout=20000):
    view.set_project(open_project(path, create=False))
    qtbot.waitUntil(lambda: view.charts_ready and view.windows_final and view.health is not None
                    and view.performance is not None and not view.jobs.busy(), timeout=timeout)


def test_empty_state_says_what_to_do(qtbot, view, md, project_path):
    register(md)
    opened(qtbot, view, project_path)
    assert view.pages.currentWidget() is view.empty
    assert NO_TRAFFIC in view.empty.body.text()
    assert view.empty.buttons["Compare a CSV…"].isVisible()


def test_no_registered_model(qtbot, view, md, project_path):
    md.log_metric("x", 1.0)
    md.end_run()
    view.set_project(open_project(project_path, create=False))
    qtbot.waitUntil(lambda: "No registered model" in view.empty.title.text(), timeout=10000)
    assert view.pages.currentWidget() is view.empty


def test_table_overlay_and_charts_follow_the_window(qtbot, view, logged):
    path, uri, _ = logged
    opened(qtbot, view, path)
    assert view.pages.currentWidget() is view.body
    w = view.windows
    assert w.count == DAYS and view.current == DAYS - 1                     # the latest window is current
    assert w.drifted.tolist() == [False] * (DAYS - SHIFTED_DAYS) + [True] * SHIFTED_DAYS
    # drift share over time: red bars where the data set drifted
    assert not view.share_chart.showing_message and view.share_chart.drifted.sum() == SHIFTED_DAYS
    # the table: one row per input column, drifted rows coloured, the first drifted column selected
    assert view.table.proxy.rowCount() == 30
    drifted = [r["column"] for r in view.table.records if r["drifted"]]
    assert set(drifted) <= set(SHIFTED) and len(drifted) >= 10
    assert view.table.row_colour(drifted[0]) is not None
    calm = next(r["column"] for r in view.table.records if not r["drifted"])
    assert view.table.row_colour(calm) is None
    selected = view.table.selected_columns()
    assert selected and selected[0] in drifted
    # the overlay of the selected column, and its score over time with its threshold line
    qtbot.waitUntil(lambda: view.overlay_chart.overlay is not None, timeout=10000)
    assert view.overlay_chart.overlay.column == selected[0] and view.overlay_chart.overlay.kind == "numerical"
    assert [s.column for s in view.scores_chart.series] == selected
    assert view.scores_chart.log_axis                                          # K-S p-values: log axis
    for chart in (view.share_chart, view.scores_chart):
        assert chart.current == DAYS - 1
    # click the first window on the drift-share chart: table, overlay and every chart follow
    before = view.overlay_chart.overlay
    qtbot.mouseClick(view.share_chart.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.share_chart.widget_point(0))
    qtbot.waitUntil(lambda: view.current == 0 and view.sample_window == 0, timeout=10000)
    assert not any(r["drifted"] for r in view.table.records)
    assert view.overlay_chart.overlay is not before and view.overlay_chart.overlay.current_rows == 150
    assert view.scores_chart.current == 0 and view.share_chart.current == 0


def test_selecting_columns_follows_their_scores(qtbot, view, logged):
    path, _, _ = logged
    opened(qtbot, view, path)
    view.table.select_columns(["mean radius", "worst area", "mean symmetry"])
    assert sorted(s.column for s in view.scores_chart.series) == ["mean radius", "mean symmetry", "worst area"]
    series = {s.column: s for s in view.scores_chart.series}
    assert np.isfinite(series["mean radius"].scores).all() and series["mean radius"].threshold == 0.05


def test_the_table_sorts_and_copies(qtbot, view, logged):
    path, _, _ = logged
    opened(qtbot, view, path)
    view.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)                   # score: smallest p-value first
    scores = [view.table.proxy.data(view.table.proxy.index(r, 3), Qt.ItemDataRole.UserRole + 1)
              for r in range(view.table.proxy.rowCount())]
    assert scores == sorted(scores)
    view.table.selectAll()
    text = view.table.copy_selection()
    assert len(text.splitlines()) == 30 and "mean radius" in text and "\t" in text


def test_kept_windows_show_at_once_and_new_ones_fill_in(qtbot, view, logged):
    path, uri, _ = logged
    with open_project(path) as project:
        drift_windows(project, uri, every="1d")                               # all ten kept
        log_day(project, uri, DAYS, shifted=True)                             # an eleventh day, not computed yet
    shown = []
    view.windowsShown.connect(shown.append)
    opened(qtbot, view, path)
    assert shown[0] == DAYS and shown[-1] == DAYS + 1                         # cached first, then the new one
    assert view.windows.count == DAYS + 1 and view.windows.computed == 1


def _csv(tmp_path, shifted: bool, name="batch.csv"):
    X, _ = breast_cancer()
    frame = X.sample(300, random_state=1, replace=True).reset_index(drop=True)
    if shifted:
        frame[SHIFTED] = frame[SHIFTED] * 1.5
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _drop(view, path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    view.dropEvent(event)


def test_a_dropped_csv_is_tested_against_the_reference(qtbot, view, logged, tmp_path):
    path, _, _ = logged
    opened(qtbot, view, path)
    with qtbot.waitSignal(view.csvCompared, timeout=20000):
        _drop(view, _csv(tmp_path, shifted=True))
    assert view.banner.isVisible() and "DRIFTED" in view.banner_text.text()
    assert {r["column"] for r in view.table.records if r["drifted"]} & set(SHIFTED)
    assert view.overlay_chart.overlay.current_rows == 300
    assert view.share_chart.current is None                                   # no window is current
    view.back_button.click()
    qtbot.waitUntil(lambda: view.sample_window == DAYS - 1, timeout=10000)
    assert not view.banner.isVisible() and view.table.proxy.rowCount() == 30


def test_a_csv_on_the_empty_view_and_a_bad_csv(qtbot, view, md, project_path, tmp_path):
    register(md)
    opened(qtbot, view, project_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    view.compare_file(str(bad))
    qtbot.waitUntil(lambda: "Could not compare" in view.status.text(), timeout=20000)
    assert "lacks 30 of the model's 30 input columns" in view.status.text()
    assert view.pages.currentWidget() is view.empty
    with qtbot.waitSignal(view.csvCompared, timeout=20000):
        _drop(view, _csv(tmp_path, shifted=False))
    assert view.pages.currentWidget() is view.body and "not drifted" in view.banner_text.text()


def test_cancel_stops_the_windows_and_keeps_what_was_done(qtbot, view, logged, monkeypatch):
    path, _, _ = logged
    real = drift_mod.compare

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(drift_mod, "compare", slow)
    view.set_project(open_project(path, create=False))
    qtbot.waitUntil(lambda: view.cancel_button.isVisible() and view.progress.value() > 0, timeout=20000)
    view.cancel_button.click()
    qtbot.waitUntil(lambda: not view.jobs.busy() and not view.cancel_button.isVisible(), timeout=20000)
    assert "Cancelled" in view.status.text()
    with open_project(path) as project:
        kept = project.read("SELECT COUNT(*) FROM drift_windows")[0][0]
    assert kept < DAYS                       # stopped before the end (core keeps each finished chunk of windows)
    assert view.windows is not None and view.windows.count == kept and view.windows_final


def test_performance_and_serving_health(qtbot, view, logged):
    from modeldesk.core.serving.prediction_log import get_predictions, set_labels

    path, uri, _ = logged
    with open_project(path) as project:
        frame = get_predictions(project, uri)
        first_days = frame[frame["time"] < frame["time"].min() + np.timedelta64(2, "D")]
        set_labels(project, [(r, w, int(p)) for r, w, p in
                             zip(first_days["request_id"], first_days["row"], first_days["prediction"])])
        served = load_served(project, uri)
        write_failures(project, [FailedRequest(DAY0 + 3600 + k, served, 400, "bad_request", 1.0) for k in range(50)])
    opened(qtbot, view, path)
    perf = view.perf_chart
    assert not perf.showing_message and perf.metric_name == "accuracy"
    realised = perf.realised.yData
    assert realised[:2].tolist() == [1.0, 1.0] and np.isnan(realised[2:]).all()   # labeled days only
    health = view.health_chart
    assert not health.showing_message
    assert view.health.failed[0] == 50 and view.health.error_rate[0] == pytest.approx(50 / 200)
    assert view.health.requests.tolist() == [150.0] * DAYS
    # a click on the serving chart selects the same window everywhere
    qtbot.mouseClick(health.view.viewport(), Qt.MouseButton.LeftButton, pos=health.widget_point(3, plot=0))
    qtbot.waitUntil(lambda: view.current == 3, timeout=5000)
    assert view.share_chart.current == 3 and perf.current == 3


def test_file_menu_compare_a_csv(qtbot, window, logged, tmp_path, monkeypatch):
    from modeldesk.gui.main_window import VIEWS

    path, _, _ = logged
    csv = _csv(tmp_path, shifted=True)
    monkeypatch.setattr("modeldesk.gui.monitoring.monitoring_view.QFileDialog.getOpenFileName",
                        lambda *a, **k: (str(csv), ""))
    assert not window.compare_csv_action.isEnabled()                           # no project open
    window.open(path)
    qtbot.waitUntil(lambda: window.project is not None and window.compare_csv_action.isEnabled(), timeout=10000)
    view = window.monitoring
    qtbot.waitUntil(lambda: view.uri is not None, timeout=10000)
    with qtbot.waitSignal(view.csvCompared, timeout=20000):
        window.compare_csv_action.trigger()
    assert window.nav.currentRow() == VIEWS.index("Monitoring")
    assert view.banner.isVisible()


def test_new_traffic_fills_in_without_starting_over(qtbot, view, logged):
    path, uri, _ = logged
    opened(qtbot, view, path)
    view.select_window(2)
    qtbot.waitUntil(lambda: view.sample_window == 2 and not view.jobs.busy(), timeout=10000)
    with open_project(path) as project:
        log_day(project, uri, DAYS, shifted=True)            # a server logged another day meanwhile
    view.refresh()                                           # what the main window's poll does
    qtbot.waitUntil(lambda: view.windows.count == DAYS + 1 and not view.jobs.busy(), timeout=20000)
    assert view.current == 2 and view.windows.computed == 1  # the chosen window stays; one window computed
    assert view.health.requests.size == DAYS + 1


def test_a_version_without_training_data_still_shows_its_serving_health(qtbot, view, md, project_path):
    uri = register(md, dataset=False)
    with open_project(project_path) as project:
        log_day(project, uri, 0, shifted=False)
    opened(qtbot, view, project_path)
    assert view.pages.currentWidget() is view.body
    assert view.share_chart.showing_message and "no reference data" in view.share_chart.message.text()
    assert not view.health_chart.showing_message and view.health.requests.tolist() == [150.0]

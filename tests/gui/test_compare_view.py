"""The compare view: table, curves, scatter, parallel coordinates, export."""

from __future__ import annotations

import csv
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, Qt, QThreadPool  # noqa: E402
from PySide6.QtGui import QBrush, QGuiApplication, QImage  # noqa: E402

from modeldesk.core.tracking import compare as cmp  # noqa: E402
from modeldesk.core.tracking import history  # noqa: E402
from modeldesk.gui.compare.compare_view import CompareView, open_compare  # noqa: E402
from modeldesk.gui.kit.theme import theme  # noqa: E402

WAIT = 15_000
T0 = 1_700_000_000.0
RUNS = (  # name, lr, kernel, final auc, dataset shift
    ("a", 0.1, "rbf", 0.9, 0),
    ("b", 0.01, "linear", 0.8, 0),
    ("c", 0.001, "rbf", 0.7, 1),
)


@pytest.fixture(autouse=True)
def _workers_done():
    yield
    from modeldesk.gui.kit.workers import pool

    QThreadPool.globalInstance().waitForDone(15_000)
    pool("history").waitForDone(15_000)


@pytest.fixture
def three_runs(md, qapp):
    """Three runs that differ in lr and kernel (depth equal); run c trained on other data."""
    md.set_experiment("sweep")
    base = pd.DataFrame({"x": np.arange(40, dtype=float), "y": [0, 1] * 20})
    ids = {}
    for i, (name, lr, kernel, auc, shift) in enumerate(RUNS):
        with md.start_run(name=name) as run:
            md.log_params({"lr": lr, "depth": 8, "kernel": kernel})
            for step in range(40):
                md.log_metric("loss", (1 + i) / (step + 1), step=step, timestamp=T0 + 100 * i + 2 * step)
                md.log_metric("val_auc", auc * (1 - np.exp(-(step + 1) / 5)) if step < 39 else auc, step=step,
                              timestamp=T0 + 100 * i + 2 * step)
            md.log_dataset(base.assign(x=base.x + shift), name="train", role="training", target="y")
        ids[name] = run.id
    md.flush()
    return md.get_project(), ids


@pytest.fixture
def families(md, qapp):
    """Four runs of different estimators (long names); only gbm logged curves, sgd a single loss value."""
    md.set_experiment("families")
    ids = {}
    for name, estimator, lr in (("gbm", "GradientBoostingClassifier", "0.1"), ("sgd", "SGDClassifier", "optimal"),
                                ("logreg", "LogisticRegression", None), ("rf", "RandomForestClassifier", None)):
        with md.start_run(name=name) as run:
            md.log_params({"estimator": estimator, "max_depth": 3 + len(name), "n_estimators": 10 * len(name),
                           "scaler": "standard"} | ({"learning_rate": lr} if lr else {}))
            if name == "gbm":
                for step in range(40):
                    md.log_metrics({"loss": 1 / (step + 1), "val_auc": 0.9 - 0.2 / (step + 1)}, step=step)
            else:
                if name == "sgd":
                    md.log_metric("loss", 0.3)
                md.log_metric("val_auc", 0.8 - len(name) / 100)
        ids[name] = run.id
    md.flush()
    return md.get_project(), ids


def open_view(qtbot, project, run_ids, show=True) -> CompareView:
    view = CompareView(project, run_ids)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    with qtbot.waitSignal(view.curvesLoaded, timeout=WAIT):
        if show:
            view.show()
    return view


def background(view, section, key, column=1):
    model = view.table_model
    return model.data(model.index(model.find(section, key), column), Qt.ItemDataRole.BackgroundRole)


def test_table_highlights_rows_that_differ(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    model = view.table_model
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == ["Key", "a", "b", "c"]
    lr_row = model.find(cmp.PARAMS, "lr")
    assert [model.data(model.index(lr_row, c)) for c in range(4)] == ["lr", "0.1", "0.01", "0.001"]
    assert isinstance(background(view, cmp.PARAMS, "lr"), QBrush)
    assert background(view, cmp.PARAMS, "lr").color().name() == theme()["diff_bg"]
    assert background(view, cmp.PARAMS, "depth") is None
    assert background(view, cmp.METRICS, "val_auc").color().name() == theme()["diff_bg"]
    assert background(view, cmp.DATASETS, "train (training)").color().name() == theme()["diff_bg"]
    assert background(view, cmp.ENVIRONMENT, "Python") is None
    fp = model.data(model.index(model.find(cmp.DATASETS, "train (training)"), 1))
    assert fp.endswith("…") and len(fp) == 13           # fingerprints shortened, full text in the tooltip


def test_only_differences_hides_equal_rows(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    model = view.table_model
    assert "depth" in model.shown_keys(cmp.PARAMS) and "Python" in model.shown_keys(cmp.ENVIRONMENT)
    qtbot.mouseClick(view.only_differences, Qt.MouseButton.LeftButton)
    assert view.only_differences.isChecked() and model.only_differences
    assert model.shown_keys(cmp.PARAMS) == ["kernel", "lr"]
    assert model.shown_keys(cmp.ENVIRONMENT) == []             # same interpreter and packages: section gone
    assert model.shown_keys(cmp.DATASETS) == ["train (training)"]
    assert "Environment" not in [model.entry(r) for r in model.section_rows()]
    view.set_only_differences(False)
    assert not view.only_differences.isChecked() and "depth" in model.shown_keys(cmp.PARAMS)


def test_same_data_and_same_packages_lines(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    assert "Same data: <b" in view.same_data_label.text() and ">no</b>" in view.same_data_label.text()
    assert ">yes</b>" in view.same_packages_label.text()
    same = open_view(qtbot, project, [ids["a"], ids["b"]])
    assert ">yes</b>" in same.same_data_label.text()


def test_different_packages_are_listed(qtbot, three_runs):
    from modeldesk.core.tracking.artifacts import run_environment, store_environment
    from modeldesk.core.tracking.tracker import Tracker

    project, ids = three_runs
    env = run_environment(project, ids["a"])
    env["packages"] = dict(env["packages"], numpy="1.0.0")
    tracker = Tracker(project)
    handle = tracker.start_run(tracker.experiment("sweep").id, "old-numpy",
                               environment_sha256=store_environment(project, env))
    tracker.log_params(handle, {"lr": 0.1, "depth": 8, "kernel": "rbf"})
    tracker.end_run(handle)
    tracker.close()
    view = open_view(qtbot, project, [ids["a"], handle.id])
    assert ">no</b>" in view.same_packages_label.text() and "1 differ" in view.same_packages_label.text()
    view.set_only_differences(True)
    model = view.table_model
    assert model.shown_keys(cmp.ENVIRONMENT) == ["package numpy"]
    row = model.find(cmp.ENVIRONMENT, "package numpy")
    assert [model.data(model.index(row, c)) for c in (1, 2)] == [np.__version__, "1.0.0"]
    assert model.shown_keys(cmp.PARAMS) == []


def test_curves_load_for_each_run_and_metric_picker_changes_them(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    assert view.checked_metrics() == ["loss"] and not view.loading_curves
    curves = view.curves.curves("loss")
    assert set(curves) == set(ids.values())
    x, y = view.curves.curve_data(ids["b"], "loss")
    np.testing.assert_array_equal(x, np.arange(40))
    np.testing.assert_allclose(y, 2 / (np.arange(40) + 1))
    item = curves[ids["a"]]
    assert item.opts["autoDownsample"] and item.opts["downsampleMethod"] == "peak" and item.opts["clipToView"]
    assert not view.curves.plot("loss").getAxis("left").autoSIPrefix
    legend = view.curves.plot("loss").legend
    assert [label.text for _sample, label in legend.items] == ["a", "b", "c"]
    assert view.curves.note("loss") == ""                      # every run has a curve: no note

    # tick val_auc in the list, untick loss: the view loads val_auc and drops the loss chart
    with qtbot.waitSignal(view.curvesLoaded, timeout=WAIT):
        view.metric_list.item(1).setCheckState(Qt.CheckState.Checked)
    assert view.curves.metrics == ["loss", "val_auc"]
    assert set(view.curves.curves("val_auc")) == set(ids.values())
    with qtbot.waitSignal(view.curvesLoaded, timeout=WAIT):
        view.metric_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert view.curves.metrics == ["val_auc"] and view.curves.curves("loss") == {}
    assert view.curves.plot("loss") is None


def test_x_axis_switches_to_wall_time_and_relative_time(qtbot, three_runs):
    import pyqtgraph as pg

    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    view.x_mode.setCurrentIndex(2)   # the combo, as a user would
    assert view.curves.x_mode == "wall"
    assert isinstance(view.curves.plot("loss").getAxis("bottom"), pg.DateAxisItem)
    x, _ = view.curves.curve_data(ids["c"], "loss")
    np.testing.assert_allclose(x, T0 + 200 + 2 * np.arange(40))
    view.set_x_mode("relative")
    run_c = next(r for r in view.comparison.runs if r.id == ids["c"])
    x, _ = view.curves.curve_data(ids["c"], "loss")
    np.testing.assert_allclose(x, T0 + 200 + 2 * np.arange(40) - run_c.start_time)
    assert "Time since run start" in view.curves.plot("loss").getAxis("bottom").labelText
    view.set_x_mode("step")
    assert not isinstance(view.curves.plot("loss").getAxis("bottom"), pg.DateAxisItem)


def test_smoothing_slider_changes_the_displayed_data(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    raw = view.curves.curve_data(ids["a"], "loss")[1].copy()
    view.smoothing.setValue(90)                      # the slider, as a user would; applied after a short pause
    assert view.smoothing_value.text() == "0.90"
    qtbot.waitUntil(lambda: view.curves.smoothing == 0.9, timeout=WAIT)
    smoothed = view.curves.curve_data(ids["a"], "loss")[1]
    assert not np.allclose(smoothed, raw)
    np.testing.assert_allclose(smoothed, history.ema(raw, 0.9))
    assert view.curves._raw_items[(ids["a"], "loss")].isVisible()     # raw curve kept, faded, behind
    view.set_smoothing(0.0)
    np.testing.assert_allclose(view.curves.curve_data(ids["a"], "loss")[1], raw)
    assert (ids["a"], "loss") not in view.curves._raw_items


def test_smoothing_many_points_runs_in_a_worker(qtbot, three_runs, monkeypatch):
    import threading

    from modeldesk.gui.compare import compare_panels

    monkeypatch.setattr(compare_panels, "SYNC_SMOOTH_POINTS", 10)   # 3 x 40 points count as "many"
    threads = []
    real = compare_panels._smooth_all

    def spy(values, weight, buckets=None):
        threads.append(threading.current_thread())
        return real(values, weight, buckets)

    monkeypatch.setattr(compare_panels, "_smooth_all", spy)
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    raw = view.curves.curve_data(ids["c"], "loss")[1].copy()
    view.smoothing.setValue(50)
    qtbot.waitUntil(lambda: view.curves.smoothing == 0.5, timeout=WAIT)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    np.testing.assert_allclose(view.curves.curve_data(ids["c"], "loss")[1], history.ema(raw, 0.5))
    assert "Smoothing" not in view.curves_panel.status.text()


def test_scatter_click_selects_its_run(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    qtbot.waitExposed(view)
    view.show_tab("scatter")
    assert view.scatter_x.currentData() == "params.lr" and view.scatter_y.currentData() == "metrics.loss"
    view.set_scatter_axes("params.lr", "metrics.val_auc")
    assert view.scatter.spot_position(ids["b"]) == pytest.approx((0.01, 0.8))
    qtbot.wait(100)   # let the view apply its auto range
    graphics = view.scatter.view
    point = graphics.mapFromScene(view.scatter.scene_position(ids["b"]))
    with qtbot.waitSignal(view.runSelected, timeout=WAIT) as blocker:
        qtbot.mouseClick(graphics.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))
    assert blocker.args == [ids["b"]]
    assert view.scatter.selected == ids["b"]
    assert view.parallel.selected == ids["b"]
    # x offers params (numbers and the text param 'kernel') and metrics; y offers metrics
    x_keys = [view.scatter_x.itemData(i) for i in range(view.scatter_x.count())]
    assert x_keys == ["params.depth", "params.kernel", "params.lr", "metrics.loss", "metrics.val_auc"]
    assert [view.scatter_y.itemData(i) for i in range(view.scatter_y.count())] == ["metrics.loss", "metrics.val_auc"]


def click_point(qtbot, view, run_id):
    graphics = view.scatter.view
    point = graphics.mapFromScene(view.scatter.scene_position(run_id))
    with qtbot.waitSignal(view.runSelected, timeout=WAIT) as blocker:
        qtbot.mouseClick(graphics.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))
    return blocker.args


def test_scatter_on_a_text_param_shows_categories(qtbot, families):
    project, ids = families
    view = open_view(qtbot, project, list(ids.values()))
    qtbot.waitExposed(view)
    view.show_tab("scatter")
    x_keys = [view.scatter_x.itemData(i) for i in range(view.scatter_x.count())]
    for key in ("params.estimator", "params.scaler", "params.learning_rate"):   # text params are offered
        assert key in x_keys
    assert view.scatter_x.itemText(x_keys.index("params.estimator")) == "estimator  (param, text)"
    chart = view.scatter
    # learning_rate: '0.1' (gbm), 'optimal' (sgd), not logged (logreg, rf)
    view.set_scatter_axes("params.learning_rate", "metrics.val_auc")
    assert chart.tick_labels() == [(0.0, "0.1"), (1.0, "optimal"), (2.0, cmp.NOT_LOGGED)]
    for name, index in (("gbm", 0), ("sgd", 1), ("logreg", 2), ("rf", 2)):
        x, y = chart.spot_position(ids[name])
        assert abs(x - index) < 0.25 and x == pytest.approx(index + cmp.jitter(ids[name]))
    assert chart.spot_position(ids["sgd"])[1] == pytest.approx(0.77)
    assert chart.spot_position(ids["logreg"])[0] != chart.spot_position(ids["rf"])[0]   # no overlap
    x, y = chart.spot_position(ids["sgd"])
    tip = chart._tip(x, y, ids["sgd"])
    assert "sgd" in tip and "learning_rate = optimal" in tip and "val_auc = 0.77" in tip
    assert f"learning_rate = {cmp.NOT_LOGGED}" in chart._tip(*chart.spot_position(ids["rf"]), ids["rf"])
    # estimator: one category per run, sorted by name
    view.set_scatter_axes("params.estimator", "metrics.val_auc")
    assert [t for _v, t in chart.tick_labels()] == ["GradientBoostingClassifier", "LogisticRegression",
                                                    "RandomForestClassifier", "SGDClassifier"]
    assert round(chart.spot_position(ids["rf"])[0]) == 2
    low, high = chart.plot.vb.viewRange()[0]
    assert low <= -0.5 and high >= 3.5                                 # every category in view
    qtbot.wait(100)
    assert click_point(qtbot, view, ids["rf"]) == [ids["rf"]]
    assert chart.selected == ids["rf"] and view.parallel.selected == ids["rf"]
    # back to a numeric param: pyqtgraph's own ticks and the real values
    view.set_scatter_axes("params.max_depth", "metrics.val_auc")
    assert chart.tick_labels() == [] and chart.plot.getAxis("bottom")._tickLevels is None
    assert chart.spot_position(ids["rf"]) == pytest.approx((5.0, 0.78))
    assert "max_depth = 5" in chart._tip(5.0, 0.78, ids["rf"])
    qtbot.wait(100)
    assert click_point(qtbot, view, ids["sgd"]) == [ids["sgd"]]


def test_parallel_coordinates_draw_one_line_per_run(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    view.show_tab("parallel")
    assert view.parallel_params() == ["kernel", "lr"]          # the params that differ, by default
    view.set_parallel(["depth", "kernel", "lr"], "val_auc")
    chart = view.parallel
    assert set(chart.lines) == set(ids.values())
    assert [a.label for a in chart._data.axes] == ["depth", "kernel", "lr", "val_auc"]
    x, y = chart.lines[ids["a"]].getData()
    np.testing.assert_array_equal(x, [0, 1, 2, 3])
    np.testing.assert_allclose(y, [0.5, 1.0, 1.0, 1.0])          # best auc at the top
    colours = {rid: line.opts["pen"].color().name() for rid, line in chart.lines.items()}
    assert len(set(colours.values())) == 3                      # coloured by the metric
    assert chart.colour_bar.levels() == pytest.approx((0.7, 0.9))
    with qtbot.waitSignal(view.runSelected, timeout=WAIT) as blocker:
        chart.lines[ids["c"]].sigClicked.emit(chart.lines[ids["c"]], None)
    assert blocker.args == [ids["c"]] and view.scatter.selected == ids["c"]


def label_rects(chart):
    """The scene rectangle of each parallel-coordinates label's text (without its document margins)."""
    chart.view.grab()   # a paint: labels take their place for the current size
    rects = []
    for label in chart.labels:
        margin = label.item.textItem.document().documentMargin()
        rects.append(label.item.textItem.sceneBoundingRect().adjusted(margin, margin, -margin, -margin))
    return rects


def test_parallel_labels_are_elided_to_the_room_between_axes(qtbot, families):
    from PySide6.QtGui import QFont, QFontMetricsF

    from modeldesk.gui.charts.parallel import LABEL_MARGIN, LABEL_PT

    project, ids = families
    view = open_view(qtbot, project, list(ids.values()))
    qtbot.waitExposed(view)
    view.show_tab("parallel")
    view.set_parallel(["estimator", "learning_rate", "max_depth", "n_estimators", "scaler"], "val_auc")
    chart = view.parallel
    names = {label.full: label for label in chart.labels if label.axis == 0 and label.side}
    assert set(names) == {"GradientBoostingClassifier", "LogisticRegression", "RandomForestClassifier",
                          "SGDClassifier"}
    qtbot.waitUntil(lambda: names["RandomForestClassifier"].shown.endswith("…"), timeout=WAIT)   # laid out
    vb = chart.plot.vb
    spacing = vb.mapViewToScene(QPointF(1, 0)).x() - vb.mapViewToScene(QPointF(0, 0)).x()
    font = QFont(names["SGDClassifier"].item.textItem.font())
    font.setPointSizeF(LABEL_PT)
    metrics = QFontMetricsF(font)
    rects = dict(zip((id(label) for label in chart.labels), label_rects(chart)))
    next_axis = vb.mapViewToScene(QPointF(1, 0)).x()
    for full, label in names.items():
        assert label.item.toolTip() == full                      # the whole name stays at hand
        assert label.item.textItem.toPlainText() == label.shown
        assert metrics.horizontalAdvance(label.shown) <= spacing - LABEL_MARGIN
        assert rects[id(label)].right() <= next_axis             # stops before the next axis
    assert names["SGDClassifier"].shown == "SGDClassifier"       # short enough: whole
    assert names["GradientBoostingClassifier"].shown.startswith("Gradient")
    assert names["GradientBoostingClassifier"].shown.endswith("…")
    every = label_rects(chart)
    overlaps = [(a.full, b.full) for i, (a, ra) in enumerate(zip(chart.labels, every))
                for b, rb in zip(chart.labels[i + 1:], every[i + 1:]) if ra.intersects(rb)]
    assert overlaps == []                                        # no label runs into another

    # wider: the names are elided again, to the new room
    view.resize(2400, 800)
    qtbot.waitUntil(lambda: names["RandomForestClassifier"].shown == "RandomForestClassifier", timeout=WAIT)
    assert all(label.shown == full for full, label in names.items())


def test_curves_legend_is_translucent_and_keeps_off_the_curves(qtbot, qapp):
    """Rising curves fill the top of the plot: the legend moves to the empty bottom-right corner."""
    steps = np.arange(200, dtype="float64")
    histories = {f"run{i}".ljust(32, "0"): history.History(steps, 0.95 - 0.3 * np.exp(-steps / (4 + i)) - 0.02 * i,
                                                       T0 + steps, T0) for i in range(3)}
    chart = chart_with(qtbot, histories)
    legend = chart.plot("loss").legend
    assert legend is not None and len(legend.items) == 3         # kept: one entry per run
    assert legend.brush().color().alpha() < 255                  # curves behind it show through
    assert chart.legend_corner == "bottom-right"
    chart.view.grab()                                            # a paint: the view takes its auto range
    vb = chart.plot("loss").vb
    box = vb.mapSceneToView(legend.sceneBoundingRect()).boundingRect()
    for rid in histories:
        x, y = chart.curve(rid, "loss").getData()
        assert not np.any((x >= box.left()) & (x <= box.right()) & (y >= box.top()) & (y <= box.bottom()))


def test_curves_note_names_the_runs_without_history(qtbot, families):
    project, ids = families
    view = open_view(qtbot, project, list(ids.values()))
    chart = view.curves
    assert chart.metrics == ["loss"] and set(chart.curves("loss")) == {ids["gbm"], ids["sgd"]}
    assert chart.runs_without_curve("loss") == ([ids["logreg"], ids["rf"]], [ids["sgd"]])
    note = chart.note("loss")
    assert note == "Not shown (not logged): logreg, rf  ·  A single value (a dot): sgd"
    item = chart.plot("loss").layout.itemAt(4, 1)                # under the plot's bottom axis
    assert item.full == note and item.isVisible()
    assert item.toolTip() == "Not shown (not logged): logreg, rf\nA single value (a dot): sgd"
    # every run logged val_auc, but only gbm more than once
    with qtbot.waitSignal(view.curvesLoaded, timeout=WAIT):
        view.set_metrics(["val_auc"])
    assert chart.runs_without_curve("val_auc") == ([], [ids["sgd"], ids["logreg"], ids["rf"]])
    assert chart.note("val_auc") == "A single value (a dot): sgd, logreg, rf"
    assert "gbm" not in chart.note("val_auc")


def test_export_table_to_csv(qtbot, three_runs, tmp_path):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    path = view.export_csv(str(tmp_path / "all.csv"))
    rows = list(csv.reader(open(path, encoding="utf-8")))
    assert rows[0] == ["section", "key", *(f"{n} ({ids[n][:8]})" for n in "abc"), "differs"]
    assert ["Params", "depth", "8", "8", "8", "no"] in rows
    assert ["Params", "lr", "0.1", "0.01", "0.001", "yes"] in rows
    assert rows[-2][:3] == ["Summary", "Same data", "no"] and rows[-1][:3] == ["Summary", "Same packages", "yes"]
    view.set_only_differences(True)
    rows = list(csv.reader(open(view.export_csv(str(tmp_path / "diff.csv")), encoding="utf-8")))
    keys = [r[1] for r in rows[1:-2]]
    assert "depth" not in keys and "lr" in keys and "train (training)" in keys


@pytest.mark.parametrize("tab", ["table", "curves", "scatter", "parallel"])
def test_export_chart_to_png(qtbot, three_runs, tmp_path, tab):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    view.show_tab(tab)
    qtbot.wait(50)
    path = view.export_png(str(tmp_path / f"{tab}.png"))
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(path)
    assert not image.isNull() and image.width() > 300 and image.height() > 200


def test_ctrl_c_copies_table_cells_as_tsv(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    model = view.table_model
    row = model.find(cmp.PARAMS, "lr")
    selection = view.table.selectionModel()
    selection.select(model.index(row, 0), selection.SelectionFlag.Select)
    selection.select(model.index(row, 2), selection.SelectionFlag.Select)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "lr\t0.01"


def test_open_compare_is_a_non_modal_window(qtbot, three_runs):
    project, ids = three_runs
    window = open_compare(project, list(ids.values()))
    qtbot.addWidget(window)
    qtbot.waitSignal(window.comparisonLoaded, timeout=WAIT).wait()
    assert isinstance(window, CompareView) and window.isWindow() and window.isVisible()
    assert window.windowTitle().startswith("Compare 3 runs")


def test_ten_long_histories_load_without_freezing_the_gui(qtbot, md, qapp):
    """10 runs x 100,000 points: histories load in workers; the event loop never stalls long."""
    md.set_experiment("long")
    ids = []
    steps = np.arange(100_000)
    for i in range(10):
        with md.start_run(name=f"long-{i}") as run:
            md.log_param("seed", i)
            values = np.exp(-steps / 20_000) + 0.01 * i
            for step, value in zip(steps.tolist(), values.tolist()):
                md.log_metric("loss", value, step=step)
        ids.append(run.id)
    md.flush()
    view = open_view(qtbot, md.get_project(), ids)
    assert len(view.curves.curves("loss")) == 10
    assert len(view.curves.curve_data(ids[0], "loss")[0]) == 100_000
    # What keeps the GUI responsive: each curve draws a peak-preserving preview,
    # not its 100,000 points (the stall itself is measured in bench_gui.py).
    assert all(view.curves.shown_points(rid, "loss") < 20_000 for rid in ids)


def test_pyside_refcount_workaround_survives_many_void_calls_and_emits(qapp):
    """PySide6 6.12.0 drops a reference to None per void call and to True per emit (see gui/qt_compat)."""
    import sys

    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    for _ in range(200_000):   # far more than None/True have references without the workaround
        probe.setObjectName("x")
        probe.ping.emit()
    assert sys.getrefcount(None) > 0 and sys.getrefcount(True) > 0   # and no "Fatal Python error"


def test_live_run_curves_grow_on_refresh(qtbot, three_runs):
    """The main window calls refresh_live() when another process wrote to the file."""
    import modeldesk as md

    project, ids = three_runs
    live = md.start_run(name="live")
    md.log_param("lr", 0.5)
    for step in range(10):
        md.log_metric("loss", 1.0 / (step + 1), step=step)
    md.flush()
    view = open_view(qtbot, project, [ids["a"], live.id])
    view.set_only_differences(True)
    assert len(view.curves.curve_data(live.id, "loss")[0]) == 10
    for step in range(10, 25):
        md.log_metric("loss", 1.0 / (step + 1), step=step)
    md.log_metric("val_auc", 0.7, step=0)
    md.flush()
    with qtbot.waitSignal(view.curvesLoaded, timeout=WAIT):
        with qtbot.waitSignal(view.refreshed, timeout=WAIT):
            view.refresh_live()
    assert len(view.curves.curve_data(live.id, "loss")[0]) == 25
    assert view.checked_metrics() == ["loss"] and view.table_model.only_differences   # choices kept
    assert "val_auc" in [view.metric_list.item(i).text() for i in range(view.metric_list.count())]
    md.end_run()
    md.flush()
    with qtbot.waitSignal(view.refreshed, timeout=WAIT):
        view.refresh_live()
    assert all(r.status == "FINISHED" for r in view.comparison.runs)
    with qtbot.assertNotEmitted(view.refreshed, wait=100):
        view.refresh_live()                      # nothing runs any more: nothing to re-read


# -- long histories: previews, zoom, interactions that stay responsive ----------------------------------
def long_histories(n_runs=10, points=1_000_000, buckets=None):
    """``n_runs`` noisy histories of ``points`` points (steps and timestamps shared), with previews."""
    from modeldesk.gui.charts.curves import preview_buckets

    steps = np.arange(points, dtype="float64")
    stamps = T0 + steps * 0.01
    rng = np.random.default_rng(7)
    buckets = buckets or preview_buckets()
    return {f"run{i:02d}".ljust(32, "0"): history.History(steps, np.exp(-steps / 2e5) + 0.01 * i
                                                      + rng.normal(0, 0.02, points), stamps, T0).with_preview(buckets)
            for i in range(n_runs)}


def chart_with(qtbot, histories, chart=None):
    from modeldesk.gui.charts.curves import CurvesChart
    from modeldesk.gui.kit.theme import run_colour

    chart = chart or CurvesChart()
    qtbot.addWidget(chart)
    chart.resize(1000, 600)
    chart.show()
    chart.set_runs([(rid, f"r{i}", run_colour(i), ("loss",)) for i, rid in enumerate(histories)])
    chart.set_metrics(["loss"])
    for rid, series in histories.items():
        chart.set_history(rid, "loss", series)
    qtbot.waitUntil(lambda: chart.idle and len(chart.curves("loss")) == len(histories), timeout=WAIT)
    return chart


def test_long_curves_draw_their_preview_and_full_data_when_zoomed_in(qtbot, qapp):
    histories = long_histories(n_runs=2, points=200_000, buckets=1000)
    chart = chart_with(qtbot, histories)
    rid = next(iter(histories))
    assert not chart.shows_full(rid, "loss") and chart.shown_points(rid, "loss") <= 2002
    x, y = chart.curve_data(rid, "loss")                        # the data behind the curve is all there
    assert len(x) == 200_000 and y is histories[rid].values
    plot = chart.plot("loss")
    plot.setXRange(100_000, 102_000, padding=0)                 # 1%: beyond what the preview resolves
    qtbot.waitUntil(lambda: chart.idle and chart.shows_full(rid, "loss"), timeout=WAIT)
    shown_x = chart.curve(rid, "loss").getOriginalDataset()[0]
    assert shown_x[0] <= 100_000 and shown_x[-1] >= 102_000 and len(shown_x) < 10_000   # a slice around the view
    plot.setXRange(150_000, 152_000, padding=0)                 # panned out of the slice: a new one
    qtbot.waitUntil(lambda: chart.idle and chart.curve(rid, "loss").getOriginalDataset()[0][-1] >= 152_000,
                    timeout=WAIT)
    plot.enableAutoRange()                                      # all in view again: the preview
    qtbot.waitUntil(lambda: chart.idle and not chart.shows_full(rid, "loss"), timeout=WAIT)
    assert chart.shown_points(rid, "loss") <= 2002

    # the readout under the mouse reads the full history, not the preview
    chart.set_x_mode("relative")
    qtbot.waitUntil(lambda: chart.idle, timeout=WAIT)
    chart.plot("loss").setXRange(1234.5, 1234.6, padding=0)    # 0.01 s a point: step 123,450
    qtbot.waitUntil(lambda: chart.idle, timeout=WAIT)
    (_x0, _x1), (y0, y1) = chart.plot("loss").vb.viewRange()     # y follows the data lazily: aim inside it now
    centre = chart.plot("loss").vb.mapViewToScene(QPointF(1234.55, (y0 + y1) / 2))
    chart.view.scene().sigMouseMoved.emit(centre)
    expected = histories[rid].values[123_455]
    assert f"<b>{expected:.5g}</b>" in chart.readout.text() and "r0" in chart.readout.text()


def test_legend_has_one_entry_per_run_and_hides_its_curves(qtbot, three_runs):
    project, ids = three_runs
    view = open_view(qtbot, project, list(ids.values()))
    with qtbot.waitSignal(view.curvesLoaded, timeout=WAIT):
        view.set_metrics(["loss", "val_auc"])
    legend = view.curves.plot("loss").legend
    assert [label.text for _sample, label in legend.items] == ["a", "b", "c"]      # once, in run order
    assert view.curves.plot("val_auc").legend is None
    sample, _label = legend.items[1]
    sample.item.setVisible(False)                               # what a click on the legend entry does
    assert not view.curves.curve(ids["b"], "loss").isVisible()
    assert not view.curves.curve(ids["b"], "val_auc").isVisible()
    assert view.curves.curve(ids["a"], "val_auc").isVisible()
    sample.item.setVisible(True)
    assert view.curves.curve(ids["b"], "val_auc").isVisible()


def test_x_axis_smoothing_and_zoom_on_ten_million_points_keep_the_gui_responsive(qtbot, qapp):
    """10 x 1,000,000 points: each interaction redraws previews (or a slice) a few curves per turn."""
    from modeldesk.gui.compare.compare_panels import CurvesPanel

    histories = long_histories()
    panel = CurvesPanel(project=None)
    panel.resize(1200, 700)
    chart = chart_with(qtbot, histories, panel.chart)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: chart.idle, timeout=WAIT)
    rid = next(iter(histories))

    def act(change, done):
        change()
        qtbot.waitUntil(lambda: done() and chart.idle, timeout=WAIT)

    # Each interaction redraws previews, never the 1,000,000 points of a curve
    # (how long the GUI thread is blocked is measured in bench_gui.py).
    act(lambda: panel.x_mode.setCurrentIndex(2), lambda: chart.x_mode == "wall")
    np.testing.assert_array_equal(chart.curve_data(rid, "loss")[0], histories[rid].timestamps)
    assert not chart.shows_full(rid, "loss") and chart.shown_points(rid, "loss") < 20_000
    act(lambda: panel.smoothing.setValue(90), lambda: chart.smoothing == 0.9 and not panel._smoothing_busy)
    np.testing.assert_allclose(chart.curve_data(rid, "loss")[1], history.ema(histories[rid].values, 0.9))
    assert not chart.shows_full(rid, "loss") and chart.shown_points(rid, "loss") < 20_000
    act(lambda: panel.x_mode.setCurrentIndex(0), lambda: chart.x_mode == "step")
    plot = chart.plot("loss")
    act(lambda: plot.setXRange(400_000, 410_000, padding=0), lambda: chart.shows_full(rid, "loss"))
    shown_x = chart.curve(rid, "loss").getOriginalDataset()[0]
    assert shown_x[0] <= 400_000 and shown_x[-1] >= 410_000 and len(shown_x) < 100_000   # a slice, not all


def test_clicked_run_is_selected_in_the_main_windows_runs_table(qtbot, window, three_runs, project_path, gui):
    """A comparison opened from the Experiments view selects there the run clicked in its charts."""
    from modeldesk.gui.experiments.runs_model import RunIdRole

    project, ids = three_runs
    window.open(project_path)
    experiments = window.experiments
    gui.wait_table(qtbot, experiments)
    qtbot.waitUntil(lambda: experiments.model.rowCount() == 3, timeout=WAIT)
    experiments.compare(list(ids.values()))
    view = next(w for w in experiments.findChildren(CompareView))
    qtbot.waitUntil(lambda: view.comparison is not None and not view.loading_curves, timeout=WAIT)
    qtbot.waitExposed(view)
    view.show_tab("scatter")
    view.set_scatter_axes("params.lr", "metrics.val_auc")
    qtbot.wait(100)
    graphics = view.scatter.view
    point = graphics.mapFromScene(view.scatter.scene_position(ids["b"]))
    qtbot.mouseClick(graphics.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point.x(), point.y()))
    table = experiments.table
    qtbot.waitUntil(lambda: experiments.model.data(table.currentIndex(), RunIdRole) == ids["b"], timeout=WAIT)
    assert [experiments.model.data(experiments.model.index(r, 0), RunIdRole) for r in experiments.selected_rows()] \
        == [ids["b"]]

    # a run the current filter hides: the footer says why nothing was selected
    experiments.filter_bar.set_filter("params.kernel = 'rbf'")
    qtbot.waitUntil(lambda: experiments.model.rowCount() == 2 and not experiments.model.loading, timeout=WAIT)
    view.show_tab("parallel")
    line = view.parallel.lines[ids["b"]]
    line.sigClicked.emit(line, None)
    qtbot.waitUntil(lambda: "not in this list" in experiments.footer.text(), timeout=WAIT)
    view.close()


def test_a_first_metric_logged_once_does_not_squeeze_the_other_plots(qtbot, qapp):
    """The plots share the first one's x axis: it must span every plot's steps, not only its own dot."""
    from modeldesk.gui.charts.curves import CurvesChart
    from modeldesk.gui.kit.theme import run_colour

    chart = CurvesChart()
    qtbot.addWidget(chart)
    chart.resize(1000, 600)
    chart.show()
    runs = ["a".ljust(32, "0"), "b".ljust(32, "0")]
    chart.set_runs([(rid, rid[0], run_colour(i), ("accuracy", "loss")) for i, rid in enumerate(runs)])
    chart.set_metrics(["accuracy", "loss"])
    steps = np.arange(200, dtype="float64")
    for i, rid in enumerate(runs):
        chart.set_history(rid, "accuracy", history.History(np.zeros(1), np.array([0.9 + i / 100]), np.array([T0]), T0))
        chart.set_history(rid, "loss", history.History(steps, 1 / (steps + 1), T0 + steps, T0))
    qtbot.waitUntil(lambda: chart.idle and len(chart.curves("loss")) == 2, timeout=WAIT)
    qtbot.waitUntil(lambda: chart.plot("loss").vb.viewRange()[0][1] >= 199, timeout=WAIT)
    (x0, x1), (y0, y1) = chart.plot("loss").vb.viewRange()
    assert x0 <= 0 and x1 >= 199 and x1 < 260          # all 200 steps in view, not -0.5..0.5
    assert y0 <= 0.005 and y1 >= 1.0                   # y still follows each plot's own data
    (_a0, _a1), (ay0, ay1) = chart.plot("accuracy").vb.viewRange()
    assert ay0 < 0.9 and ay1 > 0.91 and ay1 < 1.0      # the span item adds nothing to y

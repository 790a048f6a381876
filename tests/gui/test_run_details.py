"""The run details window, on a project built through the public API."""

from __future__ import annotations

import os
import platform
import sqlite3

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PySide6.QtCore import QBuffer, QIODevice, Qt, QThreadPool  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter  # noqa: E402

from modeldesk.gui.runs.run_details import RunDetailsWidget, open_run_details  # noqa: E402

WAIT = 10_000


def png_bytes(width=120, height=80) -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    painter = QPainter(image)
    painter.fillRect(10, 10, 40, 30, QColor("#ffcc00"))
    painter.end()
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(buf.data())


@pytest.fixture(autouse=True)
def _workers_done():
    yield
    QThreadPool.globalInstance().waitForDone(10_000)


@pytest.fixture
def logged_run(md, qapp):
    """One finished run with params, two metric histories, tags, a dataset and artifacts."""
    md.set_experiment("churn")
    frame = pd.DataFrame({"age": np.arange(50) % 40 + 18, "plan": ["basic", "pro"] * 25, "churned": [0, 1] * 25})
    image = png_bytes()
    with md.start_run(name="rf-200") as run:
        md.log_params({"n_estimators": 200, "max_depth": 8})
        for step in range(30):
            md.log_metric("loss", 1.0 / (step + 1), step=step)
            md.log_metric("val_auc", 0.5 + step / 100, step=step)
        md.set_tags({"owner": "ana"})
        md.log_dataset(frame, name="train", role="training", target="churned")
        md.log_artifact(image, name="plot.png")
        md.log_artifact(b"hello\nnotes\n", name="notes.txt")
        md.log_metric("accuracy", 0.9)        # a final score: one point
    md.flush()
    return md.get_project(), run.id, image


def open_widget(qtbot, project, run_id) -> RunDetailsWidget:
    widget = RunDetailsWidget(project, run_id)
    qtbot.addWidget(widget)
    widget.resize(1100, 750)
    with qtbot.waitSignal(widget.loaded, timeout=WAIT):
        widget.show()
    return widget


def cells(view) -> list[list[str]]:
    model = view.model()
    return [[model.data(model.index(r, c)) for c in range(model.columnCount())] for r in range(model.rowCount())]


def test_details_show_params_metrics_tags_datasets_environment_artifacts(qtbot, logged_run):
    project, run_id, _ = logged_run
    widget = open_widget(qtbot, project, run_id)
    assert widget.title.text() == "rf-200"
    assert "FINISHED" in widget.status.text()
    assert run_id in widget.subtitle.text()
    assert cells(widget.params_table) == [["max_depth", "8"], ["n_estimators", "200"]]
    assert cells(widget.metrics_table) == [["accuracy", "0.9"], ["loss", f"{1 / 30:.6g}"], ["val_auc", "0.79"]]
    assert cells(widget.tags_table) == [["owner", "ana"]]

    datasets = cells(widget.datasets_table)
    assert datasets[0][:5] == ["train", "training", "churned", "50", "3"]
    profile = {row[0]: row for row in cells(widget.profile_table)}
    assert set(profile) == {"age", "plan", "churned  (target)"}
    assert profile["age"][1] == "numerical" and profile["age"][8] == "18"       # min
    assert "basic (25)" in profile["plan"][13]                                   # top categories
    assert "50 rows" in widget.profile_title.text()

    assert widget.env_labels["Python"].text().startswith(platform.python_version())
    packages = dict((r[0], r[1]) for r in cells(widget.packages_table))
    assert packages["numpy"] == np.__version__
    widget.package_filter.setText("pand")
    assert [r[0] for r in cells(widget.packages_table)] == ["pandas"]

    assert [r[0] for r in cells(widget.artifacts_table)] == ["notes.txt", "plot.png"]


def test_datasets_table_keeps_numbers_under_their_headers(qtbot, logged_run):
    from PySide6.QtWidgets import QHeaderView

    from modeldesk.gui.runs.run_details import DATASET_HEADERS

    project, run_id, _ = logged_run
    widget = open_widget(qtbot, project, run_id)
    widget.tabs.setCurrentIndex(2)
    table = widget.datasets_table
    header = table.horizontalHeader()
    fingerprint, last = DATASET_HEADERS.index("Fingerprint"), len(DATASET_HEADERS) - 1
    assert not header.stretchLastSection()
    assert header.sectionResizeMode(fingerprint) == QHeaderView.ResizeMode.Stretch
    assert all(header.sectionResizeMode(c) == QHeaderView.ResizeMode.Interactive
               for c in range(header.count()) if c != fingerprint)
    qtbot.waitUntil(lambda: header.length() == table.viewport().width())   # the spare width is taken ...
    assert header.sectionSize(fingerprint) > table.sizeHintForColumn(fingerprint)   # ... by the fingerprint
    # "Sample rows" is as wide as its header or number, so the number sits under the header.
    assert header.sectionSize(last) == max(table.sizeHintForColumn(last), header.sectionSizeHint(last))
    assert header.sectionSize(last) < 2 * header.fontMetrics().horizontalAdvance(DATASET_HEADERS[last])


def test_details_draws_each_metric_curve(qtbot, logged_run):
    project, run_id, _ = logged_run
    widget = RunDetailsWidget(project, run_id)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.curvesLoaded, timeout=WAIT):
        widget.show()
    # metrics with a history are plotted first; a single final score is left unticked
    assert widget.checked_metrics() == ["loss", "val_auc"]
    assert [widget.metric_list.item(i).text() for i in range(3)] == [
        "accuracy  (1 point)", "loss  (30 points)", "val_auc  (30 points)"]
    x, y = widget.curves.curve_data(run_id, "loss")
    np.testing.assert_array_equal(x, np.arange(30))
    np.testing.assert_allclose(y, 1.0 / (np.arange(30) + 1))
    with qtbot.waitSignal(widget.curvesLoaded, timeout=WAIT):
        widget.show_metrics(["val_auc"])
    assert widget.curves.metrics == ["val_auc"]
    assert widget.curves.curve(run_id, "loss") is None
    assert len(widget.curves.curve_data(run_id, "val_auc")[1]) == 30


def test_artifact_image_preview_and_text_preview(qtbot, logged_run):
    project, run_id, _ = logged_run
    widget = open_widget(qtbot, project, run_id)
    widget.tabs.setCurrentIndex(4)
    with qtbot.waitSignal(widget.previewReady, timeout=WAIT) as blocker:
        widget.select_artifact("plot.png")
    assert blocker.args == ["plot.png"]
    assert widget.preview.currentIndex() == 1
    assert (widget.preview_image.width(), widget.preview_image.height()) == (120, 80)
    assert widget.preview_image.pixelColor(20, 20) == QColor("#ffcc00")
    assert not widget.image_preview.pixmap().isNull()
    with qtbot.waitSignal(widget.previewReady, timeout=WAIT):
        widget.select_artifact("notes.txt")
    assert widget.preview.currentWidget() is widget.text_preview
    assert widget.text_preview.toPlainText() == "hello\nnotes\n"


def test_clicking_an_artifact_row_previews_it(qtbot, logged_run):
    project, run_id, _ = logged_run
    widget = open_widget(qtbot, project, run_id)
    widget.tabs.setCurrentIndex(4)
    with qtbot.waitSignal(widget.previewReady, timeout=WAIT) as blocker:
        widget.artifacts_table.selectRow(1)
    assert blocker.args == ["plot.png"] and widget.save_button.isEnabled()


def test_save_as_writes_identical_bytes(qtbot, logged_run, tmp_path):
    project, run_id, image = logged_run
    widget = open_widget(qtbot, project, run_id)
    target = tmp_path / "saved.png"
    with qtbot.waitSignal(widget.artifactSaved, timeout=WAIT) as blocker:
        widget.save_artifact(str(target), path="plot.png")
    assert blocker.args == [str(target)]
    assert target.read_bytes() == image


def test_changed_artifact_is_refused_not_shown(qtbot, logged_run, tmp_path):
    project, run_id, image = logged_run
    conn = sqlite3.connect(project.path)       # someone edits the file behind ModelDesk's back
    conn.execute("UPDATE blob_chunks SET data = ? WHERE sha256 ="
                 " (SELECT sha256 FROM artifacts WHERE path = 'plot.png')", (image[:-1] + b"\x00",))
    conn.commit()
    conn.close()
    widget = open_widget(qtbot, project, run_id)
    with qtbot.waitSignal(widget.failed, timeout=WAIT) as blocker:
        widget.select_artifact("plot.png")
    assert "plot.png" in blocker.args[0]
    assert widget.preview.currentWidget() is widget.preview_message
    target = tmp_path / "x.png"
    with qtbot.waitSignal(widget.failed, timeout=WAIT):
        widget.save_artifact(str(target), path="plot.png")
    assert not target.exists()


def test_ctrl_c_copies_selected_cells_as_tsv(qtbot, logged_run):
    project, run_id, _ = logged_run
    widget = open_widget(qtbot, project, run_id)
    view = widget.params_table
    view.setFocus()
    view.selectAll()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "max_depth\t8\nn_estimators\t200"


def test_unknown_run_shows_the_error(qtbot, md):
    widget = RunDetailsWidget(md.get_project(), "does-not-exist")
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.failed, timeout=WAIT) as blocker:
        widget.show()
    assert "does-not-exist" in blocker.args[0]
    assert widget.error_label.isVisibleTo(widget)


def test_open_run_details_is_a_non_modal_window(qtbot, logged_run):
    project, run_id, _ = logged_run
    window = open_run_details(project, run_id)
    qtbot.addWidget(window)
    qtbot.waitSignal(window.loaded, timeout=WAIT).wait()
    assert window.isWindow() and window.isVisible() and not window.isModal()
    assert "rf-200" in window.windowTitle()
    assert (window.width(), window.height()) == (1200, 800)
    window.showMinimized()
    assert open_run_details(project, run_id) is window      # the same run again: that window, brought back
    assert not window.isMinimized()
    other_id = log_other_run()
    other = open_run_details(project, other_id)              # another run: a window of its own
    qtbot.addWidget(other)
    assert other is not window and other.run_id == other_id


def log_other_run() -> str:
    """A second finished run in the fluent API's current project; its id."""
    import modeldesk as md

    with md.start_run(name="other") as run:
        md.log_metric("loss", 0.5)
    md.flush()
    return run.id


def test_models_tab_shows_the_signature(qtbot, md, qapp):
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"age": np.arange(40) % 30 + 20.0, "visits": np.arange(40) % 5})
    target = (frame.age > 30).astype(int)
    with md.start_run(name="lr") as run:
        md.log_model(LogisticRegression().fit(frame, target), input_example=frame.head(3))
    md.flush()
    widget = open_widget(qtbot, md.get_project(), run.id)
    assert cells(widget.models_table)[0][:2] == ["model", "sklearn.linear_model._logistic.LogisticRegression"]
    assert cells(widget.signature_table) == [["age", "double", "no", ""], ["visits", "long", "no", ""]]
    assert "classes 0, 1" in widget.signature_title.text()


def test_live_run_details_refresh(qtbot, md):
    live = md.start_run(name="live")
    for step in range(5):
        md.log_metric("loss", 1.0 / (step + 1), step=step)
    md.flush()
    widget = RunDetailsWidget(md.get_project(), live.id)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.curvesLoaded, timeout=WAIT):
        widget.show()
    assert "RUNNING" in widget.status.text()
    for step in range(5, 12):
        md.log_metric("loss", 1.0 / (step + 1), step=step)
    md.log_metric("val_auc", 0.8, step=0)
    md.flush()
    with qtbot.waitSignal(widget.refreshed, timeout=WAIT):
        widget.refresh_live()
    assert len(widget.curves.curve_data(live.id, "loss")[0]) == 12
    assert [widget.metric_list.item(i).text() for i in range(2)] == ["loss  (12 points)", "val_auc  (1 point)"]
    assert cells(widget.metrics_table)[1] == ["val_auc", "0.8"]
    md.end_run()
    md.flush()
    with qtbot.waitSignal(widget.refreshed, timeout=WAIT):
        widget.refresh_live()
    assert "FINISHED" in widget.status.text()


def test_only_ticked_metric_histories_are_loaded(qtbot, logged_run):
    """Points are counted up front; histories are read for ticked metrics and freed when unticked."""
    project, run_id, _ = logged_run
    widget = RunDetailsWidget(project, run_id)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.curvesLoaded, timeout=WAIT):
        widget.show()
    chart = widget.curves
    assert [chart.has_history(run_id, m) for m in ("accuracy", "loss", "val_auc")] == [False, True, True]
    with qtbot.waitSignal(widget.curvesLoaded, timeout=WAIT):
        widget.show_metrics(["accuracy"])
    assert [chart.has_history(run_id, m) for m in ("accuracy", "loss", "val_auc")] == [True, False, False]
    x, y = chart.curve_data(run_id, "accuracy")
    assert len(x) == 1 and y[0] == pytest.approx(0.9)
    assert chart.curve(run_id, "accuracy").opts["symbol"] == "o"     # one point: drawn as a dot
    with qtbot.waitSignal(widget.curvesLoaded, timeout=WAIT):
        widget.metric_list.item(1).setCheckState(Qt.CheckState.Checked)   # tick loss again, as a user would
    assert widget.checked_metrics() == ["accuracy", "loss"] and chart.has_history(run_id, "loss")
    assert len(chart.curve_data(run_id, "loss")[0]) == 30

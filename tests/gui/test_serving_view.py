"""The Serving view with real `modeldesk serve` child processes: start from the
view, live figures from /metrics, curl example, events, Stop; quitting the
app asks and stops its servers; the batch-scoring dialog with progress,
rejected rows and Cancel. No server process outlives a test."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from support.data import breast_cancer
from support.registry import log_run, logreg

START_MS = 20_000
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _child_servers() -> list[int]:
    """Pids of `modeldesk … serve` processes whose parent is this test process."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if ppid == os.getpid() and b"modeldesk" in args and b"serve" in args:
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True)
def no_server_left_behind(qtbot):
    """Fail a test that leaves a server process running, and kill it. (Asks for qtbot so that
    it runs before qtbot closes the widgets: a main window with servers would ask first.)"""
    yield
    for widget in QApplication.topLevelWidgets():
        view = getattr(widget, "serving", None) or (widget if hasattr(widget, "confirm_quit") else None)
        if view is not None:
            view.stop_all(wait=True)
    left = _child_servers()
    for pid in left:
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    assert not left, f"server processes left running: {left}"


@pytest.fixture
def served(md, project_path):
    """A project with the breast-cancer pipeline logged, registered as cancer v1, alias staging."""
    from modeldesk.core.registry import aliases

    X, y = breast_cancer()
    run_id = log_run(md, name="cancer")
    mv = md.register_model(f"runs:/{run_id}/model", "cancer")
    aliases.set_alias(md.get_project(), "cancer", "staging", mv.version)
    return SimpleNamespace(path=project_path, run_id=run_id, X=X, y=y)


@pytest.fixture
def project(served):
    from modeldesk.core.storage.project import open_project

    proj = open_project(served.path, create=False)
    yield proj
    proj.close()


@pytest.fixture
def sview(qtbot, project):
    from modeldesk.gui.serving.serving_view import ServingView

    v = ServingView()
    qtbot.addWidget(v)
    v.resize(1140, 760)
    v.set_project(project)
    v.show()
    yield v
    v.stop_all(wait=True)


def wait_running(qtbot, server, timeout=START_MS):
    qtbot.waitUntil(lambda: server.status == "failed" or (server.url is not None and server.version is not None
                                                          and server.metadata is not None), timeout=timeout)
    assert server.status == "running", server.status_text() + "\n" + "\n".join(server.log)


def post(url: str, body, path: str = "/predict") -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with OPENER.open(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def click_message_box(qtbot, button_text: str, seen: list) -> None:
    """Answer the next modal message box by clicking ``button_text`` (recording its text)."""
    def answer():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, answer)
            return
        seen.append(box.text())
        for button in box.buttons():
            if button.text().replace("&", "") == button_text:
                button.click()
                return
        box.reject()

    QTimer.singleShot(50, answer)


# -- the view ------------------------------------------------------------------------------
def test_empty_state_says_how_to_serve(sview):
    assert sview.stack.currentWidget() is sview.empty
    assert sview.empty.title.text() == "No model server running"
    assert "modeldesk serve models:/NAME@production" in sview.empty.body.text()
    assert sview.empty.buttons["Serve a model…"].isEnabled()


def test_serve_dialog_lists_aliases_and_versions_and_refuses_bad_uris(qtbot, sview):
    dialog = sview.open_serve_dialog()
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 1 and dialog.tree.topLevelItem(0).childCount() == 2)
    model = dialog.tree.topLevelItem(0)
    assert model.text(0) == "cancer"
    assert [model.child(i).text(0) for i in range(2)] == ["models:/cancer@staging", "models:/cancer/1"]
    dialog.tree.setCurrentItem(model.child(1))
    assert dialog.edit.text() == "models:/cancer/1"
    dialog.edit.setText("not a uri")
    dialog.accept()
    assert dialog.isVisible() and dialog.error.isVisible()
    assert "Bad model URI" in dialog.error.text()
    dialog.edit.setText("cancer@staging")          # the CLI's short form is accepted
    dialog.accept()
    assert not dialog.isVisible()
    server = sview.servers[0]
    assert server.uri == "models:/cancer@staging"
    wait_running(qtbot, server)


def test_serves_shows_live_traffic_and_stops(qtbot, sview, served):
    server = sview.serve("models:/cancer@staging")
    assert server is not None and sview.stack.currentWidget() is sview.content
    wait_running(qtbot, server)
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0
    row = sview.table.topLevelItem(0)
    qtbot.waitUntil(lambda: row.text(1) == server.url and row.text(2) == "1" and row.text(4) == "running")
    assert sview.serve("cancer@staging") is server          # not started twice
    assert len(sview.servers) == 1

    records = served.X.iloc[:4].to_dict(orient="records")
    for i in range(20):
        status, answer = post(server.url, {"records": [records[i % 4]]})
        assert status == 200 and answer["version"] == 1
    bad = dict(records[0], **{"mean radius": "oops"})
    for _ in range(3):
        assert post(server.url, {"records": [bad]})[0] == 400
    details = sview.details
    qtbot.waitUntil(lambda: server.history.last is not None and server.history.last.requests >= 23
                    and server.history.last.errors >= 3, timeout=10_000)
    qtbot.waitUntil(lambda: row.text(5) == "23" and row.text(6) == "3", timeout=5000)
    assert max(server.history.rps) > 0
    chart = details.chart
    assert chart is not None and not chart.showing_message and chart.points >= 1
    qtbot.waitUntil(lambda: details.errors.topLevelItemCount() == 1)
    assert [details.errors.topLevelItem(0).text(c) for c in range(3)] == ["wrong_type", "/predict", "3"]
    qtbot.waitUntil(lambda: "wrong_type" in details.error_lines.toPlainText())
    assert "requests/s" in details.stats.text() and "p50" in details.stats.text()
    assert "Serving models:/cancer@staging (version 1" in details.log_text.toPlainText()
    qtbot.waitUntil(lambda: details.events.topLevelItemCount() >= 1, timeout=10_000)
    assert details.events.topLevelItem(0).text(1) == "start"

    # the curl example, copied, is a command that works
    assert details.copy_curl_button.isEnabled()
    details.copy_curl_button.click()
    text = QApplication.clipboard().text()
    assert text == details.curl_text.toPlainText()
    assert text.startswith(f"curl -s -X POST {server.url}/predict") and "mean radius" in text
    if shutil.which("curl"):
        out = subprocess.run(shlex.split(text) + ["--noproxy", "*"], capture_output=True, text=True, timeout=20)
        assert json.loads(out.stdout)["predictions"] in ([0], [1])

    port, pid = server.port, server.pid
    sview.stop_button.click()
    qtbot.waitUntil(lambda: not sview.servers, timeout=START_MS)
    assert server.exit_code == 0 and server.status == "stopped"   # a clean stop (SIGTERM)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not port_open(port)
    assert sview.stack.currentWidget() is sview.empty
    from modeldesk.core.serving.served_model import list_events

    events = [e.event for e in list_events(sview.project) if e.model_uri == "models:/cancer@staging"]
    assert events[:2] == ["stop", "start"]


def test_a_server_that_cannot_start_says_why(qtbot, sview):
    server = sview.serve("models:/nope/1")
    qtbot.waitUntil(lambda: server.status == "failed", timeout=START_MS)
    assert "nope" in server.message
    row = sview.table.topLevelItem(0)
    qtbot.waitUntil(lambda: row.text(4).startswith("failed"))
    assert sview.stop_button.text() == "Remove"
    assert not sview.active_servers()
    sview.stop_button.click()
    assert not sview.servers and sview.stack.currentWidget() is sview.empty


def test_quitting_asks_then_stops_every_server(qtbot, served):
    from modeldesk.gui.main_window import MainWindow

    win = MainWindow(user="tester")
    qtbot.addWidget(win)
    win.show()
    win.open(served.path)
    qtbot.waitUntil(lambda: win.project is not None)
    win.serveRequested.emit("models:/cancer@staging")          # what the Models view's Serve sends
    assert win.views.currentWidget() is win.serving
    win.nav.setCurrentRow(1)                                    # one click on a version in the Models view
    win.models.select("cancer", 1)
    qtbot.waitUntil(lambda: win.models.current_version == 1 and win.models.actions.serve_action.isEnabled(),
                    timeout=10_000)
    win.models.actions.serve_action.trigger()
    assert win.views.currentWidget() is win.serving
    assert [s.uri for s in win.serving.servers] == ["models:/cancer@staging", "models:/cancer/1"]
    servers = list(win.serving.servers)
    assert len(servers) == 2
    for server in servers:
        wait_running(qtbot, server)
    ports = [s.port for s in servers]

    seen: list[str] = []
    click_message_box(qtbot, "Cancel", seen)
    win.close()
    assert seen == ["2 model servers are running. Stop them and quit?"]
    assert win.isVisible() and all(s.status == "running" for s in servers)

    click_message_box(qtbot, "Stop and Quit", seen)
    win.close()
    assert len(seen) == 2 and not win.isVisible()
    assert all(not s.alive for s in servers) and not win.serving.servers
    assert not any(port_open(p) for p in ports)
    assert not _child_servers()


# -- batch scoring -------------------------------------------------------------------------------
@pytest.fixture
def input_csv(tmp_path, served):
    import pandas as pd

    frame = pd.concat([served.X] * 10, ignore_index=True)   # ~1.3 MB: progress moves several times
    frame = frame.astype({"mean radius": object})
    for row in (3, 10, 4242):
        frame.loc[row, "mean radius"] = "oops"
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    return path


def test_scoring_dialog_scores_with_progress_and_reports_rejected_rows(qtbot, sview, input_csv, tmp_path):
    dialog = sview.open_scoring_dialog("models:/cancer@staging")
    qtbot.addWidget(dialog)
    dialog.chunk_rows = 200
    dialog.ask_input_path = lambda: str(input_csv)
    dialog._browse_input()
    assert dialog.output.text() == str(tmp_path / "patients_scored.csv")
    dialog.proba.setChecked(True)
    fractions: list[int] = []
    dialog.progress.valueChanged.connect(fractions.append)
    dialog.start()
    with qtbot.waitSignal(dialog.finishedRun, timeout=30_000) as done:
        pass
    summary = done.args[0]
    assert (summary.rows_read, summary.rows_scored, summary.rows_rejected) == (5690, 5687, 3)
    assert len(fractions) >= 3 and dialog.progress.value() == 1000
    assert "Scored 5,687 of 5,690 rows" in dialog.status.text()
    assert "Rejected 3 rows" in dialog.status.text()
    reasons = [(dialog.reasons.topLevelItem(i).text(0), dialog.reasons.topLevelItem(i).text(1))
               for i in range(dialog.reasons.topLevelItemCount())]
    assert reasons[0] == ("3", "column 'mean radius': is not a number")
    assert any(text == "e.g." for text, _ in reasons)
    import pandas as pd

    out = pd.read_csv(tmp_path / "patients_scored.csv")
    assert len(out) == 5687 and {"prediction", "proba_0", "proba_1"} <= set(out.columns)
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isEnabled()


def test_scoring_can_be_cancelled(qtbot, sview, served, tmp_path):
    import pandas as pd

    big = tmp_path / "big.csv"
    pd.concat([served.X] * 20, ignore_index=True).to_csv(big, index=False)
    dialog = sview.open_scoring_dialog("cancer/1")
    qtbot.addWidget(dialog)
    dialog.chunk_rows = 50
    dialog.input.setText(str(big))
    out = tmp_path / "big_scored.csv"
    assert dialog.output.text() == str(out)
    dialog.progress.valueChanged.connect(lambda value: value and dialog.cancel())
    dialog.start()
    assert dialog.cancel_button.isEnabled() and not dialog.start_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30_000)
    assert dialog.summary is None
    assert "Cancelled" in dialog.status.text()
    assert not out.exists() and not (tmp_path / "big_scored.csv.part").exists()
    assert dialog.start_button.isEnabled()


def test_scoring_dialog_needs_its_fields_and_reports_core_errors(qtbot, sview, tmp_path, input_csv):
    dialog = sview.open_scoring_dialog("")
    qtbot.addWidget(dialog)
    dialog.start()
    assert dialog.task is None and "Choose a model" in dialog.status.text()
    dialog.model.setEditText("models:/cancer/7")
    dialog.input.setText(str(input_csv))
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=20_000)
    assert "version" in dialog.status.text().lower() and dialog.summary is None


def test_the_view_follows_an_alias_to_its_new_version(qtbot, sview, served, md):
    from modeldesk.core.registry import aliases

    server = sview.serve("models:/cancer@staging")
    wait_running(qtbot, server)
    run_id = log_run(md, logreg(C=0.3), name="cancer-v2")
    v2 = md.register_model(f"runs:/{run_id}/model", "cancer")
    aliases.set_alias(md.get_project(), "cancer", "staging", v2.version)
    row = sview.table.topLevelItem(0)
    qtbot.waitUntil(lambda: row.text(2) == "2", timeout=START_MS)
    assert "version 2" in sview.details.title.text()
    qtbot.waitUntil(lambda: "switch" in [sview.details.events.topLevelItem(i).text(1)
                                         for i in range(sview.details.events.topLevelItemCount())], timeout=START_MS)


def test_metrics_history_turns_counters_into_rates():
    from modeldesk.gui.serving.serving_process import MetricsHistory, Totals

    def page(requests, errors, p50=None):
        samples = {
            'modeldesk_requests_total{endpoint="/predict",method="POST",status="200"}': requests - errors,
            'modeldesk_requests_total{endpoint="/predict",method="POST",status="400"}': errors,
            'modeldesk_requests_total{endpoint="/metrics",method="GET",status="200"}': 999,   # the app's own reads
            'modeldesk_request_errors_total{endpoint="/predict",code="wrong_type"}': errors,
        }
        if p50 is not None:
            samples['modeldesk_prediction_latency_seconds{quantile="0.5"}'] = p50
        return Totals.from_samples(samples)

    h = MetricsHistory(keep_s=10)
    h.add(100.0, page(0, 0))
    assert len(h) == 0                        # a rate needs two readings
    h.add(101.0, page(200, 10, 0.002))
    h.add(103.0, page(600, 10, 0.003))
    assert list(h.rps) == [200.0, 200.0] and list(h.eps) == [10.0, 0.0]
    assert list(h.p50_ms) == [2.0, 3.0] and h.last.errors_by_code == {("wrong_type", "/predict"): 10}
    h.add(104.0, page(50, 0))                 # the counters restarted: count from zero
    assert h.rps[-1] == 50.0
    h.add(120.0, page(60, 0))
    assert list(h.times) == [120.0]           # older than keep_s is dropped


def test_the_view_shows_the_file_size_and_what_the_log_takes(qtbot, sview, project):
    from modeldesk.core.serving.prediction_retention import set_retention

    set_retention(project, days=90)
    sview.set_project(None)
    sview.set_project(project)
    # the fixture's first set_project also asked for sizes: wait for the answer that knows the setting
    qtbot.waitUntil(lambda: "kept: 90 days" in sview.storage_label.text(), timeout=5000)
    text = sview.storage_label.text()
    assert text.startswith("Project file ") and (" KB" in text or " MB" in text)
    assert "prediction log" in text and "kept: 90 days" in text

"""The Audit view: the audit log as a table with filters and copy, an empty
state, and Verify catching an entry edited directly in SQLite."""

from __future__ import annotations

import json
import sqlite3

import pytest
from PySide6.QtGui import QGuiApplication

from modeldesk.core import audit
from modeldesk.core.registry import aliases, approvals
from modeldesk.core.registry import versions as registry
from modeldesk.core.storage.project import open_project
from modeldesk.core.text import fmt_time
from modeldesk.gui.audit.audit_view import ACTION, DETAILS, MODEL, SEQ, AuditView
from support.gui import shown_project_view
from support.registry import log_run, logreg


@pytest.fixture
def logged(md):
    """churn v1 promoted (ana asks, ben approves with a comment), v2 registered; fraud v1 registered."""
    md.set_experiment("churn")
    project = md.get_project()
    for name, run_id in (("churn", log_run(md, roc_auc=0.95)), ("churn", log_run(md, logreg(0.5), roc_auc=0.96)),
                         ("fraud", log_run(md, logreg(2.0), roc_auc=0.9))):
        registry.register_model(project, f"runs:/{run_id}/model", name, actor="ana")
    approvals.request_promotion(project, "churn", 1, actor="ana", comment="pilot")
    approvals.approve(project, "churn", 1, actor="ben", comment="AUC holds")
    return project


@pytest.fixture
def aview(qtbot):
    yield from shown_project_view(qtbot, AuditView, (1100, 700))


def show(qtbot, view, path):
    view.set_project(open_project(path, create=False))
    qtbot.waitUntil(lambda: view.loaded_once)


def column(view, col: int) -> list:
    return [view.proxy.index(r, col).data() for r in range(view.proxy.rowCount())]


def test_the_log_as_a_table(qtbot, aview, logged, project_path):
    show(qtbot, aview, project_path)
    entries = audit.list_entries(logged)
    assert aview.items.rowCount() == len(entries)
    headers = [aview.items.horizontalHeaderItem(c).text() for c in range(aview.items.columnCount())]
    assert headers == ["Seq", "Time", "Actor", "Action", "Model", "Version", "Details"]
    assert column(aview, SEQ) == [e.seq for e in entries]
    assert column(aview, ACTION)[:3] == ["model.create", "version.register", "version.register"]
    approve_row = column(aview, ACTION).index("request.approve")
    row = [aview.proxy.index(approve_row, c).data() for c in range(7)]
    assert row[2:6] == ["ben", "request.approve", "churn", 1]
    assert row[1] == fmt_time(entries[approve_row].time)   # local time, zone named (core.text)
    assert row[DETAILS].startswith("alias=production, comment=AUC holds, request_id=")
    assert aview.footer.text() == f"{len(entries)} entries"
    aview.select_seq(entries[approve_row].seq)
    text = aview.entry_text.toPlainText()
    assert entries[approve_row].hash in text and '"comment": "AUC holds"' in text


def test_filter_by_model_and_action_and_copy_rows(qtbot, aview, logged, project_path):
    show(qtbot, aview, project_path)
    models = [aview.model_filter.itemText(i) for i in range(aview.model_filter.count())]
    assert models == ["All models", "churn", "fraud"]
    aview.model_filter.setCurrentIndex(models.index("fraud"))
    assert set(column(aview, MODEL)) == {"fraud"} and column(aview, ACTION) == ["model.create", "version.register"]
    aview.set_filters("churn", "request")                       # a prefix, as on the CLI
    assert column(aview, ACTION) == ["request.create", "request.approve", "request.complete"]
    assert aview.footer.text().endswith("· 3 shown")
    i = aview.action_filter.findData("gate.run")
    assert i > 0 and aview.action_filter.itemText(i).strip() == "gate.run"
    aview.action_filter.setCurrentIndex(i)
    assert column(aview, ACTION) == ["gate.run"] * 4
    aview.set_filters("churn", "request")
    aview.table.selectAll()
    text = aview.copy_rows()
    lines = text.splitlines()
    assert len(lines) == 3 and lines[1].split("\t")[2:6] == ["ben", "request.approve", "churn", "1"]
    assert QGuiApplication.clipboard().text() == text
    copied = json.loads(aview.copy_json())
    assert [e["action"] for e in copied] == ["request.create", "request.approve", "request.complete"]


def test_verify_ok_shows_count_and_head_hash(qtbot, aview, logged, project_path):
    show(qtbot, aview, project_path)
    with qtbot.waitSignal(aview.verified, timeout=8000) as result:
        aview.verify_button.click()
    check = result.args[0]
    assert check.ok
    entries = audit.list_entries(logged)
    banner = aview.result.text()
    assert f"Audit log OK: {len(entries)} entries, chain intact; head #{entries[-1].seq} sha256 {entries[-1].hash}" \
        in banner
    assert "#1d7a3a" in aview.result.styleSheet()                # green
    assert aview.current_seq() == entries[-1].seq                # the head entry, whose hash is shown


def test_verify_catches_a_row_edited_in_sqlite(qtbot, aview, logged, project_path):
    entries = audit.list_entries(logged)
    target = next(e for e in entries if e.action == "request.approve")
    conn = sqlite3.connect(project_path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET details = ? WHERE seq = ?",
                 (json.dumps({**target.details, "comment": "rubber stamp"}), target.seq))
    conn.commit()
    conn.close()
    show(qtbot, aview, project_path)
    aview.set_filters("fraud", "")                                # the bad row is hidden by a filter...
    with qtbot.waitSignal(aview.verified, timeout=8000) as result:
        aview.verify()
    check = result.args[0]
    assert not check.ok and check.bad_seq == target.seq and check.problem == "edited"
    banner = aview.result.text()
    assert "Audit log check FAILED" in banner and f"Entry #{target.seq} (request.approve by ben" in banner
    assert "its content no longer matches its hash" in banner
    assert "audit_log_no_update was removed" in banner            # the warning about the dropped trigger
    assert "#b91c1c" in aview.result.styleSheet()                 # red
    assert aview.model_filter.currentData() == ""                 # ...so the filters are cleared
    assert aview.current_seq() == target.seq                      # and the bad entry is selected
    assert "rubber stamp" in aview.entry_text.toPlainText()


def test_no_entries_shows_an_empty_state(qtbot, aview, project_path):
    open_project(project_path).close()
    show(qtbot, aview, project_path)
    assert aview.stack.currentWidget() is aview.empty
    assert "No audit entries yet" in aview.empty.title.text()
    with qtbot.waitSignal(aview.verified, timeout=8000) as result:
        aview.verify()
    assert result.args[0].ok and "no entries yet" in aview.result.text()


def test_live_refresh_adds_new_entries(qtbot, aview, logged, project_path):
    show(qtbot, aview, project_path)
    before = aview.items.rowCount()
    aliases.set_alias(logged, "churn", "staging", 2, actor="cara")
    aview.refresh()
    qtbot.waitUntil(lambda: aview.items.rowCount() == before + 1)
    assert column(aview, ACTION)[-1] == "alias.set"


def test_a_change_while_hidden_waits_for_the_next_show(qtbot, aview, logged, project_path):
    show(qtbot, aview, project_path)
    before = aview.items.rowCount()
    aview.hide()
    aliases.set_alias(logged, "churn", "staging", 2, actor="cara")
    aview.refresh()                              # hidden: nothing loads, the view only remembers
    assert aview._stale and not aview.jobs.busy()
    qtbot.wait(200)
    assert aview.items.rowCount() == before
    aview.show()                                 # shown again: it catches up
    qtbot.waitUntil(lambda: aview.items.rowCount() == before + 1)
    assert not aview._stale and column(aview, ACTION)[-1] == "alias.set"

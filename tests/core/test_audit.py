"""The hash-chained audit log: every change is recorded, and editing, deleting
or reordering any entry directly in SQLite is caught by verify."""

from __future__ import annotations

import sqlite3

import pytest

from modeldesk.core import audit
from modeldesk.core.registry import aliases, approvals
from modeldesk.core.registry.settings import update_settings
from modeldesk.core.storage.project import open_project
from support.registry import log_run, logreg


@pytest.fixture
def history(md, project_path):
    """A project whose audit log holds every kind of change; returns its path."""
    project = md.get_project()
    update_settings(project, primary_metric="roc_auc", tolerance=0.01, actor="lead")
    for C, auc in ((1.0, 0.95), (0.5, 0.96), (0.05, 0.90)):
        md.register_model(f"runs:/{log_run(md, logreg(C), roc_auc=auc)}/model", "churn")
    approvals.request_promotion(project, "churn", 1, actor="ana")
    approvals.approve(project, "churn", 1, actor="ben", comment="fine")
    approvals.request_promotion(project, "churn", 2, actor="ana")
    approvals.approve(project, "churn", 2, actor="ben")
    approvals.request_promotion(project, "churn", 3, actor="ana")          # metric gate fails
    approvals.override_gate(project, "churn", 3, "metric", reason="faster", actor="ben")
    approvals.reject(project, "churn", 3, comment="not worth it", actor="cara")
    approvals.request_promotion(project, "churn", 3, to="staging", actor="ana")
    approvals.withdraw(project, "churn", 3, actor="ana", to="staging")
    aliases.set_alias(project, "churn", "staging", 3, actor="ana")
    aliases.rollback(project, "churn", reason="v2 slow", actor="ben")
    return project_path


def _conn(path):
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_log_no_update")   # what someone editing the file must do first
    conn.execute("DROP TRIGGER audit_log_no_delete")
    return conn


def _copy(src, dst):
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def _verify(path):
    project = open_project(path, create=False)
    try:
        return audit.verify(project)
    finally:
        project.close()


def test_every_kind_of_change_is_recorded_with_actor_and_details(history, md):
    entries = audit.list_entries(md.get_project())
    actions = {e.action for e in entries}
    assert actions == {"settings.change", "model.create", "version.register", "request.create", "gate.run",
                       "request.approve", "alias.promote", "request.complete", "gate.override", "request.reject",
                       "request.withdraw", "alias.set", "alias.rollback"}
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    rollback = entries[-1]
    assert (rollback.action, rollback.actor, rollback.model, rollback.version) == ("alias.rollback", "ben", "churn", 1)
    assert rollback.details == {"alias": "production", "from_version": 2, "to_version": 1, "reason": "v2 slow",
                                "request_id": None}
    assert rollback.time.endswith("Z") and rollback.time[:2] == "20"
    reject = audit.list_entries(md.get_project(), action="request.reject")
    assert [(e.actor, e.details["comment"]) for e in reject] == [("cara", "not worth it")]


def test_list_filters_by_model_and_action_prefix(history, md):
    project = md.get_project()
    assert {e.action for e in audit.list_entries(project, action="alias")} == {"alias.promote", "alias.set",
                                                                              "alias.rollback"}
    assert all(e.model == "churn" for e in audit.list_entries(project, model="churn"))
    assert audit.list_entries(project, model="other") == []
    assert [e.model for e in audit.list_entries(project, action="settings")] == [None]
    assert len(audit.list_entries(project, limit=3)) == 3
    assert audit.list_entries(project, limit=1)[0].action == "alias.rollback"


def test_intact_chain_verifies_and_names_its_head(history):
    result = _verify(history)
    assert result.ok and result.bad_seq is None and result.warnings == ()
    assert result.message.startswith(f"Audit log OK: {result.entries} entries, chain intact; head #{result.entries}")
    assert result.head_hash in result.message


def test_direct_changes_are_refused_by_triggers(history):
    conn = sqlite3.connect(history)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM audit_log WHERE seq = 3")
    conn.close()


def _count(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]


def test_editing_any_entry_is_caught(history, tmp_path):
    n = _count(history)
    for seq in range(1, n + 1):
        path = _copy(history, tmp_path / f"edit{seq}.mdesk")
        with _conn(path) as conn:
            conn.execute("UPDATE audit_log SET details = json_set(details, '$.forged', 1) WHERE seq = ?", (seq,))
        result = _verify(path)
        assert (result.ok, result.bad_seq, result.problem) == (False, seq, "edited"), result.message
        assert result.message.startswith(f"Entry #{seq} (") and "was edited" in result.message
        assert any("trigger" in w for w in result.warnings)


def test_editing_an_entry_and_recomputing_its_hash_is_caught_at_the_next(history, tmp_path):
    path = _copy(history, tmp_path / "rehash.mdesk")
    with _conn(path) as conn:
        row = conn.execute("SELECT seq, time, actor, action, model, version, details, prev_hash FROM audit_log"
                           " WHERE action = 'request.reject'").fetchone()
        forged = dict(__import__("json").loads(row[6]), comment="approved")
        digest = audit.entry_hash(row[0], row[1], "ben", row[3], row[4], row[5], forged, row[7])
        conn.execute("UPDATE audit_log SET actor = 'ben', details = ?, hash = ? WHERE seq = ?",
                     (audit.canonical_json(forged), digest, row[0]))
    result = _verify(path)
    assert (result.ok, result.bad_seq) == (False, row[0] + 1)
    assert f"does not follow entry #{row[0]}" in result.message


def test_deleting_any_entry_is_caught(history, tmp_path):
    n = _count(history)
    for seq in range(1, n + 1):
        path = _copy(history, tmp_path / f"del{seq}.mdesk")
        with _conn(path) as conn:
            conn.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
        result = _verify(path)
        assert (result.ok, result.bad_seq, result.problem) == (False, seq, "deleted"), result.message
        assert f"Entry #{seq} is missing" in result.message


def test_deleting_the_last_entries_stays_evident_after_new_entries(history, tmp_path, md):
    path = _copy(history, tmp_path / "tail.mdesk")
    n = _count(path)
    with _conn(path) as conn:
        conn.execute("DELETE FROM audit_log WHERE seq >= ?", (n - 1,))
    assert _verify(path).message.startswith(f"Entry #{n - 1}–#{n} is missing")
    project = open_project(path, create=False, user="ana")
    aliases.set_alias(project, "churn", "canary", 1)                  # appends #n+1 onto the recorded head
    result = audit.verify(project)
    project.close()
    assert (result.ok, result.bad_seq, result.problem) == (False, n - 1, "deleted")


def test_deleting_the_head_record_is_caught(history, tmp_path):
    path = _copy(history, tmp_path / "head.mdesk")
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM audit_head")
    result = _verify(path)
    assert not result.ok and "head record was deleted" in result.message


def test_reordering_any_two_adjacent_entries_is_caught(history, tmp_path):
    n = _count(history)
    for seq in range(1, n):
        path = _copy(history, tmp_path / f"swap{seq}.mdesk")
        with _conn(path) as conn:
            conn.execute("UPDATE audit_log SET seq = -1 WHERE seq = ?", (seq,))
            conn.execute("UPDATE audit_log SET seq = ? WHERE seq = ?", (seq, seq + 1))
            conn.execute("UPDATE audit_log SET seq = ? WHERE seq = -1", (seq + 1,))
        result = _verify(path)
        assert (result.ok, result.bad_seq, result.problem) == (False, seq, "reordered"), result.message
        assert f"it was written as entry #{seq + 1}" in result.message


def test_moving_contents_between_rows_is_caught(history, tmp_path):
    path = _copy(history, tmp_path / "contents.mdesk")
    cols = "time, actor, action, model, version, details, prev_hash, hash"
    with _conn(path) as conn:
        a = conn.execute(f"SELECT {cols} FROM audit_log WHERE seq = 4").fetchone()
        b = conn.execute(f"SELECT {cols} FROM audit_log WHERE seq = 5").fetchone()
        sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
        conn.execute(f"UPDATE audit_log SET {sets} WHERE seq = 4", b)
        conn.execute(f"UPDATE audit_log SET {sets} WHERE seq = 5", a)
    result = _verify(path)
    assert (result.bad_seq, result.problem) == (4, "reordered")


def test_empty_log_is_ok(project):
    result = audit.verify(project)
    assert result.ok and result.entries == 0 and "no entries yet" in result.message


def test_record_appends_in_its_own_transaction(project):
    entry = audit.record(project, action="serving.start", model="churn", version=1, details={"port": 5005})
    assert (entry.seq, entry.actor, entry.prev_hash) == (1, "tester", audit.GENESIS)
    assert audit.verify(project).ok
    with pytest.raises(RuntimeError, match="inside the write transaction"):
        audit.append(project.conn, actor="x", action="y")

"""The audit log is the truth for governed state (issue 9, items 1, 3 and 4).

Each test edits a copy of a real project the way someone with sqlite3 and
write access would, then checks that ModelDesk notices, in words."""

from __future__ import annotations

import io
import sqlite3

import joblib
import pytest

import modeldesk
from modeldesk.core import audit
from modeldesk.core.errors import IntegrityError, UsageError
from modeldesk.core.registry import aliases, approvals, gates, ledger, versions
from modeldesk.core.serving.served_model import ModelHolder, list_events, load_served
from modeldesk.core.storage.blobs import put_blob
from modeldesk.core.storage.project import open_project
from support.registry import log_run, logreg


@pytest.fixture
def promoted(md, project_path):
    """churn v1 approved to production, then v2 approved (production: v2), staging v1; the file closed."""
    md.register_model(f"runs:/{log_run(md, roc_auc=0.95)}/model", "churn")
    md.register_model(f"runs:/{log_run(md, logreg(0.5), roc_auc=0.96)}/model", "churn")
    p = md.get_project()
    for v in (1, 2):
        approvals.request_promotion(p, "churn", v, actor="ana")
        approvals.approve(p, "churn", v, actor="ben", comment=f"v{v} looks right")
    aliases.set_alias(p, "churn", "staging", 1, actor="ana")
    md.flush()
    return project_path


def _sql(path, *statements, drop_triggers=False):
    conn = sqlite3.connect(path)
    if drop_triggers:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("DROP TRIGGER audit_log_no_delete")
    for s in statements:
        conn.execute(s)
    if drop_triggers:   # put them back as they were, so only the change itself is left to find
        from modeldesk.core.audit import _TRIGGERS

        for sql in _TRIGGERS.values():
            conn.execute(sql)
    conn.commit()
    conn.close()


def _backup(src, dst):
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def _verify(path, **kw):
    project = open_project(path, create=False)
    try:
        return ledger.verify_project(project, **kw)
    finally:
        project.close()


def test_untouched_project_verifies_and_the_head_is_remembered(promoted):
    result = _verify(promoted)
    assert result.ok, result.message
    project = open_project(promoted, create=False)
    assert audit.seen_head(project) == (result.entries, result.head_hash)
    project.close()


# -- item 1: the tables against the log --------------------------------------------------------
def test_an_sql_alias_move_is_caught_in_words(promoted):
    _sql(promoted, "UPDATE aliases SET version = 1 WHERE alias = 'production'")
    result = _verify(promoted)
    assert not result.ok and result.problem == "state"
    assert "production of churn points to v1, but the last logged move put v2 there" in result.message


def test_an_alias_set_with_sql_only_is_caught(promoted):
    _sql(promoted, "INSERT INTO aliases (model_id, alias, version, updated_by, updated_at)"
                   " SELECT id, 'champion', 1, 'eve', 0 FROM registered_models")
    result = _verify(promoted)
    assert not result.ok and "champion of churn points to v1, but no logged move ever set it" in result.message


def test_an_edited_review_is_caught(promoted):
    _sql(promoted, "UPDATE reviews SET reviewer = 'cara' WHERE reviewer = 'ben' AND request_id = 1")
    result = _verify(promoted)
    assert not result.ok and result.problem == "state"
    assert "review of request #1 by cara" in result.message


def test_an_edited_request_status_is_caught(promoted):
    _sql(promoted, "UPDATE promotion_requests SET status = 'rejected' WHERE id = 2")
    result = _verify(promoted)
    assert not result.ok and "request #2 (churn v2 → production) is rejected, but the log says completed" in \
        result.message


def test_a_version_pointed_at_other_bytes_is_caught(promoted):
    conn = sqlite3.connect(promoted)
    with conn:
        digest = put_blob(conn, b"other bytes")
        conn.execute("UPDATE model_versions SET sha256 = ? WHERE version = 1", (digest,))
    conn.close()
    result = _verify(promoted)
    assert not result.ok and "churn v1's model sha256 is" in result.message and "registered as" in result.message


def test_a_server_does_not_follow_an_alias_moved_around_the_log(promoted):
    project = open_project(promoted, create=False)
    refused = []
    holder = ModelHolder(project, "models:/churn@production", interval=0, on_refused=refused.append)
    assert holder.current.version == 2
    _sql(promoted, "UPDATE aliases SET version = 1 WHERE alias = 'production'")
    assert holder.check() is False
    assert holder.current.version == 2 and "last logged move put v2" in holder.refused
    assert refused and "still serving v2" in refused[0]
    assert [e.event for e in list_events(project)][0] == "reload_refused"
    holder.check()                                  # polling again does not repeat the event
    assert [e.event for e in list_events(project)].count("reload_refused") == 1
    project.close()


def test_a_server_follows_a_move_the_log_backs(promoted):
    project = open_project(promoted, create=False)
    holder = ModelHolder(project, "models:/churn@production", interval=0)
    aliases.rollback(project, "churn", reason="v2 slow", actor="ben")
    assert holder.check() is True and holder.current.version == 1 and holder.refused is None
    project.close()


# -- item 3: cuts, older copies, empty logs, triggers -------------------------------------------
def test_a_cut_tail_with_its_head_moved_back_is_caught_by_this_machine(promoted):
    assert _verify(promoted).ok                                  # this machine sees the whole chain
    _sql(promoted, "DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 3 FROM audit_log)",
         "UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_log),"
         " hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1)", drop_triggers=True)
    result = _verify(promoted)
    assert not result.ok and result.problem == "cut"
    assert "was cut or replaced since this machine saw entry #" in result.message
    assert audit.verify(open_project(promoted, create=False)).ok   # the chain alone looks fine: hence the memory


def test_a_cut_tail_is_caught_by_an_expected_head_on_a_new_machine(promoted, tmp_path, monkeypatch):
    good = _verify(promoted)
    _sql(promoted, "DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)",
         "UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_log),"
         " hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1)", drop_triggers=True)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "other-machine"))
    result = _verify(promoted, expect_head=(good.entries, good.head_hash[:16]))
    assert not result.ok and "since the expected head is entry" in result.message


def test_an_older_copy_of_the_whole_file_is_caught(promoted, tmp_path):
    old = _backup(promoted, tmp_path / "old.mdesk")
    project = open_project(promoted, create=False)
    aliases.rollback(project, "churn", reason="v2 slow", actor="ben")
    assert ledger.verify_project(project).ok
    project.close()
    _backup(old, promoted)                                       # someone restores last week's file
    result = _verify(promoted)
    assert not result.ok and result.problem == "cut"


def test_an_emptied_log_with_a_full_registry_fails(promoted, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "fresh-machine"))
    _sql(promoted, "DELETE FROM audit_log", "DELETE FROM audit_head", drop_triggers=True)
    result = _verify(promoted)
    assert not result.ok and result.problem == "state"
    assert result.message.startswith("The audit log is empty, but the registry has history")


def test_a_trigger_recreated_with_other_sql_is_caught(promoted):
    _sql(promoted, "DROP TRIGGER audit_log_no_delete",
         "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT 1; END")
    result = _verify(promoted)
    assert not result.ok and result.problem == "triggers" and "other SQL" in result.message


def test_expected_head_text_is_checked():
    assert audit.parse_head("42:3f2a9c1e5b7d") == (42, "3f2a9c1e5b7d")
    with pytest.raises(UsageError, match="SEQ:HASH"):
        audit.parse_head("42")


# -- item 4: a swapped model is never unpickled --------------------------------------------------
class _Booby:
    """Unpickling this creates a file: proof that code ran."""

    marker = None

    def __reduce__(self):
        return (open, (str(_Booby.marker), "w"))


def test_a_swapped_blob_with_a_self_consistent_sha256_is_refused_and_never_unpickled(promoted, tmp_path):
    _Booby.marker = tmp_path / "pwned"
    buf = io.BytesIO()
    joblib.dump(_Booby(), buf)
    conn = sqlite3.connect(promoted)
    with conn:
        digest = put_blob(conn, buf.getvalue())     # its sha256 matches its own bytes
        conn.execute("UPDATE model_versions SET sha256 = ? WHERE version = 1", (digest,))
    conn.close()
    modeldesk.set_project(promoted)
    project = open_project(promoted, create=False)
    v1 = versions.get_version(project, "churn", 1)
    for load in (lambda: modeldesk.load_model("models:/churn/1"),
                 lambda: load_served(project, "models:/churn@staging"),
                 lambda: aliases.rollback(project, "churn", reason="v2 slow", actor="ben")):   # back to v1
        with pytest.raises(IntegrityError, match="registered as"):
            load()
    result, model = gates.artifact_gate(project, v1)
    assert not result.passed and "registered as" in result.message and model is None
    assert not _Booby.marker.exists()
    assert versions.alias_version(project, "churn", "production") == 2
    project.close()

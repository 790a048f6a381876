"""What a report says, read from the plain objects core gathers (no Qt)."""

from __future__ import annotations

import sqlite3

import pytest

from modeldesk.core.errors import UsageError
from modeldesk.core.reports.content import NotAvailable
from modeldesk.core.reports.export import record_export, report_format
from modeldesk.core.reports.project import project_report
from modeldesk.core.reports.version import version_report
from support import governed
from support.registry import log_run


@pytest.fixture
def story(md):
    return governed.build(md)


def test_version_report_tells_the_whole_story(md, story):
    report = version_report(md.get_project(), story.uri)
    text = report.text()
    v = md.get_project().conn.execute("SELECT sha256 FROM model_versions WHERE version = 2").fetchone()[0]
    for needle in ("cancer v2", v, "ben", governed.REVIEW_V2, governed.ROLLBACK_REASON, "chain verified",
                   "v1 held production when v2 was promoted", "roc_auc", "Latest drift by column"):
        assert needle in text, needle
    assert report.chain.ok and report.chain.head_seq == report.chain.entries
    assert [c.key for c in report.charts()] == ["alias_timeline", "drift_share", "performance"]
    perf = report.section("performance").text()
    assert "accuracy" in perf and "Performance per window" in perf
    # serving health is built elsewhere, and no monitor watches cancer: clear lines saying what would fill them
    for key in ("serving_health", "monitors"):
        block = report.section(key).blocks[0]
        assert isinstance(block, NotAvailable) and block.line.startswith("Not available: ")
    assert "modeldesk monitor set cancer" in report.section("monitors").text()


def test_reviewers_of_every_request_appear_in_their_versions_report(md, story):
    project = md.get_project()
    v1 = version_report(project, "models:/cancer/1").section("approvals").text()
    v3 = version_report(project, "cancer/3").section("approvals").text()
    assert "ana" in v1 and governed.REVIEW_V1 in v1
    assert "reject" in v3 and governed.REJECT_V3 in v3


def test_a_bare_version_gets_a_complete_report_of_not_available_lines(md):
    run_id = log_run(md, roc_auc=0.9)
    md.register_model(f"runs:/{run_id}/model", "bare")
    report = version_report(md.get_project(), "bare/1")
    keys = [s.key for s in report.sections]
    assert keys == ["identity", "lineage", "comparison", "gates", "approvals", "aliases", "monitoring", "audit"]
    for key in ("comparison", "gates", "approvals", "aliases", "monitoring"):
        section = report.section(key)
        assert section.blocks, key
        assert any(isinstance(b, NotAvailable) for b in section.blocks), key
    assert "nobody has requested a promotion of v1" in report.section("approvals").text()
    assert "no prediction of this model was logged" in report.section("monitoring").text()
    assert report.chain.status == "chain verified"


def test_a_run_model_never_registered_says_so(md):
    run_id = log_run(md, roc_auc=0.9)
    report = version_report(md.get_project(), f"runs:/{run_id}/model")
    assert "never registered" in report.section("identity").text()
    assert report.meta["model"] is None and report.meta["sha256"]
    assert "Not available: the model was never registered" in report.section("gates").text()


def test_without_labels_performance_says_what_would_fill_it(md):
    governed.build(md, labels=False)
    text = version_report(md.get_project(), "cancer/2").section("performance").text()
    assert "no labels were imported" in text and "modeldesk labels import" in text


def test_a_tampered_audit_log_shows_the_broken_entry(md, story, project_path):
    project = md.get_project()
    seq = project.conn.execute("SELECT MIN(seq) FROM audit_log WHERE action = 'request.approve'").fetchone()[0]
    conn = sqlite3.connect(project_path)
    conn.execute("DROP TRIGGER audit_log_no_update")       # what someone editing the file must do first
    conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = ?", (seq,))
    conn.commit()
    conn.close()
    report = version_report(project, story.uri)
    assert not report.chain.ok
    assert report.chain.status == f"chain broken at entry {seq}"
    assert f"chain broken at entry {seq}" in report.section("audit").text()
    # the monitoring section refuses to load a model from a broken chain, and says so
    assert "does not verify" in report.section("monitoring").text()


def test_the_project_report_lists_every_model(md, story):
    for name in ("alpha", "beta"):
        run_id = log_run(md, roc_auc=0.9, name=name)
        md.register_model(f"runs:/{run_id}/model", name)
    report = project_report(md.get_project())
    overview = report.section("models").blocks[1]
    assert [row[0] for row in overview.rows] == ["alpha", "beta", "cancer"]
    cancer = next(row for row in overview.rows if row[0] == "cancer")
    # production, versions, approvals, rejections, rollbacks, open requests
    assert cancer[1:7] == ("v1", "3", "2", "1", "1", "0")
    assert cancer[7] == "240"        # predictions logged
    assert cancer[-1] == "no monitor"
    assert governed.ROLLBACK_REASON in report.section("model:cancer").text()
    assert report.chain.status == "chain verified"


def test_an_export_is_an_audit_entry_with_the_files_sha256(md, story, tmp_path):
    import hashlib

    project = md.get_project()
    report = version_report(project, story.uri)
    path = tmp_path / "r.html"
    path.write_text("<html>the report</html>")
    entry = record_export(project, report, path, actor="auditor")
    assert entry.action == "report.export" and (entry.model, entry.version) == ("cancer", 2)
    assert entry.details["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.details["head"] == report.chain.head and entry.actor == "auditor"


def test_the_format_comes_from_the_extension():
    assert report_format("a.PDF") == "pdf" and report_format("b.html") == "html"
    with pytest.raises(UsageError, match="name the file .pdf or .html"):
        report_format("c.docx")


def test_realised_metrics_from_labeled_rows_match_performance(md, story):
    """The report's labeled-rows-only path gives performance()'s realised numbers, window by window."""
    import math

    from modeldesk.core.monitoring.performance import performance
    from modeldesk.core.reports.monitoring import served_ids
    from modeldesk.core.reports.realised import realised_windows

    project = md.get_project()
    v = project.conn.execute("SELECT r.id, v.logged_model FROM model_versions v JOIN runs r ON r.rid = v.run_rid"
                             " WHERE v.version = 2").fetchone()
    kind, records = realised_windows(project, story.uri, served_ids(project, *v), "1d")
    frame = performance(project, story.uri, every="1d")
    assert kind == "classifier" and len(records) == len(frame) == 4
    for record, (_, row) in zip(records, frame.iterrows()):
        assert record["window_start"] == row["window_start"].timestamp()
        assert (record["rows"], record["labeled"]) == (row["rows"], row["labeled"])
        for name in ("accuracy", "f1", "roc_auc"):
            assert math.isclose(record[name], row[name], abs_tol=1e-12) or (
                math.isnan(record[name]) and math.isnan(row[name])), name
    assert records[-1]["accuracy"] < records[0]["accuracy"]      # the shifted last day is worse


def _rewrite_chain_from(path, seq: int, reason: str) -> None:
    """Forge the rollback reason at ``seq`` and recompute every hash after it, head record included:
    a consistent chain that verifies on its own."""
    import json

    from modeldesk.core import audit

    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    rows = conn.execute("SELECT seq, time, actor, action, model, version, details, prev_hash FROM audit_log"
                        " WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
    prev = rows[0][7]
    for s, time_, actor, action, model, version, details, _ in rows:
        d = json.loads(details)
        if s == seq:
            d["reason"] = reason
        digest = audit.entry_hash(s, time_, actor, action, model, version, d, prev)
        conn.execute("UPDATE audit_log SET details = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                     (audit.canonical_json(d), prev, digest, s))
        prev = digest
    conn.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev,))
    conn.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT "
                 "RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END")
    conn.commit()
    conn.close()


def test_a_reports_head_catches_a_later_consistent_rewrite_of_the_chain(md, story, project_path):
    """docs/reports.md: the head a report prints pins every entry up to it, even against a rewrite
    that recomputes every hash (which the chain alone cannot see)."""
    from modeldesk.core import audit

    project = md.get_project()
    printed = version_report(project, story.uri).chain.head
    seq = project.conn.execute("SELECT seq FROM audit_log WHERE action = 'alias.rollback'").fetchone()[0]
    _rewrite_chain_from(project_path, seq, "routine maintenance")
    later = version_report(project, story.uri)
    assert later.chain.status == "chain verified"           # the rewrite is consistent: the chain alone holds
    assert "routine maintenance" in later.section("audit").text()
    assert later.chain.head != printed
    warning = audit.check_seen_head(project, expect=audit.parse_head(printed))
    assert warning is not None and "rewritten" in warning


def test_chain_verified_with_a_registry_changed_around_the_log_says_so(md, story, project_path):
    """docs/reports.md: an alias moved with sqlite3 leaves the chain intact; the report says the registry
    does not match it."""
    with sqlite3.connect(project_path) as conn:
        conn.execute("UPDATE aliases SET version = 3 WHERE alias = 'production'")
    report = version_report(md.get_project(), story.uri)
    assert report.chain.status == "chain verified"
    assert report.chain.registry.startswith("The registry does not match the log: production of cancer points to v3")
    assert "Registry against the log: The registry does not match" in report.section("audit").text()


def test_a_rewrite_after_this_machine_saw_the_chain_is_not_verified(md, story, project_path):
    """As `audit verify`: the head this machine remembers catches a consistent rewrite of the chain."""
    from modeldesk.core import audit

    project = md.get_project()
    audit.remember_head(project)
    seen = audit.seen_head(project)
    seq = project.conn.execute("SELECT seq FROM audit_log WHERE action = 'alias.rollback'").fetchone()[0]
    _rewrite_chain_from(project_path, seq, "routine maintenance")
    report = version_report(project, story.uri)
    assert not report.chain.ok
    assert report.chain.status.startswith(f"chain not verified: The audit log was rewritten since this machine "
                                          f"saw entry #{seen[0]}")


def test_monitors_and_their_alerts_are_in_both_reports(md, story):
    from modeldesk.core.monitoring import checks
    from modeldesk.core.monitoring import monitors as mon

    project = md.get_project()
    governed.log_predictions(project, "models:/cancer/1", 2, 60, labels=False)   # production; day 2 shifted
    mon.set_monitor(project, "cancer-drift", "cancer", thresholds=mon.Thresholds(drift_share=0.3), actor="ana")
    mon.set_monitor(project, "cancer-latency", "cancer", thresholds=mon.Thresholds(p99_ms=10_000), actor="ana")
    results = {r.monitor: r for r in checks.check(project, now=governed.DAY0 + 2 * 86400, retrain=False)}
    assert results["cancer-drift"].firing and not results["cancer-latency"].firing
    text = version_report(project, "models:/cancer/1").section("monitors").text()
    for needle in ("cancer-drift", "cancer-latency", "drift share >= 0.3", "p99 > 10000 ms", "firing", "ok",
                   "Alerts", "open"):
        assert needle in text, needle
    overview = project_report(project).section("models").blocks[1]
    assert next(row for row in overview.rows if row[0] == "cancer")[-1] == "cancer-drift"

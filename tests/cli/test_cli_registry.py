"""`modeldesk models` and `modeldesk audit`: DESIGN.md's CLI flow end to end,
with exit codes 0 (ok), 1 (refused) and 2 (bad usage), acting as --as USER
or $MODELDESK_USER."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from support.cli import run_cli
from support.registry import log_run, logreg, tamper_blob


@pytest.fixture
def cli(capsys, monkeypatch, project_path):
    """Run `modeldesk --project <fresh project> ...` in-process: (exit code, stdout, stderr)."""

    def run(*args, user: str | None = None):
        if user is not None:
            monkeypatch.setenv("MODELDESK_USER", user)
        else:
            monkeypatch.setenv("MODELDESK_USER", "tester")
        capsys.readouterr()
        return run_cli(capsys, "--project", project_path, *args)

    return run


@pytest.fixture
def runs(md):
    """Three real runs in a fresh project: good, worse (roc_auc), and another."""
    return [log_run(md, name="logreg-C1", roc_auc=0.95), log_run(md, logreg(0.05), name="logreg-C0.05",
                                                                 roc_auc=0.93),
            log_run(md, logreg(0.5), name="logreg-C0.5", roc_auc=0.955)]


def test_design_flow_end_to_end(cli, runs, project_path):
    code, out, err = cli("models", "register", runs[0], "churn")
    assert code == 0, err
    assert "Registered churn v1 from runs:/" in out and "models request churn 1" in out
    code, out, _ = cli("models", "register", runs[0][:8], "churn")
    assert code == 0 and "already holds" in out

    code, out, err = cli("models", "request", "churn", "1", "--to", "production", "--comment", "first", "--as", "ana")
    assert code == 0, err
    assert "Request #1: churn v1 → production by ana" in out
    assert out.count("pass ") == 4 and "no production version to compare with" in out

    code, _, err = cli("models", "approve", "churn", "1", user="ana")
    assert code == 1
    assert ("ana requested this promotion; the four-eyes rule needs another reviewer.\n"
            "  Ask a teammate to run: modeldesk models approve churn 1") in err
    code, out, err = cli("models", "approve", "churn", "1", "--comment", "looks right", user="ben")
    assert code == 0, err
    assert "ben approved request #1" in out and "churn@production is now v1" in out

    # A worse candidate: the metric gate fails, the request is recorded but blocked (exit 1).
    assert cli("models", "settings", "--primary-metric", "metrics.roc_auc", "--tolerance", "0.005")[0] == 0
    assert cli("models", "register", f"runs:/{runs[1]}/model", "churn")[0] == 0
    code, out, err = cli("--as", "ana", "models", "request", "churn", "2")
    assert code == 1
    assert "FAIL       metric" in out and "worse by 0.02, beyond the tolerance 0.005" in out
    assert "recorded but blocked" in err and "models override churn 2 --gate metric" in err
    code, _, err = cli("models", "approve", "churn", "2", user="ben")
    assert code == 1 and "Gate metric failed" in err
    code, out, err = cli("models", "override", "churn", "2", "--gate", "metric", "--reason", "2x faster", "--as", "ben")
    assert code == 0, err
    assert "ben overrode gate metric of request #2: 2x faster" in out
    code, out, err = cli("models", "approve", "churn", "2", user="cara")
    assert code == 0 and "churn@production is now v2" in out, err

    code, out, _ = cli("models", "show", "churn")
    assert code == 0 and "Aliases: production → v2" in out
    assert "production v1 → v2  promote by cara" in out

    code, out, err = cli("models", "rollback", "churn", "--reason", "v2 mislabels new customers", "--as", "ben")
    assert code == 0, err
    assert "Rolled back churn@production: v2 → v1 (v2 mislabels new customers)." in out
    code, _, err = cli("models", "rollback", "churn", "--reason", "again")
    assert code == 1 and "Nothing to roll back to" in err

    code, out, err = cli("models", "alias", "churn", "staging", "2")
    assert code == 0 and "churn@staging: unset → v2." in out, err
    code, _, err = cli("models", "alias", "churn", "production", "2")
    assert code == 1 and "production is protected" in err

    code, out, _ = cli("audit", "verify")
    assert code == 0 and out.startswith("Audit log OK:")
    code, out, _ = cli("audit", "list", "--model", "churn", "--action", "alias", "--format", "json")
    moves = json.loads(out)
    assert [(e["action"], e["actor"], e["version"]) for e in moves] == [
        ("alias.promote", "ben", 1), ("alias.promote", "cara", 2), ("alias.rollback", "ben", 1),
        ("alias.set", "tester", 2)]
    code, out, _ = cli("audit", "list", "--action", "gate.override")
    assert code == 0 and "ben" in out and "reason=2x faster" in out

    # Someone edits the log directly: verify exits 1 naming the entry.
    conn = sqlite3.connect(project_path)
    conn.execute("DROP TRIGGER audit_log_no_update")
    seq = conn.execute("SELECT seq FROM audit_log WHERE action = 'gate.override'").fetchone()[0]
    conn.execute("UPDATE audit_log SET actor = 'lead' WHERE seq = ?", (seq,))
    conn.commit()
    conn.close()
    code, _, err = cli("audit", "verify")
    assert code == 1
    assert f"Audit log check FAILED: Entry #{seq} (gate.override by lead" in err and "was edited" in err


def test_usage_errors_exit_2(cli, runs):
    assert cli("models", "register", runs[0], "churn")[0] == 0
    cases = [
        (("models", "reject", "churn", "1"), "Missing option '--comment'"),
        (("models", "approve", "churn", "x"), "is not a version number"),
        (("models", "show", "nope"), "No registered model 'nope'"),
        (("models", "request", "churn", "9"), "has no version 9"),
        (("models", "register", "nosuchrun", "churn"), "No run with id"),
        (("models", "rollback", "churn"), "Missing option '--reason'"),
        (("models", "override", "churn", "1", "--gate", "speed", "--reason", "r"), "Invalid value for '--gate'"),
        (("models", "approve", "churn", "1"), "has no promotion request"),
        (("models", "settings", "--required-approvals", "0"), "0 is not in the range"),
    ]
    for args, message in cases:
        code, _, err = cli(*args)
        assert code == 2 and message in err, (args, code, err)


def test_reject_withdraw_and_the_review_queue(cli, runs):
    for run_id in runs[:2]:
        assert cli("models", "register", run_id, "churn")[0] == 0
    assert cli("models", "request", "churn", "1", user="ana")[0] == 0
    code, out, _ = cli("models", "requests", "--as", "ben")
    assert code == 0 and out.splitlines()[1].split()[:3] == ["#1", "churn", "v1"] and out.rstrip().endswith("you")
    code, _, err = cli("models", "reject", "churn", "1", "--comment", "  ", user="ben")
    assert code == 2 and "needs a comment" in err
    code, out, _ = cli("models", "reject", "churn", "v1", "--comment", "recall too low", user="ben")
    assert code == 0 and "ben rejected request #1" in out
    code, out, _ = cli("models", "show", "churn", "1")
    assert "rejected by ben" in out and "recall too low" in out
    assert cli("models", "request", "churn", "2", user="ana")[0] == 0
    code, _, err = cli("models", "withdraw", "churn", "2", user="ben")
    assert code == 1 and "Only ana" in err
    code, out, _ = cli("models", "withdraw", "churn", "2", user="ana")
    assert code == 0 and "Withdrew request #2" in out
    code, out, _ = cli("models", "show", "churn", "--format", "json")
    data = json.loads(out)
    assert [r["status"] for r in data["requests"]] == ["withdrawn", "rejected"]
    assert [v["status"] for v in data["versions"]] == ["rejected", "registered"]


def test_settings_show_and_change(cli, runs):
    code, out, _ = cli("models", "settings")
    assert code == 0 and "required approvals  1" in out and "four-eyes           on" in out
    code, out, _ = cli("models", "settings", "--required-approvals", "2", "--no-four-eyes", "--lower-is-better",
                       "--approvers", "ben,cara", user="ben")
    assert code == 0 and "required approvals  2" in out and "lower is better" in out and "ben, cara" in out
    code, _, err = cli("models", "settings", "--required-approvals", "1", user="ana")
    assert code == 1 and "ana cannot change the approval settings" in err
    code, out, _ = cli("audit", "list", "--action", "settings.change", "--format", "json")
    assert json.loads(out)[0]["details"]["changes"]["required_approvals"] == [1, 2]


def test_tampered_artifact_is_refused_with_exit_1(cli, runs, project_path, md):
    assert cli("models", "register", runs[0], "churn")[0] == 0
    assert cli("models", "request", "churn", "1", user="ana")[0] == 0
    from modeldesk.core.registry.versions import get_version

    tamper_blob(project_path, get_version(md.get_project(), "churn", 1).sha256)
    code, _, err = cli("models", "approve", "churn", "1", user="ben")
    assert code == 1 and "changed after it was logged" in err


def test_real_process_exit_codes_and_modeldesk_user(runs, project_path):
    """Through `python -m modeldesk`, as a user runs it."""

    def run(*args, user):
        env = {**os.environ, "MODELDESK_USER": user}
        proc = subprocess.run([sys.executable, "-m", "modeldesk", "--project", str(project_path), *args],
                              capture_output=True, text=True, env=env, timeout=120)
        return proc.returncode, proc.stdout, proc.stderr

    assert run("models", "register", runs[2], "churn", user="ana")[0] == 0
    code, out, err = run("models", "request", "churn", "1", user="ana")
    assert code == 0 and "by ana" in out, err
    code, _, err = run("models", "approve", "churn", "1", user="ana")
    assert code == 1 and "four-eyes" in err and "Traceback" not in err
    code, _, err = run("models", "approve", "churn", "one", user="ben")
    assert code == 2
    code, out, err = run("models", "approve", "churn", "1", user="ben")
    assert code == 0 and "ben approved" in out, err
    code, out, _ = run("audit", "verify", user="ben")
    assert code == 0 and "chain intact" in out


def test_every_core_hint_is_rendered_as_a_command():
    """Each face speaks its own words: the CLI turns every kind of core hint into a command line."""
    from modeldesk.cli._common import hint_command
    from modeldesk.core.errors import HINT_ACTIONS, Hint

    for action in HINT_ACTIONS:
        text = hint_command(Hint(action, model="churn", version=2, alias="production", gate="metric", path="t.mdesk"))
        assert "modeldesk " in text, action
    assert hint_command(Hint("approve", model="churn", version=2)) == \
        "Ask a teammate to run: modeldesk models approve churn 2"
    assert hint_command(None) == ""


def test_weakening_rules_is_proposed_then_confirmed_by_a_second_approver(cli, md):
    code, out, err = cli("models", "settings", "--approvers", "ben,cara", user="ben")
    assert code == 0, err
    code, out, err = cli("models", "settings", "--no-four-eyes", user="ben")
    assert code == 0, err
    assert "four-eyes           on" in out and "Proposed by ben" in out and "--confirm" in out
    code, _, err = cli("models", "settings", "--confirm", user="Ben")
    assert code == 1 and "second approver" in err
    code, out, err = cli("models", "settings", "--confirm", user="cara")
    assert code == 0, err
    assert "Confirmed" in out and "four-eyes           off" in out and "Proposed by" not in out


def test_audit_verify_catches_an_sql_alias_move_and_checks_an_expected_head(cli, md, project_path):
    import sqlite3

    md.register_model(f"runs:/{log_run(md, roc_auc=0.95)}/model", "churn")
    md.register_model(f"runs:/{log_run(md, roc_auc=0.96)}/model", "churn")
    for v in (1, 2):
        assert cli("models", "request", "churn", v, user="ana")[0] == 0
        assert cli("models", "approve", "churn", v, user="ben")[0] == 0
    code, out, err = cli("audit", "verify")
    assert code == 0, err
    head = out.splitlines()[-1].split()[1]              # "Head: SEQ:HASH  (check it later ...)"
    assert cli("audit", "verify", "--expect-head", head)[0] == 0
    assert cli("audit", "verify", "--expect-head", "7")[0] == 2
    with sqlite3.connect(project_path) as conn:
        conn.execute("UPDATE aliases SET version = 1 WHERE alias = 'production'")
    code, out, err = cli("audit", "verify")
    assert code == 1
    assert "production of churn points to v1, but the last logged move put v2 there" in err

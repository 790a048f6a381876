"""Approval rules: four-eyes, required approvals, reject, override, withdraw,
supersede, approvers, and an alias that moves exactly once under concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from modeldesk.core import audit
from modeldesk.core.errors import Hint, IntegrityError, NotFoundError, RefusedError, UsageError
from modeldesk.core.registry import aliases, approvals
from modeldesk.core.registry import versions as registry
from modeldesk.core.registry.settings import get_settings, update_settings
from support.registry import log_run, logreg, tamper_blob


@pytest.fixture
def churn(md):
    """Two registered versions of "churn" (v2 slightly better), no production yet."""
    md.register_model(f"runs:/{log_run(md, roc_auc=0.95)}/model", "churn")
    md.register_model(f"runs:/{log_run(md, logreg(0.5), roc_auc=0.96)}/model", "churn")
    return md.get_project()


def production(project, name="churn"):
    return registry.alias_version(project, name, "production")


def test_four_eyes_refuses_the_requester_and_a_teammate_approves(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    with pytest.raises(RefusedError) as info:
        approvals.approve(churn, "churn", 1, actor="ana")
    assert str(info.value) == "ana requested this promotion; the four-eyes rule needs another reviewer."
    assert info.value.hint == Hint("approve", model="churn", version=1)
    assert production(churn) is None
    req = approvals.approve(churn, "churn", 1, actor="ben", comment="AUC holds on March data")
    assert req.status == "completed" and req.closed_by == "ben"
    assert req.reviews[0].comment == "AUC holds on March data"
    assert production(churn) == 1
    assert registry.get_version(churn, "churn", 1).status == "approved"
    [move] = aliases.alias_history(churn, "churn", "production")
    assert (move.kind, move.to_version, move.request_id, move.actor) == ("promote", 1, req.id, "ben")


def test_without_four_eyes_the_requester_may_approve(churn):
    update_settings(churn, four_eyes=False)
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    assert approvals.approve(churn, "churn", 1, actor="ana").status == "completed"


def test_two_required_approvals_first_one_leaves_it_pending(churn):
    update_settings(churn, required_approvals=2)
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    req = approvals.approve(churn, "churn", 1, actor="ben")
    assert req.status == "pending" and req.approvals == ("ben",)
    assert production(churn) is None and registry.get_version(churn, "churn", 1).status == "pending"
    with pytest.raises(RefusedError, match="ben already approved request #1; each reviewer counts once"):
        approvals.approve(churn, "churn", 1, actor="ben")
    req = approvals.approve(churn, "churn", 1, actor="cara")
    assert req.status == "completed" and req.approvals == ("ben", "cara")
    assert production(churn) == 1
    complete = audit.list_entries(churn, action="request.complete")[-1]
    assert complete.details["approvals"] == ["ben", "cara"] and complete.details["required"] == 2


def test_reject_needs_a_comment_and_closes_the_request(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    for empty in ("", "   "):
        with pytest.raises(UsageError, match="A rejection needs a comment"):
            approvals.reject(churn, "churn", 1, comment=empty, actor="ben")
    req = approvals.reject(churn, "churn", 1, comment="recall on new customers dropped", actor="ben")
    assert req.status == "rejected" and req.reviews[0].decision == "reject"
    assert req.reviews[0].comment == "recall on new customers dropped"
    assert registry.get_version(churn, "churn", 1).status == "rejected"
    with pytest.raises(RefusedError, match="already rejected by ben"):
        approvals.approve(churn, "churn", 1, actor="cara")
    assert production(churn) is None


def test_requester_cannot_reject_their_own_request_but_can_withdraw(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    with pytest.raises(RefusedError, match="does not let them reject it") as info:
        approvals.reject(churn, "churn", 1, comment="oops", actor="ana")
    assert info.value.hint == Hint("withdraw", model="churn", version=1)


def test_failed_gate_blocks_approval_until_an_approver_overrides_with_a_reason(churn, md):
    update_settings(churn, primary_metric="roc_auc", approvers="ana,ben,cara")
    approvals.request_promotion(churn, "churn", 2, actor="ana")
    approvals.approve(churn, "churn", 2, actor="ben")
    md_run = log_run(md, logreg(0.05), roc_auc=0.90)   # clearly worse
    registry.register_model(churn, f"runs:/{md_run}/model", "churn")
    req = approvals.request_promotion(churn, "churn", 3, actor="ana")
    assert [g.gate for g in req.blocking_gates] == ["metric"]
    with pytest.raises(RefusedError, match="Gate metric failed: roc_auc 0.9 vs production v2 0.96.*override") as info:
        approvals.approve(churn, "churn", 3, actor="ben")
    assert info.value.hint == Hint("override", model="churn", version=3, gate="metric")
    with pytest.raises(UsageError, match="needs a written reason"):
        approvals.override_gate(churn, "churn", 3, "metric", reason=" ", actor="ben")
    with pytest.raises(RefusedError, match="dan is not an approver; approvers are ana, ben, cara"):
        approvals.override_gate(churn, "churn", 3, "metric", reason="ok", actor="dan")
    with pytest.raises(RefusedError, match="four-eyes rule does not let them override"):
        approvals.override_gate(churn, "churn", 3, "metric", reason="mine", actor="ana")
    with pytest.raises(UsageError, match="Gate artifact passed"):
        approvals.override_gate(churn, "churn", 3, "artifact", reason="x", actor="ben")
    with pytest.raises(UsageError, match="Unknown gate 'speed'"):
        approvals.override_gate(churn, "churn", 3, "speed", reason="x", actor="ben")
    req = approvals.override_gate(churn, "churn", 3, "metric", reason="3x faster; AUC loss accepted", actor="ben")
    metric = next(g for g in req.gates if g.gate == "metric")
    assert not metric.passed and metric.override.approver == "ben"
    assert metric.override.reason == "3x faster; AUC loss accepted" and not req.blocking_gates
    assert req.status == "pending" and production(churn) == 2    # an override is not an approval
    entry = audit.list_entries(churn, action="gate.override")[-1]
    assert (entry.actor, entry.version, entry.details["reason"]) == ("ben", 3, "3x faster; AUC loss accepted")
    req = approvals.approve(churn, "churn", 3, actor="cara")
    assert req.status == "completed" and production(churn) == 3
    assert audit.list_entries(churn, action="request.complete")[-1].details["overrides"] == ["metric"]


def test_only_listed_approvers_may_approve(churn):
    update_settings(churn, approvers=["ben"])
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    with pytest.raises(RefusedError, match="cara is not an approver; approvers are ben"):
        approvals.approve(churn, "churn", 1, actor="cara")
    assert approvals.approve(churn, "churn", 1, actor="ben").status == "completed"
    with pytest.raises(RefusedError, match="cara cannot change the approval settings"):
        update_settings(churn, actor="cara", approvers="")


def test_withdraw_by_the_requester_only(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    with pytest.raises(RefusedError, match="Only ana, who made request #1, can withdraw it"):
        approvals.withdraw(churn, "churn", 1, actor="ben")
    req = approvals.withdraw(churn, "churn", 1, actor="ana")
    assert req.status == "withdrawn" and registry.get_version(churn, "churn", 1).status == "registered"
    with pytest.raises(RefusedError, match="already withdrawn"):
        approvals.approve(churn, "churn", 1, actor="ben")


def test_a_new_request_supersedes_an_open_one_for_the_same_alias(churn):
    old = approvals.request_promotion(churn, "churn", 1, actor="ana")
    staging = approvals.request_promotion(churn, "churn", 1, to="staging", actor="ana")
    new = approvals.request_promotion(churn, "churn", 2, actor="cara")
    old = approvals.get_request(churn, old.id)
    assert (old.status, old.superseded_by, old.closed_by) == ("superseded", new.id, "cara")
    assert approvals.get_request(churn, staging.id).status == "pending"     # other alias: untouched
    with pytest.raises(RefusedError, match="already superseded"):
        approvals.approve(churn, "churn", 1, actor="ben", to="production")
    approvals.approve(churn, "churn", 2, actor="ben")
    assert production(churn) == 2
    with pytest.raises(UsageError, match="already holds production"):
        approvals.request_promotion(churn, "churn", 2, actor="ana")
    assert audit.list_entries(churn, action="request.supersede")[0].details["superseded_by"] == new.id


def test_several_open_requests_need_to_say_which(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    approvals.request_promotion(churn, "churn", 1, to="staging", actor="ana")
    with pytest.raises(UsageError, match="open requests to production and staging; say which with --to"):
        approvals.approve(churn, "churn", 1, actor="ben")
    approvals.approve(churn, "churn", 1, actor="ben", to="staging")
    assert registry.alias_version(churn, "churn", "staging") == 1 and production(churn) is None


def test_no_request_and_production_protection(churn):
    with pytest.raises(NotFoundError, match="has no promotion request") as info:
        approvals.approve(churn, "churn", 1, actor="ben")
    assert info.value.hint == Hint("request", model="churn", version=1, alias="production")
    with pytest.raises(RefusedError, match="production is protected"):
        aliases.set_alias(churn, "churn", "production", 1)


def test_approval_is_refused_when_production_moved_since_the_gates_ran(churn, md):
    for version in (1, 2):
        approvals.request_promotion(churn, "churn", version, actor="ana")
        approvals.approve(churn, "churn", version, actor="ben")
    md_run = log_run(md, logreg(0.7), roc_auc=0.97)
    registry.register_model(churn, md_run, "churn")
    approvals.request_promotion(churn, "churn", 3, actor="ana")     # gates compared with v2
    aliases.rollback(churn, "churn", reason="v2 is slow", actor="ben")
    with pytest.raises(RefusedError, match="changed from v2 to v1 since the gates of request #3 ran"):
        approvals.approve(churn, "churn", 3, actor="ben")
    assert approvals.get_request(churn, 3).reviews == ()           # nothing half-done
    req = approvals.request_promotion(churn, "churn", 3, actor="ana")
    assert req.baseline_version == 1
    assert approvals.approve(churn, "churn", 3, actor="ben").status == "completed"


def test_tampered_artifact_is_refused_at_approval(churn, project_path):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    tamper_blob(project_path, registry.get_version(churn, "churn", 1).sha256)
    with pytest.raises(IntegrityError, match="changed after it was logged"):
        approvals.approve(churn, "churn", 1, actor="ben")
    assert production(churn) is None and approvals.get_request(churn, 1).status == "pending"


def test_allowed_actions_match_the_refusals(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    ana = approvals.allowed_actions(churn, "churn", 1, "ana")
    assert ana["approve"] == (False, "ana requested this promotion; the four-eyes rule needs another reviewer.")
    assert ana["approve"][1].hint == Hint("approve", model="churn", version=1)
    assert ana["withdraw"][0] and not ana["reject"][0] and not ana["rollback"][0]
    ben = approvals.allowed_actions(churn, "churn", 1, "ben")
    assert ben["approve"] == (True, "") and ben["reject"][0] and not ben["withdraw"][0]
    assert not ben["override"][0] and "nothing to override" in ben["override"][1]
    approvals.approve(churn, "churn", 1, actor="ben")
    after = approvals.allowed_actions(churn, "churn", 1, "ben")
    assert after["request"] == (False, "v1 already holds production.")
    assert after["approve"] == (False, "There is no open request for this version.")


def test_reviewers_see_the_requests_waiting_for_them_first(churn):
    approvals.request_promotion(churn, "churn", 1, to="staging", actor="ben")
    approvals.request_promotion(churn, "churn", 2, actor="ana")
    ordered = approvals.list_requests(churn, for_reviewer="ben")
    assert [(r.version, r.requested_by) for r in ordered] == [(2, "ana"), (1, "ben")]
    assert [r.version for r in approvals.pending_reviews(churn, "ben")] == [2]
    assert [r.version for r in approvals.pending_reviews(churn, "cara")] == [1, 2]


def test_settings_validation_and_per_model_overrides(churn):
    with pytest.raises(UsageError, match="at least 1"):
        update_settings(churn, required_approvals=0)
    with pytest.raises(UsageError, match="'higher' or 'lower'"):
        update_settings(churn, metric_direction="up")
    update_settings(churn, primary_metric="roc_auc", tolerance=0.01)
    update_settings(churn, model="churn", primary_metric="r2", required_approvals=2)
    assert get_settings(churn).primary_metric == "metrics.roc_auc"
    s = get_settings(churn, "churn")
    assert (s.primary_metric, s.required_approvals, s.tolerance) == ("metrics.r2", 2, 0.01)
    changes = audit.list_entries(churn, action="settings.change")
    assert changes[-1].model == "churn" and changes[-1].details["changes"]["primary_metric"] == [
        "metrics.roc_auc", "metrics.r2"]


WORKER = """
import os, sys, time
from modeldesk.core.storage.project import open_project
from modeldesk.core.registry import approvals
from modeldesk.core.errors import RefusedError
path, name, version, go = sys.argv[1:5]
project = open_project(path, create=False)
open(go + "." + project.user, "w").close()
while not os.path.exists(go):
    time.sleep(0.0005)
try:
    print("ok", approvals.approve(project, name, int(version)).status)
except RefusedError as exc:
    print("refused", exc)
"""


def _race(project_path, tmp_path, version: int, reviewers: list[str]) -> list[str]:
    go = tmp_path / f"go-{version}"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(project_path), "churn", str(version), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "MODELDESK_USER": user}) for user in reviewers]
    deadline = time.time() + 60
    while not all((tmp_path / f"go-{version}.{u}").exists() for u in reviewers):
        assert time.time() < deadline, [p.stderr.read() for p in procs if p.poll() is not None]
        time.sleep(0.01)
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        outs.append(out.strip())
    return sorted(outs)


@pytest.mark.slow
def test_two_processes_approving_at_once_move_the_alias_once(churn, project_path, tmp_path):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    outs = _race(project_path, tmp_path, 1, ["ben", "cara"])
    assert outs[0] == "ok completed" and outs[1].startswith("refused Request #1")
    assert "already completed" in outs[1]
    assert len(approvals.get_request(churn, 1).reviews) == 1
    assert len(audit.list_entries(churn, action="request.complete")) == 1
    # Two required approvals, three reviewers at once: two count, one alias move.
    update_settings(churn, required_approvals=2)
    approvals.request_promotion(churn, "churn", 2, actor="ana")
    outs = _race(project_path, tmp_path, 2, ["ben", "cara", "dan"])
    assert outs[:2] == ["ok completed", "ok pending"] and outs[2].startswith("refused")
    moves = aliases.alias_history(churn, "churn", "production")
    assert [(m.from_version, m.to_version) for m in moves] == [(None, 1), (1, 2)]
    assert len(approvals.get_request(churn, 2).approvals) == 2
    assert len(audit.list_entries(churn, action="request.complete")) == 2
    assert audit.verify(churn).ok

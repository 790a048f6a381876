"""The governance promises, tried the way a hostile but fair teammate would (issue 9):
production moves only through an approved request; four-eyes cannot be talked around;
a name's case, spaces or look-alike letters are the same person or refused."""

from __future__ import annotations

import pytest

from modeldesk.core import audit
from modeldesk.core.errors import RefusedError, UsageError
from modeldesk.core.identity import check_user, same_user, user_key
from modeldesk.core.registry import aliases, approvals, versions
from modeldesk.core.registry.settings import get_settings, pending_change, update_settings
from support.registry import log_run, logreg

CYRILLIC_A = "\u0430"   # looks like a Latin "a"


@pytest.fixture
def churn(md):
    """Two registered versions of "churn", no production yet."""
    md.register_model(f"runs:/{log_run(md, roc_auc=0.95)}/model", "churn")
    md.register_model(f"runs:/{log_run(md, logreg(0.5), roc_auc=0.96)}/model", "churn")
    return md.get_project()


def production(project):
    return versions.alias_version(project, "churn", "production")


# -- identities -------------------------------------------------------------------------------
def test_names_compare_in_one_normal_form():
    assert user_key("Ana") == user_key(" ana ") == user_key("ANA") == user_key("\uff21\uff2e\uff21") == "ana"
    assert same_user("ben", "Ben") and not same_user("ana", "ben") and not same_user(None, "ana")


@pytest.mark.parametrize("name, why", [
    (f"{CYRILLIC_A}na", "mixes scripts"),
    ("an\u200ba", "control or invisible"),
    ("ana\x07", "control or invisible"),
    ("   ", "cannot be empty"),
])
def test_names_that_pass_for_another_are_refused(name, why):
    with pytest.raises(UsageError, match=why):
        check_user(name)


@pytest.mark.parametrize("spelling", ["Ana", "ana ", "ANA", "\uff41\uff4e\uff41"])
def test_four_eyes_holds_whatever_the_spelling(churn, spelling):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    with pytest.raises(RefusedError, match="four-eyes"):
        approvals.approve(churn, "churn", 1, actor=spelling)
    assert production(churn) is None


def test_a_look_alike_name_cannot_approve(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    with pytest.raises(UsageError, match="mixes scripts"):
        approvals.approve(churn, "churn", 1, actor=f"{CYRILLIC_A}na")
    assert production(churn) is None


def test_ben_and_Ben_are_one_approval(churn):
    update_settings(churn, required_approvals=2, actor="cara")
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    approvals.approve(churn, "churn", 1, actor="ben")
    with pytest.raises(RefusedError, match="each reviewer counts once"):
        approvals.approve(churn, "churn", 1, actor="Ben")
    assert production(churn) is None
    req = approvals.approve(churn, "churn", 1, actor="dan")
    assert req.status == "completed" and production(churn) == 1


def test_an_approvers_list_matches_names_in_normal_form(churn):
    update_settings(churn, approvers="Ben, cara, BEN", actor="ben")
    assert get_settings(churn).approvers == ("Ben", "cara")
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    assert approvals.approve(churn, "churn", 1, actor="ben ").status == "completed"


# -- protected aliases ------------------------------------------------------------------------
@pytest.mark.parametrize("alias", ["production", "Production", "PRODUCTION", " production "])
def test_production_is_protected_in_any_case(churn, alias):
    with pytest.raises(RefusedError, match="protected"):
        aliases.set_alias(churn, "churn", alias, 2, actor="ana")
    assert production(churn) is None


def test_aliases_are_stored_in_lower_case_and_resolve_in_any_case(churn):
    aliases.set_alias(churn, "churn", "Staging", 2, actor="ana")
    assert versions.alias_version(churn, "churn", "staging") == 2
    assert versions.resolve_version(churn, "models:/churn@STAGING").version == 2


def test_no_public_core_function_moves_an_alias_by_itself(churn):
    assert not hasattr(aliases, "move_alias")
    with churn.write() as w, pytest.raises(RefusedError, match="protected"):
        aliases._move_alias(w, name="churn", alias="Production", to_version=2, kind="set", actor="ana")
    assert production(churn) is None


# -- the rules cannot be talked around --------------------------------------------------------
def test_a_requester_cannot_turn_four_eyes_off_for_their_own_request(churn):
    approvals.request_promotion(churn, "churn", 1, actor="ana")
    for change in ({"four_eyes": False}, {"required_approvals": 1}, {"approvers": "ana"}):
        with pytest.raises(RefusedError, match="open request"):
            update_settings(churn, model="churn", actor="ANA", **change)
        with pytest.raises(RefusedError, match="open request"):
            update_settings(churn, actor="ana", **change)       # project-wide too
    assert get_settings(churn, "churn").four_eyes is True
    with pytest.raises(RefusedError, match="four-eyes"):
        approvals.approve(churn, "churn", 1, actor="ana")


def test_rules_in_force_when_a_request_opens_decide_it(churn):
    req = approvals.request_promotion(churn, "churn", 1, actor="ana")
    assert req.rules.four_eyes is True and req.rules.required_approvals == 1
    update_settings(churn, model="churn", four_eyes=False, actor="cara")   # a teammate changes the rules
    assert get_settings(churn, "churn").four_eyes is False
    with pytest.raises(RefusedError, match="four-eyes"):
        approvals.approve(churn, "churn", 1, actor="ana")              # the request keeps its rules
    assert production(churn) is None
    entry = audit.list_entries(churn, action="request.create")[-1]
    assert entry.details["rules"]["four_eyes"] is True


def test_weakening_with_an_approvers_list_needs_a_second_approver(churn):
    update_settings(churn, approvers="ben,cara", actor="ben")
    after = update_settings(churn, four_eyes=False, actor="ben")
    assert after.four_eyes is True and get_settings(churn).four_eyes is True   # only proposed
    proposal = pending_change(churn)
    assert proposal["by"] == "ben" and proposal["weakens"] == ["four-eyes off"]
    assert audit.list_entries(churn, action="settings.propose")[-1].details["weakens"] == ["four-eyes off"]
    with pytest.raises(RefusedError, match="second approver"):
        update_settings(churn, confirm=True, actor="Ben")
    with pytest.raises(RefusedError, match="not an approver"):
        update_settings(churn, confirm=True, actor="ana")
    assert update_settings(churn, confirm=True, actor="cara").four_eyes is False
    change = audit.list_entries(churn, action="settings.change")[-1]
    assert change.details["proposed_by"] == "ben" and change.details["confirmed_by"] == "cara"
    assert pending_change(churn) is None


def test_strengthening_takes_effect_at_once(churn):
    update_settings(churn, approvers="ben,cara", actor="ben")
    assert update_settings(churn, required_approvals=2, actor="ben").required_approvals == 2
    assert pending_change(churn) is None

"""core/registry_view: the read-only aggregates behind the Models and Audit views."""

from __future__ import annotations

from modeldesk.core.registry import approvals
from modeldesk.core.registry import summaries as registry_view
from modeldesk.core.registry import versions as registry
from modeldesk.core.registry.entities import AliasMove
from modeldesk.core.registry.settings import update_settings
from support.registry import log_run, logreg


def move(alias, frm, to, kind, at):
    return AliasMove("m", alias, frm, to, kind, "ben", "", None, at)


def test_alias_intervals_close_at_the_next_move_and_the_last_stays_open():
    moves = [move("production", None, 1, "promote", 10.0), move("staging", None, 2, "set", 15.0),
             move("production", 1, 2, "promote", 20.0), move("production", 2, 1, "rollback", 30.0)]
    got = [(i.alias, i.version, i.start, i.end, i.kind) for i in registry_view.alias_intervals(moves)]
    assert got == [("production", 1, 10.0, 20.0, "promote"), ("staging", 2, 15.0, None, "set"),
                   ("production", 2, 20.0, 30.0, "promote"), ("production", 1, 30.0, None, "rollback")]
    only = registry_view.alias_intervals(moves, ["staging"])
    assert [(i.version, i.end) for i in only] == [(2, None)]


def test_overview_table_details_and_runs_for_a_reviewer(md):
    md.set_experiment("churn")
    project = md.get_project()
    first = log_run(md, roc_auc=0.95, name="a")
    second = log_run(md, logreg(0.5), roc_auc=0.96, name="b")
    unregistered = log_run(md, logreg(2.0), roc_auc=0.9, name="c")
    update_settings(project, primary_metric="roc_auc")
    for run_id in (first, second):
        registry.register_model(project, f"runs:/{run_id}/model", "churn", actor="ana")
    approvals.request_promotion(project, "churn", 1, actor="ana")
    approvals.approve(project, "churn", 1, actor="ben")
    approvals.request_promotion(project, "churn", 2, actor="ana")

    ben = registry_view.overview(project, "ben")
    [model] = ben.models
    assert (model.name, model.production, model.staging, model.open_requests, model.waiting_for_user) == \
        ("churn", 1, None, 1, 1)
    assert [(r.model, r.version) for r in ben.waiting] == [("churn", 2)] and ben.mine == ()
    ana = registry_view.overview(project, "ana")
    assert ana.waiting == () and [r.version for r in ana.mine] == [2]

    table = registry_view.version_table(project, "churn", "ben")
    assert table.metric == "roc_auc"
    assert [(r.version.version, r.run_name, r.metric_value, r.waiting_for_user) for r in table.rows] == \
        [(2, "b", 0.96, True), (1, "a", 0.95, False)]
    assert table.rollback == (False, "Nothing to roll back to: churn@production has no previous version.")
    assert [i.version for i in table.intervals()] == [1]

    details = registry_view.version_details(project, "churn", 2, "ana")
    assert details.open_request.version == 2 and details.action_alias == "production"
    assert not details.allowed["approve"][0] and "four-eyes" in details.allowed["approve"][1]
    assert details.allowed["withdraw"] == (True, "")
    assert details.lineage.run.id == second

    runs = registry_view.runs_with_models(project)
    assert [r.run_id for r in runs] == [unregistered, second, first]          # newest first
    assert runs[0].registered == () and runs[1].registered == ("churn v2",) and runs[0].models == ("model",)


def test_details_summary_puts_the_telling_keys_first_and_cuts_long_values():
    text = registry_view.details_summary({"sha256": "f" * 64, "reason": "x" * 100, "alias": "production",
                                          "from_version": 2, "to_version": 1, "note": None})
    assert text.startswith("alias=production, from_version=2, to_version=1, reason=xxx")
    assert "…" in text and text.endswith("sha256=" + "f" * 59 + "…") and "note" not in text

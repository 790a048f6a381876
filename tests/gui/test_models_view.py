"""The Models view: model list, versions table, version details, the alias
timeline, and every registry action from the GUI, acting as two users."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from modeldesk.core import audit
from modeldesk.core.registry import aliases, approvals
from modeldesk.core.registry import versions as registry
from modeldesk.core.registry.settings import update_settings
from modeldesk.core.storage.project import open_project
from modeldesk.gui.registry.models_actions import SERVE_UNAVAILABLE
from modeldesk.gui.registry.models_view import RUN_COLUMN, ModelsView
from modeldesk.gui.registry.registry_dialogs import (
    AskDialog,
    OverrideDialog,
    RegisterDialog,
    RequestDialog,
    RollbackDialog,
)
from support.gui import shown_project_view
from support.registry import log_run, logreg


@pytest.fixture
def churn(md):
    """Model churn: v1 (roc_auc 0.95, with a training dataset) and v2 (0.96), registered by ana;
    primary metric roc_auc. Returns (core project, run ids)."""
    md.set_experiment("churn")
    runs = [log_run(md, roc_auc=0.95, dataset=True, name="lr-c1"),
            log_run(md, logreg(0.5), roc_auc=0.96, name="lr-c05")]
    project = md.get_project()
    update_settings(project, actor="lead", primary_metric="metrics.roc_auc", tolerance=0.005)
    for run_id in runs:
        registry.register_model(project, f"runs:/{run_id}/model", "churn", actor="ana")
    return project, runs


@pytest.fixture
def mview(qtbot):
    yield from shown_project_view(qtbot, ModelsView, (1200, 760))


def show_as(qtbot, view, path, user, select=None):
    """Open ``path`` in the view acting as ``user``; wait for the table and the selected version's details."""
    project = view.project
    if project is None:
        project = open_project(path, create=False, user=user)
        view.set_project(project, user)
    else:
        view.set_user(user)
    if select is not None:
        view.select(*select)
    settled(qtbot, view, select)
    return project


def settled(qtbot, view, select=None, timeout=8000):
    def ready():
        if view.table_data is None or view.details_data is None or view.runner.busy:
            return False
        if select is not None and (view.current_model, view.current_version) != tuple(select):
            return False
        return view.details_data.version.version == view.current_version
    qtbot.waitUntil(ready, timeout=timeout)


def wait_reloaded(qtbot, view, condition, timeout=10000):
    qtbot.waitUntil(lambda: not view.runner.busy and view.table_data is not None and view.details_data is not None
                    and condition(), timeout=timeout)
    settled(qtbot, view)


def cells(view, column: int) -> list[str]:
    return [view.versions.item(r, column).text() for r in range(view.versions.rowCount())]


def press_ok(qtbot, dialog) -> None:
    assert dialog.ok_button.isEnabled(), dialog.ok_button.toolTip()
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)


def production(project, name="churn"):
    return registry.alias_version(project, name, "production")


# -- showing -----------------------------------------------------------------------------------------
def test_lists_models_versions_lineage_and_review(qtbot, mview, churn, project_path, monkeypatch):
    project, runs = churn
    approvals.request_promotion(project, "churn", 1, actor="ana", comment="first model for the pilot")
    approvals.approve(project, "churn", 1, actor="ben", comment="checked the hold-out AUC")
    show_as(qtbot, mview, project_path, "tester", select=("churn", 1))
    item = mview.model_list.topLevelItem(0)
    assert (item.text(0), item.text(1), item.text(2)) == ("churn", "v1", "—")
    headers = [mview.versions.horizontalHeaderItem(c).text() for c in range(mview.versions.columnCount())]
    assert headers == ["Version", "Status", "Aliases", "roc_auc", "Created by", "Created at", "Run"]
    assert cells(mview, 0) == ["v2", "v1"]                      # newest first
    assert cells(mview, 1) == ["registered", "approved"]
    assert cells(mview, 2) == ["", "production"]
    assert cells(mview, 3) == ["0.96", "0.95"]
    assert cells(mview, 4) == ["ana", "ana"]
    assert cells(mview, RUN_COLUMN) == ["lr-c05", "lr-c1"]
    assert "production <b>v1</b>" in mview.title.text() and "primary metric roc_auc" in mview.title.text()

    review = mview.details.review.toPlainText()
    for needle in ("Request #1 → production", "completed", "Artifact loads and verifies", "Predicts on its input",
                   "Signature compatible", "Primary metric not worse", "✓ pass",
                   "requested by ana: “first model for the pilot”",
                   "approved by ben: “checked the hold-out AUC”",
                   "completed: production → v1"):
        assert needle in review, needle
    lineage = mview.details.lineage.toPlainText()
    v1 = registry.get_version(project, "churn", 1)
    lin = registry.version_lineage(project, "churn", 1)
    for needle in (v1.sha256, lin.datasets[0].fingerprint, "lr-c1", "roc_auc", "Signature: 30 input column(s)",
                   "mean radius", "scikit-learn", "runs:/"):
        assert needle in lineage, needle

    opened = []
    monkeypatch.setattr("modeldesk.gui.runs.run_details.open_run_details",
                        lambda project, run_id, parent=None: opened.append(run_id))
    index = mview.versions.index(1, RUN_COLUMN)
    qtbot.mouseClick(mview.table.viewport(), Qt.LeftButton, pos=mview.table.visualRect(index).center())
    assert opened == [runs[0]]
    mview.details.runLinkClicked.emit(runs[1])        # the run link in the Lineage tab
    assert opened == runs


def test_no_models_shows_an_empty_state(qtbot, mview, md, project_path):
    md.set_experiment("churn")
    log_run(md, roc_auc=0.9)
    mview.set_project(open_project(project_path, create=False))
    qtbot.waitUntil(lambda: mview.stack.currentWidget() is mview.empty)
    assert "No registered models yet" in mview.empty.title.text()
    assert mview.actions.register_action.isEnabled()


def test_serve_is_present_but_disabled_and_report_enabled(qtbot, mview, churn, project_path):
    show_as(qtbot, mview, project_path, "ben")
    assert not mview.actions.serve_action.isEnabled() and mview.actions.serve_action.toolTip() == SERVE_UNAVAILABLE
    assert mview.actions.report_action.isEnabled()       # tests/gui/test_report_action.py exports with it
    assert mview.actions.buttons["serve"].isVisible() and mview.actions.buttons["report"].isVisible()
    seen = []
    mview.serveRequested.connect(seen.append)
    mview.actions.enable_serving()                     # the Serving view's hook
    assert mview.actions.serve_action.isEnabled()
    mview.actions.serve_action.trigger()
    assert seen == [f"models:/churn/{mview.current_version}"]


def test_serve_production_alias_follows_the_alias(qtbot, mview, churn, project_path):
    project, _ = churn
    show_as(qtbot, mview, project_path, "ben")
    mview.actions.enable_serving()
    assert not mview.actions.serve_alias_action.isEnabled()
    assert "no production version" in mview.actions.serve_alias_action.toolTip()
    approvals.request_promotion(project, "churn", 1, actor="ana")
    approvals.approve(project, "churn", 1, actor="ben")
    mview.reload()
    wait_reloaded(qtbot, mview, lambda: "production" in dict(mview.table_data.model.aliases))
    assert mview.actions.serve_alias_action.isEnabled()
    seen = []
    mview.serveRequested.connect(seen.append)
    mview.actions.serve_alias_action.trigger()
    assert seen == ["models:/churn@production"]


def serve_entries(menu) -> dict[str, object]:
    return {a.text(): a for a in menu.actions() if not a.isSeparator()}


def test_serve_menu_lists_the_version_and_every_alias(qtbot, mview, churn, project_path):
    project, _ = churn
    approvals.request_promotion(project, "churn", 1, actor="ana")
    approvals.approve(project, "churn", 1, actor="ben")
    aliases.set_alias(project, "churn", "staging", 2, actor="ana")
    show_as(qtbot, mview, project_path, "ben", select=("churn", 2))

    # Serving not enabled: everything listed, disabled, saying why.
    entries = serve_entries(mview.actions.buttons["serve"].menu())
    assert list(entries) == ["Serve version 2", "Serve @production", "Serve @staging"]
    assert all(not a.isEnabled() and a.toolTip() == SERVE_UNAVAILABLE for a in entries.values())
    serve_button = mview.actions.buttons["serve"]
    assert serve_button.popupMode() == serve_button.ToolButtonPopupMode.MenuButtonPopup
    mview.panel.model_menu("churn")
    listed = serve_entries(mview.panel.context_menu)
    assert list(listed) == ["Serve @production", "Serve @staging"]
    assert all(not a.isEnabled() and a.toolTip() == SERVE_UNAVAILABLE for a in listed.values())

    mview.actions.enable_serving()
    seen = []
    mview.serveRequested.connect(seen.append)
    entries = serve_entries(mview.actions.serve_menu)
    assert all(a.isEnabled() for a in entries.values())
    assert entries["Serve @staging"].toolTip() == ("Serve models:/churn@staging (now v2): the server follows "
                                                   "staging when it moves")
    assert "the server follows production when it moves" in entries["Serve @production"].toolTip()
    assert entries["Serve @production"] is mview.actions.serve_alias_action
    entries["Serve @staging"].trigger()
    entries["Serve version 2"].trigger()
    entries["Serve @production"].trigger()
    assert seen == ["models:/churn@staging", "models:/churn/2", "models:/churn@production"]

    # The versions table's context menu offers the same entries.
    mview.actions.show_context_menu(mview.table.visualRect(mview.versions.index(1, 0)).center())   # the v1 row
    table_entries = serve_entries(mview.actions.context_menu)
    assert {"Serve version 1", "Serve @production", "Serve @staging"} <= set(table_entries)
    mview.actions.context_menu.close()
    seen.clear()
    table_entries["Serve @staging"].trigger()
    table_entries["Serve version 1"].trigger()
    assert seen == ["models:/churn@staging", "models:/churn/1"]

    # ...and so does the model list's (for the model right-clicked, from the overview).
    mview.panel.model_menu("churn")
    listed = serve_entries(mview.panel.context_menu)
    assert all(a.isEnabled() for a in listed.values())
    seen.clear()
    listed["Serve @staging"].trigger()
    assert seen == ["models:/churn@staging"]

    mview.actions.enable_serving(False)
    entries = serve_entries(mview.actions.serve_menu).values()
    assert all(not a.isEnabled() and a.toolTip() == SERVE_UNAVAILABLE for a in entries)


def test_serve_menu_follows_the_selected_model(qtbot, mview, churn, md, project_path):
    project, _ = churn
    other = log_run(md, roc_auc=0.9, name="z-run")
    registry.register_model(project, f"runs:/{other}/model", "zeta", actor="ana")
    aliases.set_alias(project, "zeta", "staging", 1, actor="ana")
    show_as(qtbot, mview, project_path, "ben", select=("churn", 1))
    mview.actions.enable_serving()
    assert list(serve_entries(mview.actions.serve_menu)) == ["Serve version 1"]     # churn has no alias
    assert mview.panel.model_menu("churn") is None
    mview.panel.model_menu("zeta")                       # a model other than the selected one
    assert [a.text() for a in mview.panel.context_menu.actions()] == ["Serve @staging"]
    mview.select("zeta", 1)
    settled(qtbot, mview, ("zeta", 1))
    assert list(serve_entries(mview.actions.serve_menu)) == ["Serve version 1", "Serve @staging"]
    assert not mview.actions.serve_alias_action.isEnabled()
    assert "no production version" in mview.actions.serve_alias_action.toolTip()


# -- actions -------------------------------------------------------------------------------------------
def test_register_a_run_from_the_models_view(qtbot, mview, churn, md, project_path):
    project, _ = churn
    new_run = log_run(md, logreg(2.0), roc_auc=0.97, name="lr-c2")
    show_as(qtbot, mview, project_path, "cara")
    mview.actions.register_action.trigger()
    dialog = mview.actions.dialog
    assert isinstance(dialog, RegisterDialog)
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 3)
    assert dialog.name.currentText() == "churn"          # the model shown is the default
    assert not dialog.ok_button.isEnabled() and "Pick a run" in dialog.ok_button.toolTip()
    dialog.select_run(new_run)
    assert dialog.artifact.currentText() == "model"
    dialog.name.setEditText("churn")
    press_ok(qtbot, dialog)
    wait_reloaded(qtbot, mview, lambda: mview.current_version == 3 and cells(mview, 0)[0] == "v3")
    assert "Registered churn v3" in mview.status.text()
    v3 = registry.get_version(project, "churn", 3)
    assert (v3.run_id, v3.created_by) == (new_run, "cara")


def test_register_model_from_the_experiments_view(qtbot, gui, view, md, project_path):
    md.set_experiment("churn")
    run_id = log_run(md, roc_auc=0.93, name="only-run")
    project = gui.open_in_view(qtbot, view, project_path)
    view.table.selectRow(0)
    assert view.register_action.isEnabled()
    view.register_action.trigger()
    dialog = view.register_dialog
    qtbot.waitUntil(lambda: dialog.selected_run() is not None)
    assert dialog.selected_run().run_id == run_id      # the run right-clicked is preselected
    dialog.name.setEditText("churn-classifier")
    press_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: any(b.isVisible() and "Registered churn-classifier v1" in b.text()
                                for b in view.findChildren(QMessageBox)), timeout=8000)
    assert registry.get_version(project, "churn-classifier", 1).run_id == run_id


def test_request_then_four_eyes_then_approve(qtbot, mview, churn, project_path):
    project, _ = churn
    show_as(qtbot, mview, project_path, "ana", select=("churn", 1))
    assert mview.actions.request_action.isEnabled()
    assert not mview.actions.approve_action.isEnabled() and "no open request" in mview.actions.approve_action.toolTip()
    mview.actions.buttons["request"].click()
    dialog = mview.actions.dialog
    assert isinstance(dialog, RequestDialog) and "churn v1 → production" in dialog.text()
    dialog.comment.setPlainText("first model for the pilot")
    press_ok(qtbot, dialog)
    wait_reloaded(qtbot, mview, lambda: mview.details_data.open_request is not None)
    assert "Request #1" in mview.status.text() and "all gates passed" in mview.status.text()
    assert registry.get_version(project, "churn", 1).status == "pending"
    # Four-eyes: the requester's Approve is disabled, and its tooltip says why.
    assert not mview.actions.approve_action.isEnabled()
    assert mview.actions.approve_action.toolTip() == (
        "ana requested this promotion; the four-eyes rule needs another reviewer. "
        "Ask a teammate to approve it in the Models view.")
    assert "modeldesk " not in mview.actions.approve_action.toolTip()   # the GUI speaks of buttons, not commands
    assert not mview.actions.buttons["approve"].isEnabled()
    assert mview.actions.withdraw_action.isEnabled()

    show_as(qtbot, mview, project_path, "ben", select=("churn", 1))
    assert mview.actions.approve_action.isEnabled() and "Approve request #1" in mview.actions.approve_action.toolTip()
    mview.actions.approve_action.trigger()
    dialog = mview.actions.dialog
    assert isinstance(dialog, AskDialog) and "Approve request #1: churn v1 → production?" in dialog.text()
    assert "production moves from unset to v1" in dialog.text()
    dialog.comment.setPlainText("checked the hold-out AUC")
    press_ok(qtbot, dialog)
    wait_reloaded(qtbot, mview, lambda: "production" in cells(mview, 2))
    assert production(project) == 1
    assert "churn@production is now v1" in mview.status.text()
    review = approvals.list_requests(project, "churn")[0].reviews[0]
    assert (review.reviewer, review.comment) == ("ben", "checked the hold-out AUC")
    assert "approved by ben" in mview.details.review.toPlainText()


def test_reject_needs_a_comment(qtbot, mview, churn, project_path):
    project, _ = churn
    approvals.request_promotion(project, "churn", 2, actor="ana")
    show_as(qtbot, mview, project_path, "ben", select=("churn", 2))
    mview.actions.reject_action.trigger()
    dialog = mview.actions.dialog
    assert "Reject request #1: churn v2 → production?" in dialog.text()
    assert not dialog.ok_button.isEnabled()
    assert dialog.ok_button.toolTip() == "A rejection needs a comment that tells the requester why."
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)      # disabled: nothing happens
    dialog.comment.setPlainText("   ")
    assert not dialog.ok_button.isEnabled()
    dialog.comment.setPlainText("recall dropped on the March data")
    press_ok(qtbot, dialog)
    wait_reloaded(qtbot, mview, lambda: cells(mview, 1)[0] == "rejected")
    req = approvals.list_requests(project, "churn")[0]
    assert req.status == "rejected" and req.reviews[0].comment == "recall dropped on the March data"
    assert "rejected by ben: “recall dropped on the March data”" in mview.details.review.toPlainText()
    assert not mview.actions.approve_action.isEnabled() and "no open request" in mview.actions.approve_action.toolTip()


def test_override_a_failed_gate_then_approve(qtbot, mview, churn, md, project_path):
    project, _ = churn
    approvals.request_promotion(project, "churn", 2, actor="ana")
    approvals.approve(project, "churn", 2, actor="ben")
    worse = log_run(md, logreg(0.05), roc_auc=0.90, name="lr-small")
    registry.register_model(project, f"runs:/{worse}/model", "churn", actor="ana")
    approvals.request_promotion(project, "churn", 3, actor="ana", comment="5x faster")
    show_as(qtbot, mview, project_path, "ben", select=("churn", 3))
    assert not mview.actions.approve_action.isEnabled()
    assert mview.actions.approve_action.toolTip().startswith("Gate metric failed: roc_auc 0.9 vs production v2 0.96")
    assert "✗ FAIL" in mview.details.review.toPlainText() and "blocked by gate metric" in \
        mview.details.review.toPlainText()
    assert mview.actions.override_action.isEnabled()
    mview.actions.override_action.trigger()
    dialog = mview.actions.dialog
    assert isinstance(dialog, OverrideDialog) and dialog.gate.currentData() == "metric"
    assert "metric failed:" in dialog.text() and not dialog.ok_button.isEnabled()
    dialog.comment.setPlainText("5x faster scoring; AUC loss agreed with product")
    press_ok(qtbot, dialog)
    wait_reloaded(qtbot, mview, lambda: mview.actions.approve_action.isEnabled())
    metric = next(g for g in approvals.list_requests(project, "churn")[0].gates if g.gate == "metric")
    assert metric.override.approver == "ben"
    assert metric.override.reason == "5x faster scoring; AUC loss agreed with product"
    assert "overridden by ben" in mview.details.review.toPlainText()
    assert not mview.actions.override_action.isEnabled()
    assert audit.list_entries(project, action="gate.override")[-1].actor == "ben"


def test_withdraw_by_the_requester(qtbot, mview, churn, project_path):
    project, _ = churn
    approvals.request_promotion(project, "churn", 1, actor="ana")
    show_as(qtbot, mview, project_path, "ben", select=("churn", 1))
    assert not mview.actions.withdraw_action.isEnabled()
    assert mview.actions.withdraw_action.toolTip().startswith("Only ana, who made request #1, can withdraw it")
    show_as(qtbot, mview, project_path, "ana", select=("churn", 1))
    mview.actions.withdraw_action.trigger()
    assert "Withdraw your request #1: churn v1 → production?" in mview.actions.dialog.text()
    press_ok(qtbot, mview.actions.dialog)
    wait_reloaded(qtbot, mview, lambda: mview.details_data.open_request is None)
    assert approvals.list_requests(project, "churn")[0].status == "withdrawn"
    assert "ana withdrew request #1" in mview.status.text()


def test_rollback_confirms_naming_both_versions(qtbot, mview, churn, project_path):
    project, _ = churn
    for version in (1, 2):
        approvals.request_promotion(project, "churn", version, actor="ana")
        approvals.approve(project, "churn", version, actor="ben")
    show_as(qtbot, mview, project_path, "ben")
    assert mview.actions.rollback_action.isEnabled()
    assert mview.actions.rollback_action.toolTip() == "Puts v1 back on production (now v2)."
    mview.actions.buttons["rollback"].click()
    dialog = mview.actions.dialog
    assert isinstance(dialog, RollbackDialog)
    assert dialog.text().startswith("Move production from v2 back to v1?")
    assert not dialog.ok_button.isEnabled() and "needs a reason" in dialog.ok_button.toolTip()
    dialog.comment.setPlainText("v2 misses too many positives in the pilot")
    press_ok(qtbot, dialog)
    wait_reloaded(qtbot, mview, lambda: cells(mview, 2) == ["", "production"])
    assert production(project) == 1
    move = aliases.alias_history(project, "churn", "production")[-1]
    assert (move.kind, move.actor, move.reason) == ("rollback", "ben", "v2 misses too many positives in the pilot")
    assert "Rolled back churn@production: v2 → v1" in mview.status.text()
    rollback = mview.actions.rollback_action
    assert not rollback.isEnabled() and "Nothing to roll back to" in rollback.toolTip()


def test_a_refusal_from_core_is_shown_not_raised(qtbot, mview, churn, project_path):
    project, _ = churn
    approvals.request_promotion(project, "churn", 1, actor="ana")
    show_as(qtbot, mview, project_path, "ben", select=("churn", 1))
    assert mview.actions.approve_action.isEnabled()
    approvals.approve(project, "churn", 1, actor="cara")      # a teammate was faster
    mview.actions.approve_action.trigger()
    press_ok(qtbot, mview.actions.dialog)
    qtbot.waitUntil(lambda: mview.runner.last_box is not None and mview.runner.last_box.isVisible())
    box = mview.runner.last_box
    assert "Could not approve churn v1" in box.text()
    assert "Request #1 (churn v1 → production) is already completed by cara" in box.informativeText()
    assert "already completed" in mview.status.text()
    box.close()
    settled(qtbot, mview)
    assert not mview.actions.approve_action.isEnabled()


# -- timeline and the waiting list ---------------------------------------------------------------------
def test_timeline_has_one_band_per_production_holder_and_marks_rollbacks(qtbot, mview, churn, project_path):
    project, _ = churn
    for version in (1, 2):
        approvals.request_promotion(project, "churn", version, actor="ana")
        approvals.approve(project, "churn", version, actor="ben")
    aliases.rollback(project, "churn", reason="latency", actor="ben")
    aliases.set_alias(project, "churn", "staging", 2, actor="ana")
    show_as(qtbot, mview, project_path, "ben")
    chart = mview.timeline
    assert chart is not None and not chart.showing_message
    assert chart.rows == [1, 2]                                   # one row per version that held an alias
    production_bands = [(b.version, b.end is None) for b in chart.bands if b.alias == "production"]
    assert production_bands == [(1, False), (2, False), (1, True)]
    assert [(b.version, b.end) for b in chart.bands if b.alias == "staging"] == [(2, None)]
    assert [(m.from_version, m.to_version) for m in chart.rollback_marks] == [(2, 1)]
    tips = chart.tooltip_texts()
    assert any("production: v2 → v1" in t and "rollback by ben" in t and "latency" in t for t in tips)
    assert chart.plot.getAxis("bottom").__class__.__name__ == "DateAxisItem"
    chart.span_button.setChecked(True)                             # "Until now": first move to now
    lo, hi = chart.plot.viewRange()[0]
    assert lo <= chart.bands[0].start and hi >= chart.now
    moves = [mview.moves.topLevelItem(i).text(1) for i in range(mview.moves.topLevelItemCount())]
    assert moves == ["staging unset → v2", "production v2 → v1", "production v1 → v2", "production unset → v1"]
    assert mview.current_version == 2
    with qtbot.waitSignal(mview.versionSelected):
        chart.versionClicked.emit(1)                               # clicking a row selects its version
    assert mview.current_version == 1


def test_a_reviewer_sees_pending_requests_first(qtbot, mview, churn, md, project_path):
    project, _ = churn
    other = log_run(md, roc_auc=0.9, name="z-run")
    registry.register_model(project, f"runs:/{other}/model", "zeta", actor="ana")
    approvals.request_promotion(project, "zeta", 1, actor="ana", comment="please look")
    show_as(qtbot, mview, project_path, "ben")
    # The model list is by name, but the request waiting for ben opens first.
    assert [mview.model_list.topLevelItem(i).data(0, Qt.UserRole) for i in range(2)] == ["churn", "zeta"]
    assert (mview.current_model, mview.current_version) == ("zeta", 1)
    assert mview.waiting_title.text() == "Waiting for you (1)"
    assert mview.waiting_list.item(0).text().startswith("zeta v1 → production\nasked by ana")
    assert cells(mview, 1) == ["pending · review"]
    assert mview.actions.approve_action.isEnabled()

    mview.select("churn", 2)
    settled(qtbot, mview, ("churn", 2))
    qtbot.mouseClick(mview.waiting_list.viewport(), Qt.LeftButton,
                     pos=mview.waiting_list.visualItemRect(mview.waiting_list.item(0)).center())
    settled(qtbot, mview, ("zeta", 1))

    show_as(qtbot, mview, project_path, "ana")          # the requester: nothing to review, their own listed
    qtbot.waitUntil(lambda: mview.waiting_title.text() == "Waiting for you")
    texts = [mview.waiting_list.item(i).text() for i in range(mview.waiting_list.count())]
    assert texts == ["Nothing is waiting for your review.",
                     "yours: zeta v1 → production\n0 approval(s), waiting for a reviewer"]


def test_reads_and_actions_run_off_the_gui_thread(qtbot, mview, churn, project_path, monkeypatch):
    seen = []
    real_request = approvals.request_promotion
    real_table = __import__("modeldesk.core.registry.summaries", fromlist=["x"]).version_table

    def spy(fn):
        def wrapper(*args, **kwargs):
            seen.append(threading.current_thread() is threading.main_thread())
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr("modeldesk.core.registry.approvals.request_promotion", spy(real_request))
    monkeypatch.setattr("modeldesk.core.registry.summaries.version_table", spy(real_table))
    show_as(qtbot, mview, project_path, "ana", select=("churn", 1))
    mview.actions.request_action.trigger()
    press_ok(qtbot, mview.actions.dialog)
    wait_reloaded(qtbot, mview, lambda: mview.details_data.open_request is not None)
    assert len(seen) >= 3 and not any(seen)


def test_main_window_shows_the_registry_and_refreshes_it_live(qtbot, window, churn, project_path):
    from modeldesk.gui.main_window import VIEWS

    project, _ = churn
    window.open(project_path)
    qtbot.waitUntil(lambda: window.project is not None)
    window.nav.setCurrentRow(VIEWS.index("Models"))
    assert window.views.currentWidget() is window.models
    qtbot.waitUntil(lambda: window.models.table_data is not None and cells(window.models, 0) == ["v2", "v1"])
    window.poll()
    approvals.request_promotion(project, "churn", 1, actor="ana")     # another process acts...
    approvals.approve(project, "churn", 1, actor="ben")
    window.poll()                                                    # ...and the 2 s poll notices
    qtbot.waitUntil(lambda: cells(window.models, 2) == ["", "production"], timeout=8000)
    window.nav.setCurrentRow(VIEWS.index("Audit"))
    assert window.views.currentWidget() is window.audit
    qtbot.waitUntil(lambda: len(window.audit.entries) == len(audit.list_entries(project)), timeout=8000)


def test_every_core_hint_is_a_sentence_about_the_app():
    """Each face speaks its own words: no core hint reaches the GUI as a shell command."""
    from modeldesk.core.errors import HINT_ACTIONS, Hint, Reason
    from modeldesk.gui.kit.hints import hint_sentence, with_hint

    for action in HINT_ACTIONS:
        sentence = hint_sentence(Hint(action, model="churn", version=2, alias="production", gate="metric"))
        assert sentence.endswith(".") and "modeldesk " not in sentence and "`" not in sentence, action
    reason = Reason("Only ana can withdraw it.", Hint("reject", model="churn", version=2))
    assert with_hint(reason) == "Only ana can withdraw it. A reviewer can reject it with Reject… in the Models view."
    assert with_hint("plain") == "plain"

"""The Models view's actions: buttons, context menu, dialogs, one core call each.

:class:`ModelsActions` is owned by :class:`~modeldesk.gui.registry.models_view.ModelsView`
(``view.actions``). Whether an action is enabled, and the tooltip that says
why not, come from ``approvals.allowed_actions`` (read with the version
details), so the GUI disables exactly what core would refuse, in core's
words. The call itself runs in a worker
(:class:`~modeldesk.gui.kit.workers.ActionRunner`); a refusal that slipped
through (someone else acted first) is shown in a message box.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QSizePolicy, QToolButton, QWidget

from ...core.registry import aliases, approvals
from ...core.registry.entities import PRODUCTION
from ..kit.dialogs import message
from ..kit.hints import with_hint
from ..kit.workers import ActionRunner
from .registry_dialogs import (
    AskDialog,
    OverrideDialog,
    RegisterDialog,
    RequestDialog,
    RollbackDialog,
    register_from_run,
)

# Serve without a Serving view to serve with (the view opened alone, not in the main window).
SERVE_UNAVAILABLE = "Serving needs the Serving view: open the Models view in the ModelDesk window"


class ModelsActions(QObject):
    """The actions of a Models view, as QActions, toolbar buttons and menus.

    What it needs from ``view`` (a ModelsView), and uses nothing else of it:

    - to read: ``project``, ``user``, ``current_model``, ``current_version``,
      ``overview``, ``table_data``, ``details_data`` and ``current_row()``;
    - widgets: ``toolbar`` (the buttons are added to it), ``table`` (its context
      menu), and the view itself: the parent of actions, menus and dialogs, and the
      widget its shortcuts are added to (``addAction``);
    - to call: ``show_status(text, kind)``, ``select(name, version)``,
      ``forget_loaded(table)`` and ``reload()``.

    ``runner`` makes the core calls (the view's ActionRunner: it reads ``busy``).

    What it offers: the QActions (``register_action`` … ``report_action``,
    ``serve_alias_actions``), the toolbar ``buttons`` and ``serve_menu``, the
    action methods (``register()``, ``approve()`` …), ``update_actions()``
    (call it when the view's data or selection changed), ``enable_serving()``,
    ``serve_alias_entries()``; ``dialog`` is the dialog last opened (tests
    answer it). Signals: ``serveRequested(uri)`` and ``changed()`` (an action
    changed the registry).
    """

    serveRequested = Signal(str)
    changed = Signal()

    def __init__(self, view, runner: ActionRunner):
        super().__init__(view)
        self.view = view
        self.runner = runner
        self.dialog = None                # the dialog last opened (tests answer it)
        self.context_menu: QMenu | None = None
        self.serving_available = False    # whoever can serve sets it with enable_serving()
        self._build_actions()
        runner.started.connect(lambda _a: self.update_actions())
        runner.succeeded.connect(self._on_action_done)
        runner.failed.connect(self._on_action_failed)

    def _build_actions(self) -> None:
        def make(text: str, slot, shortcut=None) -> QAction:
            action = QAction(text, self.view)
            action.triggered.connect(lambda _=False: slot())
            if shortcut:
                action.setShortcut(shortcut)
                action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
                self.view.addAction(action)
            return action

        self.register_action = make("Register…", self.register)
        self.request_action = make("Request Promotion…", self.request_promotion)
        self.approve_action = make("Approve…", self.approve)
        self.reject_action = make("Reject…", self.reject)
        self.override_action = make("Override Gate…", self.override)
        self.withdraw_action = make("Withdraw…", self.withdraw)
        self.rollback_action = make("Roll Back…", self.rollback)
        self.open_run_action = make("Open Run Details", self.open_current_run)
        self.copy_uri_action = make("Copy Model URI", self.copy_uri)
        self.refresh_action = make("Refresh", self.view.reload, "F5")
        self.serve_action = QAction("Serve", self.view)       # the Serving view connects it
        self.report_action = make("Report…", self.export_report)
        self.report_export = None         # the ReportExport, made on first use
        self.serve_action.setEnabled(False)
        self.serve_action.setToolTip(SERVE_UNAVAILABLE)
        self.serve_action.triggered.connect(lambda _=False: self._serve())
        # The Serve button's menu (and the context menus): the selected version, then one entry per alias.
        # Serving an alias follows it: the server switches when the alias moves.
        self.serve_version_action = QAction("Serve version", self.view)
        self.serve_version_action.triggered.connect(lambda _=False: self._serve())
        self.serve_alias_action = QAction("Serve @production", self.view)   # the production entry (kept by name)
        self.serve_alias_action.triggered.connect(lambda _=False: self._serve_alias(PRODUCTION))
        self.serve_alias_actions: dict[str, QAction] = {PRODUCTION: self.serve_alias_action}
        for action in (self.serve_version_action, self.serve_alias_action):
            action.setEnabled(False)
            action.setToolTip(SERVE_UNAVAILABLE)
        self.serve_menu = QMenu(self.view)
        self.serve_menu.setObjectName("serveMenu")
        self.serve_menu.setToolTipsVisible(True)
        self._serve_menu_aliases: tuple[str, ...] | None = None
        self.buttons: dict[str, QToolButton] = {}
        for key, action in (("register", self.register_action), ("request", self.request_action),
                            ("approve", self.approve_action), ("reject", self.reject_action),
                            ("override", self.override_action), ("withdraw", self.withdraw_action),
                            ("rollback", self.rollback_action), (None, None),
                            ("serve", self.serve_action), ("report", self.report_action)):
            if key is None:
                spacer = QWidget()
                spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
                self.view.toolbar.addWidget(spacer)
                continue
            self.view.toolbar.addAction(action)
            button = self.view.toolbar.widgetForAction(action)
            button.setObjectName(f"{key}Button")
            self.buttons[key] = button
        # Click serves the selected version; the arrow lists the version and every alias of the model.
        self.buttons["serve"].setMenu(self.serve_menu)
        self.buttons["serve"].setPopupMode(QToolButton.MenuButtonPopup)
        self._fill_serve_menu(())

    # -- enabling --------------------------------------------------------------------------------
    def update_actions(self) -> None:
        """Enable what the rules allow for the selected version; tooltips say why not."""
        busy = self.runner.busy
        d = self.view.details_data
        req = d.open_request if d is not None else None
        ref = f"request #{req.id} ({req.model} v{req.version} → {req.target_alias})" if req else ""
        docs = {
            "request": "Run the gates and ask a teammate to approve this version for production or staging.",
            "approve": f"Approve {ref}; when the approvals are complete the alias moves.",
            "reject": f"Reject {ref} with a comment that tells the requester why.",
            "override": f"Let a failed gate of {ref} pass, with a written reason that is recorded.",
            "withdraw": f"Take back your {ref}.",
        }
        actions = {"request": self.request_action, "approve": self.approve_action, "reject": self.reject_action,
                   "override": self.override_action, "withdraw": self.withdraw_action}
        for key, action in actions.items():
            if self.view.project is None:
                ok, tip = False, "Open a project first."
            elif busy:
                ok, tip = False, "Working on the previous action…"
            elif self.view.current_version is None:
                ok, tip = False, "Select a version first."
            elif d is None:
                ok, tip = False, "Loading the version…"
            else:
                ok, why = d.allowed[key]
                tip = docs[key] if ok else with_hint(why)
            action.setEnabled(ok)
            action.setToolTip(tip)
        t = self.view.table_data
        if self.view.project is None or t is None:
            ok, tip = False, "Select a model first."
        elif busy:
            ok, tip = False, "Working on the previous action…"
        else:
            ok, tip = t.rollback
        self.rollback_action.setEnabled(ok)
        self.rollback_action.setToolTip(tip)
        self.register_action.setEnabled(self.view.project is not None and not busy)
        self.register_action.setToolTip("Register a run's logged model as a new version")
        has_version = self.view.project is not None and self.view.current_version is not None
        self.open_run_action.setEnabled(has_version and self.view.current_row() is not None)
        self.copy_uri_action.setEnabled(has_version)
        exporting = self.report_export is not None and self.report_export.busy
        self.report_action.setEnabled(has_version and not exporting)
        self.report_action.setToolTip("Writing the report…" if exporting else (
            f"Export the audit report of {self.view.current_model} v{self.view.current_version} as PDF or HTML"
            if has_version else "Select a version first."))
        self._update_serve(has_version)

    def _update_serve(self, has_version: bool) -> None:
        """Serve (the selected version) and its menu: the version, then one entry per alias of the model."""
        name, version = self.view.current_model, self.view.current_version
        if not self.serving_available:
            ok, tip = False, SERVE_UNAVAILABLE
        elif has_version:
            ok, tip = True, f"Serve models:/{name}/{version} over HTTP"
        else:
            ok, tip = False, "Select a version first."
        for action in (self.serve_action, self.serve_version_action):
            action.setEnabled(ok)
            action.setToolTip(tip)
        self.serve_version_action.setText(f"Serve version {version}" if has_version else "Serve version")
        aliases = self.model_aliases(name) if self.view.project is not None and name is not None else {}
        for alias, held in aliases.items():
            action = self.serve_alias_actions.get(alias)
            if action is None:
                action = self.serve_alias_actions[alias] = QAction(f"Serve @{alias}", self.view)
                action.triggered.connect(lambda _=False, a=alias: self._serve_alias(a))
            ok, tip = self._serve_alias_state(name, alias, held)
            action.setEnabled(ok)
            action.setToolTip(tip)
        if PRODUCTION not in aliases:    # "Serve @production" stays, disabled, for whoever shows it
            self.serve_alias_action.setEnabled(False)
            self.serve_alias_action.setToolTip(SERVE_UNAVAILABLE if not self.serving_available
                                               else "This model has no production version yet.")
        self._fill_serve_menu(tuple(aliases))

    def _fill_serve_menu(self, aliases: tuple[str, ...]) -> None:
        if aliases == self._serve_menu_aliases:
            return       # unchanged: do not rebuild a menu that may be open
        self._serve_menu_aliases = aliases
        self.serve_menu.clear()     # the actions belong to the view: clear() keeps them
        self.serve_menu.addAction(self.serve_version_action)
        if aliases:
            self.serve_menu.addSeparator()
        for alias in aliases:
            self.serve_menu.addAction(self.serve_alias_actions[alias])

    def model_aliases(self, name: str | None) -> dict[str, int]:
        """``name``'s aliases (production first, then by name) from the data the view holds."""
        aliases: dict[str, int] = {}
        if self.view.table_data is not None and self.view.table_data.model.name == name:
            aliases = dict(self.view.table_data.model.aliases)
        elif self.view.overview is not None:
            aliases = next((dict(m.aliases) for m in self.view.overview.models if m.name == name), {})
        return dict(sorted(aliases.items(), key=lambda kv: (kv[0] != PRODUCTION, kv[0])))

    def _serve_alias_state(self, name: str, alias: str, version: int) -> tuple[bool, str]:
        if not self.serving_available:
            return False, SERVE_UNAVAILABLE
        return True, (f"Serve models:/{name}@{alias} (now v{version}): the server follows {alias} "
                      f"when it moves")

    def serve_alias_entries(self, name: str, parent) -> list[QAction]:
        """New "Serve @alias" actions (children of ``parent``) for every alias of ``name``: the model list's
        context menu, which may name a model other than the selected one."""
        if self.view.project is None:
            return []
        entries = []
        for alias, version in self.model_aliases(name).items():
            action = QAction(f"Serve @{alias}", parent)
            ok, tip = self._serve_alias_state(name, alias, version)
            action.setEnabled(ok)
            action.setToolTip(tip)
            action.triggered.connect(lambda _=False, n=name, a=alias: self.serveRequested.emit(f"models:/{n}@{a}"))
            entries.append(action)
        return entries

    def enable_serving(self, available: bool = True) -> None:
        """Let Serve emit ``serveRequested(uri)`` (called by whoever can serve a model)."""
        self.serving_available = available
        self.update_actions()

    def _serve(self) -> None:
        if self.view.current_model is not None and self.view.current_version is not None:
            self.serveRequested.emit(f"models:/{self.view.current_model}/{self.view.current_version}")

    def _serve_alias(self, alias: str) -> None:
        if self.view.current_model is not None:
            self.serveRequested.emit(f"models:/{self.view.current_model}@{alias}")

    # -- dialogs -----------------------------------------------------------------------------------
    def _ask(self, dialog, run) -> None:
        """Open ``dialog`` window-modal; ``run(values)`` when it is accepted."""
        dialog.accepted.connect(lambda: run(dialog.values()))
        self.dialog = dialog
        dialog.open()

    def _act(self, action: str, what: str, fn, *args, **kwargs) -> None:
        self.runner.run(action, what, fn, self.view.project, *args, actor=self.view.user, **kwargs)

    def _target(self):
        d = self.view.details_data
        return (d.version.name, d.version.version, d.open_request) if d is not None else (None, None, None)

    def register(self) -> RegisterDialog | None:
        if self.view.project is None:
            return None
        self.dialog = register_from_run(self.view.project, None, self.view, model_name=self.view.current_model,
                                        actor=self.view.user, runner=self.runner)
        return self.dialog

    def request_promotion(self) -> None:
        name, version, _ = self._target()
        if name is None or not self.request_action.isEnabled():
            return
        dialog = RequestDialog(name, version, dict(self.view.table_data.model.aliases), self.view)
        self._ask(dialog, lambda v: self._act("request", f"request promotion of {name} v{version}",
                                              approvals.request_promotion, name, version, **v))

    def approve(self) -> None:
        name, version, req = self._target()
        if req is None or not self.approve_action.isEnabled():
            return
        need = self.view.details_data.settings.required_approvals
        holder = self.view.table_data.model.aliases.get(req.target_alias) if self.view.table_data else None
        now = f"v{holder}" if holder is not None else "unset"
        text = (f"<b>Approve request #{req.id}: {html.escape(name)} v{version} → {html.escape(req.target_alias)}?"
                f"</b><br>Requested by {html.escape(req.requested_by)}"
                + (f": “{html.escape(req.comment)}”" if req.comment else "")
                + f"<br>{len(req.approvals)} of {need} approval(s) so far; when they are complete "
                f"{html.escape(req.target_alias)} moves from {now} to v{version}.")
        dialog = AskDialog("Approve", text, self.view, ok_text="Approve", placeholder="What did you check? (optional)")
        self._ask(dialog, lambda v: self._act("approve", f"approve {name} v{version}", approvals.approve, name,
                                              version, comment=v["comment"], to=req.target_alias))

    def reject(self) -> None:
        name, version, req = self._target()
        if req is None or not self.reject_action.isEnabled():
            return
        text = (f"<b>Reject request #{req.id}: {html.escape(name)} v{version} → {html.escape(req.target_alias)}?"
                f"</b><br>{html.escape(req.requested_by)} sees your comment.")
        dialog = AskDialog("Reject", text, self.view, ok_text="Reject",
                           required="A rejection needs a comment that tells the requester why.",
                           placeholder="Why not? e.g. recall dropped on the March data")
        self._ask(dialog, lambda v: self._act("reject", f"reject {name} v{version}", approvals.reject, name,
                                              version, comment=v["comment"], to=req.target_alias))

    def override(self) -> None:
        name, version, req = self._target()
        if req is None or not self.override_action.isEnabled():
            return
        failed = [g for g in req.gates if not g.passed and g.override is None]
        dialog = OverrideDialog(name, version, req.id, failed, self.view)
        self._ask(dialog, lambda v: self._act("override", f"override gate {v['gate']} of {name} v{version}",
                                              approvals.override_gate, name, version, v["gate"],
                                              reason=v["reason"], to=req.target_alias))

    def withdraw(self) -> None:
        name, version, req = self._target()
        if req is None or not self.withdraw_action.isEnabled():
            return
        text = (f"<b>Withdraw your request #{req.id}: {html.escape(name)} v{version} → "
                f"{html.escape(req.target_alias)}?</b><br>Reviewers will no longer see it.")
        dialog = AskDialog("Withdraw Request", text, self.view, ok_text="Withdraw", placeholder="Why? (optional)")
        self._ask(dialog, lambda v: self._act("withdraw", f"withdraw request #{req.id}", approvals.withdraw, name,
                                              version, comment=v["comment"], to=req.target_alias))

    def rollback(self) -> None:
        t = self.view.table_data
        if t is None or not self.rollback_action.isEnabled() or t.rollback_target is None or t.production is None:
            return
        name = t.model.name
        dialog = RollbackDialog(name, PRODUCTION, t.production, t.rollback_target, self.view)
        self._ask(dialog, lambda v: self._act("rollback", f"roll back {name}@production", aliases.rollback, name,
                                              alias=PRODUCTION, reason=v["comment"]))

    # -- results -----------------------------------------------------------------------------------
    def _on_action_done(self, action: str, result) -> None:
        if action == "register":
            self.view.show_status(f"Registered {result.name} v{result.version} from run {result.run_id[:8]}.")
            self.view.select(result.name, result.version)
        elif action == "request":
            if result.blocking_gates:
                gates = ", ".join(g.gate for g in result.blocking_gates)
                first = result.blocking_gates[0]
                text = (f"Request #{result.id} is recorded but blocked: gate {gates} failed. Fix the model and "
                        f"request again, or an approver can override the gate.")
                self.view.show_status(text, "warn")
                message(self.view, QMessageBox.Warning, "Gate failed", f"<b>{html.escape(text)}</b>",
                        f"{first.gate}: {first.message}")
            else:
                self.view.show_status(f"Request #{result.id}: {result.model} v{result.version} → "
                                      f"{result.target_alias}; all gates passed, waiting for a reviewer.")
        elif action in ("approve", "reject", "override", "withdraw"):
            verb = {"approve": "approved", "reject": "rejected", "override": "overrode a gate of",
                    "withdraw": "withdrew"}[action]
            text = (f"{self.view.user} {verb} request #{result.id} ({result.model} v{result.version} → "
                    f"{result.target_alias}).")
            if action == "approve" and result.status == "completed":
                text += f" {result.model}@{result.target_alias} is now v{result.version}."
            elif action == "approve":
                need = self.view.details_data.settings.required_approvals if self.view.details_data else "?"
                text += f" {len(result.approvals)} of {need} approval(s)."
            self.view.show_status(text)
        elif action == "rollback":
            self.view.show_status(f"Rolled back {result.model}@{result.alias}: v{result.from_version} → "
                             f"v{result.to_version}.")
        self.view.forget_loaded(table=True)
        self.update_actions()
        self.changed.emit()
        self.view.reload()

    def _on_action_failed(self, action: str, text: str) -> None:
        self.view.show_status(text, "error")
        self.view.forget_loaded(table=False)
        self.update_actions()
        self.view.reload()    # someone may have acted first: show the state that refused us

    def report_exporter(self):
        """The view's ReportExport (file dialog, worker, progress), made on first use."""
        if self.report_export is None:
            from ..reports.report_action import ReportExport

            self.report_export = ReportExport(self.view)
            self.report_export.finished.connect(self._on_report_written)
            self.report_export.failed.connect(lambda text: (self.view.show_status(text, "error"),
                                                            self.update_actions()))
        return self.report_export

    def export_report(self) -> None:
        """Ask for a file and write the selected version's audit report there, in the background."""
        if self.view.project is None or self.view.current_version is None:
            return
        uri = f"models:/{self.view.current_model}/{self.view.current_version}"
        self.report_exporter().start(self.view.project, uri, self.view.user)
        self.update_actions()

    def _on_report_written(self, done) -> None:
        self.view.show_status(f"Wrote {done.path.name} ({done.format.upper()}, sha256 {done.sha256[:12]}…); "
                              f"recorded in the audit log as entry #{done.entry_seq}.")
        self.update_actions()

    # -- run link, clipboard, context menu ------------------------------------------------------------
    def open_run(self, run_id: str) -> None:
        """Open the run details window of ``run_id`` (the version's lineage)."""
        try:
            from ..runs.run_details import open_run_details

            open_run_details(self.view.project, run_id, self.view)
        except Exception as exc:   # a view failing to open must not take the window with it
            message(self.view, QMessageBox.Warning, "Run details", f"Could not open the run details view: {exc}")

    def open_current_run(self) -> None:
        row = self.view.current_row()
        if row is not None:
            self.open_run(row.version.run_id)

    def copy_uri(self) -> None:
        if self.view.current_model is not None and self.view.current_version is not None:
            QGuiApplication.clipboard().setText(f"models:/{self.view.current_model}/{self.view.current_version}")

    def show_context_menu(self, pos) -> None:
        """The versions table's context menu at ``pos`` (table viewport coordinates)."""
        index = self.view.table.indexAt(pos)
        if index.isValid():
            self.view.table.selectRow(index.row())
        menu = QMenu(self.view)
        for action in (self.request_action, self.approve_action, self.reject_action, self.override_action,
                       self.withdraw_action, self.rollback_action, None, self.open_run_action,
                       self.copy_uri_action, None, self.register_action, None,
                       *self.serve_menu.actions(), None, self.report_action):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.setToolTipsVisible(True)
        self.context_menu = menu
        menu.popup(self.view.table.viewport().mapToGlobal(pos))

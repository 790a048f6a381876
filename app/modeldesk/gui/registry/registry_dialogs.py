"""Dialogs of the registry actions.

Each dialog only collects an answer (a comment, a reason, a gate, a run);
an :class:`~modeldesk.gui.kit.workers.ActionRunner` then makes the one core call off the GUI thread and
shows a refusal from core (four-eyes, a failed gate, nothing to roll back)
in a message box. Dialogs are opened with ``open()`` (window-modal, the
event loop keeps running), so tests fill their fields and press OK.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.registry import summaries as registry_view
from ...core.registry import versions as registry
from ...core.registry.entities import PRODUCTION
from ...core.registry.gates import GATE_TITLES
from ...core.text import fmt_time
from ..kit.dialogs import FormDialog, message
from ..kit.theme import theme
from ..kit.workers import ActionRunner, Jobs

ALIASES = (PRODUCTION, "staging")


class AskDialog(FormDialog):
    """A question (rich text), optional fields, and a text box that may be required."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None, *, field_label: str = "Comment",
                 required: str = "", placeholder: str = "", ok_text: str = "OK"):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("registryDialog")
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.required = required          # why the text is needed ("" = optional)
        self.message = QLabel(text)
        self.message.setTextFormat(Qt.RichText)
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(420)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.ExpandingFieldsGrow)
        self.comment = QPlainTextEdit()
        self.comment.setPlaceholderText(placeholder or ("Required" if required else "Optional"))
        self.comment.setTabChangesFocus(True)
        self.comment.setFixedHeight(self.fontMetrics().height() * 5)
        self.hint = QLabel()
        self.hint.setStyleSheet(f"color: {theme()['muted']};")
        self.hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(self.form)
        self.form.addRow(f"{field_label}{' *' if required else ''}:", self.comment)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self.comment.textChanged.connect(self.validate)
        self.validate()

    def text(self) -> str:
        """The question as plain text."""
        doc = QTextDocument()
        doc.setHtml(self.message.text())
        return doc.toPlainText()

    def problem(self) -> str:
        """Why OK is disabled ("" when the answer is complete)."""
        if self.required and not self.comment.toPlainText().strip():
            return self.required
        return ""

    def values(self) -> dict:
        return {"comment": self.comment.toPlainText().strip()}


class RequestDialog(AskDialog):
    """Request promotion of a version to production, staging or another alias."""

    def __init__(self, name: str, version: int, aliases: dict[str, int], parent: QWidget | None = None,
                 alias: str = PRODUCTION):
        self._aliases = aliases
        self._name, self._version = name, version
        super().__init__("Request Promotion", "", parent, placeholder="Why this version? (shown to reviewers)",
                         ok_text="Request")
        self.alias = QComboBox()
        self.alias.setEditable(True)
        self.alias.addItems(list(ALIASES) + sorted(a for a in aliases if a not in ALIASES))
        self.alias.setCurrentText(alias)
        self.form.insertRow(0, "Alias:", self.alias)
        self.alias.currentTextChanged.connect(self._describe)
        self._describe()

    def _describe(self) -> None:
        alias = self.alias.currentText().strip()
        holder = self._aliases.get(alias)
        now = f"v{holder}" if holder is not None else "none"
        self.message.setText(
            f"Request <b>{html.escape(self._name)} v{self._version} → {html.escape(alias)}</b> "
            f"({html.escape(alias)} now: {now}).<br>The gates run first (artifact, predict, signature, metric); "
            f"a reviewer other than you then approves or rejects.")
        self.validate()

    def problem(self) -> str:
        alias = self.alias.currentText().strip() if hasattr(self, "alias") else PRODUCTION
        if not alias:
            return "Name the alias to point at this version, e.g. production or staging."
        if self._aliases.get(alias) == self._version:
            return f"v{self._version} already holds {alias}."
        return ""

    def values(self) -> dict:
        return {"to": self.alias.currentText().strip(), "comment": self.comment.toPlainText().strip()}


class OverrideDialog(AskDialog):
    """Let a failed gate pass, with a written reason that is recorded."""

    def __init__(self, name: str, version: int, request_id: int, failed: list, parent: QWidget | None = None):
        self._failed = {g.gate: g for g in failed}
        super().__init__("Override Gate", "", parent, field_label="Reason",
                         required="Overriding a gate needs a written reason; it is recorded in the audit log.",
                         placeholder="Why may this version pass although the gate failed?", ok_text="Override")
        self._head = (f"Override a failed gate of request #{request_id} "
                      f"(<b>{html.escape(name)} v{version}</b>).<br>An override is not an approval: the request "
                      f"still needs its review.")
        self.gate = QComboBox()
        for gate in self._failed:
            self.gate.addItem(f"{gate} — {GATE_TITLES.get(gate, gate)}", gate)
        self.form.insertRow(0, "Gate:", self.gate)
        self.gate.currentIndexChanged.connect(self._describe)
        self._describe()

    def _describe(self) -> None:
        g = self._failed.get(self.gate.currentData())
        failed = f"<br><br><b>{html.escape(g.gate)} failed:</b> {html.escape(g.message)}" if g else ""
        self.message.setText(self._head + failed)

    def values(self) -> dict:
        return {"gate": self.gate.currentData(), "reason": self.comment.toPlainText().strip()}


class RollbackDialog(AskDialog):
    """Confirm a rollback, naming the version that leaves and the one that comes back."""

    def __init__(self, name: str, alias: str, current: int, target: int, parent: QWidget | None = None):
        super().__init__("Roll Back", f"<b>Move {html.escape(alias)} from v{current} back to v{target}?</b><br>"
                         f"{html.escape(name)}@{html.escape(alias)} will point at v{target}, the version that "
                         f"held it before v{current}. The move is recorded with your reason.",
                         parent, field_label="Reason", ok_text="Roll Back",
                         required="A rollback needs a reason, e.g. \"v3 misclassifies new customers\".",
                         placeholder="What went wrong with the current version?")


# -- registering a run's model ---------------------------------------------------------------------
def _register_choices(project):
    return registry_view.runs_with_models(project), [m.name for m in registry.list_models(project)]


class RegisterDialog(FormDialog):
    """Pick a run with a logged model and the model name to register it under."""

    def __init__(self, project, parent: QWidget | None = None, *, run_id: str | None = None,
                 model_name: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Register Model")
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.project = project
        self.jobs = Jobs(self)
        self._wanted_run = run_id
        self.runs: list[registry_view.RunModels] = []
        self.search = QLineEdit(placeholderText="Filter runs by name, experiment or id")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Run", "Experiment", "Status", "Started", "Models", "Registered as"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.lineEdit().setPlaceholderText("e.g. churn-classifier")
        if model_name:
            self.name.setEditText(model_name)
        self.artifact = QComboBox()
        self.note = QLabel("Loading runs…")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {theme()['muted']};")
        form = QFormLayout()
        form.addRow("Model name:", self.name)
        form.addRow("Logged model:", self.artifact)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText("Register")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Register a run's logged model as the next version of a model:"))
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(self.buttons)
        self.resize(820, 520)
        self.search.textChanged.connect(self._filter)
        self.tree.currentItemChanged.connect(lambda *_: self._on_run())
        self.name.editTextChanged.connect(lambda *_: self.validate())
        self.artifact.currentTextChanged.connect(lambda *_: self.validate())
        self.validate()
        self.jobs.start(_register_choices, project, done=self._on_choices, failed=self._on_failed)

    @property
    def loaded(self) -> bool:
        return bool(self.runs) or self.note.text() != "Loading runs…"

    def _on_choices(self, result) -> None:
        self.runs, names = result
        typed = self.name.currentText()
        self.name.blockSignals(True)
        self.name.addItems(names)
        self.name.setEditText(typed)
        self.name.blockSignals(False)
        self.tree.clear()
        wanted = None
        for r in self.runs:
            item = QTreeWidgetItem([r.run_name, r.experiment, r.status, fmt_time(r.start_time), ", ".join(r.models),
                                    ", ".join(r.registered)])
            item.setData(0, Qt.UserRole, r.run_id)
            item.setToolTip(0, r.run_id)
            self.tree.addTopLevelItem(item)
            if self._wanted_run and r.run_id.startswith(self._wanted_run):
                wanted = item
        if not self.runs:
            self.note.setText("No run has logged a model yet. Log one with md.log_model(model, input_example=X[:5]).")
        elif self._wanted_run and wanted is None:
            self.note.setText(f"Run {self._wanted_run[:8]} logged no model; pick a run that did.")
        if wanted is not None:
            self.tree.setCurrentItem(wanted)
            self.tree.scrollToItem(wanted)
        self._on_run()

    def _on_failed(self, text: str) -> None:
        self.note.setText(f"Could not list runs: {text}")

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            hay = " ".join([item.text(0), item.text(1), item.data(0, Qt.UserRole)]).lower()
            item.setHidden(bool(needle) and needle not in hay)

    def selected_run(self) -> registry_view.RunModels | None:
        item = self.tree.currentItem()
        if item is None or item.isHidden():
            return None
        run_id = item.data(0, Qt.UserRole)
        return next((r for r in self.runs if r.run_id == run_id), None)

    def select_run(self, run_id: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.UserRole).startswith(run_id):
                self.tree.setCurrentItem(item)
                return

    def _on_run(self) -> None:
        run = self.selected_run()
        self.artifact.blockSignals(True)
        self.artifact.clear()
        if run is not None:
            self.artifact.addItems(list(run.models))
            if "model" in run.models:
                self.artifact.setCurrentText("model")
        self.artifact.blockSignals(False)
        self.validate()

    def problem(self) -> str:
        if self.selected_run() is None:
            return "Pick a run that logged a model."
        if not self.name.currentText().strip():
            return "Name the model to register it under (new or existing)."
        return ""

    def validate(self) -> None:
        why = self.problem()
        self.ok_button.setEnabled(not why)
        self.ok_button.setToolTip(why)
        run = self.selected_run()
        if run is None:
            return
        name = self.name.currentText().strip()
        already = [r for r in run.registered if r.rsplit(" v", 1)[0] == name]
        if why:
            self.note.setText(why)
        elif already:
            self.note.setText(f"This run is already registered as {already[0]}; registering again returns "
                              "that version unless its model changed.")
        else:
            self.note.setText(f"Registers runs:/{run.run_id[:8]}…/{self.artifact.currentText()} "
                              f"(run {run.run_name}) as the next version of {name}.")

    def values(self) -> dict:
        run = self.selected_run()
        return {"run_id": run.run_id if run else None, "artifact": self.artifact.currentText() or "model",
                "name": self.name.currentText().strip()}

    def done(self, result: int) -> None:
        self.jobs.cancel_all()
        super().done(result)


# -- registering from a run ------------------------------------------------------------------------
def register_from_run(project, run_id: str | None, parent: QWidget, *, model_name: str | None = None,
                      actor: str | None = None, runner: ActionRunner | None = None) -> RegisterDialog:
    """Open the register dialog (the run preselected); on OK register in a worker.

    With a ``runner`` its owner handles the result (the Models view reloads
    and selects the new version); without one (the Experiments view) an
    information box names the new version.
    """
    dialog = RegisterDialog(project, parent, run_id=run_id, model_name=model_name)
    if runner is None:
        runner = ActionRunner(parent)

        def registered(_action: str, version) -> None:
            message(parent, QMessageBox.Information, "Registered",
                    f"<b>Registered {html.escape(version.name)} v{version.version}</b>",
                    f"From {version.source}. Request its promotion in the Models view.")

        runner.succeeded.connect(registered)

    def go() -> None:
        v = dialog.values()
        runner.run("register", f"register {v['name']}", registry.register_model, project,
                   f"runs:/{v['run_id']}/{v['artifact']}", v["name"], actor=actor or project.user)

    dialog.accepted.connect(go)
    dialog.open()
    parent.register_dialog = dialog
    parent.register_runner = runner
    return dialog

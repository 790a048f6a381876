"""The Models view: the model registry with its approvals and rollback.

Left: what waits for your review (first, so a reviewer sees it before
anything else), then the registered models with their production and staging
versions. Right: the selected model's versions (status, aliases, primary
metric, run link), the actions, and the selected version's review trail,
lineage and the model's alias history as a timeline chart.

Every read is one core call in a worker (core/registry/summaries.py); every
action is one core call through an :class:`~modeldesk.gui.kit.workers.ActionRunner`,
and an action the rules forbid is disabled with core's own reason as its
tooltip (``approvals.allowed_actions``). The actions are a
:class:`~modeldesk.gui.registry.models_actions.ModelsActions` the view owns
(``view.actions``).
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.registry import summaries as rv
from ...core.registry.entities import PRODUCTION
from ...core.text import fmt_number, fmt_time
from ..kit.empty_state import EmptyState
from ..kit.tables import CopyTableView, selection_of, set_table_model
from ..kit.theme import status_role, theme
from ..kit.windows import ReloadWhenShown
from ..kit.workers import ActionRunner, Jobs
from .model_list import ModelListPanel, section
from .models_actions import ModelsActions
from .version_details import VersionDetailsPane

VERSION_COLUMNS = ("Version", "Status", "Aliases", "Metric", "Created by", "Created at", "Run")
RUN_COLUMN = VERSION_COLUMNS.index("Run")
VersionRole = Qt.UserRole + 1
RunRole = Qt.UserRole + 2
NO_MODELS = ("No registered models yet",
             "Register a run's logged model to start its review trail: pick a run that logged a model "
             "(<code>md.log_model</code>), or right-click a run in the Experiments view.")


def _overview_job(project, user, token):
    return token, rv.overview(project, user)


def _table_job(project, name, user, token):
    return token, rv.version_table(project, name, user)


def _details_job(project, name, version, user, token):
    return token, rv.version_details(project, name, version, user)


class ModelsView(ReloadWhenShown, QWidget):
    """The registry screen; ``set_project(project, user)`` fills it, ``refresh()`` updates it in place."""

    versionSelected = Signal(str, int)    # model, version
    changed = Signal()                   # an action of this view changed the registry
    loaded = Signal()                    # a model's versions table arrived
    serveRequested = Signal(str)         # a model URI (Serve, once actions.enable_serving() was called)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self.user = ""
        self.jobs = Jobs(self)
        self.runner = ActionRunner(self, self.jobs)
        self._session = 0
        self._stale = False
        self.overview: rv.Overview | None = None
        self.table_data: rv.VersionTable | None = None
        self.details_data: rv.VersionDetails | None = None
        self._model: str | None = None
        self._version: int | None = None
        self._want: tuple[str, int | None] | None = None    # select this once it is listed
        self.timeline = None                                 # created with the first history (pyqtgraph)
        self._build()
        self.actions = ModelsActions(self, self.runner)
        self._connect()
        self.actions.update_actions()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.panel = ModelListPanel()
        self.waiting_title, self.waiting_list, self.model_list = (self.panel.waiting_title, self.panel.waiting_list,
                                                                  self.panel.model_list)
        self.find_field = self.panel.find_field      # Edit ▸ Find: the model name filter

        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.title.setWordWrap(True)
        self.toolbar = QToolBar()      # overflows into a ">>" menu when the window is narrow
        self.toolbar.setObjectName("registryActions")
        self.toolbar.setMovable(False)
        self.toolbar.setFloatable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.toolbar.setStyleSheet(
            "QToolBar#registryActions { border: none; spacing: 4px; padding: 0; }"
            "QToolBar#registryActions QToolButton { border: 1px solid palette(mid); border-radius: 3px;"
            " padding: 3px 7px; background: palette(button); }"
            "QToolBar#registryActions QToolButton[popupMode=\"1\"] { padding-right: 18px; }"
            "QToolBar#registryActions QToolButton:disabled { color: palette(mid); background: palette(window); }"
            "QToolBar#registryActions QToolButton:hover:enabled { background: palette(light); }")
        self.status = QLabel()
        self.status.setObjectName("registryStatus")
        self.status.setTextFormat(Qt.RichText)
        self.status.setWordWrap(True)
        self.versions = QStandardItemModel(self)
        self.table = CopyTableView()
        self.table.setObjectName("versionsTable")
        set_table_model(self.table, self.versions)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.setMouseTracking(True)
        self.details = VersionDetailsPane()
        self.history_box = QWidget()
        hl = QVBoxLayout(self.history_box)
        hl.setContentsMargins(0, 0, 0, 0)
        hl.setSpacing(2)
        hl.addWidget(section("Alias history"))
        self.moves = QTreeWidget()
        self.moves.setObjectName("aliasMoves")
        self.moves.setHeaderLabels(["When", "Move", "How", "By", "Why"])
        self.moves.setRootIsDecorated(False)
        self.moves.setUniformRowHeights(True)
        self.moves.header().setStretchLastSection(True)
        self.history_split = QSplitter(Qt.Vertical)
        self.history_split.addWidget(self.moves)
        hl.addWidget(self.history_split, 1)
        self.lower = QSplitter(Qt.Horizontal)
        self.lower.addWidget(self.details)
        self.lower.addWidget(self.history_box)
        self.lower.setStretchFactor(0, 1)
        self.lower.setStretchFactor(1, 1)
        self.lower.setSizes([470, 390])
        self.right_split = QSplitter(Qt.Vertical)
        self.right_split.addWidget(self.table)
        self.right_split.addWidget(self.lower)
        self.right_split.setStretchFactor(1, 1)
        self.right_split.setSizes([135, 515])
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 6, 6, 4)
        rl.setSpacing(5)
        rl.addWidget(self.title)
        rl.addWidget(self.toolbar)
        rl.addWidget(self.status)
        rl.addWidget(self.right_split, 1)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setObjectName("modelsSplitter")
        self.splitter.addWidget(self.panel)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 860])
        self.empty = EmptyState(*NO_MODELS, actions=("Register Model…",))
        self.empty.actionTriggered.connect(lambda _n: self.actions.register())
        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def _connect(self) -> None:
        self.panel.modelChosen.connect(self._on_model_chosen)
        self.panel.requestChosen.connect(self.select)
        self.panel.menu_entries = self.actions.serve_alias_entries    # "Serve @alias" on a model of the list
        selection_of(self.table).currentRowChanged.connect(self._on_version_row)
        self.table.clicked.connect(self._on_table_click)
        self.table.customContextMenuRequested.connect(self.actions.show_context_menu)
        self.details.runLinkClicked.connect(self.actions.open_run)
        self.actions.serveRequested.connect(self.serveRequested)
        self.actions.changed.connect(self.changed)

    # -- project ----------------------------------------------------------------------------
    def set_project(self, project, user: str | None = None) -> None:
        """Show ``project`` (None: nothing) as ``user`` (default: the project's user)."""
        self.project = project
        self.user = user or (project.user if project is not None else "")
        self._session += 1
        self.overview = self.table_data = self.details_data = None
        self._model = self._version = None
        self._want = None
        self.panel.clear()
        self.versions.clear()
        self.moves.clear()
        self.title.clear()
        self.status.clear()
        self.details.show_message("Select a version to see its review trail and lineage.")
        if self.timeline is not None:
            self.timeline.set_history([], [])
        self.stack.setCurrentWidget(self.splitter)
        self.actions.update_actions()
        if project is not None:
            self._load_overview()

    def set_user(self, user: str) -> None:
        """Act as ``user`` (the reviewer whose waiting list and permissions are shown)."""
        self.user = user
        self._session += 1      # results still on their way were computed for the previous user: drop them
        self.overview = self.table_data = self.details_data = None   # all of it depends on who you are
        self.actions.update_actions()
        self.reload()

    def reload(self) -> None:
        self._stale = False
        if self.project is None:
            return
        self._load_overview()
        if self._model is not None:
            self._load_table(self._model)
        if self._model is not None and self._version is not None:
            self._load_details(self._model, self._version)

    def select(self, name: str, version: int | None = None) -> None:
        """Select a model (and version) as soon as they are listed."""
        self._want = (name, version)
        self._apply_want()

    # -- loading ---------------------------------------------------------------------------------
    def _load_overview(self) -> None:
        self.jobs.start(_overview_job, self.project, self.user, self._session, done=self._on_overview,
                        failed=self._on_load_failed)

    def _load_table(self, name: str) -> None:
        self.jobs.start(_table_job, self.project, name, self.user, (self._session, name), done=self._on_table,
                        failed=self._on_load_failed)

    def _load_details(self, name: str, version: int) -> None:
        self.jobs.start(_details_job, self.project, name, version, self.user, (self._session, name, version),
                        done=self._on_details, failed=self._on_load_failed)

    def _on_load_failed(self, text: str) -> None:
        if self.project is not None:
            self.show_status(text, "error")

    def _on_overview(self, result) -> None:
        session, ov = result
        if session != self._session or self.project is None:
            return
        first = self.overview is None
        if ov == self.overview:
            return
        self.overview = ov
        self.panel.fill(ov, self._model)
        if not ov.models:
            self.stack.setCurrentWidget(self.empty)
            self.actions.update_actions()
            return
        self.stack.setCurrentWidget(self.splitter)
        if first and self._want is None and ov.waiting:   # a reviewer sees their pending requests first
            self._want = (ov.waiting[0].model, ov.waiting[0].version)
        if self._want is not None:
            self._apply_want()
        elif self._model is None or self._model not in {m.name for m in ov.models}:
            self.panel.choose(ov.models[0].name)

    def _apply_want(self) -> None:
        if self._want is None:
            return
        name, version = self._want
        if self._model == name and self.table_data is not None:
            if version is None or self._select_version_row(version):
                self._want = None      # else: wait for the table that lists it
        else:
            self.panel.choose(name)    # the table that arrives applies the version

    def _on_model_chosen(self, name: str) -> None:
        if self.project is None or name == self._model:
            return
        self._model, self._version = name, None
        self.table_data = self.details_data = None
        self.versions.clear()
        self.details.show_message("Loading…")
        self.actions.update_actions()
        self._load_table(name)

    def _on_table(self, result) -> None:
        (session, name), table = result
        if session != self._session or name != self._model or self.project is None:
            return
        if table == self.table_data:
            return
        self.table_data = table
        keep = self._version
        self._fill_title(table)
        selection = selection_of(self.table)
        selection.blockSignals(True)      # rebuilding moves the current row; keep the reader's version
        self._fill_versions(table)
        selection.blockSignals(False)
        self._fill_history(table)
        wanted = None
        if self._want is not None and self._want[0] == name:
            wanted, self._want = self._want[1], None
        if wanted is None:
            wanted = keep
        if wanted is None and table.rows:   # the version waiting for your review, else the newest
            waiting = [r.version.version for r in table.rows if r.waiting_for_user]
            wanted = waiting[0] if waiting else table.rows[0].version.version
        if self._select_version_row(wanted) and (self._version != wanted or self.details_data is None):
            self._on_version_row(selection.currentIndex())
        self.actions.update_actions()
        self.loaded.emit()

    def _fill_title(self, t: rv.VersionTable) -> None:
        c = theme()
        s = t.settings
        aliases = " · ".join(f"{html.escape(a)} <b>v{v}</b>" for a, v in sorted(
            t.model.aliases.items(), key=lambda kv: (kv[0] != PRODUCTION, kv[0]))) or "no aliases yet"
        rules = (f"{s.required_approvals} approval(s), four-eyes {'on' if s.four_eyes else 'off'}, "
                 + (f"primary metric {html.escape(t.metric)} ({s.metric_direction} is better, tolerance "
                    f"{s.tolerance:g})" if t.metric else "no primary metric")
                 + (f", approvers {html.escape(', '.join(s.approvers))}" if s.approvers else ""))
        self.title.setText(f"<span style='font-size:large'><b>{html.escape(t.model.name)}</b></span> &nbsp; "
                           f"{aliases}<br><span style='color:{c['muted']}'>Rules: {rules} · you are "
                           f"<b>{html.escape(self.user)}</b></span>")

    def _fill_versions(self, t: rv.VersionTable) -> None:
        c = theme()
        self.versions.clear()
        headers = list(VERSION_COLUMNS)
        headers[VERSION_COLUMNS.index("Metric")] = t.metric or "Metric"
        self.versions.setHorizontalHeaderLabels(headers)
        link_font = QFont(self.table.font())
        link_font.setUnderline(True)
        for row in t.rows:
            v = row.version
            status = v.status + (" · review" if row.waiting_for_user else "")
            cells = [f"v{v.version}", status, ", ".join(v.aliases), fmt_number(row.metric_value),
                     v.created_by, fmt_time(v.created_at), row.run_name or v.run_id[:8]]
            items = [QStandardItem(text) for text in cells]
            for item in items:
                item.setEditable(False)
                item.setData(v.version, VersionRole)
            items[1].setForeground(QBrush(QColor(c[status_role(v.status)])))
            if row.waiting_for_user:
                bold = QFont(self.table.font())
                bold.setWeight(QFont.Weight.DemiBold)
                items[1].setFont(bold)
                items[1].setToolTip("A request of this version is waiting for your review")
            if PRODUCTION in v.aliases:
                bold = QFont(self.table.font())
                bold.setWeight(QFont.Weight.DemiBold)
                items[2].setFont(bold)
            items[3].setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if row.metric_value is not None:
                items[3].setToolTip(f"{t.metric} = {row.metric_value!r} (run {row.run_name})")
            run = items[RUN_COLUMN]
            run.setData(v.run_id, RunRole)
            run.setFont(link_font)
            run.setForeground(QBrush(self.palette().link().color()))
            run.setToolTip(f"Run {v.run_id} ({row.experiment}) — click to open its details")
            self.versions.appendRow(items)
        self.table.fit_columns()

    def _fill_history(self, t: rv.VersionTable) -> None:
        self.moves.clear()
        for m in reversed(t.history):
            frm = f"v{m.from_version}" if m.from_version is not None else "unset"
            when = fmt_time(m.at, "short")   # the full time is in the tooltip
            item = QTreeWidgetItem([when, f"{m.alias} {frm} → v{m.to_version}", m.kind, m.actor, m.reason])
            item.setToolTip(4, m.reason)
            item.setToolTip(0, fmt_time(m.at))
            if m.kind == "rollback":
                item.setForeground(1, QBrush(QColor(theme()["error"])))
                item.setForeground(2, QBrush(QColor(theme()["error"])))
            self.moves.addTopLevelItem(item)
        for col in range(4):
            self.moves.resizeColumnToContents(col)
        if self.timeline is None and t.history:
            from ..charts.alias_timeline import AliasTimeline  # pyqtgraph: only once there is a history to draw

            self.timeline = AliasTimeline()
            self.timeline.setMinimumHeight(150)
            self.timeline.versionClicked.connect(self._select_version_row)
            self.history_split.insertWidget(0, self.timeline)
            self.history_split.setStretchFactor(0, 3)
            self.history_split.setSizes([260, 120])
        if self.timeline is not None:
            self.timeline.set_history(t.intervals(), list(t.history), time.time(), self._version)

    def _select_version_row(self, version: int | None) -> bool:
        for r in range(self.versions.rowCount()):
            if self.versions.item(r, 0).data(VersionRole) == version:
                selection_of(self.table).setCurrentIndex(
                    self.versions.index(r, 0), QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
                self.table.scrollTo(self.versions.index(r, 0))
                return True
        return False

    def _on_version_row(self, current, _previous=None) -> None:
        if not current.isValid() or self._model is None:
            return
        version = current.data(VersionRole)
        if version == self._version and self.details_data is not None:
            return
        self._version = version
        self.details_data = None
        if self.timeline is not None:
            self.timeline.set_selected(version)
        self.actions.update_actions()
        self._load_details(self._model, version)
        self.versionSelected.emit(self._model, version)

    def _on_details(self, result) -> None:
        (session, name, version), details = result
        if session != self._session or (name, version) != (self._model, self._version) or self.project is None:
            return
        if details == self.details_data:
            return
        self.details_data = details
        self.details.set_details(details)
        self.actions.update_actions()

    def _on_table_click(self, index) -> None:
        if index.column() == RUN_COLUMN and index.data(RunRole):
            self.actions.open_run(index.data(RunRole))

    # -- for the actions and tests ------------------------------------------------------------
    @property
    def current_model(self) -> str | None:
        return self._model

    @property
    def current_version(self) -> int | None:
        return self._version

    def current_row(self) -> rv.VersionRow | None:
        if self.table_data is None:
            return None
        return next((r for r in self.table_data.rows if r.version.version == self._version), None)

    def forget_loaded(self, table: bool) -> None:
        """Forget the selected version's details (and with ``table`` the versions table): an action
        changed them, and the next reload() reads them again."""
        if table:
            self.table_data = None
        self.details_data = None

    def show_status(self, text: str, kind: str = "ok") -> None:
        colour = theme()["error" if kind == "error" else "warn" if kind == "warn" else "ok"]
        mark = {"error": "⚠", "warn": "⚠"}.get(kind, "✓")
        self.status.setText(f"<span style='color:{colour}'>{mark} {html.escape(text)}</span>")

    def save_state(self, settings) -> None:
        settings.set_bytes("models/splitter", self.splitter.saveState())
        settings.set_bytes("models/right", self.right_split.saveState())
        settings.set_bytes("models/lower", self.lower.saveState())

    def restore_state(self, settings) -> None:
        for key, splitter in (("models/splitter", self.splitter), ("models/right", self.right_split),
                              ("models/lower", self.lower)):
            state = settings.bytes(key)
            if state is not None:
                splitter.restoreState(state)


if __name__ == "__main__":  # python -m modeldesk.gui.registry.models_view PROJECT [USER]
    import sys

    from ...core.storage.project import open_project
    from ..app import create_application

    app = create_application()
    view = ModelsView()
    view.resize(1200, 760)
    view.set_project(open_project(sys.argv[1], create=False), sys.argv[2] if len(sys.argv) > 2 else None)
    view.show()
    sys.exit(app.exec())

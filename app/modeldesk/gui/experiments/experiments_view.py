"""The Experiments view: experiment list, filter bar and the lazily paged runs table.

Every query goes through core from a worker (the runs model, list_experiments,
known_keys); this module only arranges widgets and forwards user intent. What is
done to runs (details, compare, register, copy, the context menu) is in
run_actions.py, the choice and widths of columns in run_columns.py. Run
details and comparison belong to their own views, opened through
:meth:`ExperimentsView.open_details` and :meth:`ExperimentsView.compare`.
"""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.tracking import browse, runs
from ...core.tracking.browse import Column
from ...core.tracking.runs import RunQuery
from ..kit.empty_state import EmptyState
from ..kit.tables import selection_of
from ..settings import Settings
from .filter_bar import FilterBar
from .lifecycle_actions import LifecycleActions
from .run_actions import RunActions
from .run_columns import RunColumns
from .runs_model import DEFAULT_ORDER, RunsModel, RunsTable

ALL = -1  # the "All experiments" entry
NO_RUNS = ("No runs yet",
           "Log one with <code>md.start_run</code>:<pre>import modeldesk as md\n"
           "md.set_project(\"{path}\")\nmd.set_experiment(\"churn\")\nwith md.start_run():\n"
           "    md.log_metric(\"val_auc\", 0.91)</pre>")


def _experiments_job(project, session: int, lifecycle: str = "active"):
    return session, runs.list_experiments(project, lifecycle)


def _keys_job(project, experiments, session: int, tag):
    started = time.perf_counter()
    return session, tag, browse.key_stats(project, experiments), time.perf_counter() - started


class ExperimentsView(RunActions, RunColumns, QWidget):
    """Experiments on the left, their runs on the right (acting on runs: run_actions.py;
    the columns: run_columns.py)."""

    experimentsLoaded = Signal(list)   # [Experiment]
    selectionCountChanged = Signal(int)

    def __init__(self, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or Settings()
        self.project = None
        self._session = 0       # bumped per project: late results of another project are dropped
        self.experiments: list = []
        self.keys: dict[str, list[str]] = {"params": [], "metrics": [], "tags": []}
        self.key_stats: dict[str, list] = {}
        self._experiment: int | None = None     # None = all experiments
        self._new_search = True
        self._keys_wanted = False
        self._keys_read = (time.monotonic(), 0.0)   # when, and how long it took
        self._saved: tuple = ((), None, 0)
        self._widths: dict[str, int] = {}     # column spec -> width, kept across model resets
        self.model = RunsModel(self)
        self.jobs = self.model.jobs
        self._build()
        self._connect()

    # -- layout -------------------------------------------------------------------
    def _build(self) -> None:
        self.experiment_list = QTreeWidget()
        self.experiment_list.setObjectName("experimentList")
        self.experiment_list.setHeaderLabels(["Experiment", "Runs"])
        self.experiment_list.setRootIsDecorated(False)
        self.experiment_list.setUniformRowHeights(True)
        self.experiment_list.setStyleSheet("QTreeWidget#experimentList::item { padding: 3px 2px; }")
        header = self.experiment_list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        self.filter_bar = FilterBar()
        self.columns_button = QToolButton(text="Columns…", toolTip="Choose params, metrics and tags to show")
        self.compare_button = QToolButton(text="Compare", toolTip="Compare the selected runs (Ctrl+Shift+C)")
        self.table = RunsTable(self.model)
        self.empty = EmptyState("No runs yet", "", actions=("Clear filter",))
        self.empty.buttons["Clear filter"].hide()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.footer = QLabel()
        self.footer.setObjectName("runsFooter")
        self.lifecycle = LifecycleActions(self)   # delete / restore / rename, "Show deleted"

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_bar, 1)
        top.addWidget(self.columns_button, 0, Qt.AlignTop)
        top.addWidget(self.compare_button, 0, Qt.AlignTop)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 6, 6, 4)
        rl.setSpacing(6)
        rl.addLayout(top)
        rl.addWidget(self.stack, 1)
        rl.addWidget(self.footer)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(6, 6, 0, 4)
        ll.addWidget(self.experiment_list)
        ll.addWidget(self.lifecycle.show_deleted)
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setObjectName("experimentsSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([210, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.compare_action = QAction("Compare Selected Runs", self, shortcut=QKeySequence("Ctrl+Shift+C"))
        self.details_action = QAction("Open Run Details", self)
        self.copy_action = QAction("Copy Rows as TSV", self, shortcut=QKeySequence.Copy)
        self.copy_id_action = QAction("Copy Run ID", self)
        self.register_action = QAction("Register Model…", self)
        self.refresh_action = QAction("Refresh", self, shortcut=QKeySequence.Refresh)
        for action in (self.compare_action, self.copy_action, self.refresh_action):
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            self.addAction(action)
        self.compare_button.setDefaultAction(self.compare_action)
        self.compare_button.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self._update_actions()

    def _connect(self) -> None:
        self.experiment_list.currentItemChanged.connect(self._on_experiment_changed)
        self.filter_bar.filterApplied.connect(lambda _t: self._search())
        self.filter_bar.searchChanged.connect(lambda _t: self._search())
        self.lifecycle.show_deleted.toggled.connect(lambda _on: self.reload_experiments() or self._search())
        self.columns_button.clicked.connect(self.choose_columns)
        self.compare_action.triggered.connect(self.compare_selected)
        self.details_action.triggered.connect(self.details_of_current)
        self.copy_action.triggered.connect(self.copy_selected)
        self.copy_id_action.triggered.connect(self.copy_current_id)
        self.register_action.triggered.connect(self.register_current)
        self.refresh_action.triggered.connect(self.refresh)
        self.table.activated.connect(self._on_activated)
        self.table.customContextMenuRequested.connect(self._context_menu)
        selection_of(self.table).selectionChanged.connect(self._update_actions)
        self.empty.actionTriggered.connect(lambda _n: self.filter_bar.set_filter("") or
                                           self.filter_bar.search.clear())
        self.model.resolved.connect(self._on_resolved)
        self.model.loadingChanged.connect(lambda _b: self._update_footer())
        self.model.failed.connect(self._on_failed)
        self.model.modelAboutToBeReset.connect(self._save_view_state)
        self.model.modelReset.connect(self._restore_view_state)

    # -- project and experiments ---------------------------------------------------
    def set_project(self, project) -> None:
        """Show ``project`` (None: nothing); loads its experiments off-thread."""
        self.project = project
        self._session += 1
        self.experiments = []
        self._experiment = None
        self.experiment_list.clear()
        self.filter_bar.set_filter("", apply=False)
        self.filter_bar.applied = ""
        self.filter_bar.search.blockSignals(True)
        self.filter_bar.search.clear()
        self.filter_bar.search.blockSignals(False)
        self.model.set_project(project)
        self.stack.setCurrentWidget(self.table)
        self.footer.clear()
        if project is not None:
            self.reload_experiments()

    def reload_experiments(self) -> None:
        if self.project is not None:
            self.jobs.start(_experiments_job, self.project, self._session, self.lifecycle.lifecycle,
                            done=self._on_experiments, failed=self._on_failed)

    def refresh(self) -> None:
        """Runs may have been logged: update counts and rows in place (and the
        known keys, as often as reading them is cheap enough)."""
        read_at, cost = self._keys_read
        if time.monotonic() - read_at > max(5.0, 50 * cost):
            self._keys_wanted = True
        self.reload_experiments()
        self.model.refresh()

    def _on_experiments(self, result) -> None:
        session, experiments = result
        if session != self._session or self.project is None:
            return
        self.experiments = experiments
        current = self.experiment_list.currentItem()
        keep = current.data(0, Qt.UserRole) if current is not None else None
        total = sum(e.run_count for e in experiments)
        self.experiment_list.blockSignals(True)
        self.experiment_list.clear()
        items = {}
        for exp_id, name, count in [(ALL, "All experiments", total)] + [
                (e.id, e.name, e.run_count) for e in experiments]:
            item = QTreeWidgetItem(self.experiment_list, [name, f"{count:,}"])
            item.setData(0, Qt.UserRole, exp_id)
            item.setTextAlignment(1, Qt.AlignRight | Qt.AlignVCenter)
            item.setToolTip(0, name)
            if exp_id == ALL:
                font = item.font(0)
                font.setItalic(True)
                item.setFont(0, font)
            items[exp_id] = item
        for exp in experiments:
            self.lifecycle.style_experiment(items[exp.id], exp)
        self.experiment_list.blockSignals(False)
        self.experimentsLoaded.emit(experiments)
        if keep in items:
            self.experiment_list.blockSignals(True)
            self.experiment_list.setCurrentItem(items[keep])
            self.experiment_list.blockSignals(False)
            return
        remembered = self.settings.last_experiment(self.project.path)
        by_name = {e.name: e.id for e in experiments}
        if remembered == "*":
            choice = ALL
        else:
            choice = by_name.get(remembered, experiments[0].id if experiments else ALL)
        self.experiment_list.setCurrentItem(items[choice])

    def select_experiment(self, name: str | None) -> None:
        """Select an experiment by name (None: all experiments)."""
        target = ALL if name is None else next((e.id for e in self.experiments if e.name == name), None)
        for i in range(self.experiment_list.topLevelItemCount()):
            item = self.experiment_list.topLevelItem(i)
            if item.data(0, Qt.UserRole) == target:
                self.experiment_list.setCurrentItem(item)

    def experiment_name(self) -> str | None:
        return next((e.name for e in self.experiments if e.id == self._experiment), None)

    def _on_experiment_changed(self, item, _previous=None) -> None:
        if item is None or self.project is None:
            return
        exp_id = item.data(0, Qt.UserRole)
        self._experiment = None if exp_id == ALL else exp_id
        name = self.experiment_name()
        self.settings.set_last_experiment(self.project.path, name or "*")
        saved = self.settings.columns(self.project.path, name)
        columns = [Column.parse(s) for s in saved if s.partition(".")[0] in browse.KINDS] if saved else []
        self.model.set_columns(columns)
        self._widths.clear()      # another experiment: its columns start at their default widths
        self._apply_widths()
        self.keys = {"params": [], "metrics": [], "tags": []}
        self.filter_bar.set_keys(self.keys)
        self._keys_wanted = True   # read once the first page is in: it gets both cores first
        self._search(order_by=DEFAULT_ORDER)  # each experiment opens newest first

    def _load_keys(self) -> None:
        self._keys_wanted = False
        if self.project is not None:
            experiments = None if self._experiment is None else [self._experiment]
            self.jobs.start(_keys_job, self.project, experiments, self._session, self._experiment,
                            done=self._on_keys, failed=self._on_failed)

    def _on_keys(self, result) -> None:
        session, tag, stats, cost = result
        if session != self._session or tag != self._experiment or self.project is None:
            return
        self._keys_read = (time.monotonic(), cost)
        self.key_stats = stats
        self.keys = browse.key_names(stats)
        self.filter_bar.set_keys(self.keys)
        if self.settings.columns(self.project.path, self.experiment_name()) is None:
            self.model.set_columns(browse.default_columns(stats))
            self._apply_widths()

    # -- searching -----------------------------------------------------------------------
    def current_query(self) -> RunQuery:
        return RunQuery(
            experiments=None if self._experiment is None else (self._experiment,),
            filter=self.filter_bar.applied or None,
            search=self.filter_bar.search.text().strip() or None,
            order_by=self.model.query.order_by,
            lifecycle=self.lifecycle.lifecycle,
        )

    def _search(self, order_by: tuple | None = None) -> None:
        if self.project is None or self.experiment_list.currentItem() is None:
            return
        self._new_search = True
        query = self.current_query()
        self.model.set_query(query if order_by is None else replace(query, order_by=order_by))
        self._update_footer()

    def _on_resolved(self, count: int) -> None:
        if self._keys_wanted:
            self._load_keys()
        query = self.model.query
        if count:
            self.stack.setCurrentWidget(self.table)
        elif query.filter or query.search:
            self.empty.set_text("No runs match", "Nothing here matches the filter or search. "
                                "Change it, or clear it to see every run.")
            self.empty.buttons["Clear filter"].show()
            self.stack.setCurrentWidget(self.empty)
        else:
            self.empty.set_text(NO_RUNS[0], NO_RUNS[1].format(path=self.project.path))
            self.empty.buttons["Clear filter"].hide()
            self.stack.setCurrentWidget(self.empty)
        self._sync_sort_indicator()
        self._update_footer()

    def _on_failed(self, text: str) -> None:
        if self.project is None:
            return
        if self._keys_wanted:
            self._load_keys()
        self.footer.setText(f"<span style='color:#d32f2f'>⚠ {text}</span>")

    def _update_footer(self) -> None:
        count = self.model.rowCount()
        query = self.model.query
        parts = [f"{count:,} run{'s' if count != 1 else ''}"]
        if query.filter or query.search:
            parts[0] += " match"
        selected = self.selected_count()
        if selected:
            parts.append(f"{selected:,} selected")
        if self.model.loading:
            parts.append("loading…")
        self.footer.setText(" · ".join(parts))

    # -- selection, kept across resets ------------------------------------------------------
    def selected_rows(self) -> list[int]:
        return self.table.selected_rows()

    def selected_count(self) -> int:
        return len(self.table.selected_rows())

    def _save_view_state(self) -> None:
        self._saved = self.table.view_state()
        header = self.table.horizontalHeader()
        if header.count() == len(self.model.columns):      # Qt forgets widths on a reset: keep them by column
            self._widths.update({c.spec: header.sectionSize(i) for i, c in enumerate(self.model.columns)
                                 if header.sectionSize(i) > 0})

    def _restore_view_state(self) -> None:
        self._apply_widths()
        self.table.restore_view_state(self._saved, keep_scroll=not self._new_search)
        self._new_search = False
        self._update_actions()

    def _update_actions(self, *_args) -> None:
        n = self.selected_count()
        self.compare_action.setEnabled(n >= 2)
        self.compare_action.setText(f"Compare {n} Selected Runs" if n >= 2 else "Compare Selected Runs")
        self.details_action.setEnabled(n >= 1)
        self.copy_action.setEnabled(n >= 1)
        self.copy_id_action.setEnabled(n >= 1)
        self.register_action.setEnabled(n == 1)
        self.lifecycle.update(n)
        self.selectionCountChanged.emit(n)
        self._update_footer()

    def changeEvent(self, event) -> None:
        if event.type() == event.Type.PaletteChange:  # light/dark switch: recolour statuses
            self.model._forget_cells()
            self.table.viewport().update()
        super().changeEvent(event)

    # -- state --------------------------------------------------------------------------------------
    def save_state(self, settings: Settings) -> None:
        settings.set_bytes("experiments/splitter", self.splitter.saveState())

    def restore_state(self, settings: Settings) -> None:
        state = settings.bytes("experiments/splitter")
        if state is not None:
            self.splitter.restoreState(state)


if __name__ == "__main__":  # python -m modeldesk.gui.experiments.experiments_view [PROJECT]
    import sys
    import tempfile
    from pathlib import Path

    from ...core.storage.project import open_project
    from ..app import create_application
    from .sample_runs import sample_project

    app = create_application()
    path = sys.argv[1] if len(sys.argv) > 1 else None
    if path is None:
        path = Path(tempfile.mkdtemp()) / "sample.mdesk"
        sample_project(path)
    view = ExperimentsView()
    view.resize(1200, 700)
    view.set_project(open_project(path, create=False))
    view.show()
    sys.exit(app.exec())

"""The Audit view: the hash-chained audit log as a table, and Verify.

Every registry, approval, alias and settings change is one entry (seq, time,
actor, action, model, version, details). Filters narrow the table by model
and by action (``request`` matches every ``request.*``, as on the CLI);
Ctrl+C copies the selected rows as TSV. Verify runs ``audit.verify`` in a
worker and shows OK (entry count and head hash) in green, or the first bad
entry in red and selects it. Entries are read in a worker too.
"""

from __future__ import annotations

import html
import json

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core import audit
from ...core.registry.entities import AuditEntry, AuditVerification
from ...core.registry.summaries import details_summary
from ...core.text import fmt_time
from ..kit.empty_state import EmptyState
from ..kit.tables import CopyTableView, selection_of, set_table_model
from ..kit.theme import monospace_font, theme
from ..kit.windows import ReloadWhenShown
from ..kit.workers import Jobs

COLUMNS = ("Seq", "Time", "Actor", "Action", "Model", "Version", "Details")
SEQ, TIME, ACTOR, ACTION, MODEL, VERSION, DETAILS = range(len(COLUMNS))
ALL = ""
NO_ENTRIES = ("No audit entries yet",
              "Every registry, approval, alias and settings change is recorded here, hash-chained so that an "
              "edited, deleted or reordered entry is found by Verify. Register a model to start the log.")


def _verify_job(project):
    """The chain, the head this machine saw, and the registry against the log (as `audit verify`)."""
    from ...core.registry.ledger import verify_project

    return verify_project(project), audit.list_entries(project)


class AuditFilter(QSortFilterProxyModel):
    """Rows of one model and one action (exact, or a prefix such as ``request``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_name = ALL
        self.action = ALL

    def set_filters(self, model_name: str, action: str) -> None:
        if hasattr(self, "beginFilterChange"):    # Qt 6.9+ (invalidateFilter is deprecated there)
            self.beginFilterChange()
            self.model_name, self.action = model_name, action
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.model_name, self.action = model_name, action
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:
        source = self.sourceModel()
        if self.model_name and source.index(row, MODEL, parent).data() != self.model_name:
            return False
        if self.action:
            action = source.index(row, ACTION, parent).data() or ""
            if action != self.action and not action.startswith(self.action.rstrip(".") + "."):
                return False
        return True


class AuditView(ReloadWhenShown, QWidget):
    """The audit log of the open project; constructible alone: ``AuditView(); set_project(p)``."""

    loaded = Signal(int)          # number of entries
    verified = Signal(object)     # AuditVerification

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self.jobs = Jobs(self)     # a new session per project: late results of the previous one are dropped
        self._stale = False
        self.entries: list[AuditEntry] = []
        self.loaded_once = False
        self.verification: AuditVerification | None = None
        self._build()
        self._connect()

    def _build(self) -> None:
        self.model_filter = QComboBox()
        self.model_filter.setObjectName("auditModelFilter")
        self.model_filter.setMinimumContentsLength(16)
        self.action_filter = QComboBox()
        self.action_filter.setObjectName("auditActionFilter")
        self.action_filter.setMinimumContentsLength(16)
        self.verify_button = QPushButton("Verify")
        self.verify_button.setToolTip("Check the hash chain: finds any entry edited, deleted or reordered "
                                      "outside ModelDesk")
        self.result = QLabel()
        self.result.setObjectName("verifyResult")
        self.result.setTextFormat(Qt.RichText)
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.result.hide()
        self.items = QStandardItemModel(self)
        self.items.setHorizontalHeaderLabels(COLUMNS)
        self.proxy = AuditFilter(self)
        self.proxy.setSourceModel(self.items)
        self.table = CopyTableView()
        self.table.setObjectName("auditTable")
        set_table_model(self.table, self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(SEQ, Qt.AscendingOrder)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.entry_text = QPlainTextEdit()
        self.entry_text.setObjectName("auditEntry")
        self.entry_text.setReadOnly(True)
        self.entry_text.setFont(monospace_font())
        self.entry_text.setPlaceholderText("Select an entry to see its details and hashes.")
        self.empty = EmptyState(*NO_ENTRIES)
        self.split = QSplitter(Qt.Vertical)
        self.split.addWidget(self.table)
        self.split.addWidget(self.entry_text)
        self.split.setStretchFactor(0, 1)
        self.split.setSizes([540, 110])
        self.stack = QStackedWidget()
        self.stack.addWidget(self.split)
        self.stack.addWidget(self.empty)
        self.footer = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.model_filter)
        top.addSpacing(8)
        top.addWidget(QLabel("Action:"))
        top.addWidget(self.action_filter)
        top.addStretch(1)
        top.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.result)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.footer)
        self.copy_action = QAction("Copy Rows", self, shortcut=QKeySequence.Copy)
        self.copy_json_action = QAction("Copy Entries as JSON", self)
        self.refresh_action = QAction("Refresh", self, shortcut=QKeySequence.Refresh)
        for action in (self.copy_action, self.refresh_action):
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            self.addAction(action)

    def _connect(self) -> None:
        self.model_filter.currentIndexChanged.connect(self._apply_filters)
        self.action_filter.currentIndexChanged.connect(self._apply_filters)
        self.verify_button.clicked.connect(self.verify)
        selection_of(self.table).currentRowChanged.connect(self._show_entry)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.copy_action.triggered.connect(self.copy_rows)
        self.copy_json_action.triggered.connect(self.copy_json)
        self.refresh_action.triggered.connect(self.reload)

    # -- project and loading ----------------------------------------------------------------------
    def set_project(self, project) -> None:
        self.project = project
        self.jobs.new_session()
        self.entries = []
        self.loaded_once = False
        self.verification = None
        self.items.removeRows(0, self.items.rowCount())
        self.result.hide()
        self.entry_text.clear()
        self.footer.clear()
        self._fill_filters()
        self.verify_button.setEnabled(project is not None)
        if project is not None:
            self.reload()

    def save_state(self, settings) -> None:
        """Nothing of this view is kept between sessions."""

    def restore_state(self, settings) -> None:
        """Nothing of this view is kept between sessions."""

    def reload(self) -> None:
        self._stale = False
        if self.project is not None:
            self.jobs.start(audit.list_entries, self.project, done=self._on_entries, failed=self._on_failed)

    def _on_failed(self, text: str) -> None:
        if self.project is not None:
            self.verify_button.setEnabled(True)
            self._banner("error", f"⚠ {text}")

    def _on_entries(self, entries: list[AuditEntry]) -> None:
        if self.project is None:
            return
        if self.loaded_once and entries == self.entries:
            return
        changed = self.loaded_once
        self._set_entries(entries)
        if changed and self.verification is not None and self.result.isVisible():
            self.result.setText(self.result.text() + f" <span style='color:{theme()['muted']}'>· the log changed "
                                "since; verify again</span>")

    def _set_entries(self, entries: list[AuditEntry]) -> None:
        current = self.current_seq()
        scroll = self.table.verticalScrollBar().value()
        self.entries = entries
        self.loaded_once = True
        self.table.setSortingEnabled(False)
        self.items.removeRows(0, self.items.rowCount())
        for e in entries:
            cells = [e.seq, fmt_time(e.time), e.actor, e.action, e.model or "",
                     "" if e.version is None else e.version, details_summary(e.details)]
            row = []
            for value in cells:
                item = QStandardItem()
                item.setData(value, Qt.DisplayRole)
                item.setEditable(False)
                row.append(item)
            row[SEQ].setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            row[TIME].setToolTip(f"{fmt_time(e.time, 'ms')}\nrecorded as {e.time}")
            row[DETAILS].setToolTip(json.dumps(e.details, indent=1, ensure_ascii=False)[:2000])
            self.items.appendRow(row)
        self.table.setSortingEnabled(True)
        self._fill_filters()
        self.table.fit_columns(max_width=520)
        self.stack.setCurrentWidget(self.split if entries else self.empty)
        if current is not None:
            self.select_seq(current)
        self.table.verticalScrollBar().setValue(scroll)
        self._update_footer()
        self.loaded.emit(len(entries))

    def _fill_filters(self) -> None:
        models = sorted({e.model for e in self.entries if e.model})
        actions = sorted({e.action for e in self.entries})
        groups = sorted({a.split(".")[0] for a in actions})
        for combo, values, label in ((self.model_filter, models, "All models"),
                                     (self.action_filter, None, "All actions")):
            keep = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(label, ALL)
            if values is not None:
                for v in values:
                    combo.addItem(v, v)
            else:
                for g in groups:
                    combo.addItem(f"{g}.*", g)
                    for a in actions:
                        if a.split(".")[0] == g and a != g:
                            combo.addItem(f"    {a}", a)
            i = combo.findData(keep)
            combo.setCurrentIndex(max(i, 0))
            combo.blockSignals(False)
        self._apply_filters()

    def set_filters(self, model_name: str = ALL, action: str = ALL) -> None:
        """Show entries of ``model_name`` and ``action`` (a prefix like ``request`` is fine)."""
        for combo, value in ((self.model_filter, model_name), (self.action_filter, action)):
            i = combo.findData(value)
            if i < 0 and value:
                combo.addItem(value, value)
                i = combo.count() - 1
            combo.setCurrentIndex(max(i, 0))
        self._apply_filters()

    def _apply_filters(self, *_args) -> None:
        self.proxy.set_filters(self.model_filter.currentData() or ALL, self.action_filter.currentData() or ALL)
        self._update_footer()

    def _update_footer(self) -> None:
        total, shown = len(self.entries), self.proxy.rowCount()
        text = f"{total:,} entr{'y' if total == 1 else 'ies'}"
        if shown != total:
            text += f" · {shown:,} shown"
        self.footer.setText(text)

    # -- rows ------------------------------------------------------------------------------------------
    def visible_seqs(self) -> list[int]:
        return [self.proxy.index(r, SEQ).data() for r in range(self.proxy.rowCount())]

    def current_seq(self) -> int | None:
        index = self.table.currentIndex()
        return self.proxy.index(index.row(), SEQ).data() if index.isValid() else None

    def select_seq(self, seq: int) -> bool:
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, SEQ).data() == seq:
                index = self.proxy.index(r, SEQ)
                selection_of(self.table).setCurrentIndex(
                    index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
                self.table.scrollTo(index, QAbstractItemView.PositionAtCenter)
                return True
        return False

    def _show_entry(self, current, _previous=None) -> None:
        seq = self.proxy.index(current.row(), SEQ).data() if current.isValid() else None
        entry = next((e for e in self.entries if e.seq == seq), None)
        if entry is None:
            self.entry_text.clear()
            return
        self.entry_text.setPlainText(
            f"#{entry.seq}  {fmt_time(entry.time, 'ms')}  {entry.actor}  {entry.action}"
            + (f"  {entry.model}" if entry.model else "") + (f" v{entry.version}" if entry.version is not None else "")
            + f"\nhash      {entry.hash}\nprev_hash {entry.prev_hash}\n"
            + json.dumps(entry.details, indent=2, ensure_ascii=False, sort_keys=True))

    def copy_rows(self) -> str:
        """The selected rows (all columns) to the clipboard as TSV."""
        return self.table.copy_selection()

    def copy_json(self) -> str:
        from PySide6.QtGui import QGuiApplication

        rows = sorted({i.row() for i in selection_of(self.table).selectedIndexes()})
        seqs = {self.proxy.index(r, SEQ).data() for r in rows}
        import dataclasses

        text = json.dumps([dataclasses.asdict(e) for e in self.entries if e.seq in seqs], indent=2,
                          ensure_ascii=False)
        QGuiApplication.clipboard().setText(text)
        return text

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        menu.addAction(self.copy_json_action)
        menu.addSeparator()
        menu.addAction(self.refresh_action)
        self.context_menu = menu
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # -- verify ------------------------------------------------------------------------------------------
    def verify(self) -> None:
        """Check the chain in a worker; the table is reloaded with what was checked."""
        if self.project is None:
            return
        self.verify_button.setEnabled(False)
        self._banner("muted", "Verifying the hash chain…")
        self.jobs.start(_verify_job, self.project, done=self._on_verified, failed=self._on_failed)

    def _on_verified(self, result) -> None:
        verification, entries = result
        if self.project is None:
            return
        self.verify_button.setEnabled(True)
        self.verification = verification
        if not self.loaded_once or entries != self.entries:
            self._set_entries(entries)
        warnings = "".join(f"<br><span style='color:{theme()['warn']}'>⚠ {html.escape(w)}</span>"
                           for w in verification.warnings)
        if verification.ok:
            self._banner("ok", f"<b>✓ {html.escape(verification.message)}</b>{warnings}")
            if self.entries and self.current_seq() is None:
                self.set_filters(ALL, ALL)
                self.select_seq(self.entries[-1].seq)   # the head: its hash is the one printed above
        else:
            self._banner("error", f"<b>✗ Audit log check FAILED:</b> {html.escape(verification.message)}{warnings}")
            self._mark_bad(verification.bad_seq)
        self.verified.emit(verification)

    def _mark_bad(self, seq: int | None) -> None:
        if seq is None:
            return
        self.set_filters(ALL, ALL)     # the bad row must be visible
        seqs = [e.seq for e in self.entries]
        target = seq if seq in seqs else next((s for s in seqs if s > seq), seqs[-1] if seqs else None)
        if target is None:
            return
        for r in range(self.items.rowCount()):
            if self.items.item(r, SEQ).data(Qt.DisplayRole) == target:
                for c in range(self.items.columnCount()):
                    self.items.item(r, c).setForeground(QBrush(QColor(theme()["error"])))
        self.select_seq(target)

    def _banner(self, kind: str, text: str) -> None:
        colour = theme()[kind]
        background = {"ok": "rgba(29,122,58,0.10)", "error": "rgba(185,28,28,0.10)"}.get(kind, "transparent")
        self.result.setStyleSheet(f"QLabel#verifyResult {{ color: {colour}; background: {background}; "
                                  f"border: 1px solid {colour if kind in ('ok', 'error') else 'transparent'}; "
                                  "border-radius: 4px; padding: 5px 8px; }")
        self.result.setText(text)
        self.result.show()


if __name__ == "__main__":  # python -m modeldesk.gui.audit.audit_view PROJECT
    import sys

    from ...core.storage.project import open_project
    from ..app import create_application

    app = create_application()
    view = AuditView()
    view.resize(1100, 700)
    view.set_project(open_project(sys.argv[1], create=False))
    view.show()
    sys.exit(app.exec())

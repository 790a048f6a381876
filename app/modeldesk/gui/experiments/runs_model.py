"""The runs table's model: a QAbstractTableModel over core searches, lazily paged.

A search (experiment, filter, quick search, sort) is resolved off the GUI
thread into the ordered list of matching row ids: that gives rowCount, and
sorting happens in SQL, never here. Rows are then loaded a page at a time,
also off the GUI thread, when the view first paints them; until a page
arrives its cells show a placeholder. Every search bumps a generation number
and every change of the id list an epoch, so late results of an older search
are dropped instead of painted.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QStyle,
    QStyleOptionHeader,
    QStyleOptionHeaderV2,
    QTableView,
)

from ...core.text import fmt_time
from ...core.tracking import browse
from ...core.tracking.browse import BASE_COLUMNS, Column
from ...core.tracking.run_entities import Run
from ...core.tracking.runs import RunQuery, runs_by_rid
from ..kit.tables import selection_of, set_table_model
from ..kit.theme import monospace_font, muted_color, status_color
from ..kit.workers import Jobs, Task

PAGE_SIZE = 200
MAX_PAGES = 60          # pages kept in memory (12,000 runs)
MAX_IN_FLIGHT = 2       # page loads at once (this is a 2-core machine)
DEFAULT_ORDER = ("attributes.start_time DESC",)
RunIdRole = Qt.UserRole + 1
# Roles as plain ints (cheap to compare); the cached cell keeps display text,
# alignment and foreground in these slots.
_DISPLAY, _FONT, _FOREGROUND = int(Qt.DisplayRole), int(Qt.FontRole), int(Qt.ForegroundRole)
_SLOT = {_DISPLAY: 0, int(Qt.TextAlignmentRole): 1, _FOREGROUND: 2}
_ROLES = frozenset((*_SLOT, _FONT, int(Qt.ToolTipRole), int(RunIdRole)))
_FLAGS = Qt.ItemIsEnabled | Qt.ItemIsSelectable
_LEFT = int(Qt.AlignLeft | Qt.AlignVCenter)
_RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)


def _resolve_job(project, query: RunQuery, gen: int, pages: list[int]):
    resolved = browse.resolve(project, query, PAGE_SIZE)
    loaded = browse.load_pages(project, resolved.rids, [p for p in pages if p], PAGE_SIZE)
    loaded[0] = resolved.first
    return gen, resolved, loaded


def _page_job(project, rids: list[int], epoch: int, page: int):
    return epoch, page, runs_by_rid(project, rids)


def _runs_job(project, rids: list[int]):
    return runs_by_rid(project, rids)


class RunsModel(QAbstractTableModel):
    """Rows are runs matching ``query``; columns are base attributes plus
    chosen params/metrics/tags."""

    resolved = Signal(int)          # a search finished: its number of runs
    loadingChanged = Signal(bool)
    pageLoaded = Signal(int)        # page index
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.jobs = Jobs(self)
        self._project = None
        self._query = RunQuery(order_by=DEFAULT_ORDER)
        self._columns: list[Column] = list(BASE_COLUMNS)
        self._rids: list[int] = []
        self._pages: OrderedDict[int, list[Run]] = OrderedDict()
        self._pending: set[int] = set()
        self._wanted: OrderedDict[int, None] = OrderedDict()
        self._gen = 0
        self._epoch = 0
        self._loading = False
        self._refreshing = False
        self._refresh_after_load = False   # refresh() came while a search was reading
        self._resolve_task: Task | None = None
        self._dispatcher = QTimer(self, singleShot=True, interval=0)
        self._dispatcher.timeout.connect(self._dispatch)
        self._mono = monospace_font()
        self._cells: dict[int, list[tuple]] = {}
        self._colors: dict = {}
        self._forget_cells()
        self.modelAboutToBeReset.connect(self._forget_cells)

    # -- what to show ----------------------------------------------------------
    @property
    def project(self):
        return self._project

    @property
    def query(self) -> RunQuery:
        return self._query

    @property
    def columns(self) -> list[Column]:
        return list(self._columns)

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def loaded(self) -> bool:
        """True once the current search's first page is in."""
        return not self._loading and (0 in self._pages or not self._rids)

    def set_project(self, project, query: RunQuery | None = None) -> None:
        """Show ``project`` (None: nothing); searches ``query`` when given."""
        self._cancel()
        self._refresh_after_load = False
        self._project = project
        self.beginResetModel()
        self._rids, self._epoch = [], self._epoch + 1
        self._pages.clear()
        self.endResetModel()
        if query is not None:
            self.set_query(query)
        else:
            self._set_loading(False)

    def set_query(self, query: RunQuery) -> None:
        """Search again; the current rows stay until the new ones arrive."""
        if not query.order_by:
            query = replace(query, order_by=DEFAULT_ORDER)
        self._query = query
        self._resolve(refresh=False)

    def set_columns(self, columns: list[Column]) -> None:
        """Base columns first, then the chosen ones (loaded runs already carry
        every param, metric and tag, so nothing is fetched again)."""
        chosen = [c for c in columns if c not in BASE_COLUMNS]
        new = list(BASE_COLUMNS) + list(dict.fromkeys(chosen))
        if new == self._columns:
            return
        self.beginResetModel()
        self._columns = new
        self.endResetModel()

    def refresh(self) -> None:
        """Search again in place (runs were logged meanwhile): rows that did
        not move are updated without a reset."""
        if self._project is not None and not self._loading:
            self._resolve(refresh=True)
        elif self._loading:   # a search is reading: it may have read before this change, so search again after
            self._refresh_after_load = True

    # -- sorting (in the query) ------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        if 0 <= column < len(self._columns):
            order_by = (self._columns[column].order_by(order == Qt.DescendingOrder),)
        else:
            order_by = DEFAULT_ORDER
        if order_by != tuple(self._query.order_by) and self._project is not None:
            self.set_query(replace(self._query, order_by=order_by))
        elif order_by != tuple(self._query.order_by):
            self._query = replace(self._query, order_by=order_by)

    def sort_column(self) -> tuple[int, Qt.SortOrder]:
        """The column and direction the current query sorts by (-1: none shown)."""
        first = self._query.order_by[0] if self._query.order_by else DEFAULT_ORDER[0]
        for i, col in enumerate(self._columns):
            for desc, order in ((True, Qt.DescendingOrder), (False, Qt.AscendingOrder)):
                if col.order_by(desc) == first:
                    return i, order
        return -1, Qt.DescendingOrder

    # -- Qt model interface ------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rids)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):
        if orientation != Qt.Horizontal or not 0 <= section < len(self._columns):
            return None
        col = self._columns[section]
        if role == Qt.DisplayRole:
            return col.title
        if role == Qt.ToolTipRole:
            return col.spec if col.kind != "attributes" else f"{col.title} (attributes.{col.key})"
        if role == Qt.TextAlignmentRole:
            return int((Qt.AlignRight if col.numeric else Qt.AlignLeft) | Qt.AlignVCenter)
        return None

    def flags(self, index: QModelIndex):
        return _FLAGS

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        # Called ~7 times per visible cell on every paint: unknown roles leave at
        # once, and each row is formatted once, then served from a cache.
        if role not in _ROLES:
            return None
        row = index.row()
        cells = self._cells.get(row)
        if cells is None:
            run = self.run_at(row)
            if run is None:
                if role == _DISPLAY:
                    self._want(row // PAGE_SIZE)
                    return "Loading…" if index.column() == 0 else ""
                return self._colors["muted"] if role == _FOREGROUND else None
            cells = self._cells[row] = self._format_row(run)
        slot = _SLOT.get(role)
        if slot is not None:
            return cells[index.column()][slot]
        if role == _FONT:
            return self._mono if self._columns[index.column()].key == "run_id" else None
        run = self.run_at(row)
        if role == RunIdRole:
            return run.id
        return self._tooltip(run, self._columns[index.column()])

    def _format_row(self, run: Run) -> list[tuple]:
        colors, out = self._colors, []
        for col in self._columns:
            value = col.value(run)
            right = col.numeric or (col.kind == "params" and browse.looks_numeric(value))
            if col.key == "status" and col.kind == "attributes" and run.deleted_at is None:
                color = colors.get(run.status)
            else:
                color = colors["muted"] if value is None or run.deleted_at is not None else None
            out.append((col.text(run), _RIGHT if right else _LEFT, color))
        return out

    def _forget_cells(self, first: int | None = None, last: int | None = None) -> None:
        if first is None or len(self._cells) > 20 * PAGE_SIZE:
            self._cells.clear()
            palette = QApplication.palette()
            self._colors = {"muted": muted_color(palette),
                            **{s: status_color(s, palette) for s in ("RUNNING", "FINISHED", "FAILED", "KILLED")}}
        else:
            for row in range(first, last + 1):
                self._cells.pop(row, None)

    def _tooltip(self, run: Run, col: Column) -> str | None:
        value = col.value(run)
        if col.key == "run_id":
            return run.id
        if col.key == "status" and run.deleted_at is not None:
            return f"{run.status}, deleted (tick Show deleted and use Restore Runs to bring it back)"
        if col.key == "run_name":
            return f"{run.name}\n{run.id}" + (f"\nchild of {run.parent_id}" if run.parent_id else "")
        if col.key in ("start_time", "end_time") and value is not None:
            return fmt_time(value)
        if col.kind == "metrics" and value is not None:
            return f"{col.key} = {value!r}"
        if value is not None and len(str(value)) > 24:
            return str(value)
        return None

    # -- rows for callers ------------------------------------------------------
    def rid_at(self, row: int) -> int | None:
        return self._rids[row] if 0 <= row < len(self._rids) else None

    def run_at(self, row: int) -> Run | None:
        """The run on ``row`` if its page is loaded, else None."""
        runs = self._pages.get(row // PAGE_SIZE)
        return runs[row % PAGE_SIZE] if runs is not None and 0 <= row < len(self._rids) else None

    def rids_for_rows(self, rows: list[int]) -> list[int]:
        return [self._rids[r] for r in rows if 0 <= r < len(self._rids)]

    def rows_for_rids(self, rids) -> list[int]:
        wanted = set(rids)
        if not wanted:
            return []
        return [row for row, rid in enumerate(self._rids) if rid in wanted]

    def fetch_runs(self, rows: list[int], callback, on_error=None) -> None:
        """Deliver the runs on ``rows`` (in row order) to ``callback``: at once
        when all are loaded, else after loading the missing ones off-thread."""
        runs = [self.run_at(r) for r in sorted(rows)]
        if all(run is not None for run in runs):
            callback(runs)
            return
        if self._project is None:
            return
        self.jobs.start(_runs_job, self._project, self.rids_for_rows(sorted(rows)),
                        done=callback, failed=on_error or self.failed.emit)

    # -- loading ------------------------------------------------------------------------
    def _set_loading(self, value: bool) -> None:
        if value != self._loading:
            self._loading = value
            self.loadingChanged.emit(value)

    def _cancel(self) -> None:
        self._gen += 1
        if self._resolve_task is not None:
            self._resolve_task.cancel()
            self._resolve_task = None
        self._wanted.clear()

    def _resolve(self, refresh: bool) -> None:
        if self._project is None:
            return
        self._cancel()
        pages = list(self._pages)[-4:] if refresh else [0]
        self._set_loading(not refresh)
        self._refreshing = refresh
        self._resolve_task = self.jobs.start(
            _resolve_job, self._project, self._query, self._gen, pages,
            done=self._on_resolved, failed=self._on_failed)

    def _on_failed(self, message: str) -> None:
        self._resolve_task = None
        self._set_loading(False)
        self.failed.emit(message)

    def _on_resolved(self, result) -> None:
        gen, resolved, pages = result
        if gen != self._gen:
            return
        self._resolve_task = None
        if resolved.rids == self._rids and self._refreshing:
            # The same rows in the same order: update what is loaded in place;
            # other loaded pages are dropped and read again when next shown.
            for page in [p for p in self._pages if p not in pages]:
                del self._pages[page]
                self._forget_cells(page * PAGE_SIZE, (page + 1) * PAGE_SIZE - 1)
            for page, runs in pages.items():
                self._pages[page] = runs
                first = page * PAGE_SIZE
                self._forget_cells(first, first + len(runs) - 1)
                self.dataChanged.emit(self.index(first, 0),
                                      self.index(first + len(runs) - 1, len(self._columns) - 1))
        else:
            self.beginResetModel()
            self._rids = resolved.rids
            self._epoch += 1
            self._pages = OrderedDict(sorted(pages.items()))
            self._pending.clear()
            self.endResetModel()
        self._set_loading(False)
        self.resolved.emit(len(self._rids))
        if self._refresh_after_load:
            self._refresh_after_load = False
            self.refresh()

    def _want(self, page: int) -> None:
        if page in self._pending:
            return
        self._wanted[page] = None
        self._wanted.move_to_end(page)
        if not self._dispatcher.isActive():
            self._dispatcher.start()

    def _dispatch(self) -> None:
        # Newest wishes first; pages scrolled past long ago are forgotten.
        while len(self._wanted) > 8:
            self._wanted.popitem(last=False)
        while self._wanted and len(self._pending) < MAX_IN_FLIGHT and self._project is not None:
            page, _ = self._wanted.popitem(last=True)
            if page in self._pages or page in self._pending:
                continue
            self._pending.add(page)
            rids = self._rids[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
            self.jobs.start(_page_job, self._project, rids, self._epoch, page,
                            done=self._on_page, failed=self._on_page_failed)

    def _on_page(self, result) -> None:
        epoch, page, runs = result
        self._pending.discard(page)
        if epoch == self._epoch:
            self._pages[page] = runs
            while len(self._pages) > MAX_PAGES:
                evicted, _ = self._pages.popitem(last=False)
                self._forget_cells(evicted * PAGE_SIZE, (evicted + 1) * PAGE_SIZE - 1)
            first = page * PAGE_SIZE
            last = min(first + len(runs), len(self._rids)) - 1
            if last >= first:
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(self._columns) - 1))
            self.pageLoaded.emit(page)
        if self._wanted:
            self._dispatch()

    def _on_page_failed(self, message: str) -> None:
        self._pending.clear()
        self.failed.emit(message)


SORT_GAP = 3   # pixels between a header's text and its sort arrow


class RunsHeader(QHeaderView):
    """A horizontal header whose sort arrow never covers the section's text.

    Some styles (Fusion among them) shrink the label by less than the arrow
    takes, so right-aligned text (the numeric columns) runs under the arrow
    however wide the section is. The sorted section is drawn here with its
    label ending :data:`SORT_GAP` pixels before the arrow; the others are
    drawn by Qt as usual.
    """

    def __init__(self, parent=None):
        super().__init__(Qt.Horizontal, parent)
        self.setSectionsClickable(True)   # what QTableView sets on the header it makes itself

    def sort_rects(self, logical: int, rect: QRect | None = None) -> tuple[QRect, QRect] | None:
        """Where the sorted section ``logical`` draws its label and its arrow
        (None when it shows no sort arrow)."""
        if not self.isSortIndicatorShown() or logical != self.sortIndicatorSection():
            return None
        opt = QStyleOptionHeaderV2()
        self.initStyleOption(opt)
        self.initStyleOptionForIndex(opt, logical)
        if opt.sortIndicator == QStyleOptionHeader.SortIndicator.None_:
            return None
        opt.rect = rect if rect is not None else QRect(self.sectionViewportPosition(logical), 0,
                                                        self.sectionSize(logical), self.height())
        style = self.style()
        label = style.subElementRect(QStyle.SubElement.SE_HeaderLabel, opt, self)
        arrow = style.subElementRect(QStyle.SubElement.SE_HeaderArrow, opt, self)
        middle = label.center().x()
        if arrow.left() >= middle:          # arrow on the right (left to right)
            label.setRight(min(label.right(), arrow.left() - SORT_GAP - 1))
        elif arrow.right() <= middle:       # arrow on the left (right to left)
            label.setLeft(max(label.left(), arrow.right() + SORT_GAP + 1))
        return label, arrow                 # (an arrow above the text needs nothing)

    def sort_indicator_room(self) -> int:
        """Pixels a section gives up at its arrow's side when sorted: the
        arrow, the style's margin after it and the gap before the text."""
        opt = QStyleOptionHeader()
        self.initStyleOption(opt)
        opt.rect = QRect(0, 0, 200, max(self.height(), self.sizeHint().height()))
        opt.sortIndicator = QStyleOptionHeader.SortIndicator.SortDown
        style = self.style()
        arrow = style.subElementRect(QStyle.SubElement.SE_HeaderArrow, opt, self)
        label = style.subElementRect(QStyle.SubElement.SE_HeaderLabel, opt, self)
        if arrow.left() >= label.center().x():
            return opt.rect.right() - arrow.left() + 1 + SORT_GAP
        if arrow.right() <= label.center().x():
            return arrow.right() - opt.rect.left() + 1 + SORT_GAP
        return 0

    def paintSection(self, painter, rect: QRect, logical: int) -> None:
        rects = self.sort_rects(logical, rect) if rect.isValid() else None
        if rects is None:
            super().paintSection(painter, rect, logical)
            return
        # QCommonStyle's CE_Header, with the label rect kept clear of the arrow.
        opt = QStyleOptionHeaderV2()
        self.initStyleOption(opt)
        self.initStyleOptionForIndex(opt, logical)
        opt.rect = rect
        style = self.style()
        painter.setClipRect(rect)
        style.drawControl(QStyle.ControlElement.CE_HeaderSection, opt, painter, self)
        opt.rect = rects[0]
        if opt.rect.isValid():
            style.drawControl(QStyle.ControlElement.CE_HeaderLabel, opt, painter, self)
        opt.rect = rects[1]
        style.drawPrimitive(QStyle.PrimitiveElement.PE_IndicatorHeaderArrow, opt, painter, self)


class RunsTable(QTableView):
    """The table over a RunsModel: whole-row selection, fixed row heights (so
    100,000 rows cost nothing to lay out), sorting handed to the model."""

    def __init__(self, model: RunsModel, parent=None):
        super().__init__(parent)
        self.setObjectName("runsTable")
        self.setHorizontalHeader(RunsHeader(self))
        set_table_model(self, model)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollPerPixel)
        vh = self.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setDefaultSectionSize(104)
        hh.setSectionResizeMode(QHeaderView.Interactive)
        hh.setSortIndicator(4, Qt.DescendingOrder)  # Start, newest first: the model's default
        self.setSortingEnabled(True)

    def header_width(self, section: int) -> int:
        """The width ``section`` needs to show its whole title with the sort
        arrow beside it (header margins included)."""
        header = self.horizontalHeader()
        title = self.model().headerData(section, Qt.Horizontal, Qt.DisplayRole) or ""
        margin = header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
        return header.fontMetrics().horizontalAdvance(str(title)) + 4 * margin + header.sort_indicator_room()

    def selected_rows(self) -> list[int]:
        rows: set[int] = set()
        for rng in selection_of(self).selection():
            rows.update(range(rng.top(), rng.bottom() + 1))
        return sorted(rows)

    def view_state(self) -> tuple:
        """Selected and current runs (by rid) and the scroll position."""
        model = self.model()
        return (tuple(model.rids_for_rows(self.selected_rows())), model.rid_at(self.currentIndex().row()),
                self.verticalScrollBar().value())

    def restore_view_state(self, state: tuple, keep_scroll: bool) -> None:
        """Select the same runs again wherever they are now."""
        rids, current, scroll = state
        model = self.model()
        if rids:
            selection = QItemSelection()
            last_col = model.columnCount() - 1
            start = prev = None
            for row in model.rows_for_rids(rids) + [None]:
                if start is not None and (row is None or row != prev + 1):
                    selection.select(model.index(start, 0), model.index(prev, last_col))
                    start = None
                if row is not None and start is None:
                    start = row
                prev = row
            selection_of(self).select(selection, QItemSelectionModel.ClearAndSelect)
        rows = model.rows_for_rids([current]) if current is not None else []
        if rows:
            selection_of(self).setCurrentIndex(model.index(rows[0], 0), QItemSelectionModel.NoUpdate)
        if keep_scroll:
            self.verticalScrollBar().setValue(scroll)
        else:
            self.scrollToTop()

"""The Monitoring view's drift table: one row per column of a drift report, sortable
(numbers as numbers, missing scores last), drifted rows coloured, Ctrl+C copies (kit tables);
:meth:`DriftTable.set_name_filter` shows only the columns whose name contains a text (ignoring case)."""

from __future__ import annotations

import math

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QWidget

from ..kit.tables import CopyTableView, selection_of, set_table_model, table_model

HEADERS = ("column", "type", "test", "score", "threshold", "drifted", "PSI", "missing (ref)", "missing (cur)", "note")
TIPS = {"score": "p-value for ks, chisquare and z (drifts below the threshold); a distance for wasserstein, "
                 "jensenshannon and psi (drifts at or above it)",
        "PSI": "population stability index, shown beside every test (not part of the verdict unless it is the test)",
        "missing (ref)": "share of the reference's values that are missing (left out of the test)",
        "missing (cur)": "share of the current values that are missing (left out of the test)"}
SORT = Qt.ItemDataRole.UserRole + 1
DRIFTED_BG = QColor(214, 39, 40, 48)


def _number(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def rows_of(records) -> list[tuple]:
    """Table rows from column records (dicts with the drift report's fields)."""
    return [(r["column"], r.get("type") or "", r.get("test") or "", _number(r.get("score")),
             _number(r.get("threshold")), "DRIFT" if r.get("drifted") else "", _number(r.get("psi")),
             _number(r.get("missing_ref")), _number(r.get("missing_cur")), r.get("note") or "") for r in records]


class DriftTable(CopyTableView):
    """The table; :meth:`set_records` fills it, :meth:`selected_columns` says what is chosen
    (``columnsChanged`` when that changes)."""

    columnsChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("driftTable")
        self.setSelectionBehavior(CopyTableView.SelectionBehavior.SelectRows)
        self.setSortingEnabled(True)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSortRole(SORT)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.records: list[dict] = []
        self._filling = False
        self._fitted = False
        self.set_records([])

    def set_records(self, records: list[dict], keep: list[str] | None = None) -> None:
        """Show ``records``; re-select the columns in ``keep`` (else the first drifted, else the first)."""
        self.records = list(records)
        rows = rows_of(self.records)
        model = table_model(HEADERS, rows, parent=self)
        for c, name in enumerate(HEADERS):
            if name in TIPS:
                model.horizontalHeaderItem(c).setToolTip(TIPS[name])
        for r, row in enumerate(rows):
            drifted = bool(row[5])
            for c, value in enumerate(row):
                item = model.item(r, c)
                if value is None:
                    item.setText("")
                    item.setData(math.inf, SORT)          # missing numbers sort after every number
                elif isinstance(value, float):
                    item.setData(value, SORT)
                    item.setText(f"{value:.3g}" if c in (3, 6) and (abs(value) < 1e-3 and value) else
                                 f"{value:.3f}" if c in (3, 4, 6) else f"{value:.1%}")
                else:
                    item.setData(str(value).lower(), SORT)
                if drifted:
                    item.setBackground(QBrush(DRIFTED_BG))
        header = self.horizontalHeader()
        section, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        self._filling = True
        self.proxy.setSourceModel(model)
        set_table_model(self, self.proxy).selectionChanged.connect(self._selection_changed)
        if 0 <= section < len(HEADERS) and self.records:
            self.sortByColumn(section, order)
        else:                                              # drifted first, then by name
            self.sortByColumn(5, Qt.SortOrder.DescendingOrder)
        if self.records and not self._fitted:       # widths once: resizing to contents costs ~30 ms a time
            self.fit_columns()
            self._fitted = True
        wanted = [c for c in (keep or []) if c in {r["column"] for r in self.records}]
        if not wanted:
            drifted = [r["column"] for r in self.records if r.get("drifted")]
            wanted = drifted[:1] or [r["column"] for r in self.records[:1]]
        self.select_columns(wanted)
        self._filling = False
        self.columnsChanged.emit()

    def set_name_filter(self, text: str) -> None:
        """Show only the columns whose name contains ``text`` (ignoring case; empty: all)."""
        self.proxy.setFilterFixedString(text.strip())

    def shown_columns(self) -> list[str]:
        return [self.column_at(r) for r in range(self.proxy.rowCount())]

    def _selection_changed(self, *_args) -> None:
        if not self._filling:
            self.columnsChanged.emit()

    def column_at(self, proxy_row: int) -> str:
        return str(self.proxy.data(self.proxy.index(proxy_row, 0)))

    def select_columns(self, names: list[str]) -> None:
        selection = selection_of(self)
        if selection is None:
            return
        selection.clearSelection()
        first = True
        for row in range(self.proxy.rowCount()):
            if self.column_at(row) in names:
                flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
                if first:
                    selection.setCurrentIndex(self.proxy.index(row, 0), flags)
                    first = False
                else:
                    selection.select(self.proxy.index(row, 0), flags)

    def selected_columns(self) -> list[str]:
        """The chosen columns, the current one first."""
        selection = selection_of(self)
        if selection is None:
            return []
        rows = sorted({i.row() for i in selection.selectedRows()})
        names = [self.column_at(r) for r in rows]
        current = selection.currentIndex()
        if current.isValid() and self.column_at(current.row()) in names:
            first = self.column_at(current.row())
            names = [first] + [n for n in names if n != first]
        return names

    def row_colour(self, column: str) -> QColor | None:
        """The background of ``column``'s row (tests and screenshots check drifted rows stand out)."""
        for row in range(self.proxy.rowCount()):
            if self.column_at(row) == column:
                brush = self.proxy.data(self.proxy.index(row, 0), Qt.ItemDataRole.BackgroundRole)
                return brush.color() if brush is not None else None
        return None

"""Small pieces shared by the run details and compare windows.

A table view whose Ctrl+C copies the selected cells as TSV, a read-only
item model builder, text formatting, run colours, a keeper for worker tasks
and the "open as its own window" helper.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from PySide6.QtCore import QItemSelectionModel, QObject, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QListWidget, QListWidgetItem, QTableView, QWidget

from ...core.text import fmt_number
from . import qt_compat

qt_compat.apply()   # PySide6 6.12.0 drops a reference to True on every signal emit


def set_table_model(view: QAbstractItemView, model) -> QItemSelectionModel:
    """``view.setModel(model)`` with a selection model created, and kept, from Python.

    PySide6 (seen with 6.11) can hand back a stale Python wrapper from
    ``view.selectionModel()``: the selection model Qt creates may land at the
    address of a deleted ``QStandardItem`` whose wrapper is still registered,
    and the call then returns that item ("'QStandardItem' object has no
    attribute 'currentRowChanged'"). An object made here is wrapped once, by
    us. Use :func:`selection_of` to get it back.
    """
    old = getattr(view, "_md_selection", None)
    view.setModel(model)
    selection = QItemSelectionModel(model, view)
    view.setSelectionModel(selection)
    view._md_selection = selection
    if old is not None:
        old.deleteLater()
    return selection


def selection_of(view: QAbstractItemView) -> QItemSelectionModel | None:
    """The selection model :func:`set_table_model` gave ``view`` (Qt's own otherwise)."""
    selection = getattr(view, "_md_selection", None)
    return selection if selection is not None else view.selectionModel()


def selection_tsv(view: QTableView) -> str:
    """The selected cells as tab-separated text (the bounding rows and columns)."""
    selection = selection_of(view)
    indexes = selection.selectedIndexes() if selection is not None else []
    if not indexes:
        return ""
    model = view.model()
    rows = sorted({i.row() for i in indexes})
    cols = sorted({i.column() for i in indexes if not view.isColumnHidden(i.column())})
    chosen = {(i.row(), i.column()) for i in indexes}
    lines = []
    for r in rows:
        cells = []
        for c in cols:
            text = model.data(model.index(r, c), Qt.ItemDataRole.DisplayRole) if (r, c) in chosen else ""
            cells.append("" if text is None else str(text).replace("\t", " ").replace("\n", " "))
        lines.append("\t".join(cells))
    return "\n".join(lines)


class CopyTableView(QTableView):
    """A read-only table: Ctrl+C copies the selected cells as TSV."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
            event.accept()
            return
        super().keyPressEvent(event)

    def copy_selection(self) -> str:
        text = selection_tsv(self)
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def fit_columns(self, stretch_last: bool = True, max_width: int = 360) -> None:
        header = self.horizontalHeader()
        self.resizeColumnsToContents()
        for c in range(header.count()):
            if header.sectionSize(c) > max_width:
                header.resizeSection(c, max_width)
        header.setStretchLastSection(stretch_last)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)


def table_model(headers: Sequence[str], rows: Iterable[Sequence[Any]], tooltips: Iterable[Sequence[Any]] | None = None,
                parent: QObject | None = None) -> QStandardItemModel:
    """A read-only model of text cells; numbers are right-aligned and sort as numbers."""
    model = QStandardItemModel(parent)
    model.setHorizontalHeaderLabels(list(headers))
    tips = list(tooltips) if tooltips is not None else None
    for r, row in enumerate(rows):
        items = []
        for c, value in enumerate(row):
            item = QStandardItem(fmt_number(value))
            item.setEditable(False)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                item.setData(value, Qt.ItemDataRole.UserRole)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if tips is not None and tips[r][c]:
                item.setToolTip(str(tips[r][c]))
            items.append(item)
        model.appendRow(items)
    return model


def checkable_item(key: str, checked: bool, tip: str | None = None) -> QListWidgetItem:
    """A list item with a check box; its key is kept in UserRole (the text may add detail)."""
    item = QListWidgetItem(key)
    item.setData(Qt.ItemDataRole.UserRole, key)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    if tip:
        item.setToolTip(tip)
    return item


def checked_keys(widget: QListWidget) -> list[str]:
    return [widget.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked]


def check_only(widget: QListWidget, keys) -> None:
    wanted = set(keys)
    widget.blockSignals(True)
    for i in range(widget.count()):
        item = widget.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                           else Qt.CheckState.Unchecked)
    widget.blockSignals(False)



"""The comparison table: one column per run, rows grouped by section,
differing rows highlighted, and an "only differences" mode."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from ...core.tracking.compare import DATASETS, ENVIRONMENT, SECTIONS, Comparison, Row
from ..kit.theme import run_colour, theme

MISSING = "—"
SECTION_HELP = {
    "Params": "Params as logged (text).",
    "Metrics": "Latest value of each metric.",
    "Environment": "Interpreter, platform, git state, and each package whose version differs.",
    "Datasets": "Fingerprint of the full data logged under each name and role.",
}


def display_value(row: Row, value: str | None) -> str:
    if value is None:
        return MISSING
    if row.section == DATASETS or (row.section == ENVIRONMENT and row.key == "Git commit"):
        return value[:12] + "…" if len(value) > 13 else value
    return value


class CompareTableModel(QAbstractTableModel):
    """Rows of a :class:`Comparison`; section titles are rows of their own."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._comparison: Comparison | None = None
        self._only_differences = False
        self._entries: list[str | Row] = []   # a str is a section title

    # -- inputs ----------------------------------------------------------------
    def set_comparison(self, comparison: Comparison) -> None:
        self.beginResetModel()
        self._comparison = comparison
        self._entries = self._build()
        self.endResetModel()

    def set_only_differences(self, on: bool) -> None:
        if on == self._only_differences:
            return
        self.beginResetModel()
        self._only_differences = on
        self._entries = self._build()
        self.endResetModel()

    @property
    def only_differences(self) -> bool:
        return self._only_differences

    def _build(self) -> list[str | Row]:
        if self._comparison is None:
            return []
        entries: list[str | Row] = []
        rows = self._comparison.visible_rows(self._only_differences)
        for section in SECTIONS:
            inside = [r for r in rows if r.section == section]
            if inside:
                entries.append(section)
                entries.extend(inside)
        return entries

    # -- lookups for views and tests ----------------------------------------------
    def section_rows(self) -> list[int]:
        return [i for i, e in enumerate(self._entries) if isinstance(e, str)]

    def entry(self, row: int) -> str | Row:
        return self._entries[row]

    def find(self, section: str, key: str) -> int:
        """Model row of (section, key), -1 when not shown."""
        for i, e in enumerate(self._entries):
            if isinstance(e, Row) and e.section == section and e.key == key:
                return i
        return -1

    def shown_keys(self, section: str | None = None) -> list[str]:
        return [e.key for e in self._entries if isinstance(e, Row) and (section is None or e.section == section)]

    # -- Qt model ------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent=QModelIndex()) -> int:
        if parent.isValid() or self._comparison is None:
            return 0
        return 1 + len(self._comparison.runs)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or self._comparison is None:
            return None
        if section == 0:
            return {Qt.ItemDataRole.DisplayRole: "Key"}.get(role)
        run = self._comparison.runs[section - 1]
        if role == Qt.ItemDataRole.DisplayRole:
            return run.name
        if role == Qt.ItemDataRole.DecorationRole:
            return run_colour(section - 1)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{run.name}\nid {run.id}\nexperiment {run.experiment}\nstatus {run.status}\nby {run.user}"
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self._entries[index.row()]
        col = index.column()
        if isinstance(entry, str):
            if role == Qt.ItemDataRole.DisplayRole:
                return entry if col == 0 else ""
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(theme()["section_bg"]))
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.ToolTipRole:
                return SECTION_HELP.get(entry)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return entry.key if col == 0 else display_value(entry, entry.values[col - 1])
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return f"{entry.section}: {entry.key}" + (" — differs between runs" if entry.differs else "")
            value = entry.values[col - 1]
            return "not logged in this run" if value is None else value
        if role == Qt.ItemDataRole.BackgroundRole and entry.differs:
            return QBrush(QColor(theme()["diff_bg"]))
        if role == Qt.ItemDataRole.FontRole and entry.differs and col == 0:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and col > 0 and entry.values[col - 1] is None:
            return QBrush(Qt.GlobalColor.gray)
        if role == Qt.ItemDataRole.UserRole:
            return entry.differs
        return None

"""Small pieces shared by the run details and compare windows.

A table view whose Ctrl+C copies the selected cells as TSV, a read-only
item model builder, text formatting, run colours, a keeper for worker tasks
and the "open as its own window" helper.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Callable, Iterable, Sequence

from PySide6.QtCore import QItemSelectionModel, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QListWidget, QListWidgetItem, QTableView, QWidget

from . import qt_compat
from .workers import Task, start

qt_compat.apply()   # PySide6 6.12.0 drops a reference to True on every signal emit

# Tableau 10, then darker variants: distinct, colour-blind friendlier than Qt's named colours.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#0b3d66", "#a34a00", "#176317", "#7d1515", "#4f3569", "#4d2f27")
_LIGHT = {"bg": "#ffffff", "text": "#2b2f36", "muted": "#6b7280", "axis": "#9aa3ad", "diff_bg": "#fff1c9",
          "section_bg": "#e8ecf1", "error": "#b91c1c", "warn": "#b45309", "ok": "#1d7a3a",
          "legend_bg": (255, 255, 255, 225), "legend_pen": "#d0d5dc", "preview_bg": "#f3f4f6"}
_DARK = {"bg": "#1f2023", "text": "#e6e6e6", "muted": "#9aa0a6", "axis": "#6b7078", "diff_bg": "#4d3f12",
         "section_bg": "#34373b", "error": "#f28b82", "warn": "#f6ad55", "ok": "#81c784",
         "legend_bg": (31, 32, 35, 225), "legend_pen": "#45484c", "preview_bg": "#26282b"}


def is_dark() -> bool:
    """Whether the application palette is a dark one (the app follows the system scheme)."""
    from PySide6.QtGui import QPalette

    return QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


def theme() -> dict:
    """Colours for text, charts and highlights that read well on the current palette."""
    return _DARK if is_dark() else _LIGHT


def run_colour(index: int) -> QColor:
    return QColor(PALETTE[index % len(PALETTE)])


def fmt_number(value: Any) -> str:
    """Numbers with 6 significant digits; everything else as text; missing as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    return str(value)


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "—"
    return _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "running"
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {sec} s"


def fmt_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class ReloadWhenShown:
    """Mixin for a view that follows a project (put it before QWidget).

    ``refresh()`` (the project changed) reloads at once while the view is shown
    and otherwise only marks it stale; the next show reloads. The view defines
    ``project`` and ``reload()``, and ``reload()`` clears ``_stale``.
    """

    _stale = False

    def refresh(self) -> None:
        """The project changed (another process, another view): reload now if shown, else when next shown."""
        if self.project is None:
            return
        if not self.isVisible():
            self._stale = True
            return
        self.reload()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()


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


class TaskKeeper:
    """Keeps worker tasks alive until they finish; cancels the rest on close.

    ``pool`` defaults to Qt's global thread pool.
    """

    def __init__(self, pool=None):
        self._tasks: list[Task] = []
        self._pool = pool

    def run(self, fn: Callable, *args, on_done: Callable, on_error: Callable | None = None) -> Task:
        # Connect to bound methods of QObjects living in the GUI thread so the
        # results arrive there through queued connections.
        self._tasks = [t for t in self._tasks if not t.finished.is_set()]
        task = Task(fn, *args)
        task.signals.done.connect(on_done)
        if on_error is not None:
            task.signals.failed.connect(on_error)
        self._tasks.append(task)
        return start(task, self._pool)

    @property
    def busy(self) -> bool:
        return any(not t.finished.is_set() for t in self._tasks)

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until every task has finished (tests, shutdown)."""
        import time

        deadline = time.monotonic() + msecs / 1000
        for task in self._tasks:
            if not task.finished.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True


_OPEN_WINDOWS: set[QWidget] = set()


def show_as_window(widget: QWidget, title: str, size: tuple[int, int]) -> QWidget:
    """Show ``widget`` as its own non-modal top-level window and keep it alive until closed."""
    widget.setWindowFlag(Qt.WindowType.Window, True)
    widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    widget.setWindowTitle(title)
    widget.resize(*size)
    _OPEN_WINDOWS.add(widget)
    widget.show()
    widget.raise_()
    return widget


def open_windows(kind: type) -> list[QWidget]:
    """The windows of class ``kind`` opened with :func:`show_as_window` and not closed yet."""
    return [w for w in _OPEN_WINDOWS if isinstance(w, kind)]


def bring_to_front(widget: QWidget) -> QWidget:
    """Show an already open window again: restored if minimised, raised, focused."""
    if widget.isMinimized():
        widget.showNormal()
    widget.show()
    widget.raise_()
    widget.activateWindow()
    return widget


def forget_window(widget: QWidget) -> None:
    _OPEN_WINDOWS.discard(widget)

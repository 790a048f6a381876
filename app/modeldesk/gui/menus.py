"""The main window's Edit menu and Help ▸ User Guide.

Edit ▸ Copy and Select All act on the widget that has the keyboard focus, the
way their keys do: a text field copies its selected text; a table copies its
selected cells (through the view's own Copy action when it has one, so the
menu and Ctrl+C give the same text). The menu shows Ctrl+C and Ctrl+A but
does not bind them: the focused widget keeps handling those keys itself (two
bindings of one key would cancel each other). Find (Ctrl+F) focuses the
current view's filter and selects its text: the Experiments view's filter
field, the Models view's model name filter, the Serving view's server filter,
the Monitoring view's drift column filter, the Audit view's model filter (the
fields are kit.find_field.FindField: Esc clears them). A page with nothing to
search (Monitors and alerts) says why in ``no_find_reason``: Find is disabled
there with that reason as its tip; a filter not in sight yet (no models, no
servers) gets a status-bar line.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QMessageBox, QTableView, QTabWidget, QWidget

from ..core.version import __version__
from .kit.dialogs import message
from .kit.icons import pixmap
from .kit.tables import selection_of, selection_tsv

# Where each view keeps its filter (attribute paths tried in turn on the current view).
FIND_TARGETS = ("filter_bar.edit", "model_filter", "find_field")
LICENSE = "MIT"   # pyproject.toml's license, and the LICENSE file's (tests/gui/test_desktop_conventions.py)
GUIDE = Path(__file__).resolve().parents[3] / "docs" / "user-guide.md"   # a source checkout's docs/


def _attr(obj, path: str):
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _standard_action(widget: QWidget, key: QKeySequence.StandardKey) -> QAction | None:
    """The enabled action bound to ``key`` on ``widget`` or an ancestor below the window: what the key triggers."""
    wanted = set(QKeySequence.keyBindings(key))
    while widget is not None and not widget.isWindow():
        for action in widget.actions():
            if action.isEnabled() and wanted & set(action.shortcuts()):
                return action
        widget = widget.parentWidget()
    return None


def copy_from(widget: QWidget | None) -> bool:
    """Copy what ``widget`` has selected, as its Ctrl+C would; False when it has nothing to copy."""
    if widget is None:
        return False
    if callable(getattr(widget, "copy_selection", None)):        # CopyTableView: selected cells as TSV
        return bool(widget.copy_selection())
    if callable(getattr(widget, "copy", None)) and not isinstance(widget, QAbstractItemView):
        widget.copy()                                             # QLineEdit, QTextEdit, QPlainTextEdit
        return True
    if isinstance(widget, QLabel) and widget.hasSelectedText():
        QGuiApplication.clipboard().setText(widget.selectedText())
        return True
    action = _standard_action(widget, QKeySequence.StandardKey.Copy)
    if action is not None:                                         # the view's own Copy (runs, audit rows)
        action.trigger()
        return True
    if isinstance(widget, QTableView):
        text = selection_tsv(widget)
    elif isinstance(widget, QAbstractItemView):
        selection = selection_of(widget)
        indexes = sorted(selection.selectedIndexes() if selection is not None else [],
                         key=lambda i: (i.row(), i.column()))
        text = "\n".join(str(i.data() or "") for i in indexes)
    elif isinstance(widget, QComboBox):
        text = widget.currentText()
    else:
        return False
    if text:
        QGuiApplication.clipboard().setText(text)
    return bool(text)


def select_all_in(widget: QWidget | None) -> bool:
    """Select everything in ``widget`` (a table, a list, a text field); False when it cannot."""
    if widget is not None and callable(getattr(widget, "selectAll", None)):
        widget.selectAll()
        return True
    return False


def find_page(view: QWidget | None) -> QWidget | None:
    """The page of ``view`` in sight: a tabbed page's current tab."""
    while isinstance(view, QTabWidget):
        view = view.currentWidget()
    return view


def find_target(view: QWidget | None) -> QWidget | None:
    """The filter of ``view`` (a page of the main window, or its current tab), if it has one."""
    view = find_page(view)
    for path in FIND_TARGETS:
        target = _attr(view, path)
        if isinstance(target, QWidget):
            return target
    return None


def guide_url() -> QUrl | None:
    """The user guide as a local file (a source checkout); None when this install has no copy."""
    return QUrl.fromLocalFile(str(GUIDE)) if GUIDE.is_file() else None


class EditAndHelp:
    """Adds Edit (Copy, Select All, Find) and Help ▸ User Guide to ``window`` (a MainWindow)."""

    def __init__(self, window) -> None:
        self.window = window

    def build_edit(self, menu_bar) -> None:
        edit = menu_bar.addMenu("&Edit")
        w = self.window
        # Shown, not bound: the focused widget handles Ctrl+C / Ctrl+A itself (see the module's doc).
        w.copy_action = edit.addAction("&Copy\t" + QKeySequence(QKeySequence.Copy).toString(
            QKeySequence.NativeText), self.copy)
        w.select_all_action = edit.addAction("Select &All\t" + QKeySequence(QKeySequence.SelectAll).toString(
            QKeySequence.NativeText), self.select_all)
        edit.addSeparator()
        w.find_action = edit.addAction("&Find", self.find)
        keys = list(QKeySequence.keyBindings(QKeySequence.Find))
        if QKeySequence("Ctrl+F") not in keys:
            keys.append(QKeySequence("Ctrl+F"))
        w.find_action.setShortcuts(keys)
        edit.setToolTipsVisible(True)     # a disabled Find says why
        self.update_find()
        w.nav.currentRowChanged.connect(self.update_find)
        w.pages.currentChanged.connect(self.update_find)
        for i in range(w.views.count()):
            if isinstance(w.views.widget(i), QTabWidget):
                w.views.widget(i).currentChanged.connect(self.update_find)

    def update_find(self, *_args) -> None:
        """Find is enabled unless the page in sight has nothing to search; then its tip says why."""
        w = self.window
        reason = None
        if w.pages.currentWidget() is w.workspace:
            reason = getattr(find_page(w.views.currentWidget()), "no_find_reason", None)
        w.find_action.setEnabled(reason is None)
        tip = reason or "Put the cursor in the current view's filter (Esc in the filter clears it)"
        w.find_action.setStatusTip(tip)
        w.find_action.setToolTip(tip)

    def add_guide(self, help_menu) -> None:
        self.window.guide_action = help_menu.addAction("&User Guide", self.open_guide)
        self.window.guide_action.setShortcuts(QKeySequence.keyBindings(QKeySequence.HelpContents))

    def _focused(self) -> QWidget | None:
        return self.window.focusWidget()

    def copy(self) -> None:
        if not copy_from(self._focused()):
            self.window.statusBar().showMessage("Nothing selected to copy: select rows or text first.", 4000)

    def select_all(self) -> None:
        if not select_all_in(self._focused()):
            self.window.statusBar().showMessage("Click in a table or a text field first, then Select All.", 4000)

    def find(self) -> None:
        w = self.window
        if w.pages.currentWidget() is not w.workspace:
            w.statusBar().showMessage("Open a project first: Find searches the current view.", 4000)
            return
        view = w.views.currentWidget()
        target = find_target(view)
        name = w.nav.currentItem().text().split("  ")[0] if w.nav.currentItem() else "This view"
        reason = getattr(find_page(view), "no_find_reason", None)
        if target is None or reason:
            w.statusBar().showMessage(reason or f"{name} has no filter.", 5000)
            return
        if not target.isVisibleTo(w):
            w.statusBar().showMessage(f"{name} lists nothing to search yet.", 5000)
            return
        target.setFocus()
        if callable(getattr(target, "selectAll", None)):
            target.selectAll()

    def open_guide(self) -> bool:
        url = guide_url()
        if url is not None:
            return QDesktopServices.openUrl(url)
        message(self.window, QMessageBox.Information, "User Guide",
                "<b>The user guide is not installed with this copy of ModelDesk.</b>",
                "It is docs/user-guide.md in ModelDesk's source (the source archive or a checkout), "
                "with its pictures beside it in docs/images. Each command also explains itself: "
                "modeldesk --help.")
        return False

    def about(self) -> QMessageBox:
        """Help ▸ About ModelDesk: the versions a bug report needs, and the licence."""
        import platform
        import sqlite3
        from importlib import metadata

        import PySide6
        from PySide6.QtCore import qVersion

        def version(dist: str) -> str:
            try:
                return metadata.version(dist)
            except metadata.PackageNotFoundError:
                return "not installed"

        rows = [("ModelDesk", __version__), ("Python", platform.python_version()), ("Qt", qVersion()),
                ("PySide6", PySide6.__version__), ("pyqtgraph", version("pyqtgraph")),
                ("SQLite", sqlite3.sqlite_version), ("License", LICENSE),
                ("Platform", platform.platform(terse=True))]
        table = "".join(f"<tr><td>{k}</td><td>&nbsp;&nbsp;{html.escape(v)}</td></tr>" for k, v in rows)
        box = message(self.window, QMessageBox.Information, "About ModelDesk", "")
        box.setTextFormat(Qt.RichText)
        box.setText(f"<h3>ModelDesk {__version__}</h3><p>Track, compare, approve, serve and audit "
                    f"scikit-learn models: one SQLite file per project.</p><table>{table}</table>")
        box.setIconPixmap(pixmap(64))
        box.setObjectName("aboutBox")
        return box

"""The field Edit ▸ Find (Ctrl+F) puts the cursor in: a filter over what a view lists.

:class:`FindField` is a line edit with a clear button whose Esc clears it (a
second Esc, on an empty field, is left to the widget below, e.g. a dialog).
:func:`matches` is the one rule the views filter names by: case-insensitive
containment of the trimmed text. gui/menus.py finds a view's field as its
``find_field`` attribute; a view with nothing to search sets ``no_find_reason``
instead, and the Find action is disabled there with that reason as its tip.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QWidget


def matches(name: str, text: str) -> bool:
    """Whether ``name`` is shown under the filter ``text`` (empty: everything)."""
    needle = text.strip().casefold()
    return not needle or needle in str(name).casefold()


def no_match_text(what: str, text: str) -> str:
    """The sentence a view shows when its filter hides every row."""
    return f"No {what} matches “{text.strip()}”. Press Esc to clear the filter."


class FindField(QLineEdit):
    """A filter field: Ctrl+F (through the main window's Find) focuses it and selects its text; Esc clears it."""

    def __init__(self, placeholder: str, tooltip: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.setToolTip(tooltip or f"{placeholder} (Ctrl+F; Esc clears)")

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            event.accept()
            return
        super().keyPressEvent(event)

"""The filter bar over the runs table: the DESIGN.md filter language with
key completion and an inline message that points at a bad token, plus a
quick search box over run names and tags.

Parsing happens here on the GUI thread (it is pure Python and reads no data);
running the filter is the runs model's job, off the thread.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import QEvent, QSize, QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStyle,
    QStyleOptionFrame,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import FilterError
from ...core.tracking.filters import compile_filter, completions

_WORD = re.compile(r"[\w./:\-`]*$")
EXAMPLE = "metrics.val_auc > 0.9 and params.max_depth = '8'"
SEARCH_PLACEHOLDER = "Search names and tags"
SEARCH_MAX_WIDTH = 240


def current_word(text: str, cursor: int) -> tuple[int, str]:
    """Start and text of the key being typed just before ``cursor``."""
    m = _WORD.search(text[:cursor])
    return m.start(), m.group()


class FilterEdit(QLineEdit):
    """A line edit that completes params./metrics./tags. keys in place."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._keys: dict[str, list[str]] = {}
        self.just_completed = False
        self._model = QStringListModel(self)
        self.completer_ = QCompleter(self._model, self)
        self.completer_.setWidget(self)
        self.completer_.setCompletionMode(QCompleter.UnfilteredPopupCompletion)
        self.completer_.setCaseSensitivity(Qt.CaseInsensitive)
        self.completer_.setMaxVisibleItems(12)
        self.completer_.activated[str].connect(self.insert_completion)
        self.textEdited.connect(self._update_completions)

    def set_keys(self, keys: dict[str, list[str]]) -> None:
        self._keys = dict(keys)

    def keyPressEvent(self, event) -> None:
        """Esc closes the completions first, then clears the filter (which shows every run again)."""
        if event.key() == Qt.Key_Escape and self.text() and not self.completer_.popup().isVisible():
            self.clear()
            event.accept()
            return
        super().keyPressEvent(event)

    def candidates(self) -> list[str]:
        """Completions for the word before the cursor."""
        start, word = current_word(self.text(), self.cursorPosition())
        if not word:
            return []
        found = completions(self.text()[:self.cursorPosition()], self._keys)
        return [] if found == [word] else found

    def _update_completions(self, _text: str = "") -> None:
        found = self.candidates()
        popup = self.completer_.popup()
        if not found:
            popup.hide()
            return
        self._model.setStringList(found[:200])
        self.completer_.setCompletionPrefix("")
        rect = self.cursorRect()
        rect.setWidth(max(260, popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width()))
        self.completer_.complete(rect)
        popup.setCurrentIndex(self._model.index(0, 0))  # Enter or Tab takes the first

    def insert_completion(self, completion: str) -> None:
        text, cursor = self.text(), self.cursorPosition()
        start, _ = current_word(text, cursor)
        new = text[:start] + completion + " " + text[cursor:].lstrip(" ")
        self.setText(new)
        self.setCursorPosition(start + len(completion) + 1)
        # The popup passes the Enter that chose this on to the line edit: that
        # one must not apply the half-written filter.
        self.just_completed = True
        QTimer.singleShot(0, lambda: setattr(self, "just_completed", False))


class FilterBar(QWidget):
    """Filter edit + quick search, and the inline error line beneath them.

    ``filterApplied`` fires on Enter with valid text (or when the text is
    cleared); ``searchChanged`` fires shortly after typing in the search box.
    """

    filterApplied = Signal(str)
    searchChanged = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.edit = FilterEdit(self)
        self.edit.setObjectName("filterEdit")
        self.edit.setPlaceholderText(f"Filter, e.g. {EXAMPLE}")
        self.edit.setClearButtonEnabled(True)
        self.edit.setToolTip(
            "Filter runs: params.X, metrics.X, tags.X, attributes.status, attributes.run_name;\n"
            "operators = != < <= > >= LIKE IN (...) IS NULL, joined by and/or with parentheses.\n"
            "Press Enter to apply; Tab or the arrow keys pick a completion.")
        self.search = QLineEdit(self)
        self.search.setObjectName("searchEdit")
        self.search.setPlaceholderText(SEARCH_PLACEHOLDER)
        self.search.setClearButtonEnabled(True)
        self._fit_search()
        self.error = QLabel(self)
        self.error.setObjectName("filterError")
        self.error.setTextFormat(Qt.RichText)
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error.hide()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.search)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.applied = ""
        self.error_position: int | None = None
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(lambda: self.searchChanged.emit(self.search.text().strip()))
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.edit.returnPressed.connect(self._on_return)
        self.edit.textChanged.connect(self._on_text_changed)

    def _fit_search(self) -> None:
        """Keep the search box wide enough for its whole placeholder, and for as
        much typed text beside the clear button (the filter edit takes the rest)."""
        search = self.search
        fm = search.fontMetrics()
        opt = QStyleOptionFrame()
        search.initStyleOption(opt)
        margins = search.textMargins()
        text = QSize(fm.horizontalAdvance(search.placeholderText()) + 2 * 2 + 1   # QLineEdit's inner margin, cursor
                     + margins.left() + margins.right(), fm.height())
        icon = search.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, search)
        clear = icon + 6 + icon // 4      # QLineEdit's room for a trailing button, as Qt lays it out
        width = search.style().sizeFromContents(QStyle.ContentsType.CT_LineEdit, opt, text, search).width() + clear
        search.setMinimumWidth(width)
        search.setMaximumWidth(max(SEARCH_MAX_WIDTH, width))

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_search()

    def set_keys(self, keys: dict[str, list[str]]) -> None:
        self.edit.set_keys(keys)

    def set_filter(self, text: str, apply: bool = True) -> None:
        self.edit.setText(text)
        if apply:
            self.apply()

    def _on_return(self) -> None:
        if not self.edit.just_completed:
            self.apply()

    def apply(self) -> bool:
        """Apply the filter if it parses; otherwise show where it is wrong."""
        text = self.edit.text().strip()
        if not self.validate():
            return False
        if text != self.applied:
            self.applied = text
            self.filterApplied.emit(text)
        return True

    def validate(self) -> bool:
        text = self.edit.text()
        try:
            compile_filter(text)
        except FilterError as exc:
            self.show_error(exc)
            return False
        self.clear_error()
        return True

    def show_error(self, exc: FilterError) -> None:
        text, pos = exc.text or self.edit.text(), exc.position
        token = exc.token or text[pos:pos + 1]
        end = pos + max(1, len(token))
        marked = (html.escape(text[:pos]) + "<span style='background:rgba(220,50,50,0.25);"
                  "text-decoration: underline; color:#d32f2f; font-weight:600'>"
                  + (html.escape(text[pos:end]) or "&nbsp;") + "</span>" + html.escape(text[end:]))
        where = "at the end" if pos >= len(text) else f"at character {pos + 1}"
        self.error.setText(f"<span style='color:#d32f2f'>⚠ {html.escape(exc.reason)}</span> "
                           f"({where}): <code>{marked}</code>")
        self.error.show()
        self.edit.setStyleSheet("QLineEdit { border: 1px solid #d32f2f; border-radius: 2px; padding: 1px; }")
        self.edit.setCursorPosition(min(pos, len(self.edit.text())))
        self.error_position = pos

    def clear_error(self) -> None:
        self.error.hide()
        self.error.clear()
        self.edit.setStyleSheet("")
        self.error_position = None

    def has_error(self) -> bool:
        return not self.error.isHidden()

    def _on_text_changed(self, text: str) -> None:
        if not text.strip():
            self.clear_error()
            if self.applied:
                self.applied = ""
                self.filterApplied.emit("")
        elif self.has_error():
            # Keep the message in step while the user fixes the text.
            try:
                compile_filter(text)
            except FilterError as exc:
                cursor = self.edit.cursorPosition()
                self.show_error(exc)
                self.edit.setCursorPosition(cursor)
            else:
                self.clear_error()

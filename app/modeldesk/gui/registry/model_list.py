"""The left side of the Models view: what waits for your review, then the models.

Filled from a :class:`~modeldesk.core.registry.summaries.Overview`; it reads
nothing itself. Clicking a waiting request emits ``requestChosen(model,
version)``; choosing a model emits ``modelChosen(name)``. Its context menu
lists the entries ``menu_entries(name, menu)`` returns (the Models view sets
it: one "Serve @alias" per alias of the model). The field above the models
(``find_field``, Edit ▸ Find) hides the models whose name does not contain its
text, ignoring case; when it hides them all a line says so.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.registry import summaries as rv
from ...core.text import ago, fmt_time
from ..kit.find_field import FindField, matches, no_match_text
from ..kit.theme import theme


def section(text: str) -> QLabel:
    """A bold caption above a list or chart."""
    label = QLabel(text)
    font = label.font()
    font.setWeight(QFont.Weight.DemiBold)
    label.setFont(font)
    return label


def _v(version: int | None) -> str:
    return f"v{version}" if version is not None else "—"


class ModelListPanel(QWidget):
    """"Waiting for you" (requests the user may review, oldest first; then their own) and the model list."""

    modelChosen = Signal(str)
    requestChosen = Signal(str, int)
    menu_entries: Callable[[str, QMenu], list] = staticmethod(lambda _name, _menu: [])   # the view sets it
    context_menu: QMenu | None = None    # the menu last opened (tests read it)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.waiting_title = section("Waiting for you")
        self.waiting_list = QListWidget()
        self.waiting_list.setObjectName("waitingList")
        self.waiting_list.setWordWrap(False)        # two explicit lines per request: stable row heights
        self.waiting_list.setTextElideMode(Qt.ElideRight)
        self.model_list = QTreeWidget()
        self.model_list.setObjectName("modelList")
        self.model_list.setHeaderLabels(["Model", "production", "staging"])
        self.model_list.setRootIsDecorated(False)
        self.model_list.setUniformRowHeights(True)
        header = self.model_list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 4)
        layout.addWidget(self.waiting_title)
        layout.addWidget(self.waiting_list)
        layout.addSpacing(4)
        self.find_field = FindField("Filter models by name")
        self.find_field.setObjectName("modelFilter")
        self.no_match = QLabel()
        self.no_match.setObjectName("modelNoMatch")
        self.no_match.setWordWrap(True)
        self.no_match.setTextFormat(Qt.PlainText)
        self.no_match.hide()
        layout.addWidget(section("Models"))
        layout.addWidget(self.find_field)
        layout.addWidget(self.no_match)
        layout.addWidget(self.model_list, 1)
        self.find_field.textChanged.connect(lambda _t: self.apply_filter())
        self.model_list.currentItemChanged.connect(self._on_model_item)
        self.model_list.setContextMenuPolicy(Qt.CustomContextMenu)
        self.model_list.customContextMenuRequested.connect(self._model_menu)
        self.waiting_list.itemClicked.connect(self._on_waiting_item)
        self.waiting_list.itemActivated.connect(self._on_waiting_item)

    def clear(self) -> None:
        self.waiting_list.clear()
        self.model_list.clear()
        self.waiting_title.setText("Waiting for you")

    def fill(self, ov: rv.Overview, keep: str | None) -> None:
        """Show ``ov``; ``keep`` stays the current model (without emitting modelChosen)."""
        self._fill_waiting(ov)
        self._fill_models(ov, keep)

    def _fill_waiting(self, ov: rv.Overview) -> None:
        muted = QBrush(QColor(theme()["muted"]))
        self.waiting_list.clear()
        n = len(ov.waiting)
        self.waiting_title.setText(f"Waiting for you ({n})" if n else "Waiting for you")
        for req in ov.waiting:
            blocked = f" · blocked: {', '.join(g.gate for g in req.blocking_gates)}" if req.blocking_gates else ""
            item = QListWidgetItem(f"{req.model} v{req.version} → {req.target_alias}\n"
                                   f"asked by {req.requested_by}, {ago(req.requested_at)}{blocked}")
            item.setData(Qt.UserRole, (req.model, req.version))
            item.setToolTip(f"Request #{req.id}" + (f": {req.comment}" if req.comment else ""))
            font = item.font()
            font.setWeight(QFont.Weight.DemiBold)
            item.setFont(font)
            self.waiting_list.addItem(item)
        if not ov.waiting:
            item = QListWidgetItem("Nothing is waiting for your review.")
            item.setFlags(Qt.NoItemFlags)
            item.setForeground(muted)
            self.waiting_list.addItem(item)
        for req in ov.mine:
            item = QListWidgetItem(f"yours: {req.model} v{req.version} → {req.target_alias}\n"
                                   f"{len(req.approvals)} approval(s), waiting for a reviewer")
            item.setData(Qt.UserRole, (req.model, req.version))
            item.setForeground(muted)
            item.setToolTip(f"Your request #{req.id}, waiting for a reviewer")
            self.waiting_list.addItem(item)
        rows = sum(self.waiting_list.sizeHintForRow(i) for i in range(self.waiting_list.count()))
        self.waiting_list.setFixedHeight(min(160, rows + 2 * self.waiting_list.frameWidth() + 4))

    def _fill_models(self, ov: rv.Overview, keep: str | None) -> None:
        self.model_list.blockSignals(True)
        self.model_list.clear()
        for m in ov.models:
            item = QTreeWidgetItem([m.name, _v(m.production), _v(m.staging)])
            item.setData(0, Qt.UserRole, m.name)
            tip = f"{m.name}: {m.version_count} version(s), created by {m.created_by} at {fmt_time(m.created_at)}"
            if m.open_requests:
                tip += f"\n{m.open_requests} open request(s), {m.waiting_for_user} waiting for you"
            item.setToolTip(0, tip)
            if m.waiting_for_user:
                font = item.font(0)
                font.setWeight(QFont.Weight.DemiBold)
                item.setFont(0, font)
                item.setText(0, f"{m.name}  ●")
            self.model_list.addTopLevelItem(item)
            if m.name == keep:
                self.model_list.setCurrentItem(item)
        self.model_list.blockSignals(False)
        self.apply_filter()

    def apply_filter(self) -> None:
        """Hide the models the find field leaves out; say so when it leaves out every one."""
        text = self.find_field.text()
        shown = 0
        for i in range(self.model_list.topLevelItemCount()):
            item = self.model_list.topLevelItem(i)
            hide = not matches(item.data(0, Qt.UserRole), text)
            item.setHidden(hide)
            shown += not hide
        none = bool(text.strip()) and self.model_list.topLevelItemCount() > 0 and shown == 0
        self.no_match.setText(no_match_text("model", text) if none else "")
        self.no_match.setVisible(none)

    def shown_names(self) -> list[str]:
        """The models the filter leaves in sight, in list order."""
        items = (self.model_list.topLevelItem(i) for i in range(self.model_list.topLevelItemCount()))
        return [item.data(0, Qt.UserRole) for item in items if not item.isHidden()]

    def names(self) -> list[str]:
        items = (self.model_list.topLevelItem(i) for i in range(self.model_list.topLevelItemCount()))
        return [item.data(0, Qt.UserRole) for item in items]

    def choose(self, name: str) -> bool:
        """Make ``name`` the current model (emits modelChosen if it changes); False if not listed."""
        for i in range(self.model_list.topLevelItemCount()):
            item = self.model_list.topLevelItem(i)
            if item.data(0, Qt.UserRole) == name:
                self.model_list.setCurrentItem(item)
                return True
        return False

    def _on_model_item(self, item, _previous=None) -> None:
        if item is not None:
            self.modelChosen.emit(item.data(0, Qt.UserRole))

    def model_menu(self, name: str) -> QMenu | None:
        """The context menu of model ``name`` (None when it would be empty)."""
        menu = QMenu(self)
        entries = self.menu_entries(name, menu)
        if not entries:
            menu.deleteLater()
            return None
        for action in entries:
            menu.addAction(action)
        menu.setToolTipsVisible(True)
        self.context_menu = menu
        return menu

    def _model_menu(self, pos) -> None:
        item = self.model_list.itemAt(pos)
        menu = self.model_menu(item.data(0, Qt.UserRole)) if item is not None else None
        if menu is not None:
            menu.popup(self.model_list.viewport().mapToGlobal(pos))

    def _on_waiting_item(self, item) -> None:
        target = item.data(Qt.UserRole)
        if target:
            self.requestChosen.emit(*target)

"""The column chooser of the runs table: which params, metrics and tags to show."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout

from ...core.tracking import browse
from ...core.tracking.browse import Column


class ColumnChooser(QDialog):
    """Pick which params, metrics and tags the runs table shows."""

    def __init__(self, stats: dict[str, list], chosen: list[Column], title: str, parent=None):
        super().__init__(parent)
        keys = {kind: [getattr(s, "key", s) for s in items] for kind, items in stats.items()}
        self.setWindowTitle(f"Columns — {title}")
        self.resize(380, 480)
        self._stats = stats
        self.search = QLineEdit(placeholderText="Find a key")
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        chosen_set = set(chosen)
        for kind, label in (("metrics", "Metrics"), ("params", "Params"), ("tags", "Tags")):
            group = QTreeWidgetItem(self.tree, [f"{label} ({len(keys.get(kind, []))})"])
            group.setFlags(group.flags() | Qt.ItemIsAutoTristate | Qt.ItemIsUserCheckable)
            for key in keys.get(kind, []):
                item = QTreeWidgetItem(group, [key])
                item.setData(0, Qt.UserRole, Column(kind, key).spec)
                item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
                item.setCheckState(0, Qt.Checked if Column(kind, key) in chosen_set else Qt.Unchecked)
            group.setExpanded(kind != "tags" or bool(chosen_set & {Column(kind, k) for k in keys.get(kind, [])}))
        self.search.textChanged.connect(self._filter)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        defaults = buttons.addButton("Defaults", QDialogButtonBox.ResetRole)
        none = buttons.addButton("None", QDialogButtonBox.ResetRole)
        defaults.clicked.connect(lambda: self.set_chosen(browse.default_columns(self._stats)))
        none.clicked.connect(lambda: self.set_chosen([]))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)

    def _items(self):
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            for i in range(group.childCount()):
                yield group.child(i)

    def _filter(self, text: str) -> None:
        for item in self._items():
            item.setHidden(text.lower() not in item.text(0).lower())

    def set_chosen(self, columns: list[Column]) -> None:
        specs = {c.spec for c in columns}
        for item in self._items():
            item.setCheckState(0, Qt.Checked if item.data(0, Qt.UserRole) in specs else Qt.Unchecked)

    def chosen(self) -> list[Column]:
        return [Column.parse(item.data(0, Qt.UserRole)) for item in self._items()
                if item.checkState(0) == Qt.Checked]

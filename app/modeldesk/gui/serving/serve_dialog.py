""""Serve a model…": type a model URI or pick a registered model's alias or version.

The list of registered models, their aliases and versions is read off the
GUI thread (core.registry ``list_models`` / ``list_versions``). A run's
model can be typed as ``runs:/<run_id>/model``. The batch scoring dialog
fills its model box from the same list (:func:`model_choices`).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from ...core.text import fmt_time
from ..kit.workers import Jobs

UriRole = Qt.ItemDataRole.UserRole


def model_choices(project) -> list[tuple[str, list[tuple[str, str]]]]:
    """Registered models as (name, [(uri, description)]): aliases first, then versions newest first."""
    from ...core.registry import versions as registry

    out = []
    for model in registry.list_models(project):
        choices = [(f"models:/{model.name}@{alias}", f"@{alias} → version {version}")
                   for alias, version in sorted(model.aliases.items(), key=lambda kv: (kv[0] != "production", kv[0]))]
        for mv in reversed(registry.list_versions(project, model.name)):
            when = fmt_time(mv.created_at, "date")
            tags = ", ".join([mv.status, *mv.aliases])
            choices.append((mv.uri, f"version {mv.version}  ({tags}; {when}, run {mv.run_id[:8]})"))
        out.append((model.name, choices))
    return out


def check_uri(text: str) -> str:
    """The full form of a typed URI (``churn@production`` -> ``models:/churn@production``); UsageError if bad."""
    from ...core.serving.served_model import full_uri

    return full_uri(text.strip())


class ServeDialog(QDialog):
    """Choose what to serve. ``uri`` holds the full URI once accepted."""

    def __init__(self, project, parent=None, initial: str = ""):
        super().__init__(parent)
        self.setObjectName("serveDialog")
        self.setWindowTitle("Serve a Model")
        self.project = project
        self.uri: str | None = None
        self.jobs = Jobs(self)
        self.edit = QLineEdit(initial)
        self.edit.setObjectName("serveUri")
        self.edit.setPlaceholderText("models:/NAME@production, models:/NAME/3 or runs:/RUN_ID/model")
        self.edit.setClearButtonEnabled(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("serveChoices")
        self.tree.setHeaderLabels(["Model URI", "What"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.setUniformRowHeights(True)
        self.tree.currentItemChanged.connect(self._picked)
        self.tree.itemDoubleClicked.connect(lambda item, _c: item.data(0, UriRole) and self.accept())
        self.error = QLabel()
        self.error.setObjectName("serveError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b91c1c;")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.serve_button = self.buttons.addButton("Serve", QDialogButtonBox.ButtonRole.AcceptRole)
        self.serve_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Model to serve — pick a registered version or alias, or type a URI:"))
        layout.addWidget(self.edit)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.edit.textChanged.connect(lambda _t: self.error.hide())
        self.resize(620, 420)
        self._loading = QTreeWidgetItem(["Reading the registry…", ""])
        self.tree.addTopLevelItem(self._loading)
        if project is not None:
            self.jobs.start(model_choices, project, done=self._fill, failed=self._failed)

    def _fill(self, choices: list) -> None:
        self.tree.clear()
        if not choices:
            self.tree.addTopLevelItem(QTreeWidgetItem(["No registered models yet", "type a runs:/ URI above"]))
            return
        for name, uris in choices:
            top = QTreeWidgetItem([name, f"{sum(1 for u, _ in uris if '@' not in u)} version(s)"])
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for uri, what in uris:
                child = QTreeWidgetItem([uri, what])
                child.setData(0, UriRole, uri)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)

    def _failed(self, text: str) -> None:
        self.tree.clear()
        self.tree.addTopLevelItem(QTreeWidgetItem(["Could not read the registry", text]))

    def _picked(self, item, _previous=None) -> None:
        uri = item.data(0, UriRole) if item is not None else None
        if uri:
            self.edit.setText(uri)

    def accept(self) -> None:
        from ...core.errors import ModelDeskError

        try:
            self.uri = check_uri(self.edit.text())
        except ModelDeskError as exc:
            self.error.setText(html.escape(str(exc)))
            self.error.show()
            return
        super().accept()

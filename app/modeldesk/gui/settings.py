"""What the app remembers between sessions, in QSettings under versioned keys.

Organisation and application are both "ModelDesk". Every key starts with
``v1/`` so a later release can change a value's shape without misreading an
old one. Values are plain strings, lists and byte arrays (never pickles).
Per-project values are keyed by a short hash of the project's absolute path.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANISATION = "ModelDesk"
APPLICATION = "ModelDesk"
MAX_RECENT = 10


def _project_key(path: str | os.PathLike) -> str:
    return hashlib.sha1(str(Path(path).expanduser().resolve()).encode()).hexdigest()[:16]


class Settings:
    """Typed access to the app's QSettings (default format: native, INI in tests)."""

    def __init__(self) -> None:
        self.qs = QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANISATION, APPLICATION)

    # -- recent projects ---------------------------------------------------
    def recent(self) -> list[str]:
        """Recently opened projects, newest first (files that still exist)."""
        raw = self.qs.value("v1/recent", "[]")
        try:
            paths = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            paths = []
        return [p for p in paths if isinstance(p, str) and os.path.isfile(p)]

    def add_recent(self, path: str | os.PathLike) -> None:
        path = str(Path(path).expanduser().resolve())
        paths = [path] + [p for p in self.recent() if p != path]
        self.qs.setValue("v1/recent", json.dumps(paths[:MAX_RECENT]))

    def clear_recent(self) -> None:
        self.qs.setValue("v1/recent", "[]")

    # -- window state ----------------------------------------------------------
    def bytes(self, name: str) -> QByteArray | None:
        value = self.qs.value(f"v1/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_bytes(self, name: str, value: QByteArray) -> None:
        self.qs.setValue(f"v1/{name}", value)

    def text(self, name: str) -> str | None:
        value = self.qs.value(f"v1/{name}")
        return value if isinstance(value, str) and value else None

    def set_text(self, name: str, value: str | None) -> None:
        self.qs.setValue(f"v1/{name}", value or "")

    # -- per project -------------------------------------------------------------
    def last_model(self, project_path) -> str | None:
        """The model last selected in the Models view for this project."""
        return self.text(f"projects/{_project_key(project_path)}/model")

    def set_last_model(self, project_path, name: str | None) -> None:
        self.set_text(f"projects/{_project_key(project_path)}/model", name)

    def last_experiment(self, project_path) -> str | None:
        value = self.qs.value(f"v1/projects/{_project_key(project_path)}/experiment")
        return value if isinstance(value, str) else None

    def set_last_experiment(self, project_path, name: str | None) -> None:
        self.qs.setValue(f"v1/projects/{_project_key(project_path)}/experiment", name or "")

    def columns(self, project_path, experiment: str | None) -> list[str] | None:
        """Column specs chosen for an experiment (None: nobody chose yet)."""
        key = hashlib.sha1((experiment or "*").encode()).hexdigest()[:12]
        raw = self.qs.value(f"v1/projects/{_project_key(project_path)}/columns/{key}")
        if not isinstance(raw, str):
            return None
        try:
            specs = json.loads(raw)
        except ValueError:
            return None
        return [s for s in specs if isinstance(s, str)] if isinstance(specs, list) else None

    def set_columns(self, project_path, experiment: str | None, specs: list[str]) -> None:
        key = hashlib.sha1((experiment or "*").encode()).hexdigest()[:12]
        self.qs.setValue(f"v1/projects/{_project_key(project_path)}/columns/{key}", json.dumps(list(specs)))

    def sync(self) -> None:
        self.qs.sync()

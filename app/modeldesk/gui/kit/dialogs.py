"""Message boxes and small dialogs shared by every view."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QMessageBox,
)


def message(parent, icon, title: str, text: str, details: str = "") -> QMessageBox:
    """A window-modal message that does not block the event loop."""
    box = QMessageBox(icon, title, text, QMessageBox.Ok, parent)
    if details:
        box.setInformativeText(details)
        box.setStyleSheet("QLabel#qt_msgbox_informativelabel { min-width: 380px; }")
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setObjectName("modeldeskMessage")
    box.open()
    return box

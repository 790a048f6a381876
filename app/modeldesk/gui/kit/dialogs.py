"""Message boxes and small dialogs shared by every view."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
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


class FormDialog(QDialog):
    """A dialog whose OK waits for a complete form: subclasses say why it is not (``problem``).

    ``validate()`` (connect it to the fields' change signals) enables OK only
    when ``problem()`` is "", puts the reason in OK's tooltip and in
    ``self.hint`` (a label, when the dialog has one); ``accept()`` refuses an
    incomplete form even when OK is pressed by keyboard. Subclasses set
    ``self.ok_button`` and may override ``validate`` to say more.
    """

    ok_button = None
    hint = None

    def problem(self) -> str:
        """Why OK is disabled ("" when the form is complete)."""
        return ""

    def validate(self) -> None:
        why = self.problem()
        self.ok_button.setEnabled(not why)
        self.ok_button.setToolTip(why)
        if self.hint is not None:
            self.hint.setText(why)

    def accept(self) -> None:
        if not self.problem():
            super().accept()

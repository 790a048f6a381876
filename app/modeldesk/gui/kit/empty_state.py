"""Empty states: a centred title, an explanation, and what to do next.

Used when there is nothing to show (no project, no runs, no match) and for
a view still to come, which says so instead of faking data.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

# Views the navigation lists that are not built yet: none since Monitoring arrived ("Name — text").
COMING: dict[str, str] = {}


class EmptyState(QWidget):
    """Title, body text (rich text allowed) and optional buttons."""

    actionTriggered = Signal(str)

    def __init__(self, title: str, text: str = "", actions: tuple[str, ...] = (), parent=None):
        super().__init__(parent)
        self.setObjectName("emptyState")
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        self.title = QLabel(title)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setWeight(font.Weight.DemiBold)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignCenter)
        self.title.setWordWrap(True)
        self.body = QLabel(text)
        self.body.setAlignment(Qt.AlignCenter)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.RichText if "<" in text else Qt.PlainText)
        self.body.setTextInteractionFlags(Qt.TextSelectableByMouse | Qt.LinksAccessibleByMouse)
        self.body.setOpenExternalLinks(False)
        self.body.linkActivated.connect(self.actionTriggered)
        self.body.setMinimumWidth(320)
        self.body.setMaximumWidth(560)
        outer.addWidget(self.title)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.body)
        row.addStretch(1)
        outer.addSpacing(6)
        outer.addLayout(row)
        self.buttons: dict[str, QPushButton] = {}
        if actions:
            buttons = QHBoxLayout()
            buttons.addStretch(1)
            for name in actions:
                button = QPushButton(name)
                button.clicked.connect(lambda _=False, n=name: self.actionTriggered.emit(n))
                buttons.addWidget(button)
                self.buttons[name] = button
            buttons.addStretch(1)
            outer.addSpacing(12)
            outer.addLayout(buttons)
        outer.addStretch(3)

    def set_text(self, title: str, text: str = "") -> None:
        self.title.setText(title)
        self.body.setTextFormat(Qt.RichText if "<" in text else Qt.PlainText)
        self.body.setText(text)


def coming_view(name: str, parent=None) -> EmptyState:
    """The placeholder for a view still to come (a name in :data:`COMING`)."""
    head, _, rest = COMING[name].partition(" — ")
    return EmptyState(head, rest[:1].upper() + rest[1:], parent=parent)

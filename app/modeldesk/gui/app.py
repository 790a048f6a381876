"""The QApplication: names, palette (following the system's light/dark
scheme), fonts, and the few colours views share."""

from __future__ import annotations

import os
import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from ..core.version import __version__
from .kit import qt_compat
from .kit.icons import app_icon


def create_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication (created if needed), named and themed."""
    qt_compat.apply()  # PySide6 6.12.0 drops references to None/True: would abort Python
    QApplication.setOrganizationName("ModelDesk")
    QApplication.setApplicationName("ModelDesk")
    QApplication.setApplicationVersion(__version__)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv if argv is not None else sys.argv[:1]))
    QGuiApplication.setDesktopFileName("modeldesk")   # matches packaging/linux/modeldesk.desktop
    app.setWindowIcon(app_icon())   # every window: title bar, task switcher, dialogs
    apply_palette(app)
    hints = app.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda *_: apply_palette(app))
    return app


def wants_dark(app: QGuiApplication) -> bool:
    """MODELDESK_THEME=dark|light overrides; otherwise the system's scheme."""
    choice = os.environ.get("MODELDESK_THEME", "").strip().lower()
    if choice in ("dark", "light"):
        return choice == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_palette(app: QApplication) -> None:
    if wants_dark(app):
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    elif os.environ.get("MODELDESK_THEME", "").strip().lower() == "light":
        app.setPalette(app.style().standardPalette())
    else:
        app.setPalette(QPalette())  # the platform's own


def dark_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#2b2d30"), QColor("#1f2023"), QColor("#e6e6e6")
    disabled = QColor("#7f8388")
    for role, color in (
        (QPalette.Window, window), (QPalette.WindowText, text), (QPalette.Base, base),
        (QPalette.AlternateBase, QColor("#26282b")), (QPalette.ToolTipBase, QColor("#3c3f41")),
        (QPalette.ToolTipText, text), (QPalette.PlaceholderText, disabled), (QPalette.Text, text),
        (QPalette.Button, QColor("#35383b")), (QPalette.ButtonText, text), (QPalette.BrightText, QColor("#ff6b6b")),
        (QPalette.Link, QColor("#6ab0f3")), (QPalette.Highlight, QColor("#2f65ca")),
        (QPalette.HighlightedText, QColor("#ffffff")), (QPalette.Mid, QColor("#45484c")),
        (QPalette.Dark, QColor("#191a1c")), (QPalette.Light, QColor("#4a4d51")),
    ):
        p.setColor(role, color)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, disabled)
    return p

"""Colours that read well on the current palette: one light and one dark table (text, charts,
statuses), the run colours, and the monospace font."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication

# Tableau 10, then darker variants: distinct, colour-blind friendlier than Qt's named colours.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#0b3d66", "#a34a00", "#176317", "#7d1515", "#4f3569", "#4d2f27")


_LIGHT = {"bg": "#ffffff", "text": "#2b2f36", "muted": "#6b7280", "axis": "#9aa3ad", "diff_bg": "#fff1c9",
          "section_bg": "#e8ecf1", "error": "#b91c1c", "warn": "#b45309", "ok": "#1d7a3a",
          "legend_bg": (255, 255, 255, 225), "legend_pen": "#d0d5dc", "preview_bg": "#f3f4f6",
          "run_running": "#1565c0", "run_finished": "#2e7d32", "run_failed": "#c62828", "run_killed": "#8d6e63"}


_DARK = {"bg": "#1f2023", "text": "#e6e6e6", "muted": "#9aa0a6", "axis": "#6b7078", "diff_bg": "#4d3f12",
         "section_bg": "#34373b", "error": "#f28b82", "warn": "#f6ad55", "ok": "#81c784",
         "legend_bg": (31, 32, 35, 225), "legend_pen": "#45484c", "preview_bg": "#26282b",
         "run_running": "#64b5f6", "run_finished": "#81c784", "run_failed": "#ef9a9a", "run_killed": "#bcaaa4"}

# Every status the app colours, to its role in the tables above: runs, registered versions and
# promotion requests, model servers. One place, so a status reads the same in every view.
STATUS_ROLES = {
    "RUNNING": "run_running", "FINISHED": "run_finished", "FAILED": "run_failed", "KILLED": "run_killed",
    "approved": "ok", "completed": "ok", "pending": "warn", "rejected": "error", "withdrawn": "muted",
    "superseded": "muted", "registered": "muted",
    "running": "ok", "starting": "muted", "stopping": "muted", "failed": "error", "stopped": "muted",
}


def is_dark() -> bool:
    """Whether the application palette is a dark one (the app follows the system scheme)."""
    from PySide6.QtGui import QPalette

    return QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


def theme() -> dict:
    """Colours for text, charts and highlights that read well on the current palette."""
    return _DARK if is_dark() else _LIGHT


def status_role(status: str, default: str = "muted") -> str:
    """The colour role of ``status`` in :func:`theme`'s table."""
    return STATUS_ROLES.get(status, default)


def status_color(status: str, palette=None) -> QColor | None:
    """A subtle colour for a run status that reads on this palette (None: not a run status)."""
    if status not in ("RUNNING", "FINISHED", "FAILED", "KILLED"):
        return None
    table = (_DARK if palette.color(palette.ColorRole.Base).lightness() < 128 else _LIGHT) if palette else theme()
    return QColor(table[STATUS_ROLES[status]])


def muted_color(palette) -> QColor:
    """For placeholders and secondary text."""
    from PySide6.QtGui import QPalette

    color = QColor(palette.color(QPalette.ColorRole.Text))
    color.setAlphaF(0.5)
    return color


def monospace_font():
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtWidgets import QApplication

    font = QFontDatabase.systemFont(QFontDatabase.FixedFont)
    font.setPointSizeF(max(QApplication.font().pointSizeF() - 0.5, 7.5))
    return font


def run_colour(index: int) -> QColor:
    return QColor(PALETTE[index % len(PALETTE)])

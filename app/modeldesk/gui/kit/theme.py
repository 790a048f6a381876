"""Colours that read well on the current palette: light and dark tables, run colours."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication

# Tableau 10, then darker variants: distinct, colour-blind friendlier than Qt's named colours.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#0b3d66", "#a34a00", "#176317", "#7d1515", "#4f3569", "#4d2f27")


_LIGHT = {"bg": "#ffffff", "text": "#2b2f36", "muted": "#6b7280", "axis": "#9aa3ad", "diff_bg": "#fff1c9",
          "section_bg": "#e8ecf1", "error": "#b91c1c", "warn": "#b45309", "ok": "#1d7a3a",
          "legend_bg": (255, 255, 255, 225), "legend_pen": "#d0d5dc", "preview_bg": "#f3f4f6"}


_DARK = {"bg": "#1f2023", "text": "#e6e6e6", "muted": "#9aa0a6", "axis": "#6b7078", "diff_bg": "#4d3f12",
         "section_bg": "#34373b", "error": "#f28b82", "warn": "#f6ad55", "ok": "#81c784",
         "legend_bg": (31, 32, 35, 225), "legend_pen": "#45484c", "preview_bg": "#26282b"}


def is_dark() -> bool:
    """Whether the application palette is a dark one (the app follows the system scheme)."""
    from PySide6.QtGui import QPalette

    return QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


def theme() -> dict:
    """Colours for text, charts and highlights that read well on the current palette."""
    return _DARK if is_dark() else _LIGHT


def run_colour(index: int) -> QColor:
    return QColor(PALETTE[index % len(PALETTE)])

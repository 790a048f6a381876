"""The curves chart's legend and the notes under its plots (see :mod:`.curves`).

- :class:`CurveLegend`: one entry per run, translucent, which moves to the
  corner of its plot where the fewest curves pass (unless the user dragged it).
- :class:`PlotNotes`: a muted line under a plot naming the runs it cannot show.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF

LEGEND_ALPHA = 170         # of 255: curves behind the legend show through
LEGEND_INSET = 8           # pixels between the legend and the plot's edges
# Where the legend may sit, as pyqtgraph offsets (negative: from the right or bottom), in order of preference.
LEGEND_CORNERS = {"top-right": (-LEGEND_INSET, LEGEND_INSET), "top-left": (LEGEND_INSET, LEGEND_INSET),
                  "bottom-right": (-LEGEND_INSET, -LEGEND_INSET), "bottom-left": (LEGEND_INSET, -LEGEND_INSET)}
NOTE_NAMES = 5             # runs named in a note under a plot; the rest are counted
NOTE_NAMES_TIP = 50        # runs named in its tooltip
NOTE_PT = 9.0
NOTE_ROW = 4               # of a PlotItem's layout: under the bottom axis


class CurveLegend(pg.LegendItem):
    """pyqtgraph's legend, translucent, that remembers being dragged (then it stays there)
    and otherwise sits in the corner of its plot where the fewest curves pass."""

    moved_by_user = False

    def __init__(self, plot: pg.PlotItem, colours: dict):
        background = QColor(*colours["legend_bg"])
        background.setAlpha(min(background.alpha(), LEGEND_ALPHA))   # curves behind show through
        super().__init__(offset=LEGEND_CORNERS["top-right"], labelTextColor=colours["text"],
                         brush=pg.mkBrush(background), pen=pg.mkPen(colours["legend_pen"]))
        self.corner = "top-right"
        self.setParentItem(plot.vb)
        plot.legend = self   # as PlotItem.addLegend does
        self.setLabelTextSize("9pt")

    def mouseDragEvent(self, ev):
        super().mouseDragEvent(ev)
        if ev.isAccepted():
            self.moved_by_user = True

    def place(self, vb: pg.ViewBox, curves: list[tuple[pg.PlotDataItem, float]]) -> None:
        """Move to the corner of ``vb`` where the fewest of ``curves`` (item, weight) pass.

        Only while the whole data is in view (auto range): zoomed in, or
        dragged by the user, the legend stays where it is.
        """
        if self.moved_by_user or not self.items or not all(vb.autoRangeEnabled()):
            return
        width, height = vb.width(), vb.height()
        if width < 2 or height < 2:   # not laid out yet: a resize follows
            return
        (x0, x1), (y0, y1) = _auto_range(vb)
        if not (x1 > x0 and y1 > y0):
            return
        lw, lh = self.width(), self.height()
        data = []
        for item, weight in curves:
            if not item.isVisible():
                continue
            x, y = item.getOriginalDataset()   # what was handed in: not clipped to a stale view range
            if x is None or not len(x):
                continue
            # as pixels of the view box, y downwards
            px = (np.asarray(x, dtype="float64") - x0) * (width / (x1 - x0))
            py = (y1 - np.asarray(y, dtype="float64")) * (height / (y1 - y0))
            ok = np.isfinite(px) & np.isfinite(py)
            data.append((px[ok], py[ok], weight))
        scores = {}
        for corner, (ox, oy) in LEGEND_CORNERS.items():
            left = ox if ox > 0 else width + ox - lw
            top = oy if oy > 0 else height + oy - lh
            scores[corner] = sum(weight * _ink(px, py, left - 4, left + lw + 4, top - 4, top + lh + 4)
                                 for px, py, weight in data)
        best = min(scores, key=lambda c: (scores[c], list(LEGEND_CORNERS).index(c)))   # ties: preference order
        if scores[best] < scores[self.corner]:
            self.corner = best
            self.setOffset(LEGEND_CORNERS[best])


def _auto_range(vb: pg.ViewBox) -> list:
    """The range auto-ranging gives the view at its next paint (curves drawn since are in it), unapplied."""
    shown = vb.viewRange()
    bounds = vb.childrenBounds()
    for ax in (0, 1):
        if bounds[ax] is None:
            continue
        lo, hi = bounds[ax]
        pad = (hi - lo) * vb.suggestPadding(ax)
        shown[ax] = [lo - pad, hi + pad]
    return shown


def _ink(px: np.ndarray, py: np.ndarray, left: float, right: float, top: float, bottom: float) -> int:
    """How much of a curve (points, and the line between them every 2 px) lies in a rectangle."""
    if not px.size:
        return 0
    inside = int(np.count_nonzero((px >= left) & (px <= right) & (py >= top) & (py <= bottom)))
    if px.size > 1 and bool(np.all(px[1:] >= px[:-1])):   # x in order: sample the line across the box
        columns = np.arange(left, right + 1.0, 2.0)
        ys = np.interp(columns, px, py, left=np.nan, right=np.nan)
        inside += int(np.count_nonzero((ys >= top) & (ys <= bottom)))
    return inside


class _Note(pg.LabelItem):
    """A muted line under a plot, elided to the plot's width; every name is in its tooltip.

    Never asks the layout for more width than the plot has (a LabelItem
    otherwise insists on the width of its text).
    """

    def __init__(self, colour: str):
        super().__init__("", justify="left", color=colour, size=f"{NOTE_PT:g}pt")
        self.full = self.shown = ""

    def set_note(self, text: str, tooltip: str, width: float) -> None:
        self.full = text
        self.setToolTip(tooltip)
        self.fit(width)

    def fit(self, width: float) -> None:
        font = QFont(self.item.font())
        font.setPointSizeF(NOTE_PT)
        margin = 2 * self.item.document().documentMargin()
        shown = QFontMetricsF(font).elidedText(self.full, Qt.TextElideMode.ElideRight, max(width - margin, 0.0))
        if shown != self.shown:
            self.shown = shown
            self.setText(html.escape(shown))

    def updateMin(self):
        super().updateMin()
        height = self._sizeHint[Qt.SizeHint.MinimumSize][1]
        self.setMinimumWidth(0)
        self._sizeHint[Qt.SizeHint.MinimumSize] = self._sizeHint[Qt.SizeHint.PreferredSize] = (0, height)
        self.updateGeometry()


def _names(names: list[str], most: int = NOTE_NAMES) -> str:
    if len(names) <= most + 1:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


class PlotNotes:
    """The notes under the plots, one per metric at most, in ``colour``."""

    def __init__(self, colour: str):
        self.colour = colour
        self._notes: dict[str, _Note] = {}

    def text(self, metric: str) -> str:
        note = self._notes.get(metric)
        return note.full if note is not None else ""

    def clear(self) -> None:
        self._notes.clear()

    def set(self, plot: pg.PlotItem, metric: str, not_logged: list[str], single: list[str]) -> None:
        """Name under ``plot`` the runs (by name) that did not log ``metric`` and those with a single value."""
        parts, every = [], []
        for label, names in (("Not shown (not logged)", not_logged), ("A single value (a dot)", single)):
            if names:
                parts.append(f"{label}: {_names(names)}")
                every.append(f"{label}: {_names(names, NOTE_NAMES_TIP)}")
        text = "  ·  ".join(parts)
        note = self._notes.get(metric)
        if note is not None and note.full == text:
            return
        if not text:
            if note is not None:
                plot.layout.removeItem(note)
                if note.scene() is not None:
                    note.scene().removeItem(note)
                del self._notes[metric]
            return
        if note is None:
            note = self._notes[metric] = _Note(self.colour)
            plot.layout.addItem(note, NOTE_ROW, 1)
        note.set_note(text, "\n".join(every), plot.vb.width())

    def fit(self, plot: pg.PlotItem | None, metric: str) -> None:
        """Elide ``metric``'s note to its plot's width again (the plot was resized)."""
        note = self._notes.get(metric)
        if note is not None and plot is not None:
            note.fit(plot.vb.width())

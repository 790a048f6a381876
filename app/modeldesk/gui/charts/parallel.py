"""Parallel coordinates: one polyline per run across normalised axes.

Handed a ``core.tracking.compare.ParallelData``; each axis is labelled with its name
and its min and max (or its categories), lines are coloured by the metric
through a colormap shown as a colour bar. Clicking a line emits
``lineClicked(run_id)``.

Labels never run into the next axis: each is elided (``…``) to the pixels
between its axis and the next, again whenever the chart is resized; the
full text is its tooltip (and a line's tooltip lists every value in full).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ...core.tracking.compare import ParallelAxis, ParallelData
from .base import ChartBase

COLORMAP = "viridis"
MAX_CATEGORY_LABELS = 8
LABEL_PT = 9.0
LABEL_MARGIN = 6.0  # pixels kept free between a label and the next axis (or its labels)
SIDE_ANCHOR = -0.06  # category names start just right of their axis (a fraction of their width)
X_PAD = 0.35        # room left of the first axis and right of the last, in axis spacings
X_PAD_NAMES = 0.9   # right of the last axis when category names sit beside it
MISSING_Y = -0.14   # where a run without a value crosses an axis


@dataclass
class AxisLabel:
    """A text on the chart: ``full`` is what it says, ``shown`` what fits (elided)."""

    item: pg.TextItem
    full: str
    axis: int
    y: float
    side: bool      # beside its axis (category names) rather than centred on it
    bold: bool
    colour: str
    shown: str = ""


def _short(value: float) -> str:
    return f"{value:.4g}"


class ParallelCoordinatesChart(ChartBase):
    lineClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = self.view.addPlot()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.cmap = pg.colormap.get(COLORMAP)
        self.colour_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self.cmap, interactive=False, width=16,
                                          pen=pg.mkPen(self.colours["axis"]), colorMapMenu=False)
        self.colour_bar.axis.enableAutoSIPrefix(False)
        self.colour_bar.axis.setTextPen(pg.mkPen(self.colours["text"]))
        self.legend = pg.LegendItem(labelTextColor=self.colours["text"], labelTextSize="9pt", verSpacing=-4)
        self.legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.view.addItem(self.legend)
        self.view.ci.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignTop)
        self.view.addItem(self.colour_bar)
        self.lines: dict[str, pg.PlotDataItem] = {}
        self._decor: list = []
        self.labels: list[AxisLabel] = []
        self.plot.vb.sigResized.connect(self._fit_labels)   # more or fewer pixels between the axes
        self._data: ParallelData | None = None
        self._has_missing = False
        self.selected: str | None = None
        self.show_message("Choose params and a metric.")

    def set_data(self, data: ParallelData) -> None:
        self._data = data
        for item in list(self.lines.values()) + self._decor:
            self.plot.removeItem(item)
        self.legend.clear()
        self.lines, self._decor, self.labels = {}, [], []
        if len(data.axes) < 2:
            self.show_message("Choose at least two axes (params, or params and a metric).")
            return
        self.show_chart()
        n_axes = len(data.axes)
        missing = ~np.isfinite(data.positions)
        self._has_missing = bool(missing.any())
        for i, axis in enumerate(data.axes):
            self._draw_axis(i, axis)
            if missing[:, i].any():   # runs without this value meet below the axis, so no line breaks
                self._text("not logged", i, MISSING_Y, anchor=(0.5, -0.2), colour=self.colours["muted"])
        lo, hi = data.colour_range
        self.colour_bar.setLevels((lo, hi) if hi > lo else (lo - 0.5, hi + 0.5))
        self.colour_bar.axis.setLabel(data.colour_key or "", **{"color": self.colours["text"], "font-size": "10pt"})
        span = hi - lo
        x = np.arange(n_axes, dtype="float64")
        for row, (run_id, name) in enumerate(zip(data.run_ids, data.run_names)):
            value = data.colour[row]
            if math.isfinite(value):
                colour = self.cmap.map((value - lo) / span if span > 0 else 0.5, mode="qcolor")
            else:
                colour = QColor("#b0b6bf")
            y = np.where(np.isfinite(data.positions[row]), data.positions[row], MISSING_Y)
            line = pg.PlotDataItem(x, y, pen=pg.mkPen(colour, width=2.2), connect="finite", name=name,
                                   symbol="o", symbolSize=5, symbolBrush=colour, symbolPen=None)
            line.setCurveClickable(True, width=8)
            line.sigClicked.connect(lambda _item, *_a, rid=run_id: self._on_clicked(rid))
            line.setToolTip(self._tooltip(row))
            line.curve.setToolTip(self._tooltip(row))
            self.plot.addItem(line)
            self.lines[run_id] = line
            self.legend.addItem(line, name)
        last = data.axes[-1]
        beside = last.kind == "categorical" and len(last.categories) <= MAX_CATEGORY_LABELS
        # category names right of the last axis get about the room they would have between two axes
        self.plot.setXRange(-X_PAD, n_axes - 1 + (X_PAD_NAMES if beside else X_PAD), padding=0)
        self.plot.setYRange(MISSING_Y - 0.06 if self._has_missing else -0.12, 1.14, padding=0)
        self._fit_labels()
        self.highlight(self.selected)

    def _tooltip(self, row: int) -> str:
        data = self._data
        lines = [f"<b>{html.escape(data.run_names[row])}</b>"]
        for axis, pos in zip(data.axes, data.positions[row]):
            lines.append(f"{html.escape(axis.label)}: {html.escape(self._value_text(axis, pos))}")
        return "<br>".join(lines)

    @staticmethod
    def _value_text(axis: ParallelAxis, pos: float) -> str:
        if not math.isfinite(pos):
            return "—"
        if axis.kind == "categorical":
            if not axis.categories:
                return "—"
            span = max(len(axis.categories) - 1, 1)
            return axis.categories[int(round(pos * span))] if len(axis.categories) > 1 else axis.categories[0]
        if axis.kind == "log":
            return _short(10 ** (math.log10(axis.lo) + pos * (math.log10(axis.hi) - math.log10(axis.lo))))
        return _short(axis.lo + pos * (axis.hi - axis.lo)) if axis.hi > axis.lo else _short(axis.lo)

    def _text(self, text: str, x: int, y: float, anchor, bold: bool = False, colour: str | None = None,
              boxed: bool = False) -> None:
        """A label at axis ``x``: centred on the axis, or (``boxed``) a category name beside it."""
        colour = colour or self.colours["text"]
        fill = None
        if boxed:   # category names sit between axes: keep them readable over the lines
            fill = QColor(self.colours["bg"])
            fill.setAlpha(210)
        item = pg.TextItem(anchor=anchor, fill=fill)
        item.setToolTip(text)
        item.setZValue(20 if boxed else 0)
        item.setPos(x, y)
        label = AxisLabel(item, text, x, y, side=boxed, bold=bold, colour=colour)
        self._show_label(label, text)   # in full until the pixels between the axes are known
        self.plot.addItem(item)
        self._decor.append(item)
        self.labels.append(label)

    def _show_label(self, label: AxisLabel, text: str) -> None:
        if text == label.shown:
            return
        label.shown = text
        bold = ("<b>", "</b>") if label.bold else ("", "")
        label.item.setHtml(f"<span style='color:{label.colour}; font-size:{LABEL_PT:g}pt'>{bold[0]}"
                           f"{html.escape(text)}{bold[1]}</span>")

    def _label_font(self, label: AxisLabel) -> QFont:
        font = QFont(label.item.textItem.font())
        font.setPointSizeF(LABEL_PT)
        font.setBold(label.bold)
        return font

    def _fit_labels(self, *_args) -> None:
        """Elide every label to the room it has at the current size (called again on resize).

        A centred label (axis name, min, max) may use up to half the spacing
        to a neighbouring axis, or more where the neighbour's label at the
        same height needs less. A category name, drawn right of its axis in
        a box, gets the spacing to the next axis, less half the next axis's
        centred label at the same height.
        """
        if not self.labels or self._data is None:
            return
        vb = self.plot.vb
        (x0, x1), width = vb.viewRange()[0], vb.width()
        if width < 2 or x1 <= x0:   # not laid out yet: a resize follows
            return
        spacing = width / (x1 - x0)   # pixels from one axis to the next
        last = len(self._data.axes) - 1
        share = spacing - LABEL_MARGIN   # for two neighbouring texts together
        wanted = {(label.axis, label.y): self._text_width(label, label.full) for label in self.labels
                  if not label.side}
        beside = {(label.axis, label.y) for label in self.labels if label.side}   # category names
        shown: dict[tuple[int, float], float] = {}
        for label in self.labels:
            if label.side:
                continue
            halves = []
            for step, edge in ((-1, (label.axis - x0) * spacing), (1, (x1 - label.axis) * spacing)):
                neighbour = (label.axis + step, label.y)
                if not 0 <= neighbour[0] <= last:
                    halves.append(edge)   # nothing beyond but the edge of the plot
                elif step < 0 and neighbour in beside:
                    halves.append(share / 2)   # the name beside the axis on the left keeps the other half
                else:
                    halves.append(share - min(wanted.get(neighbour, 0.0) / 2, share / 2))
            text = self._elide(label, 2 * min(halves))
            shown[(label.axis, label.y)] = self._text_width(label, text)
        margin = max(label.item.textItem.document().documentMargin() for label in self.labels)
        for label in self.labels:
            if not label.side:
                continue
            room = ((label.axis + 1 if label.axis < last else x1) - label.axis) * spacing
            room -= LABEL_MARGIN + shown.get((label.axis + 1, label.y), 0.0) / 2
            # the box (text and document margins) starts a little right of the axis: fit all of it
            self._elide(label, room / (1 - SIDE_ANCHOR) - 2 * margin)

    def _text_width(self, label: AxisLabel, text: str) -> float:
        return QFontMetricsF(self._label_font(label)).horizontalAdvance(text)

    def _elide(self, label: AxisLabel, pixels: float) -> str:
        """Show as much of the label as fits in ``pixels`` of text (ending in … when cut)."""
        metrics = QFontMetricsF(self._label_font(label))
        text = label.full if metrics.horizontalAdvance(label.full) <= pixels else \
            metrics.elidedText(label.full, Qt.TextElideMode.ElideRight, max(pixels, 0.0))
        self._show_label(label, text)
        return text

    def _draw_axis(self, i: int, axis: ParallelAxis) -> None:
        line = pg.PlotDataItem([i, i], [0.0, 1.0], pen=pg.mkPen(self.colours["muted"], width=1.2))
        self.plot.addItem(line)
        self._decor.append(line)
        suffix = " (log)" if axis.kind == "log" else ""
        self._text(axis.label + suffix, i, 1.12, anchor=(0.5, 0), bold=True)
        if axis.kind == "categorical":
            cats = axis.categories
            if len(cats) <= MAX_CATEGORY_LABELS:
                span = max(len(cats) - 1, 1)
                for k, cat in enumerate(cats):
                    y = k / span if len(cats) > 1 else 0.5
                    self._text(cat, i, y, anchor=(SIDE_ANCHOR, 0.5), colour=self.colours["muted"], boxed=True)
            else:
                self._text(cats[-1], i, 1.0, anchor=(0.5, 1.0), colour=self.colours["muted"])
                self._text(cats[0], i, 0.0, anchor=(0.5, 0.0), colour=self.colours["muted"])
            return
        self._text(_short(axis.hi), i, 1.0, anchor=(0.5, 1.15), colour=self.colours["muted"])
        self._text(_short(axis.lo), i, 0.0, anchor=(0.5, -0.15), colour=self.colours["muted"])

    def highlight(self, run_id: str | None) -> None:
        self.selected = run_id
        for rid, line in self.lines.items():
            pen = line.opts["pen"]
            pen = pg.mkPen(pen.color(), width=4.5 if rid == run_id else 2.2)
            line.setPen(pen)
            line.setZValue(10 if rid == run_id else 0)

    def _on_clicked(self, run_id: str) -> None:
        self.highlight(run_id)
        self.lineClicked.emit(run_id)

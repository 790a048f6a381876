"""Parallel coordinates: one polyline per run across normalised axes.

Handed a ``core.compare.ParallelData``; each axis is labelled with its name
and its min and max (or its categories), lines are coloured by the metric
through a colormap shown as a colour bar. Clicking a line emits
``lineClicked(run_id)``.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..core.compare import ParallelAxis, ParallelData
from .charts import ChartBase

COLORMAP = "viridis"
MAX_CATEGORY_LABELS = 8
MAX_LABEL = 18
MISSING_Y = -0.14   # where a run without a value crosses an axis


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
        self._data: ParallelData | None = None
        self._has_missing = False
        self.selected: str | None = None
        self.show_message("Choose params and a metric.")

    def set_data(self, data: ParallelData) -> None:
        self._data = data
        for item in list(self.lines.values()) + self._decor:
            self.plot.removeItem(item)
        self.legend.clear()
        self.lines, self._decor = {}, []
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
        self.plot.setXRange(-0.35, n_axes - 1 + 0.35, padding=0)
        self.plot.setYRange(MISSING_Y - 0.06 if self._has_missing else -0.12, 1.14, padding=0)
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

    def _text(self, text: str, x: float, y: float, anchor, bold: bool = False, colour: str | None = None,
              boxed: bool = False) -> None:
        colour = colour or self.colours["text"]
        shown = text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"
        fill = None
        if boxed:   # category names sit between axes: keep them readable over the lines
            fill = QColor(self.colours["bg"])
            fill.setAlpha(210)
        item = pg.TextItem(html=f"<span style='color:{colour}; font-size:9pt'>{'<b>' if bold else ''}"
                                f"{html.escape(shown)}{'</b>' if bold else ''}</span>", anchor=anchor, fill=fill)
        item.setToolTip(text)
        item.setZValue(20 if boxed else 0)
        item.setPos(x, y)
        self.plot.addItem(item)
        self._decor.append(item)

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
                    self._text(cat, i, y, anchor=(-0.06, 0.5), colour=self.colours["muted"], boxed=True)
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

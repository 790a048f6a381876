"""A column's reference and current distributions overlaid: histograms on shared bins
for numbers, side-by-side bars for categories with the categories the reference never
had marked. Handed a core ``Overlay``; draws shares, not counts."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from ...core.monitoring.distributions import Overlay
from .base import ChartBase, axis_label, style_plot

REFERENCE = "#4a90c2"
CURRENT = "#f28e2b"
UNSEEN = "#d62728"


class DistributionChart(ChartBase):
    """The overlay of one column; :meth:`set_overlay` draws it, :meth:`clear` shows a message."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("distributionChart")
        self.plot = self.view.addPlot()
        style_plot(self.plot, self.font(), self.colours)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        axis_label(self.plot, "left", "Share of rows")
        self.legend = self.plot.addLegend(offset=(-8, 4), labelTextColor=self.colours["text"],
                                          brush=pg.mkBrush(self.colours["legend_bg"]),
                                          pen=pg.mkPen(self.colours["legend_pen"]))
        self.items: list = []
        self.overlay: Overlay | None = None
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {self.colours['muted']}; padding: 2px 6px;")
        self.layout().addWidget(self.note)
        self.clear("Select a column to compare its distributions.")

    def clear(self, text: str) -> None:
        self._remove()
        self.overlay = None
        self.note.setText("")
        self.show_message(text)

    def _remove(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        self.legend.clear()

    def set_overlay(self, overlay: Overlay, current_name: str = "current") -> None:
        self._remove()
        self.overlay = overlay
        if overlay.empty:
            self.show_message(f"{overlay.column}: no values to draw in either data set.")
            return
        self.show_chart()
        self.plot.setTitle(overlay.column, color=self.colours["text"], size="10pt")
        if overlay.kind == "numerical":
            self._histograms(overlay, current_name)
        else:
            self._bars(overlay, current_name)
        notes = [f"reference {overlay.reference_rows:,} values, {current_name} {overlay.current_rows:,}"]
        if overlay.missing_ref or overlay.missing_cur:
            notes.append(f"missing: {overlay.missing_ref:.1%} in reference, "
                         f"{overlay.missing_cur:.1%} in {current_name}")
        unseen = [label for label, new in zip(overlay.labels, overlay.unseen) if new]
        if unseen:
            notes.append(f"not in reference (red): {', '.join(unseen[:5])}" + (" …" if len(unseen) > 5 else ""))
        if overlay.other:
            notes.append(f"{overlay.other} rarer categories are summed as 'other'")
        self.note.setText(" · ".join(notes))

    def _add(self, item, name: str | None = None) -> None:
        self.plot.addItem(item)
        self.items.append(item)
        if name:
            self.legend.addItem(item, name)

    def _histograms(self, o: Overlay, current_name: str) -> None:
        self.plot.getAxis("bottom").setTicks(None)
        for shares, colour, name in ((o.reference, REFERENCE, "reference"), (o.current, CURRENT, current_name)):
            fill = QColor(colour)
            fill.setAlpha(90)
            self._add(pg.PlotDataItem(o.edges, shares, stepMode="center", fillLevel=0, brush=pg.mkBrush(fill),
                                      pen=pg.mkPen(colour, width=2)), name)
        self.plot.setXRange(float(o.edges[0]), float(o.edges[-1]), padding=0.02)
        self.plot.setYRange(0, max(float(np.max(o.reference, initial=0)), float(np.max(o.current, initial=0)),
                                   1e-9) * 1.1, padding=0)

    def _bars(self, o: Overlay, current_name: str) -> None:
        x = np.arange(len(o.labels), dtype=np.float64)
        self._add(pg.BarGraphItem(x=x - 0.2, height=o.reference, width=0.38, brush=REFERENCE, pen=None), None)
        current_brushes = [pg.mkBrush(UNSEEN if new else CURRENT) for new in o.unseen]
        self._add(pg.BarGraphItem(x=x + 0.2, height=o.current, width=0.38, brushes=current_brushes, pen=None), None)
        for colour, name in ((REFERENCE, "reference"), (CURRENT, current_name)):
            self.legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=0, brush=colour), name)
        if any(o.unseen):
            self.legend.addItem(pg.BarGraphItem(x=[0], height=[0], width=0, brush=UNSEEN), "not in reference")
        ticks = [(float(i), f"{label} ✱" if new else label) for i, (label, new) in enumerate(zip(o.labels, o.unseen))]
        self.plot.getAxis("bottom").setTicks([ticks, []])
        self.plot.setXRange(-0.6, len(o.labels) - 0.4, padding=0)
        self.plot.setYRange(0, max(float(np.max(o.reference, initial=0)), float(np.max(o.current, initial=0)),
                                   1e-9) * 1.1, padding=0)

    def tick_labels(self) -> list[str]:
        levels = self.plot.getAxis("bottom")._tickLevels
        return [str(t) for _, t in levels[0]] if levels else []

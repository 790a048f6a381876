"""Charts over the windows of a monitored model: a UTC date axis, one band per window,
a highlighted current window, and a click on a window that emits its index.

Subclasses add their plots with :meth:`WindowChart.add_plot` and are handed
plain arrays (window starts and ends as Unix seconds). Axes never add
pyqtgraph's automatic SI scale.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from .base import ChartBase, axis_label, style_plot


class UtcDateAxis(pg.DateAxisItem):
    """A date axis in UTC, the time zone the windows are aligned to."""

    def __init__(self, **kwargs):
        super().__init__(orientation="bottom", utcOffset=0, **kwargs)

    def tickStrings(self, values, scale, spacing):
        """Days as "Dec 02" (pyqtgraph alone shows only the day of the month), hours as "Dec 02 14:00"."""
        lo, hi = self.range
        if 3600 <= spacing < 86400 * 28 or (spacing >= 86400 * 28 and hi - lo < 86400 * 62):   # months: "Dec 01"
            fmt = "%b %d" if spacing >= 86400 else "%b %d %H:%M"
            return [datetime.fromtimestamp(v, timezone.utc).strftime(fmt) for v in values]
        return super().tickStrings(values, scale, spacing)


class WindowChart(ChartBase):
    """Plots sharing one UTC time axis; ``windowClicked(index)`` when a window is clicked."""

    windowClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plots: list[pg.PlotItem] = []
        self.starts = np.zeros(0)
        self.ends = np.zeros(0)
        self.current: int | None = None
        self._bands: list[pg.LinearRegionItem] = []
        self.view.scene().sigMouseClicked.connect(self._on_click)

    def add_plot(self, label: str, row: int, col: int = 0) -> pg.PlotItem:
        """A plot at ``row`` (stacked plots share the time axis drawn under the last one) or, with
        ``col`` > 0, beside the others (each with its own axis and ``label`` as its title)."""
        plot = self.view.addPlot(row=row, col=col, axisItems={"bottom": UtcDateAxis()})
        style_plot(plot, self.font(), self.colours)
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        beside = col > 0
        if beside:
            plot.setTitle(label, color=self.colours["text"], size="9pt")
            plot.getAxis("left").setWidth(40)
        else:
            plot.getAxis("left").setWidth(58)
            axis_label(plot, "left", label)
        if self.plots:
            plot.setXLink(self.plots[0])
            if not beside:
                self.plots[-1].getAxis("bottom").setStyle(showValues=False)
                self.plots[-1].getAxis("bottom").setHeight(6)
        band = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(QColor(255, 193, 7, 55)),
                                   pen=pg.mkPen(QColor(255, 160, 0, 160)))
        band.setZValue(-10)
        band.hide()
        plot.addItem(band, ignoreBounds=True)
        self._bands.append(band)
        self.plots.append(plot)
        return plot

    def set_windows(self, starts: Sequence[float], ends: Sequence[float]) -> None:
        self.starts = np.asarray(starts, dtype=np.float64)
        self.ends = np.asarray(ends, dtype=np.float64)
        if self.starts.size:
            span = float(self.ends[-1] - self.starts[0]) or 3600.0
            self.plots[0].setXRange(self.starts[0] - span * 0.01, self.ends[-1] + span * 0.01, padding=0)
        if self.current is not None and self.current >= self.starts.size:
            self.current = None
        self.select(self.current)

    def mids(self) -> np.ndarray:
        return (self.starts + self.ends) / 2

    def widths(self) -> np.ndarray:
        return (self.ends - self.starts) * 0.85

    def select(self, index: int | None) -> None:
        """Highlight window ``index`` (None: none)."""
        self.current = index if index is not None and 0 <= index < self.starts.size else None
        for band in self._bands:
            if self.current is None:
                band.hide()
            else:
                band.setRegion((self.starts[self.current], self.ends[self.current]))
                band.show()

    def window_at(self, x: float) -> int | None:
        """The window holding time ``x`` (the nearest one when ``x`` falls in a gap)."""
        if not self.starts.size:
            return None
        inside = np.nonzero((self.starts <= x) & (x < self.ends))[0]
        if inside.size:
            return int(inside[0])
        return int(np.argmin(np.abs(self.mids() - x)))

    def widget_point(self, index: int, plot: int = 0) -> QPoint:
        """Where window ``index`` is on screen, in ``self.view``'s viewport coordinates (for tests)."""
        p = self.plots[plot]
        lo, hi = p.vb.viewRange()[1]
        scene = p.vb.mapViewToScene(QPointF(float(self.mids()[index]), (lo + hi) / 2))
        return self.view.mapFromScene(scene)

    def _on_click(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.starts.size:
            return
        pos = event.scenePos()
        for plot in self.plots:
            if plot.vb.sceneBoundingRect().contains(pos):
                index = self.window_at(plot.vb.mapSceneToView(pos).x())
                if index is not None:
                    self.select(index)
                    self.windowClicked.emit(index)
                return

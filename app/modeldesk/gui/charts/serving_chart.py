"""The Serving view's live chart: requests/s and errors/s above, latency p50/p99 below.

Handed plain sequences (times as unix seconds) and draws them; it never
talks to a server. The x axes are linked wall-clock axes; the window grows
from :data:`MIN_SPAN_S` to :data:`MAX_SPAN_S` and then scrolls. Axes never
add pyqtgraph's automatic SI scale.
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from .base import ChartBase

MIN_SPAN_S = 30.0
MAX_SPAN_S = 300.0
COLOURS = {"requests": "#1f77b4", "errors": "#d62728", "p50": "#2ca02c", "p99": "#ff7f0e"}


def _style(plot: pg.PlotItem, colours: dict) -> None:
    font = QFont()
    font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)
        axis.setPen(pg.mkPen(colours["axis"]))
        axis.setTextPen(pg.mkPen(colours["text"]))
        axis.setStyle(tickFont=font)
    plot.getAxis("left").setWidth(52)
    plot.showGrid(x=True, y=True, alpha=0.18)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()


class ServingChart(ChartBase):
    """Two stacked plots over the same time axis. Feed it with :meth:`set_data`."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("servingChart")
        self.view.ci.setContentsMargins(4, 6, 12, 4)
        self.traffic = self.view.addPlot(row=0, col=0, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.latency = self.view.addPlot(row=1, col=0, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.latency.setXLink(self.traffic)
        legends = {}
        for plot, label in ((self.traffic, "Requests/s"), (self.latency, "Latency (ms)")):
            _style(plot, self.colours)
            plot.setLabel("left", label, **{"color": self.colours["text"], "font-size": "9pt"})
            legends[label] = plot.addLegend(offset=(-8, 4), labelTextColor=self.colours["text"],
                                            brush=pg.mkBrush(self.colours["legend_bg"]),
                                            pen=pg.mkPen(self.colours["legend_pen"]))
        self.traffic.getAxis("bottom").setStyle(showValues=False)
        self.traffic.getAxis("bottom").setHeight(6)
        self.curves = {}
        for key, plot, name, fill in (("requests", self.traffic, "requests/s", (31, 119, 180, 40)),
                                      ("errors", self.traffic, "errors/s", (214, 39, 40, 60)),
                                      ("p50", self.latency, "p50", None), ("p99", self.latency, "p99", None)):
            pen = pg.mkPen(COLOURS[key], width=2)
            extra = {"fillLevel": 0, "brush": pg.mkBrush(*fill)} if fill else {"connect": "finite"}
            self.curves[key] = plot.plot(pen=pen, **extra)
            # the legend shows a plain line, not pyqtgraph's sample of the filled area
            legends["Requests/s" if plot is self.traffic else "Latency (ms)"].addItem(pg.PlotDataItem(pen=pen), name)
        self.points = 0
        self.show_message("Waiting for the first figures from the server…")

    def set_data(self, times: Sequence[float], requests: Sequence[float], errors: Sequence[float],
                 p50_ms: Sequence[float], p99_ms: Sequence[float], now: float | None = None) -> None:
        """Draw the series (all the same length); ``now`` is the right edge (default: the clock)."""
        self.points = len(times)
        if not self.points:
            self.show_message("Waiting for the first figures from the server…")
            return
        self.show_chart()
        t = np.asarray(times, dtype=float)
        for key, values in (("requests", requests), ("errors", errors), ("p50", p50_ms), ("p99", p99_ms)):
            self.curves[key].setData(t, np.asarray(values, dtype=float))
        now = max(float(t[-1]), time.time() if now is None else now)
        left = max(float(t[0]), now - MAX_SPAN_S)
        right = max(now, left + MIN_SPAN_S)
        self.traffic.setXRange(left, right, padding=0)
        visible = t >= left
        top_rate = max([0.0] + [v for v in np.asarray(requests, dtype=float)[visible] if math.isfinite(v)])
        self.traffic.setYRange(0, max(1.0, top_rate) * 1.12, padding=0)
        lat = np.asarray(p99_ms, dtype=float)[visible]
        lat = lat[np.isfinite(lat)]
        self.latency.setYRange(0, max(1.0, float(lat.max()) if lat.size else 1.0) * 1.15, padding=0)

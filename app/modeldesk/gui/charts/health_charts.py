"""The Monitoring view's charts of a model's behaviour per window: performance (the realised
metric from labeled rows and the CBPE estimate on one chart, the training value as a
reference line) and serving health (requests, error rate, p50/p99 latency, stacked on one
UTC time axis). Handed plain arrays; clicking a window emits ``windowClicked(index)``."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from .window_chart import WindowChart

REALISED = "#2ca02c"
ESTIMATED = "#9467bd"
TRAINED = "#6b7280"


def _legend(plot: pg.PlotItem, colours: dict, offset=(-8, 4)) -> pg.LegendItem:
    return plot.addLegend(offset=offset, labelTextColor=colours["text"], brush=pg.mkBrush(colours["legend_bg"]),
                          pen=pg.mkPen(colours["legend_pen"]))


class PerformanceChart(WindowChart):
    """Realised and estimated values of one metric per window, and the value at training."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("performanceChart")
        self.plot = self.add_plot("Accuracy", 0)
        self.legend = _legend(self.plot, self.colours, offset=(8, -8))   # bottom left: the lines run high
        self.realised = pg.PlotDataItem(pen=pg.mkPen(REALISED, width=2), symbol="o", symbolSize=7,
                                        symbolBrush=REALISED, symbolPen=None, connect="finite")
        self.estimated = pg.PlotDataItem(pen=pg.mkPen(ESTIMATED, width=2, style=Qt.PenStyle.DashLine), symbol="t",
                                         symbolSize=7, symbolBrush=ESTIMATED, symbolPen=None, connect="finite")
        self.trained = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(TRAINED, width=1.5,
                                                                            style=Qt.PenStyle.DotLine),
                                       label="at training {value:.3f}",
                                       labelOpts={"position": 0.99, "color": TRAINED, "anchors": [(1, 0), (1, 0)]})
        for item in (self.realised, self.estimated):
            self.plot.addItem(item)
        self.plot.addItem(self.trained)
        self.metric_name = "accuracy"
        self.show_message("No performance to show yet.")

    def set_data(self, starts: Sequence[float], ends: Sequence[float], metric: str,
                 realised: Sequence[float] | None, estimated: Sequence[float] | None,
                 trained: float = math.nan, message: str = "") -> None:
        """``realised`` / ``estimated``: one value per window (NaN: none) or None (not available)."""
        self.metric_name = metric
        self.legend.clear()
        if not len(starts) or (realised is None and estimated is None):
            self.set_windows(starts, ends)
            self.show_message(message or "No performance to show yet.")
            return
        self.show_chart()
        self.set_windows(starts, ends)
        self.plot.setLabel("left", metric.replace("_", " ").capitalize(),
                           **{"color": self.colours["text"], "font-size": "9pt"})
        x = self.mids()
        values = []
        for item, data, name in ((self.realised, realised, f"realised {metric} (labeled rows)"),
                                 (self.estimated, estimated, f"estimated {metric} (CBPE)")):
            if data is None:
                item.setData([], [])
                continue
            y = np.asarray(data, dtype=np.float64)
            item.setData(x, y)
            self.legend.addItem(item, name)
            values.append(y[np.isfinite(y)])
        self.trained.setVisible(math.isfinite(trained))
        if math.isfinite(trained):
            self.trained.setValue(trained)
            values.append(np.asarray([trained]))
        got = np.concatenate(values) if values else np.zeros(0)
        if got.size:
            lo, hi = float(got.min()), float(got.max())
            pad = max((hi - lo) * 0.15, 0.02)
            self.plot.setYRange(lo - pad, hi + pad, padding=0)


class ServingHealthChart(WindowChart):
    """Requests per window, error rate, and p50/p99 latency, on one time axis."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("servingHealthChart")
        # side by side: the tab this lives in is wide and short
        self.volume = self.add_plot("Requests per window", 0, 0)
        self.errors = self.add_plot("Error rate (failed / all requests)", 0, 1)
        self.latency = self.add_plot("Latency (ms)", 0, 2)
        self.volume.setTitle("Requests per window", color=self.colours["text"], size="9pt")
        self.volume.setLabel("left", "")
        self.volume.getAxis("left").setWidth(44)
        self.bars = pg.BarGraphItem(x=[], height=[], width=1, brush="#4a90c2", pen=None)
        self.volume.addItem(self.bars)
        self.error_curve = self.errors.plot(pen=pg.mkPen("#d62728", width=2), symbol="o", symbolSize=5,
                                            symbolBrush="#d62728", symbolPen=None)
        legend = _legend(self.latency, self.colours, offset=(8, 4))
        self.p50 = self.latency.plot(pen=pg.mkPen("#2ca02c", width=2), connect="finite")
        self.p99 = self.latency.plot(pen=pg.mkPen("#ff7f0e", width=2), connect="finite")
        legend.addItem(self.p50, "p50")
        legend.addItem(self.p99, "p99")
        self.show_message("No requests were logged for this version in this period.")

    def set_data(self, starts: Sequence[float], ends: Sequence[float], requests: Sequence[float],
                 error_rate: Sequence[float], p50_ms: Sequence[float], p99_ms: Sequence[float]) -> None:
        if not len(starts):
            self.set_windows([], [])
            self.show_message("No requests were logged for this version in this period.")
            return
        self.show_chart()
        self.set_windows(starts, ends)
        x = self.mids()
        requests = np.asarray(requests, dtype=np.float64)
        self.bars.setOpts(x=x, height=requests, width=self.widths())
        self.volume.setYRange(0, max(1.0, float(requests.max())) * 1.1, padding=0)
        rate = np.asarray(error_rate, dtype=np.float64)
        self.error_curve.setData(x, rate)
        top = float(np.nanmax(rate)) if np.isfinite(rate).any() else 0.0
        self.errors.setYRange(0, max(0.05, top * 1.15), padding=0)
        self.p50.setData(x, np.asarray(p50_ms, dtype=np.float64))
        p99 = np.asarray(p99_ms, dtype=np.float64)
        self.p99.setData(x, p99)
        self.latency.setYRange(0, max(1.0, float(np.nanmax(p99)) if np.isfinite(p99).any() else 1.0) * 2.0,
                               padding=0)     # room above the lines for the legend

"""The Monitoring view's drift charts over time: the share of drifted columns per window
(bars, drifted windows red, the data-set rule as a line) and chosen columns' scores per
window with their threshold lines. Both are handed plain arrays; a click on a window
emits ``windowClicked(index)`` (see :class:`~.window_chart.WindowChart`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from ..kit.theme import PALETTE
from .window_chart import WindowChart

P_VALUE_TESTS = ("ks", "chisquare", "z")     # drift when the score is *below* the threshold
SCORE_FLOOR = 1e-16                          # p-values below this are drawn at it (log axis)
DRIFTED = "#d62728"
CALM = "#4a90c2"


class DriftShareChart(WindowChart):
    """Share of drifted columns per window."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("driftShareChart")
        self.plot = self.add_plot("Drifted share", 0)
        self.plot.setYRange(0, 1.05, padding=0)
        self.bars = pg.BarGraphItem(x=[], height=[], width=1)
        self.plot.addItem(self.bars)
        self.rule = pg.InfiniteLine(pos=0.5, angle=0, movable=False,
                                    pen=pg.mkPen(self.colours["muted"], width=1.5, style=Qt.PenStyle.DashLine),
                                    label="data set drifts at {value:.2f}",
                                    labelOpts={"position": 0.08, "color": self.colours["muted"], "anchors": [(0, 1),
                                                                                                       (0, 1)]})
        self.plot.addItem(self.rule, ignoreBounds=True)
        self.shares = np.zeros(0)
        self.drifted = np.zeros(0, dtype=bool)
        self.show_message("No drift windows yet.")

    def set_data(self, starts: Sequence[float], ends: Sequence[float], shares: Sequence[float],
                 drifted: Sequence[bool], rule: float = 0.5) -> None:
        self.shares = np.asarray(shares, dtype=np.float64)
        self.drifted = np.asarray(drifted, dtype=bool)
        if not len(starts):
            self.bars.setOpts(x=[], height=[], width=1)
            self.show_message("No drift windows yet.")
            self.set_windows([], [])
            return
        self.show_chart()
        self.set_windows(starts, ends)
        self.rule.setValue(rule)
        brushes = [pg.mkBrush(DRIFTED if d else CALM) for d in self.drifted]
        self.bars.setOpts(x=self.mids(), height=np.nan_to_num(self.shares), width=self.widths(), brushes=brushes,
                          pens=[pg.mkPen(None)] * len(brushes))


@dataclass(frozen=True)
class ScoreSeries:
    """One column's score per window (NaN: no score there), its threshold and test."""

    column: str
    scores: np.ndarray
    threshold: float
    test: str


class ColumnScoresChart(WindowChart):
    """Chosen columns' drift scores per window, each with its threshold as a dashed line.

    p-values (K-S, chi-square, Z) drift *below* their threshold and reach
    1e-50 and less, so when one is shown the axis is logarithmic.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("columnScoresChart")
        self.plot = self.add_plot("Score", 0)
        self.legend = self.plot.addLegend(offset=(-8, 4), labelTextColor=self.colours["text"],
                                          brush=pg.mkBrush(self.colours["legend_bg"]),
                                          pen=pg.mkPen(self.colours["legend_pen"]))
        self.items: list = []
        self.series: list[ScoreSeries] = []
        self.log_axis = False
        self.show_message("Select columns in the table to follow their scores over time.")

    def set_data(self, starts: Sequence[float], ends: Sequence[float], series: Sequence[ScoreSeries]) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        self.legend.clear()
        self.series = list(series)
        if not len(starts) or not self.series:
            self.set_windows(starts, ends)
            self.show_message("Select columns in the table to follow their scores over time." if len(starts)
                              else "No drift windows yet.")
            return
        self.show_chart()
        self.set_windows(starts, ends)
        self.log_axis = any(s.test in P_VALUE_TESTS for s in self.series)
        self.plot.setLogMode(y=self.log_axis)
        axis = "p-value (log)" if self.log_axis else "Score"
        self.plot.setLabel("left", axis, **{"color": self.colours["text"], "font-size": "9pt"})
        x = self.mids()
        for k, s in enumerate(self.series):
            colour = PALETTE[k % len(PALETTE)]
            y = np.asarray(s.scores, dtype=np.float64)
            if self.log_axis:
                y = np.where(np.isfinite(y), np.maximum(y, SCORE_FLOOR), np.nan)
            curve = pg.PlotDataItem(x, y, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                                    symbolBrush=colour, symbolPen=None, connect="finite", name=s.column)
            self.plot.addItem(curve)
            self.items.append(curve)
            if math.isfinite(s.threshold) and s.threshold > 0:
                at = math.log10(s.threshold) if self.log_axis else s.threshold
                line = pg.InfiniteLine(pos=at, angle=0, movable=False,
                                       pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
                self.plot.addItem(line, ignoreBounds=False)
                self.items.append(line)
        self.plot.enableAutoRange(axis="y")

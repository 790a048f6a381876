"""The Monitoring view's charts, built and fed as one: drift share and column scores over
time, the overlay of a column, performance and serving health.

The chart modules (pyqtgraph, ~1 s to import) are imported by a worker
(:func:`import_charts`); :meth:`MonitoringCharts.build` then makes one chart per turn of
the event loop (15-60 ms each, ~300 ms all at once) and emits ``built``. The draw methods
take the view's plain data (``monitoring_data``) and do nothing before that.
"""

from __future__ import annotations

import functools

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

MAX_SCORE_SERIES = 6


def import_charts():
    """Import the chart modules on a worker, not on the GUI thread."""
    from ..charts import distribution_chart, drift_charts, health_charts  # noqa: F401


class MonitoringCharts(QObject):
    built = Signal()
    windowClicked = Signal(float)       # the start (Unix s) of the window clicked on any time chart

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.ready = False
        self.share = self.scores = self.overlay = self.perf = self.health = None
        self._steps: list = []

    def build(self, top, middle, tabs) -> None:
        from ..charts.distribution_chart import DistributionChart
        from ..charts.drift_charts import ColumnScoresChart, DriftShareChart
        from ..charts.health_charts import PerformanceChart, ServingHealthChart

        def share():
            self.share = DriftShareChart()
            top.addWidget(self.share)

        def scores():
            self.scores = ColumnScoresChart()
            top.addWidget(self.scores)

        def overlay():
            self.overlay = DistributionChart()
            middle.addWidget(self.overlay)
            middle.setSizes([560, 440])

        def perf():
            self.perf = PerformanceChart()
            tabs.insertTab(0, self.perf, "Performance")

        def health():
            self.health = ServingHealthChart()
            tabs.insertTab(1, self.health, "Serving health")
            tabs.setCurrentIndex(0)

        self._steps = [share, scores, overlay, perf, health, self._done]
        self._next()

    def _next(self) -> None:
        if self._steps:
            self._steps.pop(0)()
            if self._steps:
                QTimer.singleShot(0, self, self._next)   # dropped if the view (and this) is deleted first

    def _done(self) -> None:
        self.ready = True
        for chart in self.time_charts():
            chart.windowClicked.connect(functools.partial(self._clicked, chart))
        self.built.emit()

    def _clicked(self, chart, index: int) -> None:
        self.windowClicked.emit(float(chart.starts[index]))

    def time_charts(self) -> list:
        return [self.share, self.scores, self.perf, self.health] if self.ready else []

    # -- drawing --------------------------------------------------------------------------------------
    def draw(self, windows, drift_error: str, performance, health, drift: bool = False) -> None:
        """Draw what is given (None: leave that chart as it is; ``drift``: redraw the share chart
        even without windows, showing ``drift_error`` or nothing)."""
        if not self.ready:
            return
        w = windows
        if w is None and not drift:
            pass
        elif w is not None:
            self.share.set_data(w.starts, w.ends, w.shares, w.drifted, w.share_rule)
        elif drift_error:
            self.share.show_message(drift_error)
        else:
            self.share.set_data([], [], [], [])
        p = performance
        if p is not None:
            self.perf.set_data(p.starts, p.ends, p.metric, p.realised, p.estimated, p.trained, p.message)
        h = health
        if h is not None:
            self.health.set_data(h.starts, h.ends, h.requests, h.error_rate, h.p50, h.p99)

    def draw_scores(self, windows, columns: list[str]) -> None:
        if not self.ready:
            return
        from ..charts.drift_charts import ScoreSeries

        w = windows
        if w is None:
            self.scores.set_data([], [], [])
            return
        series = [ScoreSeries(c, w.scores[c], w.thresholds.get(c, float("nan")), w.tests.get(c, ""))
                  for c in columns[:MAX_SCORE_SERIES] if c in w.scores]
        self.scores.set_data(w.starts, w.ends, series)

    def select(self, start: float | None) -> None:
        """Highlight the window starting at ``start`` on every time chart (None: none)."""
        for chart in self.time_charts():
            hits = np.nonzero(chart.starts == start)[0] if start is not None else []
            chart.select(int(hits[0]) if len(hits) else None)

    def draw_overlay(self, sample, columns: list[str], records: list[dict], label: str) -> None:
        if not self.ready:
            return
        if sample is None or not columns:
            self.overlay.clear("Select a column to compare its distributions." if records else "No window selected.")
            return
        from ...core.monitoring.distributions import overlay

        name = columns[0]
        if name not in sample.reference.columns or name not in sample.current.columns:
            self.overlay.clear(f"{name} is not in both data sets.")
            return
        kind = next((r.get("type") for r in records if r["column"] == name), None)
        self.overlay.set_overlay(overlay(name, sample.reference[name], sample.current[name], kind or None), label)

    def clear_overlay(self, text: str) -> None:
        if self.ready:
            self.overlay.clear(text)

"""Report charts drawn offscreen with pyqtgraph and exported as PNG bytes.

Handed :class:`~modeldesk.core.reports.content.Chart` data; a fixed light, printable palette
(a report looks the same from a dark-themed app and a headless CLI); time axes in UTC, as the
report's text; no automatic SI prefix on any axis. Call on the thread that owns the
QApplication (pyqtgraph items are widgets' relatives).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QColor, QFont

from ...core.reports.content import Chart

PRINT = {"bg": "#ffffff", "text": "#1f2937", "axis": "#6b7280", "grid": 0.15,
         "lines": ("#2563eb", "#d97706", "#059669", "#7c3aed", "#dc2626"),
         "lanes": {"production": "#2563eb", "staging": "#d97706"}, "other": "#64748b", "rollback": "#dc2626"}
WIDTH, HEIGHT = 760, 240      # CSS pixels of the chart in the report; drawn at twice that for print


def _plot(title: str, y_label: str) -> tuple[pg.GraphicsView, pg.PlotItem]:
    """A plot in a view that is never shown, laid out at the chart's size (the exporter asks the view
    for the background)."""
    view = pg.GraphicsView(background=PRINT["bg"])
    view.resize(WIDTH, HEIGHT)
    axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
    plot = pg.PlotItem(axisItems={"bottom": axis})
    view.setCentralItem(plot)
    view.setRange(QRectF(0, 0, WIDTH, HEIGHT), padding=0)
    plot.setGeometry(QRectF(0, 0, WIDTH, HEIGHT))
    font = QFont()
    font.setPointSizeF(8.5)
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.enableAutoSIPrefix(False)
        ax.setPen(pg.mkPen(PRINT["axis"]))
        ax.setTextPen(pg.mkPen(PRINT["text"]))
        ax.setStyle(tickFont=font, maxTickLevel=1)
    plot.showGrid(x=True, y=True, alpha=PRINT["grid"])
    plot.setTitle(title, color=PRINT["text"], size="10pt")
    if y_label:
        plot.setLabel("left", y_label, color=PRINT["text"], **{"font-size": "9pt"})
    plot.setMenuEnabled(False)
    plot.hideButtons()
    return view, plot


def _lines(plot: pg.PlotItem, chart: Chart) -> None:
    legend = plot.addLegend(offset=(-10, 10), labelTextColor=PRINT["text"]) if len(chart.lines) > 1 else None
    for i, line in enumerate(chart.lines):
        if not any(v is not None and math.isfinite(v) for v in line.y):
            continue      # nothing to draw (e.g. ROC AUC without logged probabilities)
        colour = PRINT["lines"][i % len(PRINT["lines"])]
        plot.plot(list(line.x), [v if v is not None else math.nan for v in line.y], name=line.name,
                  pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5, symbolBrush=colour,
                  symbolPen=pg.mkPen(colour), connect="finite")
    if chart.threshold is not None:
        plot.addItem(pg.InfiniteLine(chart.threshold, angle=0, pen=pg.mkPen(PRINT["rollback"], style=Qt.DashLine)))
    if chart.y_range is not None:
        plot.setYRange(*chart.y_range, padding=0.05)
    if legend is not None:
        legend.setBrush(pg.mkBrush(255, 255, 255, 220))


def _timeline(plot: pg.PlotItem, chart: Chart) -> None:
    lanes = list(dict.fromkeys(b.lane for b in chart.bands))
    y_of = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}
    left = plot.getAxis("left")
    left.setTicks([[(y, lane) for lane, y in y_of.items()]])
    left.setWidth(max(60, 7 * max(len(lane) for lane in lanes) + 14))   # laid out once: no later resize
    plot.showGrid(x=True, y=False, alpha=PRINT["grid"])
    font = QFont()
    font.setPointSizeF(8)
    for band in chart.bands:
        colour = PRINT["rollback"] if band.rollback else PRINT["lanes"].get(band.lane, PRINT["other"])
        y = y_of[band.lane]
        end = max(band.end, band.start + 1e-3)
        item = pg.BarGraphItem(x0=[band.start], x1=[end], y=[y], height=0.55, brush=QColor(colour),
                               pen=pg.mkPen("#ffffff", width=1))
        plot.addItem(item)
        text = pg.TextItem(band.label, color="#ffffff", anchor=(0.5, 0.5))
        text.setFont(font)
        text.setPos((band.start + end) / 2, y)
        plot.addItem(text)
    plot.setYRange(-0.6, len(lanes) - 0.4, padding=0)
    starts = [b.start for b in chart.bands]
    ends = [b.end for b in chart.bands]
    if starts:
        span = max(max(ends) - min(starts), 60.0)
        plot.setXRange(min(starts) - span * 0.02, max(ends) + span * 0.02, padding=0)


def chart_png(chart: Chart, scale: float = 2.0) -> bytes:
    """``chart`` drawn at ``WIDTH``×``HEIGHT`` CSS pixels times ``scale``, as PNG bytes."""
    view, plot = _plot(chart.title, chart.y_label)
    try:
        if chart.kind == "timeline":
            _timeline(plot, chart)
        else:
            _lines(plot, chart)
            plot.getViewBox().autoRange(padding=0.05)
            if chart.y_range is not None:
                plot.setYRange(*chart.y_range, padding=0.05)
        plot.setGeometry(QRectF(0, 0, WIDTH, HEIGHT))
        plot.layout.activate()      # the title and axes added since take their place before the picture
        exporter = ImageExporter(plot)
        exporter.parameters()["width"] = int(WIDTH * scale)
        exporter.parameters()["antialias"] = True
        image = exporter.export(toBytes=True)
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        return bytes(data)
    finally:
        view.deleteLater()

"""Chart pieces shared by run details and comparison, and the scatter chart.

Charts are handed data (``History`` arrays, ``ScatterData``) and emit
signals out; they never read the project. Axes never add pyqtgraph's
automatic SI scale. Metric curves live in ``charts_curves``, parallel
coordinates in ``charts_parallel``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from ...core.tracking.compare import ScatterData
from ..kit.theme import theme

GRID_ALPHA = 0.18


def style_plot(plot: pg.PlotItem, font: QFont | None = None, colours: dict | None = None) -> None:
    """Readable axes, no SI prefix, light grid (major and minor lines only).

    pyqtgraph draws a grid line across the plot for every tick, and a third
    tick level of faint lines made each repaint of a curves chart ~2x slower.
    """
    colours = colours or theme()
    font = QFont(font) if font is not None else QFont()
    font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)
        axis.setPen(pg.mkPen(colours["axis"]))
        axis.setTextPen(pg.mkPen(colours["text"]))
        axis.setStyle(tickFont=font, maxTickLevel=1)
    plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
    plot.setMenuEnabled(True)


def axis_label(plot: pg.PlotItem, side: str, text: str) -> None:
    plot.setLabel(side, text, **{"color": theme()["text"], "font-size": "10pt"})


class ChartBase(QWidget):
    """A pyqtgraph layout with a message shown in its place when there is nothing to draw."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.colours = theme()   # follows the application palette (light or dark)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(self.colours["bg"])
        self.view.ci.setContentsMargins(6, 6, 12, 6)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {self.colours['muted']}; font-size: 11pt; "
                                   f"background: {self.colours['bg']};")
        self._stack = QStackedWidget()
        self._stack.addWidget(self.view)
        self._stack.addWidget(self.message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._stack, 1)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self._stack.setCurrentWidget(self.message)

    def show_chart(self) -> None:
        self._stack.setCurrentWidget(self.view)

    @property
    def showing_message(self) -> bool:
        return self._stack.currentWidget() is self.message

    def export_png(self, path: str) -> bool:
        """Save what is shown as a PNG; True on success."""
        widget = self._stack.currentWidget()
        return bool(widget.grab().save(str(path), "PNG"))


class ScatterChart(ChartBase):
    """One point per run; clicking a point emits ``pointClicked(run_id)`` and highlights it."""

    pointClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = self.view.addPlot()
        style_plot(self.plot, self.font(), self.colours)
        self.scatter = pg.ScatterPlotItem(hoverable=True, hoverSize=16, tip=self._tip,
                                          hoverPen=pg.mkPen(self.colours["text"], width=2))
        self.scatter.sigClicked.connect(self._on_clicked)
        self.plot.addItem(self.scatter)
        self._labels: list[pg.TextItem] = []
        self._data: ScatterData | None = None
        self._names: dict[str, str] = {}
        self._x_text: dict[str, str] = {}   # categorical x: each run's own value, for the tooltip
        self._colours: dict[str, QColor] = {}
        self.selected: str | None = None
        self.note = QLabel()
        self.note.setStyleSheet(f"color: {self.colours['muted']}; padding: 2px 6px;")
        self.layout().addWidget(self.note)
        self.show_message("Choose what to plot on each axis.")

    def set_data(self, data: ScatterData, colours: dict[str, QColor], x_label: str, y_label: str) -> None:
        self._data = data
        self._names = dict(zip(data.run_ids, data.run_names))
        self._x_text = dict(zip(data.run_ids, data.x_text))
        self._colours = {rid: QColor(colours.get(rid, QColor("#1f77b4"))) for rid in data.run_ids}
        for label in self._labels:
            self.plot.removeItem(label)
        self._labels = []
        axis_label(self.plot, "bottom", x_label)
        axis_label(self.plot, "left", y_label)
        # a text param on x: its categories as the ticks; otherwise pyqtgraph's own numeric ticks
        self.plot.getAxis("bottom").setTicks([list(enumerate(data.categories)), []] if data.categorical else None)
        if not data.run_ids:
            self.scatter.setData([])
            self.show_message(f"No run has both {x_label} and {y_label}.")
            return
        self.show_chart()
        self.scatter.setData([{"pos": (float(x), float(y)), "data": rid, "size": 13,
                               "brush": pg.mkBrush(self._colours[rid]), "pen": pg.mkPen(self.colours["bg"], width=1.5)}
                              for x, y, rid in zip(data.x, data.y, data.run_ids)])
        if len(data.run_ids) <= 25:
            for x, y, name in zip(data.x, data.y, data.run_names):
                label = pg.TextItem(name, color=self.colours["text"], anchor=(-0.12, 1.05))
                label.setFont(self.font())
                label.setPos(float(x), float(y))
                self.plot.addItem(label)
                self._labels.append(label)
        self._set_ranges(data.x, data.y, len(data.categories))
        self.note.setText(f"Not shown (no value): {', '.join(data.missing)}" if data.missing else "")
        self.highlight(self.selected)

    def tick_labels(self) -> list[tuple[float, str]]:
        """The fixed x ticks (value, text) shown for categories; empty on a numeric x."""
        ticks = self.plot.getAxis("bottom")._tickLevels
        return [(float(v), str(t)) for v, t in ticks[0]] if ticks else []

    def _set_ranges(self, x: np.ndarray, y: np.ndarray, categories: int = 0) -> None:
        """Pad the data range; a single value gets a sensible window, not float noise.

        With ``categories`` the x range spans every category (index 0 .. n-1).
        """
        x_span = (-0.5, categories - 0.5) if categories else (float(x.min()), float(x.max()))
        for values, setter, extra in ((x_span, self.plot.setXRange, 0.18), (y, self.plot.setYRange, 0.1)):
            lo, hi = float(np.min(values)), float(np.max(values))
            span = hi - lo
            if span <= abs(hi) * 1e-9:
                span = abs(hi) * 0.2 or 1.0
                lo, hi = lo - span / 2, hi + span / 2
            # room on the right for the run names drawn beside the points
            setter(lo - 0.08 * span, hi + (extra if len(self._labels) else 0.08) * span, padding=0)

    def spot_position(self, run_id: str) -> tuple[float, float]:
        for spot in self.scatter.points():
            if spot.data() == run_id:
                return float(spot.pos().x()), float(spot.pos().y())
        raise KeyError(run_id)

    def scene_position(self, run_id: str) -> QPointF:
        x, y = self.spot_position(run_id)
        return self.plot.vb.mapViewToScene(QPointF(x, y))

    def highlight(self, run_id: str | None) -> None:
        """Ring the point of ``run_id`` (None clears)."""
        self.selected = run_id
        for spot in self.scatter.points():
            chosen = spot.data() == run_id
            spot.setPen(pg.mkPen(self.colours["text"], width=2.5) if chosen
                        else pg.mkPen(self.colours["bg"], width=1.5))
            spot.setSize(18 if chosen else 13)

    def _tip(self, x, y, data) -> str:
        d = self._data
        name = self._names.get(data, str(data))
        xl = d.x_key.split(".", 1)[-1] if d else "x"
        yl = d.y_key.split(".", 1)[-1] if d else "y"
        x_text = self._x_text.get(data, f"{x:.6g}")   # a category: its value, not the jittered position
        return f"{name}\n{xl} = {x_text}\n{yl} = {y:.6g}\n(click to select this run)"

    def _on_clicked(self, _item, points, _event=None) -> None:
        if points is None or len(points) == 0:
            return
        run_id = points[0].data()
        self.highlight(run_id)
        self.pointClicked.emit(run_id)

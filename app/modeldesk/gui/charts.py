"""Chart classes for run details and comparison: metric curves and a scatter.

Charts are handed data (``History`` arrays, ``ScatterData``) and emit
signals out; they never read the project. Long histories stay smooth because
every curve downsamples (peak method, automatic) and clips to the visible
range. Axes never add pyqtgraph's automatic SI scale.
Parallel coordinates live in ``charts_parallel``.
"""

from __future__ import annotations

import datetime as _dt
import html
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from ..core.compare import History, ScatterData, ema
from .view_helpers import theme

X_LABELS = {"step": "Step", "relative": "Time since run start (s)", "wall": "Wall time"}
GRID_ALPHA = 0.18
LONG_CURVE = 20_000        # points; longer curves are drawn with cheaper pens
DOWNSAMPLE_FACTOR = 3.0    # samples per pixel kept by automatic peak downsampling


def style_plot(plot: pg.PlotItem, font: QFont | None = None, colours: dict | None = None) -> None:
    """Readable axes, no SI prefix, light grid."""
    colours = colours or theme()
    font = QFont(font) if font is not None else QFont()
    font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.enableAutoSIPrefix(False)
        axis.setPen(pg.mkPen(colours["axis"]))
        axis.setTextPen(pg.mkPen(colours["text"]))
        axis.setStyle(tickFont=font)
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


class CurvesChart(ChartBase):
    """Metric histories of one or more runs: one plot per metric, x axes linked.

    Feed it with :meth:`set_runs`, :meth:`set_metrics` and, as histories
    arrive, :meth:`set_history`. The x axis shows steps, time since the run
    started, or wall-clock time; smoothing draws the exponential moving
    average over a faded copy of the raw curve.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.readout = QLabel(" ")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setStyleSheet(f"color: {self.colours['muted']}; padding: 2px 6px;")
        self.readout.setToolTip("Values of each run under the mouse pointer")
        self.layout().addWidget(self.readout)
        self._runs: dict[str, tuple[str, QColor]] = {}
        self._metrics: list[str] = []
        self._plots: dict[str, pg.PlotItem] = {}
        self._histories: dict[tuple[str, str], History] = {}
        self._items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._raw_items: dict[tuple[str, str], pg.PlotDataItem] = {}
        self._x_mode = "step"
        self._weight = 0.0
        self._smoothed: dict[tuple[str, str], tuple[float, np.ndarray]] = {}   # key -> (weight, values)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.show_message("Pick a metric to plot.")

    # -- inputs ----------------------------------------------------------------
    def set_runs(self, runs: Sequence[tuple[str, str, QColor]]) -> None:
        """Runs in legend order: (run id, name, colour)."""
        self._runs = {rid: (name, QColor(colour)) for rid, name, colour in runs}

    def set_metrics(self, metrics: Sequence[str]) -> None:
        """Show one plot per metric (curves already handed in are kept)."""
        metrics = list(dict.fromkeys(metrics))
        if metrics == self._metrics:
            return
        self._metrics = metrics
        self._rebuild()

    def set_history(self, run_id: str, metric: str, history: History) -> None:
        self._histories[(run_id, metric)] = history
        if metric in self._plots:
            self._draw(run_id, metric)

    def has_history(self, run_id: str, metric: str) -> bool:
        return (run_id, metric) in self._histories

    def set_x_mode(self, mode: str) -> None:
        """'step', 'relative' (seconds since each run started) or 'wall' (date axis)."""
        if mode not in X_LABELS:
            raise ValueError(f"unknown x mode {mode!r}")
        if mode == self._x_mode:
            return
        self._x_mode = mode
        for plot in self._plots.values():
            self._set_bottom_axis(plot)
        for run_id, metric in list(self._items):
            self._draw(run_id, metric)
        for plot in self._plots.values():
            plot.enableAutoRange()

    def set_smoothing(self, weight: float) -> None:
        """Exponential moving average weight, 0 (raw) .. 0.99."""
        weight = float(min(max(weight, 0.0), 0.99))
        if weight == self._weight:
            return
        self._weight = weight
        for run_id, metric in list(self._items):
            self._draw(run_id, metric)

    @property
    def x_mode(self) -> str:
        return self._x_mode

    @property
    def smoothing(self) -> float:
        return self._weight

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    def plot(self, metric: str) -> pg.PlotItem | None:
        return self._plots.get(metric)

    def curve(self, run_id: str, metric: str) -> pg.PlotDataItem | None:
        """The drawn (smoothed, if smoothing is on) curve of a run's metric."""
        return self._items.get((run_id, metric))

    def curves(self, metric: str) -> dict[str, pg.PlotDataItem]:
        return {rid: item for (rid, m), item in self._items.items() if m == metric}

    def curve_data(self, run_id: str, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The full (not downsampled) x and y of a drawn curve."""
        item = self.curve(run_id, metric)
        if item is None:
            return None
        x, y = item.getOriginalDataset()
        return np.asarray(x), np.asarray(y)

    # -- drawing ---------------------------------------------------------------
    def _rebuild(self) -> None:
        self.view.clear()
        self._plots.clear()
        self._items.clear()
        self._raw_items.clear()
        if not self._metrics:
            self.show_message("Pick a metric to plot.")
            return
        self.show_chart()
        cols = 1 if len(self._metrics) <= 2 else 2
        first = None
        for i, metric in enumerate(self._metrics):
            if i and i % cols == 0:
                self.view.nextRow()
            plot = self.view.addPlot(title=f"<span style='color:{self.colours['text']}; font-size:11pt'><b>"
                                           f"{html.escape(metric)}</b></span>")
            style_plot(plot, self.font(), self.colours)
            plot.setDownsampling(auto=True, mode="peak")   # long histories: ~5 samples per pixel
            plot.setClipToView(True)
            self._set_bottom_axis(plot)
            if first is None:
                first = plot
                if len(self._runs) > 1 or self._weight:
                    legend = plot.addLegend(offset=(-8, 8), labelTextColor=self.colours["text"],
                                            brush=pg.mkBrush(*self.colours["legend_bg"]),
                                            pen=pg.mkPen(self.colours["legend_pen"]))
                    legend.setLabelTextSize("9pt")
            else:
                plot.setXLink(first)
            self._plots[metric] = plot
        for run_id, metric in list(self._histories):
            if metric in self._plots:
                self._draw(run_id, metric)

    def _set_bottom_axis(self, plot: pg.PlotItem) -> None:
        current = plot.getAxis("bottom")
        want_date = self._x_mode == "wall"
        if isinstance(current, pg.DateAxisItem) != want_date:
            axis = pg.DateAxisItem(orientation="bottom") if want_date else pg.AxisItem("bottom")
            plot.setAxisItems({"bottom": axis})
            style_plot(plot, self.font(), self.colours)
        axis_label(plot, "bottom", X_LABELS[self._x_mode])

    def _draw(self, run_id: str, metric: str) -> None:
        history = self._histories[(run_id, metric)]
        plot = self._plots[metric]
        name, colour = self._runs.get(run_id, (run_id[:8], QColor("#1f77b4")))
        x = history.x(self._x_mode)
        raw_y = history.values
        y = self._smooth((run_id, metric), raw_y) if self._weight else raw_y
        key = (run_id, metric)
        if self._weight:
            faded = QColor(colour)
            faded.setAlpha(60)
            raw = self._raw_items.get(key)
            if raw is None:
                raw = self._new_item(plot, faded, width=1.0, name=None, points=len(raw_y))
                self._raw_items[key] = raw
                raw.setZValue(-1)
            self._set_data(raw, x, raw_y)
        elif key in self._raw_items:
            plot.removeItem(self._raw_items.pop(key))
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = self._new_item(plot, colour, width=1.6, name=name, points=len(y))
            self._sort_legend()
        self._set_data(item, x, y)

    def _smooth(self, key: tuple[str, str], values: np.ndarray) -> np.ndarray:
        cached = self._smoothed.get(key)
        if cached is None or cached[0] != self._weight:
            cached = self._smoothed[key] = (self._weight, ema(values, self._weight))
        return cached[1]

    def preset_smoothed(self, weight: float, smoothed: dict[tuple[str, str], np.ndarray]) -> None:
        """Hand in smoothed values computed elsewhere (a worker), used by ``set_smoothing(weight)``."""
        for key, values in smoothed.items():
            self._smoothed[key] = (float(weight), values)

    def shown_histories(self) -> dict[tuple[str, str], np.ndarray]:
        """Raw values of the curves on display, by (run id, metric)."""
        return {key: self._histories[key].values for key in self._items}

    def _sort_legend(self) -> None:
        """Legend entries in run order, whatever order the histories arrived in."""
        legend = self._plots[self._metrics[0]].legend if self._metrics else None
        if legend is None:
            return
        legend.clear()
        for rid, (name, _colour) in self._runs.items():
            item = next((self._items[(rid, m)] for m in self._metrics if (rid, m) in self._items), None)
            if item is not None:
                legend.addItem(item, name)

    @staticmethod
    def _new_item(plot: pg.PlotItem, colour: QColor, width: float, name: str | None, points: int) -> pg.PlotDataItem:
        long = points > LONG_CURVE
        # Qt draws wide or antialiased lines many times slower: long curves get 1 px, aliased.
        item = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.0 if long else width), name=name, antialias=not long)
        plot.addItem(item)
        # After addItem: PlotItem.addItem imposes the plot's own (menu) settings on its items.
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        item.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
        return item

    @staticmethod
    def _set_data(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        finite = bool(np.isfinite(y).all() and np.isfinite(x).all())
        if finite:
            item.setData(x, y, skipFiniteCheck=True)
        else:
            item.setData(x, y, connect="finite")
        if len(y) == 1:  # a single point draws no line: show it as a dot
            item.setSymbol("o")
            item.setSymbolSize(7)
            item.setSymbolBrush(item.opts["pen"].color())

    # -- readout under the mouse ------------------------------------------------
    def _on_mouse_moved(self, pos) -> None:
        for metric, plot in self._plots.items():
            if not plot.sceneBoundingRect().contains(pos):
                continue
            x = plot.vb.mapSceneToView(pos).x()
            parts = []
            for (rid, m), item in self._items.items():
                if m != metric:
                    continue
                xs, ys = item.getOriginalDataset()
                if xs is None or len(xs) == 0:
                    continue
                i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
                if i > 0 and abs(xs[i - 1] - x) < abs(xs[i] - x):
                    i -= 1
                name, colour = self._runs.get(rid, (rid[:8], QColor("#1f77b4")))
                parts.append(f"<span style='color:{colour.name()}'>●</span> {html.escape(name)} "
                             f"<b>{ys[i]:.5g}</b>")
            where = (_dt.datetime.fromtimestamp(x).strftime("%Y-%m-%d %H:%M:%S") if self._x_mode == "wall"
                     and x > 0 else f"{X_LABELS[self._x_mode].split(' (')[0].lower()} {x:,.4g}")
            self.readout.setText(f"<b>{html.escape(metric)}</b> at {html.escape(where)}: " + " &nbsp; ".join(parts))
            return


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
        self._colours: dict[str, QColor] = {}
        self.selected: str | None = None
        self.note = QLabel()
        self.note.setStyleSheet(f"color: {self.colours['muted']}; padding: 2px 6px;")
        self.layout().addWidget(self.note)
        self.show_message("Choose what to plot on each axis.")

    def set_data(self, data: ScatterData, colours: dict[str, QColor], x_label: str, y_label: str) -> None:
        self._data = data
        self._names = dict(zip(data.run_ids, data.run_names))
        self._colours = {rid: QColor(colours.get(rid, QColor("#1f77b4"))) for rid in data.run_ids}
        for label in self._labels:
            self.plot.removeItem(label)
        self._labels = []
        axis_label(self.plot, "bottom", x_label)
        axis_label(self.plot, "left", y_label)
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
        self._set_ranges(data.x, data.y)
        self.note.setText(f"Not shown (no value): {', '.join(data.missing)}" if data.missing else "")
        self.highlight(self.selected)

    def _set_ranges(self, x: np.ndarray, y: np.ndarray) -> None:
        """Pad the data range; a single value gets a sensible window, not float noise."""
        for values, setter, extra in ((x, self.plot.setXRange, 0.18), (y, self.plot.setYRange, 0.1)):
            lo, hi = float(values.min()), float(values.max())
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
        return f"{name}\n{xl} = {x:.6g}\n{yl} = {y:.6g}\n(click to select this run)"

    def _on_clicked(self, _item, points, _event=None) -> None:
        if points is None or len(points) == 0:
            return
        run_id = points[0].data()
        self.highlight(run_id)
        self.pointClicked.emit(run_id)

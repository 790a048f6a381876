"""Metric curves of one or more runs: one plot per metric, x axes linked.

Built so that ten histories of a million points each never hold up the GUI
thread for long:

- Plots, legend entries and curves are made by a small work queue that runs
  a few milliseconds per event-loop turn (a zero timer), never all at once;
  ``drawn`` fires when it runs dry.
- A long history arrives with a peak-preserving preview
  (``core.tracking.history.History.preview``, about four points per screen pixel,
  computed in the worker). While the whole curve is in view the chart draws
  the preview; zoomed in further than the preview can resolve, it draws a
  slice of the full arrays (the view and one view width either side), which
  pyqtgraph clips and peak-downsamples. Switching the x axis or the
  smoothing redraws previews only; smoothed values of long curves should be
  computed in a worker and handed in with :meth:`CurvesChart.preset_smoothed`.
- The legend is made once per set of metrics, in run order, one entry per
  run; clicking an entry hides that run in every plot. Its background is
  translucent, and whenever the curves are drawn with the whole data in view
  it moves to the corner of the first plot where the fewest curves pass
  (unless the user dragged it somewhere): :mod:`.curve_legend`.
- Runs a plot cannot show are named under it: those that did not log the
  metric, and those that logged a single value (drawn as a dot). Worked out
  from what the chart was handed: the metrics of each run and the histories.
"""

from __future__ import annotations

import html
import time
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QLabel, QWidget

from ...core.text import fmt_time
from ...core.tracking.history import History, ema, peak_indices
from .base import ChartBase, style_plot
from .curve_axes import X_LABELS, Key, XSpan, nearest, set_bottom_axis
from .curve_legend import CurveLegend, PlotNotes

LONG_CURVE = 20_000        # points; longer curves are drawn with cheaper pens
DOWNSAMPLE_FACTOR = 3.0    # samples per pixel kept by automatic peak downsampling
TURN_BUDGET = 0.008        # seconds of queued drawing per event-loop turn


def preview_buckets() -> int:
    """Buckets for history previews: two per pixel of the widest screen (~4 points per pixel)."""
    widths = [s.size().width() * s.devicePixelRatio() for s in QGuiApplication.screens()]
    return int(max(1000, 2 * max(widths, default=1920)))


class CurvesChart(ChartBase):
    """Feed it with :meth:`set_runs`, :meth:`set_metrics` and, as histories
    arrive, :meth:`set_history`. The x axis shows steps, time since the run
    started, or wall-clock time; smoothing draws the exponential moving
    average over a faded copy of the raw curve.
    """

    drawn = Signal()   # the queued plots and curves are all on the chart

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.readout = QLabel(" ")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setStyleSheet(f"color: {self.colours['muted']}; padding: 2px 6px;")
        self.readout.setToolTip("Values of each run under the mouse pointer")
        self.layout().addWidget(self.readout)
        self.preview_buckets = preview_buckets()
        self._runs: dict[str, tuple[str, QColor, frozenset | None]] = {}
        self._hidden_runs: set[str] = set()
        self._metrics: list[str] = []
        self._plots: dict[str, pg.PlotItem] = {}
        self._legend: CurveLegend | None = None
        self._x_span: XSpan | None = None
        self._notes = PlotNotes(self.colours["muted"])
        self._histories: dict[Key, History] = {}
        self._items: dict[Key, pg.PlotDataItem] = {}
        self._raw_items: dict[Key, pg.PlotDataItem] = {}
        self._full: dict[Key, tuple[int, int]] = {}   # zoomed in: drawn from this slice of the full arrays
        self._x_sorted: dict[Key, bool] = {}          # x of the current mode is in order
        self._x_mode = "step"
        self._weight = 0.0
        self._smoothed: dict[Key, tuple[float, np.ndarray, np.ndarray | None]] = {}  # weight, values, preview
        self._preview_x: dict[Key, tuple[str, np.ndarray]] = {}
        # the work queue, in the order it is served
        self._to_plot: list[str] = []
        self._legend_todo: list[str] | None = None   # run ids still to enter; None: no legend wanted
        self._to_draw: dict[Key, None] = {}
        self._to_check: dict[str, None] = {}         # metrics whose visible x range changed
        self._autorange = False
        self._after_plots: list = []                  # callables waiting for the plots to exist
        self._drawing = False                         # drew something since the last ``drawn``
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._pump)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.show_message("Pick a metric to plot.")

    # -- inputs ----------------------------------------------------------------
    def set_runs(self, runs: Sequence[tuple]) -> None:
        """Runs in legend order: (run id, name, colour[, the metrics it logged]).

        With the metrics, the legend lists only runs that logged a shown metric.
        """
        self._runs = {r[0]: (r[1], QColor(r[2]), frozenset(r[3]) if len(r) > 3 and r[3] is not None else None)
                      for r in runs}
        for metric in self._plots:
            self._update_note(metric)

    def set_metrics(self, metrics: Sequence[str]) -> None:
        """Show one plot per metric (histories already handed in are kept and drawn)."""
        metrics = list(dict.fromkeys(metrics))
        if metrics == self._metrics:
            return
        self._metrics = metrics
        self._rebuild()

    def set_history(self, run_id: str, metric: str, history: History) -> None:
        """Hand in a history (drawn on a later event-loop turn; ``drawn`` follows)."""
        if history.preview is None and len(history) > 2 * self.preview_buckets:
            history = history.with_preview(self.preview_buckets)   # callers should do this in a worker
        key = (run_id, metric)
        self._histories[key] = history
        for store in (self._smoothed, self._preview_x, self._full, self._x_sorted):
            store.pop(key, None)
        if metric in self._plots:
            self._to_draw[key] = None
            self._to_check[metric] = None   # zoomed in? then a slice of the new arrays
            self._update_note(metric)       # a single value, or a curve beside others' dots
            self._kick()

    def drop_history(self, run_id: str, metric: str) -> None:
        """Forget a history and its curve (frees the arrays of a metric no longer shown)."""
        key = (run_id, metric)
        for store in (self._histories, self._smoothed, self._preview_x, self._to_draw):
            store.pop(key, None)
        self._full.pop(key, None)
        self._x_sorted.pop(key, None)
        for items in (self._items, self._raw_items):
            item = items.pop(key, None)
            if item is not None and metric in self._plots:
                self._plots[metric].removeItem(item)
        if metric in self._plots:
            self._update_note(metric)

    def has_history(self, run_id: str, metric: str) -> bool:
        return (run_id, metric) in self._histories

    def set_x_mode(self, mode: str) -> None:
        """'step', 'relative' (seconds since each run started) or 'wall' (date axis)."""
        if mode not in X_LABELS:
            raise ValueError(f"unknown x mode {mode!r}")
        if mode == self._x_mode:
            return
        self._x_mode = mode
        self._full.clear()      # the whole range comes into view: previews suffice
        self._x_sorted.clear()
        for plot in self._plots.values():
            set_bottom_axis(plot, self._x_mode, self.font(), self.colours)
        self._autorange = True   # served after the redraws
        self._redraw_all()

    def set_smoothing(self, weight: float) -> None:
        """Exponential moving average weight, 0 (raw) .. 0.99."""
        weight = float(min(max(weight, 0.0), 0.99))
        if weight == self._weight:
            return
        self._weight = weight
        self._redraw_all()

    def preset_smoothed(self, weight: float, smoothed: dict) -> None:
        """Hand in smoothed values computed elsewhere (a worker), used by ``set_smoothing(weight)``.

        ``smoothed`` maps (run id, metric) to the values, or to (values, preview indices).
        """
        for key, value in smoothed.items():
            values, preview = value if isinstance(value, tuple) else (value, None)
            history = self._histories.get(key)
            if history is None or len(history) != len(values):   # replaced (a live run grew) meanwhile
                continue
            if preview is None and history.preview is not None:
                preview = peak_indices(values, self.preview_buckets)
            self._smoothed[key] = (float(weight), values, preview)

    # -- what is shown -----------------------------------------------------------
    @property
    def x_mode(self) -> str:
        return self._x_mode

    @property
    def smoothing(self) -> float:
        return self._weight

    @property
    def metrics(self) -> list[str]:
        return list(self._metrics)

    @property
    def idle(self) -> bool:
        """Nothing is waiting to be drawn."""
        return not (self._to_plot or self._legend_todo or self._to_draw or self._to_check or self._autorange)

    def plot(self, metric: str) -> pg.PlotItem | None:
        return self._plots.get(metric)

    @property
    def legend_corner(self) -> str:
        """Where the legend sits in the first plot: 'top-right', 'top-left', 'bottom-right' or 'bottom-left'."""
        return self._legend.corner if self._legend is not None else "top-right"

    def note(self, metric: str) -> str:
        """The note under a metric's plot naming the runs it cannot show ('' when it shows them all)."""
        return self._notes.text(metric)

    def runs_without_curve(self, metric: str) -> tuple[list[str], list[str]]:
        """Run ids a metric's plot draws no curve for: (did not log the metric, logged a single value).

        Only runs whose metrics were handed to :meth:`set_runs` can count as
        not logged; a run counts as a single value once its history is here.
        """
        not_logged, single = [], []
        for rid, (_name, _colour, logged) in self._runs.items():
            history = self._histories.get((rid, metric))
            if history is not None:
                if len(history) == 0:
                    not_logged.append(rid)
                elif len(history) == 1:
                    single.append(rid)
            elif logged is not None and metric not in logged:
                not_logged.append(rid)
        return not_logged, single

    def curve(self, run_id: str, metric: str) -> pg.PlotDataItem | None:
        """The drawn (smoothed, if smoothing is on) curve of a run's metric."""
        return self._items.get((run_id, metric))

    def curves(self, metric: str) -> dict[str, pg.PlotDataItem]:
        return {rid: item for (rid, m), item in self._items.items() if m == metric}

    def curve_data(self, run_id: str, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The full (not downsampled) x and y of a drawn curve."""
        key = (run_id, metric)
        if key not in self._items:
            return None
        return self._histories[key].x(self._x_mode), self._values(key)

    def shows_full(self, run_id: str, metric: str) -> bool:
        """Whether the curve is drawn from its full arrays (zoomed in, or short) rather than its preview."""
        history = self._histories.get((run_id, metric))
        return history is not None and (history.preview is None or (run_id, metric) in self._full)

    def shown_points(self, run_id: str, metric: str) -> int:
        """How many points the curve hands to pyqtgraph (the preview, a zoomed-in slice, or all)."""
        item = self._items.get((run_id, metric))
        x = item.getOriginalDataset()[0] if item is not None else None
        return 0 if x is None else len(x)

    def shown_histories(self) -> dict[Key, np.ndarray]:
        """Raw values of the histories of the shown metrics, by (run id, metric)."""
        return {key: h.values for key, h in self._histories.items() if key[1] in self._metrics}

    def when_plots_made(self, fn) -> None:
        """Call ``fn`` once the plots of the shown metrics exist (now, if they do).

        Making a plot is the largest piece of work on the GUI thread; callers
        start their history workers after it rather than compete with it for
        the GIL.
        """
        if self._to_plot:
            self._after_plots.append(fn)
        else:
            fn()

    # -- the work queue ------------------------------------------------------------
    def _kick(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _redraw_all(self) -> None:
        """Redraw every curve: the first few now, the rest on the next turns."""
        for key in self._items:
            self._to_draw[key] = None
        self._pump()

    def _pump(self) -> None:
        deadline = time.perf_counter() + TURN_BUDGET
        while self._step():
            if time.perf_counter() >= deadline:
                self._kick()
                return
        if self._drawing:
            self._drawing = False
            self._update_x_span()
            self._place_legend()
            self.drawn.emit()

    def _step(self) -> bool:
        """Do one piece of queued work; False when there is none."""
        if self._to_plot:
            self._make_plot(self._to_plot.pop(0))
            if not self._to_plot:
                waiting, self._after_plots = self._after_plots, []
                for fn in waiting:
                    fn()
        elif self._legend_todo:
            self._add_legend_entry(self._legend_todo.pop(0))
        elif self._to_draw:
            key = next(iter(self._to_draw))
            del self._to_draw[key]
            self._draw(key)
        elif self._to_check:
            metric = next(iter(self._to_check))
            del self._to_check[metric]
            self._check_resolution(metric)
            return True   # not drawing: no ``drawn`` for a pan
        elif self._autorange:
            self._autorange = False
            for plot in self._plots.values():
                plot.enableAutoRange()
        else:
            return False
        self._drawing = True
        return True

    # -- plots and legend ------------------------------------------------------------
    def _rebuild(self) -> None:
        self.view.clear()
        for store in (self._plots, self._items, self._raw_items, self._to_draw, self._to_check):
            store.clear()
        self._full.clear()
        self._notes.clear()
        self._legend = None
        self._x_span = None
        self._legend_todo = None
        self._autorange = False
        self._to_plot = list(self._metrics)
        if not self._metrics:
            self.show_message("Pick a metric to plot.")
            waiting, self._after_plots = self._after_plots, []
            for fn in waiting:   # no plots to wait for
                fn()
            return
        self.show_chart()
        self._kick()

    def _make_plot(self, metric: str) -> None:
        i = len(self._plots)
        cols = 1 if len(self._metrics) <= 2 else 2
        if i and i % cols == 0:
            self.view.nextRow()
        plot = self.view.addPlot(title=f"<span style='color:{self.colours['text']}; font-size:11pt'><b>"
                                       f"{html.escape(metric)}</b></span>")
        style_plot(plot, self.font(), self.colours)
        plot.setDownsampling(auto=True, mode="peak")   # long histories: a few samples per pixel
        plot.setClipToView(True)
        set_bottom_axis(plot, self._x_mode, self.font(), self.colours)
        if i == 0:
            members = [rid for rid in self._runs if self._logs_shown_metric(rid)]
            if len(members) > 1 or self._weight:
                self._legend = CurveLegend(plot, self.colours)
                self._legend_todo = members
                plot.vb.sigResized.connect(self._place_legend)
            self._x_span = XSpan()
            plot.addItem(self._x_span)
        else:
            plot.setXLink(self._plots[self._metrics[0]])
        plot.vb.sigXRangeChanged.connect(lambda *_a, m=metric: self._range_changed(m))
        plot.vb.sigResized.connect(lambda *_a, m=metric: self._range_changed(m))
        plot.vb.sigResized.connect(lambda *_a, m=metric: self._notes.fit(self._plots.get(m), m))
        self._plots[metric] = plot
        self._update_note(metric)
        for rid in self._runs:   # histories already here, in run order
            if (rid, metric) in self._histories:
                self._to_draw[(rid, metric)] = None
        for key in self._histories:
            if key[1] == metric and key[0] not in self._runs:
                self._to_draw[key] = None

    def _logs_shown_metric(self, run_id: str) -> bool:
        logged = self._runs[run_id][2]
        return logged is None or any(m in logged for m in self._metrics)

    def _add_legend_entry(self, run_id: str) -> None:
        """One entry per run: a sample item standing for the run's curves in every plot."""
        if self._legend is None or run_id not in self._runs:
            return
        name, colour, _ = self._runs[run_id]
        sample = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.6))
        sample.setVisible(run_id not in self._hidden_runs)
        sample.visibleChanged.connect(lambda rid=run_id, s=sample: self._show_run(rid, s.isVisible()))
        self._legend.addItem(sample, name)

    def _show_run(self, run_id: str, visible: bool) -> None:
        (self._hidden_runs.discard if visible else self._hidden_runs.add)(run_id)
        for items in (self._items, self._raw_items):
            for (rid, _m), item in items.items():
                if rid == run_id:
                    item.setVisible(visible)

    def _update_x_span(self) -> None:
        """Let the shared x axis auto-range over the data of every plot, not only the first."""
        if self._x_span is not None:
            self._x_span.follow(self._histories, self._metrics[1:], self._x_mode, self._hidden_runs)

    # -- legend and notes --------------------------------------------------------
    def _place_legend(self, *_args) -> None:
        """Move the legend where the fewest of the first plot's curves pass (raw ones count half)."""
        plot = self._plots.get(self._metrics[0]) if self._metrics else None
        if self._legend is None or plot is None:
            return
        first = self._metrics[0]
        curves = [(item, 1.0) for (_rid, m), item in self._items.items() if m == first]
        curves += [(item, 0.5) for (_rid, m), item in self._raw_items.items() if m == first]
        self._legend.place(plot.vb, curves)

    def _update_note(self, metric: str) -> None:
        """Name the runs this plot draws no curve for (a single value is drawn as a dot)."""
        plot = self._plots.get(metric)
        if plot is None:
            return
        not_logged, single = self.runs_without_curve(metric)
        if single and not any(len(h) > 1 for (rid, m), h in self._histories.items() if m == metric):
            single = []   # every run a dot: nothing looks missing
        self._notes.set(plot, metric, [self._runs[rid][0] for rid in not_logged],
                        [self._runs[rid][0] for rid in single])

    # -- curves ------------------------------------------------------------------------
    def _values(self, key: Key) -> np.ndarray:
        """The full y of a curve: smoothed when smoothing is on."""
        return self._smooth(key)[0] if self._weight else self._histories[key].values

    def _smooth(self, key: Key) -> tuple[np.ndarray, np.ndarray | None]:
        cached = self._smoothed.get(key)
        if cached is None or cached[0] != self._weight:
            history = self._histories[key]
            values = ema(history.values, self._weight)
            preview = peak_indices(values, self.preview_buckets) if history.preview is not None else None
            cached = self._smoothed[key] = (self._weight, values, preview)
        return cached[1], cached[2]

    def _shown(self, key: Key, smoothed: bool) -> tuple[np.ndarray, np.ndarray]:
        """x and y to hand to pyqtgraph: the preview, or everything when zoomed in (or short)."""
        history = self._histories[key]
        values, preview = self._smooth(key) if smoothed else (history.values, history.preview)
        if preview is None:
            return history.x(self._x_mode), values
        if key in self._full:
            i0, i1 = self._full[key]
            return history.x_at(self._x_mode, slice(i0, i1)), values[i0:i1]
        return history.x_at(self._x_mode, preview), values[preview]

    def _draw(self, key: Key) -> None:
        run_id, metric = key
        history, plot = self._histories.get(key), self._plots.get(metric)
        if history is None or plot is None:
            return
        name, colour, _ = self._runs.get(run_id, (run_id[:8], QColor("#1f77b4"), None))
        visible = run_id not in self._hidden_runs
        if self._weight:
            raw = self._raw_items.get(key)
            if raw is None:
                faded = QColor(colour)
                faded.setAlpha(60)
                raw = self._raw_items[key] = self._new_item(plot, faded, 1.0, len(history))
                raw.setZValue(-1)
                raw.setVisible(visible)
            self._set_data(raw, *self._shown(key, smoothed=False))
        elif key in self._raw_items:
            plot.removeItem(self._raw_items.pop(key))
        item = self._items.get(key)
        if item is None:
            item = self._items[key] = self._new_item(plot, colour, 1.6, len(history))
            item.opts["name"] = name   # after addItem: the legend has one entry per run already
            item.setVisible(visible)
        self._set_data(item, *self._shown(key, smoothed=bool(self._weight)))

    @staticmethod
    def _new_item(plot: pg.PlotItem, colour: QColor, width: float, points: int) -> pg.PlotDataItem:
        long = points > LONG_CURVE
        # Qt draws wide or antialiased lines many times slower: long curves get 1 px, aliased.
        item = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.0 if long else width), antialias=not long)
        plot.addItem(item)
        # After addItem: PlotItem.addItem imposes the plot's own (menu) settings on its items.
        item.setDownsampling(auto=True, method="peak")
        item.setClipToView(True)
        item.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
        return item

    @staticmethod
    def _set_data(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        if bool(np.isfinite(y).all() and np.isfinite(x).all()):
            item.setData(x, y, skipFiniteCheck=True)
        else:
            item.setData(x, y, connect="finite")
        if len(y) == 1:  # a single point draws no line: show it as a dot
            item.setSymbol("o")
            item.setSymbolSize(7)
            item.setSymbolBrush(item.opts["pen"].color())

    # -- preview or full, as the view changes -----------------------------------------------
    def _range_changed(self, metric: str) -> None:
        if metric in self._plots:
            self._to_check[metric] = None
            self._kick()

    def _check_resolution(self, metric: str) -> None:
        """Draw the full arrays of curves zoomed in beyond what their preview resolves, and back."""
        plot = self._plots.get(metric)
        if plot is None:
            return
        vb = plot.vb
        auto = vb.autoRangeEnabled()[0]
        (x0, x1), width = vb.viewRange()[0], max(vb.width(), 1.0)
        for key in [k for k in self._items if k[1] == metric]:
            if auto or not self._preview_too_coarse(key, x0, x1, width):
                if self._full.pop(key, None) is not None:
                    self._to_draw[key] = None
                continue
            current = self._full.get(key)
            if current is None or not self._covers(key, current, x0, x1):
                self._full[key] = self._window(key, x0, x1)
                self._to_draw[key] = None

    def _time_axis(self, key: Key) -> tuple[np.ndarray, float]:
        """The stored array behind the x axis and the shift from it to x (no copy of a million points)."""
        history = self._histories[key]
        if self._x_mode == "step":
            return history.steps, 0.0
        return history.timestamps, (-history.origin if self._x_mode == "relative" else 0.0)

    def _window(self, key: Key, x0: float, x1: float) -> tuple[int, int]:
        """Indices of the points from one view width left of the view to one right of it.

        Handing pyqtgraph this slice instead of a million points keeps each
        redraw cheap; panning within it needs no new slice.
        """
        xs, shift = self._time_axis(key)
        sorted_ = self._x_sorted.get(key)
        if sorted_ is None:
            sorted_ = self._x_sorted[key] = bool(xs.size < 2 or np.all(xs[1:] >= xs[:-1]))
        if not sorted_:
            return 0, int(xs.size)
        span = x1 - x0
        i0 = int(np.searchsorted(xs, x0 - span - shift, side="left")) - 1
        i1 = int(np.searchsorted(xs, x1 + span - shift, side="right")) + 1
        return max(i0, 0), min(i1, int(xs.size))

    def _covers(self, key: Key, window: tuple[int, int], x0: float, x1: float) -> bool:
        xs, shift = self._time_axis(key)
        i0, i1 = window
        if i1 <= i0:
            return False
        return (i0 == 0 or xs[i0] + shift <= x0) and (i1 == xs.size or xs[i1 - 1] + shift >= x1)

    def _preview_too_coarse(self, key: Key, x0: float, x1: float, width: float) -> bool:
        history = self._histories[key]
        if history.preview is None:
            return False
        cached = self._preview_x.get(key)
        if cached is None or cached[0] != self._x_mode:
            cached = self._preview_x[key] = (self._x_mode, history.x_at(self._x_mode, history.preview))
        xs = cached[1]
        inside = int(np.count_nonzero((xs >= x0) & (xs <= x1)))
        return inside < 2 * width   # under one min/max pair per pixel

    # -- readout under the mouse ------------------------------------------------
    def _on_mouse_moved(self, pos) -> None:
        for metric, plot in self._plots.items():
            if not plot.sceneBoundingRect().contains(pos):
                continue
            x = plot.vb.mapSceneToView(pos).x()
            parts = []
            for (rid, m), item in self._items.items():
                if m != metric or not item.isVisible():
                    continue
                i = nearest(self._histories[(rid, m)], x, self._x_mode)
                if i is None:
                    continue
                name, colour, _ = self._runs.get(rid, (rid[:8], QColor("#1f77b4"), None))
                parts.append(f"<span style='color:{colour.name()}'>●</span> {html.escape(name)} "
                             f"<b>{self._values((rid, m))[i]:.5g}</b>")
            where = (fmt_time(x) if self._x_mode == "wall"
                     and x > 0 else f"{X_LABELS[self._x_mode].split(' (')[0].lower()} {x:,.4g}")
            self.readout.setText(f"<b>{html.escape(metric)}</b> at {html.escape(where)}: " + " &nbsp; ".join(parts))
            return

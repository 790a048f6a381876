"""The chart tabs of the compare view: each a side panel of choices beside
its chart. Panels are handed the loaded :class:`Comparison` and run colours;
the curves panel also loads metric histories in workers, with their
downsampled previews, and smooths long histories there too.

Scatter and parallel coordinates draw only while visible (and when shown
again after a change), so opening a comparison stays quick.
"""

from __future__ import annotations

import html
from typing import Sequence

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.tracking import compare as cmp
from ...core.tracking import history
from ..kit.tables import check_only, checkable_item, checked_keys
from ..kit.theme import theme
from ..kit.workers import Jobs, pool

X_MODES = (("step", "Step"), ("relative", "Time since run start"), ("wall", "Wall time"))
MAX_DEFAULT_AXES = 6
HISTORY_POOL = "history"   # the threads that read metric histories, shared by every compare window
HISTORY_THREADS = 2   # more readers only compete with the GUI thread for the GIL
SYNC_SMOOTH_POINTS = 300_000   # up to this many shown points, smoothing runs at once (< ~10 ms)


def _smooth_all(values: dict, weight: float, buckets: int | None = None):
    """Worker body: the moving average of every shown curve, with its preview indices
    when the curve is long enough to be drawn from a preview."""
    out = {}
    for key, v in values.items():
        smoothed = history.ema(v, weight)
        long = buckets is not None and len(smoothed) > 2 * buckets
        out[key] = (smoothed, history.peak_indices(smoothed, buckets) if long else None)
    return weight, out


def _load_history(project, run_id: str, metric: str, start_time: float, preview_buckets: int | None = None):
    """Worker body: never raises, so every request is answered."""
    try:
        return run_id, metric, history.load_history(project, run_id, metric, start_time, preview_buckets), None
    except Exception as exc:  # shown in the status line
        return run_id, metric, None, str(exc)


def _side_by_side(side: QWidget, chart: QWidget) -> QSplitter:
    split = QSplitter()
    split.addWidget(side)
    split.addWidget(chart)
    split.setStretchFactor(1, 1)
    split.setSizes([220, 900])
    return split


class CurvesPanel(QWidget):
    """Metric picker, x axis, smoothing, and the overlaid curves of every run."""

    curvesLoaded = Signal()

    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        from ..charts.curves import CurvesChart

        self.project = project
        self.runs: tuple = ()
        self.colours: dict[str, QColor] = {}
        self.chart = CurvesChart()
        self.chart.drawn.connect(self._maybe_done)
        self._round = False   # a (re)load is under way: curvesLoaded when it is all drawn
        self.jobs = Jobs(self, pool(HISTORY_POOL, max_threads=HISTORY_THREADS))
        self._pending: set[tuple[str, str]] = set()
        self._done: set[tuple[str, str]] = set()
        self._errors: list[str] = []
        self._smoothing_busy = False
        self.metric_list = QListWidget()
        self.metric_list.setToolTip("Tick the metrics to plot; each gets its own chart")
        self.metric_list.itemChanged.connect(self._on_metric_checked)
        self.x_mode = QComboBox()
        for key, label in X_MODES:
            self.x_mode.addItem(label, key)
        self.x_mode.setToolTip("Steps, seconds since each run started, or the clock time of each point")
        self.x_mode.currentIndexChanged.connect(lambda _i: self.chart.set_x_mode(self.x_mode.currentData()))
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setToolTip("Exponential moving average weight (0 = raw data)")
        self.smoothing_value = QLabel("0.00")
        self._smooth_timer = QTimer(self)
        self._smooth_timer.setSingleShot(True)
        self._smooth_timer.setInterval(60)   # drag the slider freely; smooth when it rests
        self._smooth_timer.timeout.connect(self._apply_smoothing)
        self.smoothing.valueChanged.connect(self._on_smoothing_moved)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet(f"color: {theme()['muted']};")
        smooth_row = QHBoxLayout()
        smooth_row.addWidget(self.smoothing, 1)
        smooth_row.addWidget(self.smoothing_value)
        side = QWidget()
        form = QVBoxLayout(side)
        form.setContentsMargins(0, 6, 6, 0)
        form.addWidget(QLabel("<b>Metrics</b>"))
        form.addWidget(self.metric_list, 1)
        form.addWidget(QLabel("<b>X axis</b>"))
        form.addWidget(self.x_mode)
        form.addWidget(QLabel("<b>Smoothing</b>"))
        form.addLayout(smooth_row)
        form.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(_side_by_side(side, self.chart))

    def set_comparison(self, comparison: cmp.Comparison, colours: dict[str, QColor]) -> None:
        self.runs, self.colours = comparison.runs, colours
        self._hand_runs()
        metrics = comparison.metric_keys
        default = cmp.preferred_metric(self.runs, metrics, widest=False)
        self.metric_list.blockSignals(True)
        self.metric_list.clear()
        for key in metrics:
            have = cmp.coverage(self.runs, f"metrics.{key}")
            self.metric_list.addItem(checkable_item(key, key == default, f"logged by {have} of {len(self.runs)} runs"))
        self.metric_list.blockSignals(False)
        self._on_metric_checked()

    def checked_metrics(self) -> list[str]:
        return checked_keys(self.metric_list)

    def _hand_runs(self) -> None:
        """The chart's runs: legend order, colours, and the metrics each logged (for its notes)."""
        self.chart.set_runs([(r.id, r.name, self.colours.get(r.id, QColor("#1f77b4")), tuple(r.metrics))
                             for r in self.runs])

    def reload(self, comparison: cmp.Comparison, run_ids) -> None:
        """Read the shown curves of ``run_ids`` again (live runs), keeping the choices made."""
        self.runs = comparison.runs
        self._hand_runs()   # what each run logged now: the notes under the plots follow
        known = {self.metric_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.metric_list.count())}
        self.metric_list.blockSignals(True)
        for key in comparison.metric_keys:
            if key not in known:   # logged since the window opened
                self.metric_list.addItem(checkable_item(key, False))
        self.metric_list.sortItems()
        self.metric_list.blockSignals(False)
        self._done = {key for key in self._done if key[0] not in set(run_ids)}
        self._on_metric_checked()

    def set_metrics(self, metrics: Sequence[str]) -> None:
        check_only(self.metric_list, metrics)
        self._on_metric_checked()

    def set_x_mode(self, mode: str) -> None:
        self.x_mode.setCurrentIndex([k for k, _ in X_MODES].index(mode))

    def set_smoothing(self, weight: float) -> None:
        """Move the slider and apply without waiting for it to rest.

        Millions of points are smoothed in a worker: ``chart.smoothing``
        changes when they are drawn.
        """
        self.smoothing.setValue(int(round(weight * 100)))
        self._smooth_timer.stop()
        self._apply_smoothing()

    @property
    def loading(self) -> bool:
        return bool(self._pending) or not self.chart.idle

    def cancel(self) -> None:
        self.jobs.cancel_all()

    def _on_smoothing_moved(self, value: int) -> None:
        self.smoothing_value.setText(f"{value / 100:.2f}")
        self._smooth_timer.start()

    def _apply_smoothing(self) -> None:
        weight = self.smoothing.value() / 100
        shown = self.chart.shown_histories()
        if not weight or sum(len(v) for v in shown.values()) <= SYNC_SMOOTH_POINTS:
            self.chart.set_smoothing(weight)
            return
        self._smoothing_busy = True   # millions of points: smooth in a worker, then draw the previews
        self._update_status()
        self.jobs.start(_smooth_all, shown, weight, self.chart.preview_buckets, done=self._on_smoothed)

    @Slot(object)
    def _on_smoothed(self, result) -> None:
        weight, smoothed = result
        self._smoothing_busy = False
        self._update_status()
        if weight == self.smoothing.value() / 100:   # the slider may have moved on
            self.chart.preset_smoothed(weight, smoothed)
            self.chart.set_smoothing(weight)

    def _on_metric_checked(self, _item=None) -> None:
        metrics = self.checked_metrics()
        self.chart.set_metrics(metrics)
        for key in [k for k in self._done if k[1] not in metrics]:   # unticked: free the arrays
            self._done.discard(key)
            self.chart.drop_history(*key)
        wanted = [(run, metric) for run in self.runs for metric in metrics
                  if metric in run.metrics and (run.id, metric) not in self._pending | self._done]
        self._pending.update((run.id, metric) for run, metric in wanted)
        self._update_status()
        self._round = True
        if wanted:
            self.chart.when_plots_made(lambda: self._load(wanted))
        self._maybe_done()

    def _load(self, wanted) -> None:
        buckets = self.chart.preview_buckets
        for run, metric in wanted:
            self.jobs.start(_load_history, self.project, run.id, metric, run.start_time, buckets,
                            done=self._on_history)

    @Slot(object)
    def _on_history(self, result) -> None:
        run_id, metric, history, error = result
        key = (run_id, metric)
        self._pending.discard(key)
        if history is not None:
            if metric in self.chart.metrics:   # not unticked meanwhile
                self._done.add(key)
                self.chart.set_history(run_id, metric, history)
        else:
            self._done.add(key)
            self._errors.append(error)
        self._update_status()
        self._maybe_done()

    def _maybe_done(self) -> None:
        """``curvesLoaded`` once every asked-for history is loaded and drawn."""
        if self._round and not self._pending and self.chart.idle:
            self._round = False
            self.curvesLoaded.emit()

    def _update_status(self) -> None:
        parts = []
        if self._smoothing_busy:
            parts.append("Smoothing…")
        if self._pending:
            parts.append(f"Loading {len(self._pending)} curve{'s' if len(self._pending) != 1 else ''}…")
        if self._errors:
            parts.append(f"<span style='color:{theme()['error']}'>{html.escape(self._errors[-1])}</span>")
        self.status.setText("<br>".join(parts))


class _LazyPanel(QWidget):
    """Makes its chart when first needed and redraws it only when visible.

    A change while hidden waits for the next show: opening a comparison
    builds and draws only the table and the curves.
    """

    runClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.comparison: cmp.Comparison | None = None
        self.colours: dict[str, QColor] = {}
        self._stale = False
        self._chart = None
        self._selected: str | None = None

    @property
    def chart(self):
        if self._chart is None:
            self._chart = self._make_chart()
            self._chart.selected = self._selected
        return self._chart

    def highlight(self, run_id: str | None) -> None:
        self._selected = run_id
        if self._chart is not None:
            self._chart.highlight(run_id)

    def _make_chart(self):
        raise NotImplementedError

    def update_comparison(self, comparison: cmp.Comparison) -> None:
        """New values for the same runs (live runs): redraw, keeping the choices made."""
        self.comparison = comparison
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        if self.comparison is None:
            return
        if not force and not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self._draw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh(force=True)

    def _draw(self) -> None:
        raise NotImplementedError


class ScatterPanel(_LazyPanel):
    """Any param or metric against any metric; a click on a point emits ``runClicked``.

    A text param on x places each run at its value's category (with a small
    fixed jitter) and names the categories on the x axis.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.x_combo, self.y_combo = QComboBox(), QComboBox()
        for combo in (self.x_combo, self.y_combo):
            combo.setMinimumContentsLength(18)
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self.x_combo.setToolTip("A param (numbers, or text shown as categories) or a metric")
        self.y_combo.setToolTip("A metric")
        bar = QHBoxLayout()
        for label, combo in (("X:", self.x_combo), ("Y:", self.y_combo)):
            bar.addWidget(QLabel(label))
            bar.addWidget(combo)
            bar.addSpacing(16)
        bar.addStretch(1)
        hint = QLabel("Click a point to select its run")
        hint.setStyleSheet(f"color: {theme()['muted']};")
        bar.addWidget(hint)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 6, 0, 0)
        self._layout.addLayout(bar)

    def _make_chart(self):
        from ..charts.base import ScatterChart

        chart = ScatterChart()
        chart.pointClicked.connect(self.runClicked)
        self._layout.addWidget(chart, 1)
        return chart

    def set_comparison(self, comparison: cmp.Comparison, colours: dict[str, QColor], y_metric: str | None) -> None:
        self.comparison, self.colours = comparison, colours
        runs = comparison.runs
        for combo in (self.x_combo, self.y_combo):
            combo.blockSignals(True)
            combo.clear()
        numeric = comparison.numeric_param_keys
        text = set(comparison.categorical_param_keys)
        for key in sorted(set(numeric) | text, key=lambda k: (k.lower(), k)):
            self.x_combo.addItem(f"{key}  (param, text)" if key in text else f"{key}  (param)", f"params.{key}")
        for key in comparison.metric_keys:
            self.x_combo.addItem(f"{key}  (metric)", f"metrics.{key}")
            self.y_combo.addItem(key, f"metrics.{key}")
        # x: the differing numeric param most runs logged (a point per run, spread out)
        differing = set(comparison.differing_param_keys)
        spread = [k for k in cmp.by_coverage(runs, numeric, "params")
                  if k in differing and cmp.coverage(runs, f"params.{k}") > 1]
        if spread:
            x_default = f"params.{spread[0]}"
        else:
            others = [k for k in comparison.metric_keys if k != y_metric]
            x_default = f"metrics.{others[0]}" if others else self.x_combo.itemData(0)
        self.x_combo.setCurrentIndex(max(self.x_combo.findData(x_default), 0))
        self.y_combo.setCurrentIndex(max(self.y_combo.findData(f"metrics.{y_metric}"), 0))
        for combo in (self.x_combo, self.y_combo):
            combo.blockSignals(False)
        self.refresh()

    def set_axes(self, x_key: str, y_key: str) -> None:
        for combo, key in ((self.x_combo, x_key), (self.y_combo, y_key)):
            index = combo.findData(key)
            if index < 0:
                raise KeyError(f"{key!r} is not offered on this axis")
            combo.blockSignals(True)
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        self.refresh()

    def _draw(self) -> None:
        x_key, y_key = self.x_combo.currentData(), self.y_combo.currentData()
        if not x_key or not y_key:
            self.chart.show_message("These runs have no metrics to plot.")
            return
        data = cmp.scatter_data(self.comparison.runs, x_key, y_key)
        self.chart.set_data(data, self.colours, x_key.split(".", 1)[1], y_key.split(".", 1)[1])


class ParallelPanel(_LazyPanel):
    """Chosen params and one metric as parallel axes, lines coloured by the metric."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.axis_list = QListWidget()
        self.axis_list.setToolTip("Tick the params to show as axes")
        self.axis_list.itemChanged.connect(lambda _item: self.refresh())
        self.colour_metric = QComboBox()
        self.colour_metric.setToolTip("The metric shown as the last axis and as the line colour")
        self.colour_metric.currentIndexChanged.connect(lambda _i: self.refresh())
        side = QWidget()
        form = QVBoxLayout(side)
        form.setContentsMargins(0, 6, 6, 0)
        form.addWidget(QLabel("<b>Params</b>"))
        form.addWidget(self.axis_list, 1)
        colour_form = QFormLayout()
        colour_form.addRow("Colour by", self.colour_metric)
        form.addLayout(colour_form)
        self._split = _side_by_side(side, QWidget())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._split)

    def _make_chart(self):
        from ..charts.parallel import ParallelCoordinatesChart

        chart = ParallelCoordinatesChart()
        chart.lineClicked.connect(self.runClicked)
        self._split.replaceWidget(1, chart)
        self._split.setSizes([220, 900])
        return chart

    def set_comparison(self, comparison: cmp.Comparison, colours: dict[str, QColor], metric: str | None) -> None:
        self.comparison, self.colours = comparison, colours
        runs = comparison.runs
        differing = comparison.differing_param_keys
        # the differing params most runs logged: fewer broken lines
        widest = [k for k in cmp.by_coverage(runs, differing, "params")
                  if cmp.coverage(runs, f"params.{k}") > 1] or differing
        chosen = set(widest[:MAX_DEFAULT_AXES] or comparison.param_keys[:4])
        self.axis_list.blockSignals(True)
        self.axis_list.clear()
        for key in comparison.param_keys:
            have = cmp.coverage(runs, f"params.{key}")
            tip = "Same value in every run" if key not in differing else f"logged by {have} of {len(runs)} runs"
            self.axis_list.addItem(checkable_item(key, key in chosen, tip))
        self.axis_list.blockSignals(False)
        self.colour_metric.blockSignals(True)
        self.colour_metric.clear()
        for key in comparison.metric_keys:
            self.colour_metric.addItem(key, key)
        self.colour_metric.setCurrentIndex(max(self.colour_metric.findData(metric), 0))
        self.colour_metric.blockSignals(False)
        self.refresh()

    def params(self) -> list[str]:
        return checked_keys(self.axis_list)

    def choose(self, params: Sequence[str], metric: str | None) -> None:
        check_only(self.axis_list, params)
        self.colour_metric.blockSignals(True)
        self.colour_metric.setCurrentIndex(max(self.colour_metric.findData(metric), 0))
        self.colour_metric.blockSignals(False)
        self.refresh()

    def _draw(self) -> None:
        self.chart.set_data(cmp.parallel_data(self.comparison.runs, self.params(), self.colour_metric.currentData()))

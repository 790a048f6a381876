"""The shared x axis of the curves chart (see :mod:`.curves`): its label and
kind per x mode, the item that stretches its auto-range over every plot,
and the point of a history nearest an x position."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ...core.text import local_zone
from ...core.tracking.history import History
from .base import axis_label, style_plot

X_LABELS = {"step": "Step", "relative": "Time since run start (s)", "wall": "Wall time"}
Key = tuple[str, str]      # (run id, metric)


class XSpan(pg.GraphicsObject):
    """Invisible: stretches the first plot's x auto-range over every plot's data.

    The plots share the first one's x axis (``setXLink``) and pyqtgraph
    auto-ranges it from the first plot's own items only, so a first metric
    logged once per run (a dot at step 0) would squeeze every other plot to
    -0.5..0.5. This item reports the other plots' x extent to that range and
    nothing for y.
    """

    def __init__(self):
        super().__init__()
        self.span: tuple[float, float] | None = None

    def set_span(self, span: tuple[float, float] | None) -> None:
        if span != self.span:
            self.span = span
            self.informViewBoundsChanged()

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        return self.span if ax == 0 else None

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, *_args) -> None:
        pass

    def follow(self, histories: dict[Key, History], metrics, x_mode: str, hidden_runs: set[str]) -> None:
        """Span the x extent of ``histories`` of ``metrics`` (the plots after the first), hidden runs left out."""
        # From the histories, not the items: curves are clipped to the view they would widen.
        others = set(metrics)
        lo = hi = None
        for (rid, metric), history in histories.items():
            if metric not in others or not len(history) or rid in hidden_runs:
                continue
            x = history.x(x_mode)
            if history.preview is not None:     # a long history: its preview keeps the ends
                x = x[history.preview]
            with np.errstate(invalid="ignore"):
                first, last = float(np.nanmin(x)), float(np.nanmax(x))
            if first != first:                   # all NaN
                continue
            lo = first if lo is None else min(lo, first)
            hi = last if hi is None else max(hi, last)
        self.set_span(None if lo is None else (lo, hi))


def set_bottom_axis(plot: pg.PlotItem, x_mode: str, font, colours: dict) -> None:
    """A date axis for wall time, a plain one otherwise, labelled for ``x_mode``."""
    current = plot.getAxis("bottom")
    want_date = x_mode == "wall"
    if isinstance(current, pg.DateAxisItem) != want_date:
        axis = pg.DateAxisItem(orientation="bottom") if want_date else pg.AxisItem("bottom")
        plot.setAxisItems({"bottom": axis})
        style_plot(plot, font, colours)
    axis_label(plot, "bottom", X_LABELS[x_mode] + (f" ({local_zone()})" if want_date else ""))


def nearest(history: History, x: float, x_mode: str) -> int | None:
    """Index of the point nearest ``x`` (the x values are in order), without copying the axis."""
    if not len(history):
        return None
    xs = history.timestamps if x_mode != "step" else history.steps
    if x_mode == "relative":
        x += history.origin
    i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
    if i > 0 and abs(xs[i - 1] - x) < abs(xs[i] - x):
        i -= 1
    return i

"""Metric histories for charts: loading, smoothing (EMA) and peak-preserving previews."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


# -- numbers for charts --------------------------------------------------------
def ema(values, weight: float) -> np.ndarray:
    """Exponential moving average, TensorBoard style: y[i] = w*y[i-1] + (1-w)*x[i].

    ``y[0] = x[0]``; ``weight`` 0 returns the data unchanged. Non-finite
    points (NaN, inf) are skipped: they stay NaN/inf in the output and do not
    poison the points after them. Vectorised (scipy's lfilter), so a
    1,000,000-point history takes about 10 ms; it is filtered in chunks, so a
    worker smoothing millions of points lets go of the GIL every millisecond
    or so instead of holding up the GUI thread for 10 ms at a time.
    """
    x = np.asarray(values, dtype="float64")
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1); got {weight}")
    if weight == 0.0 or x.size == 0:
        return x.copy()
    finite = np.isfinite(x)
    if finite.all():
        return _ema_finite(x, weight)
    out = x.copy()
    xs = x[finite]
    if xs.size:
        out[finite] = _ema_finite(xs, weight)
    return out


EMA_CHUNK = 1 << 17


def _ema_finite(x: np.ndarray, weight: float) -> np.ndarray:
    from scipy.signal import lfilter

    b, a = [1.0 - weight], [1.0, -weight]
    state = np.array([weight * x[0]])
    out = np.empty_like(x)
    for start in range(0, x.size, EMA_CHUNK):
        out[start:start + EMA_CHUNK], state = lfilter(b, a, x[start:start + EMA_CHUNK], zi=state)
    return out


def peak_indices(values, buckets: int) -> np.ndarray:
    """Indices of a peak-preserving subset of ``values``, in order.

    The points are cut into ``buckets`` runs of equal length; each run keeps
    its smallest and largest value (and its first non-finite one, so a gap
    stays a gap), and the first and last point are always kept. A line
    through these ~2 points per bucket looks like the line through every
    point on a chart up to ``buckets`` pixels wide, at a fraction of the
    cost. The indices do not depend on the x values, so the same subset
    serves any x axis. Every index is returned when there are no more than
    ``2 * buckets`` points. About 10 ms per 1,000,000 points.
    """
    y = np.asarray(values, dtype="float64")
    n = int(y.size)
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1; got {buckets}")
    if n <= 2 * buckets:
        return np.arange(n)
    size = -(-n // buckets)                 # points per bucket (the last one may be shorter)
    full = n // size
    parts = [np.array([0, n - 1])]
    parts += _bucket_peaks(y[:full * size].reshape(full, size), 0)
    if full * size < n:
        parts += _bucket_peaks(y[full * size:].reshape(1, -1), full * size)
    return np.unique(np.concatenate(parts))


def _bucket_peaks(rows: np.ndarray, offset: int) -> list[np.ndarray]:
    """Index (into the flat array) of each row's min, max and first non-finite value."""
    size = rows.shape[1]
    starts = offset + np.arange(rows.shape[0]) * size
    finite = np.isfinite(rows)
    if finite.all():
        return [starts + rows.argmin(axis=1), starts + rows.argmax(axis=1)]
    low = np.where(finite, rows, np.inf).argmin(axis=1)
    high = np.where(finite, rows, -np.inf).argmax(axis=1)
    bad = ~finite
    has_bad = bad.any(axis=1)
    return [starts + low, starts + high, (starts + bad.argmax(axis=1))[has_bad]]


@dataclass(frozen=True)
class History:
    """One metric history as plain arrays (float64), ready to plot.

    ``preview`` holds the indices of a peak-preserving subset
    (:func:`peak_indices`) for long histories, None for short ones: charts
    draw the subset while the whole history is in view and the full arrays
    when zoomed in.
    """

    steps: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray
    start_time: float | None = None   # the run's start, for relative time
    preview: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.values.size)

    @property
    def origin(self) -> float:
        """Where relative time starts: the run's start, else the first point."""
        if self.start_time is not None:
            return self.start_time
        return float(self.timestamps[0]) if self.timestamps.size else 0.0

    def x(self, mode: str) -> np.ndarray:
        """x values for ``mode``: 'step', 'relative' (s since run start) or 'wall' (epoch s)."""
        if mode == "step":
            return self.steps
        if mode == "wall":
            return self.timestamps
        if mode == "relative":
            return self.timestamps - self.origin
        raise ValueError(f"unknown x mode {mode!r}; use 'step', 'relative' or 'wall'")

    def x_at(self, mode: str, index: np.ndarray | slice) -> np.ndarray:
        """``x(mode)[index]`` (indices or a slice) without computing x for every point."""
        if mode == "relative":
            return self.timestamps[index] - self.origin
        return self.x(mode)[index]

    def with_preview(self, buckets: int | None) -> "History":
        """This history with ``preview`` indices for ``buckets`` (None when it is short enough)."""
        if not buckets or len(self) <= 2 * buckets:
            return replace(self, preview=None)
        return replace(self, preview=peak_indices(self.values, buckets))


def load_history(project, run_id: str, key: str, start_time: float | None = None,
                 preview_buckets: int | None = None) -> History:
    """A metric's history as arrays (1,000,000 points ≈ 0.5 s: call off the GUI thread).

    With ``preview_buckets`` a long history also carries its peak-preserving
    preview (:meth:`History.with_preview`), computed here, off the GUI thread.
    """
    from .runs import get_metric_history

    frame = get_metric_history(project, run_id, key)
    history = History(frame["step"].to_numpy(dtype="float64"), frame["value"].to_numpy(dtype="float64"),
                      frame["timestamp"].to_numpy(dtype="float64"), start_time)
    return history.with_preview(preview_buckets) if preview_buckets else history


def history_lengths(project, run_id: str) -> dict[str, int]:
    """How many points each metric of a run has logged, without reading the points.

    Cheap (it sums the chunk sizes): lets a view label and choose metrics
    before it loads any history.
    """
    from .runs import run_rid

    rid = run_rid(project, run_id)
    rows = project.read("SELECT k.name, SUM(c.n) FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id"
                        " WHERE c.run_rid = ? GROUP BY k.name", (rid,))
    return {name: int(n or 0) for name, n in rows}

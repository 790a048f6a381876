"""Drift over the prediction log: one report for a period, or one per window, kept in the project.

:func:`drift_for` compares what a model version was asked in a period (or a
CSV batch) with its reference (``reference``). :func:`drift_windows` cuts the
log into windows, by time (``"1h"``, ``"1d"``, ``"1w"``, multiples such as
``"6h"``; aligned to UTC: hours and days on the hour and midnight, weeks on
Mondays) or by count (``500``: every 500 predictions, from the first one in
the period), and runs the same comparison on each.

Windows are stored (table ``drift_windows``, migration m008), keyed by the
model's identity (run, artifact, sha256), the reference dataset, the options
(``every`` and the drift options) and the window's start. A stored window is
reused while the number of predictions in it is unchanged, so reopening reads
only the per-window counts and computes the windows that are new or have
grown (the still-open last one). Windows with no predictions are left out; a
window with few rows gets the engine's answer ("too few rows"), not an error.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from .. import clock
from ..errors import UsageError
from ..serving.prediction_log import rows_before, served_where
from ..storage.project import Project
from . import reference as ref_mod

WINDOW_FIELDS = ("window_start", "window_end", "rows", "column", "score", "threshold", "drifted", "share",
                 "dataset_drifted", "test", "note", "type", "psi", "missing_ref", "missing_cur")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 604800}
_WEEK_ORIGIN = 4 * 86400     # 1970-01-05, a Monday: weeks start on Mondays (epoch 0 was a Thursday)
_EVERY = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
CHUNK_ROWS = 250_000         # at most about this many predictions decoded at once

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Every:
    """A parsed ``every``: ``seconds`` for time windows, ``count`` for N-prediction windows."""

    text: str
    seconds: int = 0
    count: int = 0

    @property
    def origin(self) -> int:
        return _WEEK_ORIGIN if self.seconds and self.seconds % _UNIT_SECONDS["w"] == 0 else 0


def parse_every(every) -> Every:
    """``"1h"``/``"1d"``/``"1w"`` (or ``"6h"``, ``"2d"``...) or a number N of predictions; else a ``UsageError``."""
    if isinstance(every, bool):
        every = str(every)
    if isinstance(every, int) or (isinstance(every, str) and every.strip().isdigit()):
        n = int(every)
        if n < 1:
            raise UsageError(f"every={every!r}: a window needs at least 1 prediction.")
        return Every(str(n), count=n)
    match = _EVERY.match(every) if isinstance(every, str) else None
    if match is None or int(match.group(1)) < 1:
        raise UsageError(f"every={every!r} is not a window: use 1h, 1d, 1w (or a multiple such as 6h), "
                         "or a number of predictions such as 500.")
    n, unit = int(match.group(1)), match.group(2)
    return Every(f"{n}{unit}", seconds=n * _UNIT_SECONDS[unit])


def period_bounds(since, until) -> tuple[float | None, float | None]:
    """``[since, until)`` as epoch seconds (None: open); since not before until is a UsageError."""
    from ..serving.prediction_log import to_epoch

    start, end = to_epoch(since, "since"), to_epoch(until, "until")
    if start is not None and end is not None and start >= end:
        raise UsageError(f"since ({since}) must be before until ({until}).")
    return start, end


def drift_options(project: Project, options) -> dict:
    """The project's drift settings with ``options`` over them, checked (a typo is an error here)."""
    from .overrides import merge_options, parse_options, project_options

    merged = merge_options(project_options(project), options)
    parse_options(merged)    # a typo is an error now, not in the middle of the windows
    return merged


def describe_period(start, end) -> str:
    """The period in words for messages: "since <time> before <time>", or "yet" when open."""
    from ..text import fmt_time

    if start is None and end is None:
        return "yet"
    parts = ([f"since {fmt_time(start)}"] if start is not None else []) + \
        ([f"before {fmt_time(end)}"] if end is not None else [])
    return " ".join(parts)


def drift_for(project: Project, uri: str, since=None, until=None, *, current=None, options=None,
              progress: Progress | None = None, should_stop: Callable[[], bool] | None = None):
    """The drift report of ``uri``'s logged inputs in ``[since, until)`` against its training data.

    ``current`` (a CSV path or a DataFrame) replaces the prediction log; it
    must hold every input column of the model. The options are the project's
    ``drift.options`` with ``options`` over them. Returns a
    :class:`~modeldesk.core.monitoring.drift.DriftReport` (None when
    ``should_stop`` said stop).
    """
    from ..serving.prediction_log import get_predictions
    from .drift import compare

    start, end = period_bounds(since, until)
    options = drift_options(project, options)
    m = ref_mod.monitored(project, uri)
    reference = ref_mod.reference_frame(project, m)
    columns = ref_mod.input_columns(m, reference)
    if current is None:
        frame = get_predictions(project, m.log_uri, since=start, until=end, outputs=False)
        if len(frame) == 0:
            raise UsageError(f"No predictions of {m.uri} were logged {describe_period(start, end)}: "
                             "there is nothing to compare.")
        current = ref_mod.current_from_log(frame, columns)
    elif isinstance(current, str) or hasattr(current, "__fspath__"):
        current = ref_mod.current_from_csv(current, columns)
    else:
        missing = [c for c in columns if c not in current.columns]
        if missing:
            raise UsageError(f"The current data lacks the model's input column(s) {', '.join(map(repr, missing[:5]))}.")
        current = current[columns]
    return compare(reference, current, options=options, progress=progress, should_stop=should_stop)


# -- windows ---------------------------------------------------------------------------------------------
@dataclass
class Window:
    start: float        # Unix seconds
    end: float          # exclusive for time windows; the last prediction's time for count windows
    rows: int
    first: int          # position of its first prediction among those of the period
    stored: dict | None = None


def time_windows(project: Project, served: list[int], every: Every, start, end) -> list[Window]:
    """Non-empty time windows from per-bucket counts (one aggregate query, no decoding)."""
    where, args = served_where(served, start, end)
    sql = (f"SELECT CAST((time - ?) / ? AS INTEGER) AS b, SUM(rows) FROM prediction_requests WHERE {where}"
           " GROUP BY b ORDER BY b")
    windows, first = [], 0
    for bucket, rows in project.read(sql, [every.origin, every.seconds, *args]):
        if not rows:
            continue
        lo = every.origin + bucket * every.seconds
        hi = lo + every.seconds
        windows.append(Window(max(lo, start) if start is not None else lo,
                               min(hi, end) if end is not None else hi, int(rows), first))
        first += int(rows)
    return windows


def count_windows(project: Project, served: list[int], every: Every, start, end) -> list[Window]:
    import numpy as np

    where, args = served_where(served, start, end)
    got = project.read(f"SELECT time, rows FROM prediction_requests WHERE {where} ORDER BY time, id", args)
    if not got:
        return []
    data = np.asarray(got, dtype=np.float64)
    times = np.repeat(data[:, 0], data[:, 1].astype(np.int64))
    windows = []
    for first in range(0, times.size, every.count):
        last = min(first + every.count, times.size) - 1
        windows.append(Window(float(times[first]), float(times[last]), last - first + 1, first))
    return windows


def _key(m: ref_mod.Monitored, every: Every, options: dict) -> tuple:
    return (m.run_id, m.artifact, m.sha256, m.reference, json.dumps({"every": every.text, "options": options},
                                                                     sort_keys=True, default=str))


def drift_windows(project: Project, uri: str, every="1d", since=None, until=None, *, options=None,
                  progress: Progress | None = None, should_stop: Callable[[], bool] | None = None,
                  cached_only: bool = False):
    """Drift of ``uri``'s logged inputs per window, one row per window and column (see the module docstring).

    Columns: ``window_start``, ``window_end`` (UTC), ``rows``, ``column``,
    ``score``, ``threshold``, ``drifted``, ``share``, ``dataset_drifted``,
    ``test``, ``note``, and the column's ``type``, ``psi``, ``missing_ref``
    and ``missing_cur``. ``frame.attrs`` holds ``computed`` and ``reused``
    (windows); with ``cached_only`` also ``pending`` (windows not kept yet). Returns None when
    ``should_stop`` said stop (windows computed so far are kept).
    ``cached_only``: compute nothing, return the kept windows that are still
    valid (what the app shows at once, before the others are computed).
    """
    every = parse_every(every)
    start, end = period_bounds(since, until)
    options = drift_options(project, options)
    m = ref_mod.monitored(project, uri)
    served = [r[0] for r in project.read("SELECT id FROM served_versions WHERE run_id = ? AND artifact = ?"
                                         " ORDER BY id", (m.run_id, m.artifact))]
    windows = (time_windows if every.seconds else count_windows)(project, served, every, start, end)
    key = _key(m, every, options)
    stored = {r[0]: r[1:] for r in project.read(
        "SELECT window_start, window_end, rows, report FROM drift_windows WHERE run_id = ? AND artifact = ?"
        " AND sha256 = ? AND reference = ? AND options = ?", key)}
    todo = []
    for w in windows:
        old = stored.get(w.start)
        if old is not None and old[0] == w.end and old[1] == w.rows:
            w.stored = json.loads(old[2])
        else:
            todo.append(w)
    if cached_only:
        frame = _frame([w for w in windows if w.stored is not None])
        frame.attrs.update(computed=0, reused=len(windows) - len(todo), pending=len(todo))
        return frame
    if todo:
        if not _compute(project, m, key, every, start, todo, options, progress, should_stop):
            return None
    frame = _frame(windows)
    frame.attrs.update(computed=len(todo), reused=len(windows) - len(todo))
    return frame


def group_bounds(group: list[Window], every: Every) -> tuple[float, float, bool]:
    """``(lo, hi, counted)``: the time range to read for a run of adjacent windows. Count windows
    (``counted``) are bounded by prediction times, and earlier predictions may share the first
    time, so the caller skips the rows logged before it."""
    import numpy as np

    lo = group[0].start
    if every.seconds:
        return lo, group[-1].end, False
    return lo, float(np.nextafter(group[-1].end, math.inf)), True


def window_groups(todo: list[Window], chunk_rows: int = CHUNK_ROWS) -> list[list[Window]]:
    """Consecutive windows in groups of about ``chunk_rows`` predictions (a window is never split),
    decoded with one query each."""
    groups: list[list[Window]] = []
    for w in todo:
        last = groups[-1] if groups else None
        if last and last[-1].first + last[-1].rows == w.first and \
                sum(x.rows for x in last) + w.rows <= chunk_rows:
            last.append(w)
        else:
            groups.append([w])
    return groups


def _compute(project, m, key, every: Every, start, todo, options, progress, should_stop) -> bool:

    from ..serving.prediction_log import get_predictions
    from .drift import compare

    reference = ref_mod.reference_frame(project, m)
    columns = ref_mod.input_columns(m, reference)
    done = 0
    for group in window_groups(todo):
        if should_stop is not None and should_stop():
            return False
        lo, hi, counted = group_bounds(group, every)
        skip = None if counted else 0
        frame = get_predictions(project, m.log_uri, since=lo, until=hi, outputs=False)
        if skip is None:
            before = _rows_before(project, m, start, lo)
            skip = group[0].first - before
        rows = []
        offset = skip
        for w in group:
            part = ref_mod.current_from_log(frame.iloc[offset:offset + w.rows], columns)
            offset += w.rows
            report = compare(reference, part, options=options, should_stop=should_stop)
            if report is None:
                return False
            w.stored = report.to_dict()
            rows.append((*key, w.start, w.end, w.rows, report.share, int(report.drifted),
                         json.dumps(w.stored), clock.now()))
            done += 1
            if progress is not None:
                progress(done / len(todo), f"{done} of {len(todo)} drift windows computed")
        with project.write() as db:
            db.executemany("INSERT OR REPLACE INTO drift_windows (run_id, artifact, sha256, reference, options,"
                           " window_start, window_end, rows, share, drifted, report, computed_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return True


def _rows_before(project: Project, m: ref_mod.Monitored, start, t: float) -> int:
    """How many predictions of the period came before time ``t``."""
    served = [r[0] for r in project.read("SELECT id FROM served_versions WHERE run_id = ? AND artifact = ?",
                                         (m.run_id, m.artifact))]
    return rows_before(project, served, start, t)


def _frame(windows: list[Window]):
    import pandas as pd

    records = []
    for w in windows:
        report = w.stored
        for col in report["columns"]:
            records.append((w.start, w.end, w.rows, col["column"], _num(col["score"]), _num(col["threshold"]),
                            bool(col["drifted"]), float(report["share"]), bool(report["drifted"]), col["test"],
                            col["note"], col.get("type"), _num(col.get("psi")), _num(col.get("missing_ref")),
                            _num(col.get("missing_cur"))))
    frame = pd.DataFrame.from_records(records, columns=list(WINDOW_FIELDS))
    for name in ("window_start", "window_end"):
        frame[name] = pd.to_datetime(frame[name].astype("float64"), unit="s", utc=True)
    return frame.astype({"rows": "int64", "score": "float64", "threshold": "float64", "drifted": bool,
                         "share": "float64", "dataset_drifted": bool, "psi": "float64", "missing_ref": "float64",
                         "missing_cur": "float64"})


def _num(value) -> float:
    return math.nan if value is None else float(value)

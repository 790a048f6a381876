"""Writing runs: experiments, runs, params, tags and buffered metrics.

Everything a run logs through the tracker (the run row itself, params, tags,
metric points, its end) is buffered in memory and written in batches: when
``max_buffer`` points are waiting, every ``flush_interval`` seconds from a
background thread (at most 1 s), when a run ends, and at interpreter exit.
Each flush is one short transaction, so a process killed with SIGKILL loses
at most the last interval and never leaves a half-written batch.

Each run row records the host and pid of the process writing it and a
heartbeat (unix seconds) that the flush thread refreshes for the runs still
open, at most every ``HEARTBEAT_INTERVAL_S`` seconds and together with a
flush when there is one: readers (core.tracking.runs) show a RUNNING run whose
process is gone as KILLED.

Metric points are kept per (run, metric) in typed arrays and stored as one
packed chunk per flush (see schema ``metric_chunks``): appending is a few
list operations per call, and a million-point history reads back as a few
hundred rows.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import uuid
import warnings
import weakref
from array import array
from dataclasses import dataclass, field

from .. import clock
from ..errors import Hint, NotFoundError, RefusedError, UsageError
from ..storage.project import Project
from .run_entities import Experiment

STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
BACKGROUND_BUSY_S = 0.5   # how long the writer thread waits for a locked file before retrying later
HEARTBEAT_INTERVAL_S = 5.0
"""How often the flush thread refreshes the heartbeat of this process's open runs
(one UPDATE for all of them). Far below runs.HEARTBEAT_TIMEOUT_S."""
_LIVE_TRACKERS: "weakref.WeakSet[Tracker]" = weakref.WeakSet()
_BIG_ENDIAN = sys.byteorder == "big"


@dataclass(eq=False)
class RunHandle:
    """A run this process is writing to. ``rid`` is None until first flushed."""

    rid: int | None
    id: str
    name: str
    experiment_id: int
    parent: "RunHandle | None" = None
    start_time: float = 0.0
    environment_sha256: str | None = None
    offset: float = 0.0       # clock.offset() of the thread that started it (0 outside the demo)
    params: dict[str, str] = field(default_factory=dict)
    next_step: dict[str, int] = field(default_factory=dict)


class _Series:
    """Buffered points of one metric of one run."""

    __slots__ = ("steps", "values", "stamps")

    def __init__(self):
        self.steps = array("q")
        self.values = array("d")
        self.stamps = array("d")


class Tracker:
    """Buffered writer for one project in one process (thread-safe)."""

    #: A run ending less than this many seconds after the previous one is
    #: committed by the writer thread (group commit) instead of inline.
    burst_gap = 0.05

    def __init__(self, project: Project, *, flush_interval: float = 0.5, max_buffer: int = 200_000):
        if not 0 < flush_interval <= 1.0:
            raise UsageError("flush_interval must be in (0, 1] seconds")
        self.project = project
        self.flush_interval = flush_interval
        self.max_buffer = max_buffer
        self._lock = threading.Lock()
        self._flush_lock = threading.RLock()
        self._new_runs: list[RunHandle] = []
        self._series: dict[tuple, _Series] = {}
        self._n_points = 0
        self._params: list[tuple] = []
        self._tags: list[tuple] = []
        self._ends: list[tuple] = []
        self._key_ids: dict[str, int] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._last_end = float("-inf")
        self._open: dict[RunHandle, None] = {}   # runs started or resumed here and not ended (ordered set)
        self._last_beat = time.monotonic()
        self._host = socket.gethostname()
        self._thread: threading.Thread | None = None
        _LIVE_TRACKERS.add(self)

    # -- experiments -------------------------------------------------------
    def experiment(self, name: str) -> Experiment:
        """The experiment called ``name``, created when missing."""
        if not isinstance(name, str) or not name.strip():
            raise UsageError("An experiment needs a non-empty name.")
        name = name.strip()
        conn = self.project.conn
        row = conn.execute("SELECT id, name, created_at, deleted_at FROM experiments WHERE name = ?",
                           (name,)).fetchone()
        if row is not None and row[3] is not None:
            raise RefusedError(f"The experiment {name!r} is deleted: restore it first"
                               ", or log into another experiment.")
        if row is None:
            with self.project.write() as w:
                w.execute(
                    "INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)", (name, clock.now())
                )
                row = w.execute("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,)).fetchone()
        return Experiment(id=row[0], name=row[1], created_at=row[2])

    # -- runs ----------------------------------------------------------------
    def start_run(
        self,
        experiment_id: int,
        name: str | None = None,
        *,
        parent: RunHandle | None = None,
        tags: dict | None = None,
        environment_sha256: str | None = None,
        start_time: float | None = None,
    ) -> RunHandle:
        """Begin a RUNNING run; its row is written with the next flush (<= 1 s)."""
        run_id = uuid.uuid4().hex
        handle = RunHandle(
            rid=None, id=run_id, name=str(name or f"run-{run_id[:8]}"), experiment_id=experiment_id,
            parent=parent, start_time=clock.now() if start_time is None else float(start_time),
            offset=clock.offset(),
            environment_sha256=environment_sha256,
        )
        with self._lock:
            self._new_runs.append(handle)
            self._open[handle] = None
        if tags:
            self.set_tags(handle, tags)
        self._ensure_thread()
        return handle

    def written_rid(self, run: RunHandle) -> int:
        """The run's row id, flushing first if the run is not in the file yet."""
        if run.rid is None:
            self.flush()
        return run.rid

    def resume_run(self, run_id: str) -> RunHandle:
        """A handle on an existing run (its params are loaded to check re-logging)."""
        row = self.project.conn.execute(
            "SELECT rid, id, name, experiment_id, deleted_at FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"No run with id {run_id!r} in {self.project.path}.", hint=Hint("list_runs"))
        if row[4] is not None:
            raise RefusedError(f"Run {run_id[:8]} is deleted: restore it before logging into it.")
        handle = RunHandle(rid=row[0], id=row[1], name=row[2], experiment_id=row[3])
        handle.params = dict(self.project.read("SELECT key, value FROM params WHERE run_rid = ?", (handle.rid,)))
        for key, step in self.project.read(
            "SELECT k.name, MAX(c.max_step) FROM metric_chunks c JOIN metric_keys k ON k.id = c.key_id"
            " WHERE c.run_rid = ? GROUP BY k.name", (handle.rid,)
        ):
            handle.next_step[key] = step + 1
        with self.project.write() as w:
            w.execute("UPDATE runs SET status = 'RUNNING', end_time = NULL, host = ?, pid = ?, heartbeat = ?"
                      " WHERE rid = ?", (self._host, os.getpid(), time.time(), handle.rid))
        with self._lock:
            self._open[handle] = None
        self._ensure_thread()
        return handle

    def end_run(self, run: RunHandle, status: str = "FINISHED", end_time: float | None = None) -> None:
        """Mark the run ended and write everything buffered, in one transaction."""
        if status not in STATUSES[1:]:
            raise UsageError(f"A run ends as FINISHED, FAILED or KILLED, not {status!r}.")
        ended = time.time() + run.offset if end_time is None else float(end_time)
        now = time.monotonic()
        burst, self._last_end = now - self._last_end < self.burst_gap, now
        with self._lock:
            self._ends.append((run, status, ended))
            self._open.pop(run, None)
        if burst and self._thread is not None and self._thread.is_alive():
            # Runs ending back to back (a sweep of quick runs): the writer thread
            # commits them together as soon as it can, while this thread goes on
            # (group commit). Reads through the API flush first, so this process
            # still sees its own runs; other processes see them a moment later.
            self._wake.set()
        else:
            self.flush()

    # -- params and tags -------------------------------------------------------
    def log_params(self, run: RunHandle, params: dict) -> None:
        """Buffer params; logging a key again with a different value is refused."""
        rows = []
        known = run.params
        for key, value in params.items():
            if key.__class__ is not str or not key or len(key) > 250:
                key = _check_key(key, "param")
            text = value if value.__class__ is str else str(value)
            old = known.get(key)
            if old is not None and old != text:
                raise RefusedError(
                    f"Param {key!r} of run {run.id[:8]} is already {old!r}; it cannot become {text!r}. "
                    "Params describe a run: start a new run for a new value, or log it as a metric or tag."
                )
            if old is None:
                rows.append((run, key, text))
        for (_, key, text) in rows:
            known[key] = text
        with self._lock:
            self._params.extend(rows)

    def set_tags(self, run: RunHandle, tags: dict) -> None:
        rows = [(run, _check_key(k, "tag"), str(v)) for k, v in tags.items()]
        with self._lock:
            self._tags.extend(rows)

    # -- metrics -----------------------------------------------------------------
    def log_metric(self, run: RunHandle, key: str, value, step=None, timestamp=None) -> None:
        """Buffer one metric point. Step defaults to the next step of that metric."""
        if key.__class__ is not str or not key:
            key = _check_key(key, "metric")
        if value.__class__ is not float:
            value = _check_value(key, value)
        if step is None:
            step = run.next_step.get(key, 0)
        elif step.__class__ is not int:
            step = _check_step(step)
        run.next_step[key] = step + 1
        ts = time.time() + run.offset if timestamp is None else _seconds(timestamp)
        with self._lock:
            series = self._series.get((run, key))
            if series is None:
                series = self._series[(run, key)] = _Series()
            series.steps.append(step)
            series.values.append(value)
            series.stamps.append(ts)
            self._n_points += 1
            full = self._n_points >= self.max_buffer
        if full:
            self.flush()

    def log_metrics(self, run: RunHandle, metrics: dict, step=None, timestamp=None) -> None:
        """Buffer several metrics at one step and one timestamp."""
        ts = time.time() + run.offset if timestamp is None else _seconds(timestamp)
        if step is not None and step.__class__ is not int:
            step = _check_step(step)
        points = []
        next_step = run.next_step
        for key, value in metrics.items():
            if key.__class__ is not str or not key:
                key = _check_key(key, "metric")
            if value.__class__ is not float:
                value = _check_value(key, value)
            s = next_step.get(key, 0) if step is None else step
            next_step[key] = s + 1
            points.append((key, s, value))
        with self._lock:
            all_series = self._series
            for key, s, value in points:
                series = all_series.get((run, key))
                if series is None:
                    series = all_series[(run, key)] = _Series()
                series.steps.append(s)
                series.values.append(value)
                series.stamps.append(ts)
            self._n_points += len(points)
            full = self._n_points >= self.max_buffer
        if full:
            self.flush()

    def log_metric_batch(self, run: RunHandle, key: str, values, steps=None, timestamps=None) -> None:
        """Buffer a whole series of one metric (e.g. a loss curve) at once."""
        key = _check_key(key, "metric")
        values = array("d", [_check_value(key, v) for v in values])
        n = len(values)
        start = run.next_step.get(key, 0)
        steps = array("q", range(start, start + n)) if steps is None else array("q", [_check_step(s) for s in steps])
        if timestamps is None:
            timestamps = array("d", [time.time() + run.offset]) * n
        else:
            timestamps = array("d", map(float, timestamps))
        if not (len(steps) == len(timestamps) == n):
            raise UsageError("values, steps and timestamps must have the same length")
        if n:
            run.next_step[key] = max(steps) + 1
        with self._lock:
            series = self._series.get((run, key))
            if series is None:
                series = self._series[(run, key)] = _Series()
            series.steps.extend(steps)
            series.values.extend(values)
            series.stamps.extend(timestamps)
            self._n_points += n
            full = self._n_points >= self.max_buffer
        if full:
            self.flush()

    # -- flushing ------------------------------------------------------------------
    def pending(self) -> int:
        """How many points, params, tags and run rows wait to be written."""
        return self._n_points + len(self._params) + len(self._tags) + len(self._new_runs) + len(self._ends)

    def flush(self) -> None:
        """Write everything buffered in one transaction (no-op when empty).

        Also refreshes the heartbeat of the open runs when it is due.
        """
        with self._flush_lock:
            beat_due = time.monotonic() - self._last_beat >= HEARTBEAT_INTERVAL_S
            with self._lock:
                new_runs, self._new_runs = self._new_runs, []
                series, self._series = self._series, {}
                params, self._params = self._params, []
                tags, self._tags = self._tags, []
                ends, self._ends = self._ends, []
                n_points, self._n_points = self._n_points, 0
                # Taken with the ends under one lock: a run is either still open
                # here or its end is in this batch, never both.
                beating = [h.rid for h in self._open if h.rid is not None] if beat_due else []
            if not (new_runs or series or params or tags or ends or beating):
                if beat_due:
                    self._last_beat = time.monotonic()
                return
            now = time.time()
            try:
                # A run that starts and ends within one batch is inserted ended.
                ended = {h: (status, t) for h, status, t in ends} if new_runs and ends else {}
                inserted_ended = set()
                pid = os.getpid()   # at write time: a forked child writes its own runs
                with self.project.write() as w:
                    if beating:
                        # One statement for all open runs. A run a reader took for
                        # dead (this process was suspended past the timeout) is
                        # RUNNING again: this process still has it open.
                        w.execute(
                            "UPDATE runs SET heartbeat = ?, status = 'RUNNING', end_time = NULL"
                            " WHERE rid IN (SELECT value FROM json_each(?)) AND status IN ('RUNNING', 'KILLED')",
                            (now, json.dumps(beating)))
                    for h in new_runs:
                        status, t = ended.get(h, ("RUNNING", None))
                        if h in ended:
                            inserted_ended.add(h)
                        h.rid = w.execute(
                            "INSERT INTO runs (id, experiment_id, name, status, user, start_time, end_time,"
                            " parent_rid, environment_sha256, host, pid, heartbeat)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (h.id, h.experiment_id, h.name, status, self.project.user, h.start_time, t,
                             h.parent.rid if h.parent else None, h.environment_sha256, self._host, pid, now),
                        ).lastrowid
                    if params:
                        w.executemany(
                            "INSERT INTO params (run_rid, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (run_rid, key) DO NOTHING", [(h.rid, k, v) for h, k, v in params])
                    if tags:
                        w.executemany(
                            "INSERT INTO tags (run_rid, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (run_rid, key) DO UPDATE SET value = excluded.value",
                            [(h.rid, k, v) for h, k, v in tags])
                    if series:
                        self._write_series(w, series)
                    rest = [(status, t, h.rid) for h, status, t in ends if h not in inserted_ended]
                    if rest:
                        w.executemany("UPDATE runs SET status = ?, end_time = ? WHERE rid = ?", rest)
                if beat_due:
                    self._last_beat = time.monotonic()
            except BaseException:
                # Nothing was written: put the batch back so a later flush retries it.
                for h in new_runs:
                    h.rid = None
                with self._lock:
                    self._new_runs[:0] = new_runs
                    for k, s in series.items():
                        newer = self._series.get(k)
                        if newer is not None:
                            s.steps.extend(newer.steps)
                            s.values.extend(newer.values)
                            s.stamps.extend(newer.stamps)
                        self._series[k] = s
                    self._n_points += n_points
                    self._params[:0] = params
                    self._tags[:0] = tags
                    self._ends[:0] = ends
                raise

    def _write_series(self, w, series: dict[tuple, _Series]) -> None:
        key_ids = self._key_ids
        new_keys = {key for (_, key) in series} - key_ids.keys()
        if new_keys:
            w.executemany("INSERT OR IGNORE INTO metric_keys (name) VALUES (?)", [(k,) for k in new_keys])
            for name, kid in w.execute(
                f"SELECT name, id FROM metric_keys WHERE name IN ({','.join('?' * len(new_keys))})",
                list(new_keys),
            ):
                key_ids[name] = kid
        chunks, latest = [], []
        for (h, key), s in series.items():
            steps, values, stamps = s.steps, s.values, s.stamps
            if len(steps) == 1:
                lo = hi = steps[0]
            else:
                lo, hi = min(steps), max(steps)
            # The latest point: highest step, then latest timestamp (among
            # equal steps, the one logged last when timestamps were not given).
            if steps[-1] == hi:
                best = len(steps) - 1
            else:
                best = max((i for i in range(len(steps)) if steps[i] == hi), key=stamps.__getitem__)
            v = values[best]
            latest.append((h.rid, key, None if v != v else v, hi, stamps[best]))
            if _BIG_ENDIAN:
                for a in (steps, values, stamps):
                    a.byteswap()
            chunks.append((h.rid, key_ids[key], len(steps), lo, hi, steps.tobytes(), values.tobytes(),
                           stamps.tobytes()))
        w.executemany(
            "INSERT INTO metric_chunks (run_rid, key_id, n, min_step, max_step, steps, vals, timestamps)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", chunks)
        w.executemany(
            "INSERT INTO latest_metrics (run_rid, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_rid, key) DO UPDATE SET value = excluded.value, step = excluded.step, "
            "timestamp = excluded.timestamp WHERE excluded.step > latest_metrics.step OR "
            "(excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
            latest,
        )

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._flush_loop, name="modeldesk-flush", daemon=True)
            self._thread.start()

    def _flush_loop(self) -> None:
        first = True
        reported = ""
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                if first:
                    # This thread's own connection gives up on a locked file soon and
                    # retries at the next tick: it holds the flush lock while it waits,
                    # and a thread of this process holding the write transaction (then
                    # flushing inline) must not wait the full busy timeout for it.
                    self.project.conn.execute(f"PRAGMA busy_timeout = {int(BACKGROUND_BUSY_S * 1000)}")
                    first = False
                self.flush()
            except Exception as exc:  # the batch stays buffered; retry at the next tick
                if self.project._closed:
                    return
                if not _is_busy(exc) and str(exc) != reported:
                    # Not the usual lock contention: say so once, or a script could
                    # buffer in memory for hours without anyone knowing why.
                    reported = str(exc)
                    warnings.warn(f"ModelDesk could not write to {self.project.path} in the background "
                                  f"({type(exc).__name__}: {exc}); it keeps the data in memory and retries. "
                                  "md.flush() raises the error where you can see it.", RuntimeWarning,
                                  stacklevel=1)

    def close(self) -> None:
        """Flush and stop the background thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        if not self.project._closed:
            self.flush()


def _is_busy(exc: BaseException) -> bool:
    """SQLite's lock contention (another writer holds the file): expected, retried quietly."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _check_key(key, kind: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise UsageError(f"A {kind} key must be a non-empty string, not {key!r}.")
    if len(key) > 250:
        raise UsageError(f"The {kind} key {key[:40]!r}… is longer than 250 characters.")
    return key


def _check_value(key: str, value) -> float:
    if isinstance(value, (str, bytes)) or value is None:
        raise UsageError(f"Metric {key!r} must be a number, not {value!r}. Log text as a tag or param.")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"Metric {key!r} must be a number, not {value!r}.") from None
    return value


def _seconds(timestamp) -> float:
    """A metric timestamp in seconds: MLflow's milliseconds (>= 1e11, year 5138 in seconds) are divided."""
    ts = float(timestamp)
    return ts / 1000.0 if abs(ts) >= 1e11 else ts


def _check_step(step) -> int:
    try:
        as_int = int(step)
    except (TypeError, ValueError):
        raise UsageError(f"A metric step must be an integer, not {step!r}.") from None
    if as_int != step:
        raise UsageError(f"A metric step must be an integer, not {step!r}.")
    return as_int


@atexit.register
def _flush_all_at_exit() -> None:
    for tracker in list(_LIVE_TRACKERS):
        try:
            tracker.close()
        except Exception:
            pass

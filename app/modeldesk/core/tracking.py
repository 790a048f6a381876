"""Writing runs: experiments, runs, params, tags and buffered metrics.

Metric points (and params and tags) are appended to an in-memory buffer and
written in batches: when the buffer reaches ``max_buffer`` points, every
``flush_interval`` seconds from a background thread (at most 1 s), when a run
ends, and at interpreter exit. A process killed with SIGKILL therefore loses
at most the last interval of metrics, and never leaves a half-written batch:
each flush is one transaction.
"""

from __future__ import annotations

import atexit
import math
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field

from .entities import Experiment
from .errors import NotFoundError, RefusedError, UsageError
from .project import Project

STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
_LIVE_TRACKERS: "weakref.WeakSet[Tracker]" = weakref.WeakSet()


@dataclass
class RunHandle:
    """A run this process is writing to."""

    rid: int
    id: str
    name: str
    experiment_id: int
    params: dict[str, str] = field(default_factory=dict)
    next_step: dict[str, int] = field(default_factory=dict)


def _param_text(value) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)


class Tracker:
    """Buffered writer for one project in one process (thread-safe)."""

    def __init__(self, project: Project, *, flush_interval: float = 0.5, max_buffer: int = 50_000):
        if not 0 < flush_interval <= 1.0:
            raise UsageError("flush_interval must be in (0, 1] seconds")
        self.project = project
        self.flush_interval = flush_interval
        self.max_buffer = max_buffer
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._metrics: list[tuple] = []
        self._params: list[tuple] = []
        self._tags: list[tuple] = []
        self._key_ids: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        _LIVE_TRACKERS.add(self)

    # -- experiments -------------------------------------------------------
    def experiment(self, name: str) -> Experiment:
        """The experiment called ``name``, created when missing."""
        if not isinstance(name, str) or not name.strip():
            raise UsageError("An experiment needs a non-empty name.")
        name = name.strip()
        conn = self.project.conn
        row = conn.execute("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,)).fetchone()
        if row is None:
            with self.project.write() as w:
                w.execute(
                    "INSERT OR IGNORE INTO experiments (name, created_at) VALUES (?, ?)", (name, time.time())
                )
                row = w.execute("SELECT id, name, created_at FROM experiments WHERE name = ?", (name,)).fetchone()
        return Experiment(*row)

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
        """Create a RUNNING run and return its handle (written at once)."""
        run_id = uuid.uuid4().hex
        name = name or f"run-{run_id[:8]}"
        started = time.time() if start_time is None else float(start_time)
        with self.project.write() as w:
            cur = w.execute(
                "INSERT INTO runs (id, experiment_id, name, status, user, start_time, parent_rid, environment_sha256)"
                " VALUES (?, ?, ?, 'RUNNING', ?, ?, ?, ?)",
                (run_id, experiment_id, str(name), self.project.user, started,
                 parent.rid if parent else None, environment_sha256),
            )
            rid = cur.lastrowid
        handle = RunHandle(rid=rid, id=run_id, name=str(name), experiment_id=experiment_id)
        if tags:
            self.set_tags(handle, tags)
        self._ensure_thread()
        return handle

    def resume_run(self, run_id: str) -> RunHandle:
        """A handle on an existing run (its params are loaded to check re-logging)."""
        row = self.project.conn.execute(
            "SELECT rid, id, name, experiment_id FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"No run with id {run_id!r} in {self.project.path}.")
        handle = RunHandle(*row)
        handle.params = dict(self.project.read("SELECT key, value FROM params WHERE run_rid = ?", (handle.rid,)))
        for key, step in self.project.read(
            "SELECT k.name, MAX(m.step) FROM metrics m JOIN metric_keys k ON k.id = m.key_id"
            " WHERE m.run_rid = ? GROUP BY k.name", (handle.rid,)
        ):
            handle.next_step[key] = step + 1
        with self.project.write() as w:
            w.execute("UPDATE runs SET status = 'RUNNING', end_time = NULL WHERE rid = ?", (handle.rid,))
        self._ensure_thread()
        return handle

    def end_run(self, run: RunHandle, status: str = "FINISHED", end_time: float | None = None) -> None:
        """Flush everything buffered and mark the run ended, in one transaction."""
        if status not in STATUSES[1:]:
            raise UsageError(f"A run ends as FINISHED, FAILED or KILLED, not {status!r}.")
        ended = time.time() if end_time is None else float(end_time)
        self.flush(extra=("UPDATE runs SET status = ?, end_time = ? WHERE rid = ?", (status, ended, run.rid)))

    # -- params and tags -------------------------------------------------------
    def log_params(self, run: RunHandle, params: dict) -> None:
        """Buffer params; logging a key again with a different value is refused."""
        rows = []
        for key, value in params.items():
            key = _check_key(key, "param")
            text = _param_text(value)
            old = run.params.get(key)
            if old is not None and old != text:
                raise RefusedError(
                    f"Param {key!r} of run {run.id[:8]} is already {old!r}; it cannot become {text!r}. "
                    "Params describe a run: start a new run for a new value, or log it as a metric or tag."
                )
            if old is None:
                rows.append((run.rid, key, text))
        for (rid, key, text) in rows:
            run.params[key] = text
        with self._lock:
            self._params.extend(rows)

    def set_tags(self, run: RunHandle, tags: dict) -> None:
        rows = [(run.rid, _check_key(k, "tag"), str(v)) for k, v in tags.items()]
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
        point = (run.rid, key, step, value, time.time() if timestamp is None else float(timestamp))
        with self._lock:
            self._metrics.append(point)
            full = len(self._metrics) >= self.max_buffer
        if full:
            self.flush()

    def log_metrics(self, run: RunHandle, metrics: dict, step=None, timestamp=None) -> None:
        """Buffer several metrics at one step and one timestamp."""
        ts = time.time() if timestamp is None else float(timestamp)
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
            points.append((run.rid, key, s, value, ts))
        with self._lock:
            self._metrics.extend(points)
            full = len(self._metrics) >= self.max_buffer
        if full:
            self.flush()

    def log_metric_batch(self, run: RunHandle, key: str, values, steps=None, timestamps=None) -> None:
        """Buffer a whole series of one metric (e.g. a loss curve) at once."""
        key = _check_key(key, "metric")
        values = [_check_value(key, v) for v in values]
        n = len(values)
        start = run.next_step.get(key, 0)
        steps = list(range(start, start + n)) if steps is None else [_check_step(s) for s in steps]
        now = time.time()
        timestamps = [now] * n if timestamps is None else [float(t) for t in timestamps]
        if not (len(steps) == len(timestamps) == n):
            raise UsageError("values, steps and timestamps must have the same length")
        if n:
            run.next_step[key] = max(steps) + 1
        rid = run.rid
        with self._lock:
            self._metrics.extend(zip([rid] * n, [key] * n, steps, values, timestamps))
            full = len(self._metrics) >= self.max_buffer
        if full:
            self.flush()

    # -- flushing ------------------------------------------------------------------
    def pending(self) -> int:
        return len(self._metrics) + len(self._params) + len(self._tags)

    def flush(self, extra: tuple | None = None) -> None:
        """Write everything buffered (plus ``extra`` SQL) in one transaction."""
        with self._flush_lock:
            with self._lock:
                metrics, self._metrics = self._metrics, []
                params, self._params = self._params, []
                tags, self._tags = self._tags, []
            if not (metrics or params or tags or extra):
                return
            try:
                with self.project.write() as w:
                    if params:
                        w.executemany(
                            "INSERT INTO params (run_rid, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (run_rid, key) DO NOTHING", params)
                    if tags:
                        w.executemany(
                            "INSERT INTO tags (run_rid, key, value) VALUES (?, ?, ?) "
                            "ON CONFLICT (run_rid, key) DO UPDATE SET value = excluded.value", tags)
                    if metrics:
                        self._write_metrics(w, metrics)
                    if extra:
                        w.execute(*extra)
            except BaseException:
                # Put the batch back so that a later flush retries it.
                with self._lock:
                    self._metrics[:0] = metrics
                    self._params[:0] = params
                    self._tags[:0] = tags
                raise

    def _write_metrics(self, w, metrics: list[tuple]) -> None:
        key_ids = self._key_ids
        new_keys = {p[1] for p in metrics} - key_ids.keys()
        if new_keys:
            w.executemany("INSERT OR IGNORE INTO metric_keys (name) VALUES (?)", [(k,) for k in new_keys])
            for name, kid in w.execute(
                f"SELECT name, id FROM metric_keys WHERE name IN ({','.join('?' * len(new_keys))})",
                list(new_keys),
            ):
                key_ids[name] = kid
        latest: dict[tuple, tuple] = {}
        for p in metrics:
            k = (p[0], p[1])
            prev = latest.get(k)
            if prev is None or (p[2], p[4]) >= (prev[2], prev[4]):
                latest[k] = p
        w.executemany(
            "INSERT INTO metrics (run_rid, key_id, step, value, timestamp) VALUES (?, ?, ?, ?, ?)",
            [(p[0], key_ids[p[1]], p[2], p[3], p[4]) for p in metrics],
        )
        w.executemany(
            "INSERT INTO latest_metrics (run_rid, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_rid, key) DO UPDATE SET value = excluded.value, step = excluded.step, "
            "timestamp = excluded.timestamp WHERE excluded.step > latest_metrics.step OR "
            "(excluded.step = latest_metrics.step AND excluded.timestamp >= latest_metrics.timestamp)",
            [(p[0], p[1], p[3], p[2], p[4]) for p in latest.values()],
        )

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._flush_loop, name="modeldesk-flush", daemon=True)
            self._thread.start()

    def _flush_loop(self) -> None:
        while not self._stop.wait(self.flush_interval):
            try:
                self.flush()
            except Exception:  # a locked or closed file: retry at the next tick
                if self.project._closed:
                    return

    def close(self) -> None:
        """Flush and stop the background thread."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        if not self.project._closed:
            self.flush()


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


def is_nan(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))

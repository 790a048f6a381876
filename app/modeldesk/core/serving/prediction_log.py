"""The prediction log: what served models saw and answered, for monitoring.

:class:`PredictionLog` is the server's background writer. A request hands it
one :class:`LogEntry` (a reference to the already-validated rows, no copy,
no encoding) and returns; a thread encodes and writes the waiting entries in
one short transaction every ``interval`` seconds or as soon as
``batch_rows`` rows wait. Memory is bounded: past ``capacity_rows`` waiting
rows the *oldest* unwritten entries are dropped and counted, so a slow disk
never blocks a request or grows the process. :meth:`PredictionLog.stop`
writes everything still waiting.

Reading: :func:`get_predictions` (one DataFrame row per predicted row, input
columns expanded), :func:`import_labels` (join true labels by request id).
"""

from __future__ import annotations

import collections
import csv
import functools
import json
import math
import re
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .. import clock
from ..errors import UsageError
from ..storage.project import Project


@dataclass(slots=True)
class LogEntry:
    """One answered request: ``frame`` holds its validated input rows."""

    request_id: str
    time: float
    model: Any                    # core.serving.ServedModel (its identity is logged)
    frame: Any                    # pandas DataFrame, one row per prediction
    predictions: list
    latency_ms: float
    probabilities: list | None = None
    seq: int = 0

    @property
    def n(self) -> int:
        return len(self.predictions)


@dataclass
class LogStats:
    written_rows: int = 0
    written_requests: int = 0
    dropped_rows: int = 0
    dropped_requests: int = 0
    pending_rows: int = 0
    batches: int = 0
    write_errors: int = 0


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (ValueError, TypeError):
        return json.dumps(_clean(value), default=str)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


@functools.lru_cache(maxsize=64)
def _row_template(names: tuple) -> str:
    return "{" + ", ".join(f"{json.dumps(n)}: %r" for n in names) + "}"


def encode_entry(entry: LogEntry) -> list[tuple]:
    """The rows of ``predictions`` an entry becomes (inputs as JSON objects)."""
    import numpy as np

    frame = entry.frame
    names = [str(c) for c in frame.columns]
    if all(dt == np.float64 for dt in frame.dtypes):
        values = frame.to_numpy()
        rows = values.tolist()
        if np.isfinite(values).all():
            # repr of a finite float is valid JSON: one C-level format per row, not a dict + dumps
            template = _row_template(tuple(names))
            inputs = [template % tuple(row) for row in rows]
        else:
            inputs = [_dumps(dict(zip(names, row))) for row in rows]
    else:
        cols = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
        inputs = [_dumps(dict(zip(names, row))) for row in zip(*cols)]
    m = entry.model
    probs = entry.probabilities
    return [
        (entry.request_id, i, entry.time, m.uri, m.name, m.version, m.run_id, m.artifact, m.sha256,
         text, _dumps(entry.predictions[i]), _dumps(probs[i]) if probs is not None else None, entry.latency_ms)
        for i, text in enumerate(inputs)
    ]


INSERT = ("INSERT INTO predictions (request_id, row, time, model_uri, model_name, version, run_id, artifact,"
          " sha256, inputs, outputs, probabilities, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def write_predictions(project: Project, entries: list[LogEntry], *, chunk_rows: int = 5_000) -> int:
    """Write entries now, ``chunk_rows`` rows per short transaction. Returns rows written."""
    rows: list[tuple] = []
    total = 0
    for entry in entries:
        rows.extend(encode_entry(entry))
        if len(rows) >= chunk_rows:
            total += _insert(project, rows)
            rows = []
    if rows:
        total += _insert(project, rows)
    return total


def _insert(project: Project, rows: list[tuple]) -> int:
    with project.write() as w:
        w.executemany(INSERT, rows)
    return len(rows)


class PredictionLog:
    """Bounded, batched background writer of prediction log entries (thread-safe)."""

    def __init__(self, project: Project, *, capacity_rows: int = 200_000, batch_rows: int = 5_000,
                 interval: float = 0.25, autostart: bool = True):
        self.project = project
        self.capacity_rows, self.batch_rows, self.interval = capacity_rows, batch_rows, interval
        self.stats = LogStats()
        self._queue: collections.deque[LogEntry] = collections.deque()
        self._cond = threading.Condition()
        self._seq = 0
        self._inflight_first: int | None = None
        self._stopping = False
        self._closed = False
        self._last_error = ""
        self._thread: threading.Thread | None = None
        if autostart:
            self.start()

    def start(self) -> None:
        """Start the writer thread (done by the constructor unless ``autostart=False``)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="modeldesk-prediction-log", daemon=True)
            self._thread.start()

    def submit(self, entry: LogEntry) -> None:
        """Queue an entry; never blocks on the disk. Drops the oldest waiting entries past capacity."""
        with self._cond:
            if self._closed:
                self.stats.dropped_rows += entry.n
                self.stats.dropped_requests += 1
                return
            self._seq += 1
            entry.seq = self._seq
            self._queue.append(entry)
            self.stats.pending_rows += entry.n
            self._trim()
            if self.stats.pending_rows >= self.batch_rows:
                self._cond.notify_all()

    def _trim(self) -> None:
        while self.stats.pending_rows > self.capacity_rows and len(self._queue) > 1:
            old = self._queue.popleft()
            self.stats.pending_rows -= old.n
            self.stats.dropped_rows += old.n
            self.stats.dropped_requests += 1

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every entry submitted before this call is written (or dropped)."""
        with self._cond:
            target = self._seq
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done(target), timeout=timeout)

    def _done(self, target: int) -> bool:
        queued_ok = not self._queue or self._queue[0].seq > target
        inflight_ok = self._inflight_first is None or self._inflight_first > target
        return queued_ok and inflight_ok

    def stop(self, timeout: float = 60.0) -> None:
        """Write everything waiting, then end the thread. Later submissions are counted as dropped."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
        elif self._queue:   # never started: write synchronously
            self._write(list(self._queue))
            self._queue.clear()
        with self._cond:
            self._closed = True

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._stopping and self.stats.pending_rows < self.batch_rows:
                    self._cond.wait(self.interval)
                if not self._queue:
                    if self._stopping:
                        return
                    continue
                batch = list(self._queue)
                self._queue.clear()
                self.stats.pending_rows = 0
                self._inflight_first = batch[0].seq
            ok = self._write(batch)
            with self._cond:
                if not ok:
                    if self._stopping:
                        self.stats.dropped_rows += sum(e.n for e in batch)
                        self.stats.dropped_requests += len(batch)
                    else:   # put them back in front: they are the oldest, first to go if we stay behind
                        self._queue.extendleft(reversed(batch))
                        self.stats.pending_rows += sum(e.n for e in batch)
                        self._trim()
                self._inflight_first = None
                self._cond.notify_all()
            if not ok and not self._stopping:
                time.sleep(min(1.0, self.interval * 4))

    def _write(self, batch: list[LogEntry]) -> bool:
        try:
            rows = write_predictions(self.project, batch, chunk_rows=self.batch_rows)
        except (sqlite3.Error, OSError) as exc:
            self.stats.write_errors += 1
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                print(f"modeldesk: could not write the prediction log ({exc}); will retry", file=sys.stderr)
            return False
        self.stats.written_rows += rows
        self.stats.written_requests += len(batch)
        self.stats.batches += 1
        return True


# -- reading -----------------------------------------------------------------------------
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def to_epoch(value: Any, what: str = "time") -> float | None:
    """Unix seconds for an ISO string (naive = UTC), datetime, pandas Timestamp,
    number, or a relative age such as ``"24h"`` / ``"7d"`` (that long ago)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        rel = _RELATIVE.match(value)
        if rel:
            return clock.now() - float(rel.group(1)) * _UNITS[rel.group(2)]
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise UsageError(f"{what} {value!r} is not a time; use an ISO date like 2026-11-01, "
                         "2026-11-01T08:00:00+01:00, or an age like 24h or 7d.") from None
    if ts is pd.NaT:
        raise UsageError(f"{what} {value!r} is not a time.")
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.timestamp()


def _uri_filter(project: Project, model_uri: str) -> tuple[str, list]:
    """SQL condition selecting the log rows of a model URI.

    runs:/ID/NAME → that logged model; models:/NAME/V → that version;
    models:/NAME@ALIAS → every version of NAME (the ``version`` column tells
    which), plus rows logged under the logged model the URI points at now.
    """
    from ..tracking.artifacts import parse_model_uri

    parts = parse_model_uri(model_uri)
    if parts[0] == "runs":
        return "run_id = ? AND artifact = ?", [parts[1], parts[2]]
    name, version = parts[1], parts[2]
    cond, params = ("model_name = ?", [name]) if version is None else \
        ("(model_name = ? AND version = ?)", [name, version])
    try:
        from ..registry.uris import resolve_model

        logged = resolve_model(project, model_uri)
    except UsageError:
        return cond, params
    return f"({cond} OR (run_id = ? AND artifact = ?))", [*params, logged.run_id, logged.name]


def get_predictions(project: Project, model_uri: str, since=None, until=None, *, limit: int | None = None):
    """The prediction log of ``model_uri`` as a pandas DataFrame, oldest first.

    Columns: ``request_id``, ``row`` (position in its request), ``time``
    (UTC), ``model`` (the URI served), ``version``, ``run_id``,
    ``latency_ms``, one column per input, ``prediction``, ``probabilities``
    (when asked for), ``label`` (when imported, else None). ``since`` /
    ``until``: see :func:`to_epoch` (``until`` exclusive).
    """
    import pandas as pd

    cond, params = _uri_filter(project, model_uri)
    start, end = to_epoch(since, "since"), to_epoch(until, "until")
    if start is not None:
        cond += " AND time >= ?"
        params.append(start)
    if end is not None:
        cond += " AND time < ?"
        params.append(end)
    sql = ("SELECT request_id, row, time, model_uri, version, run_id, latency_ms, inputs, outputs, probabilities,"
           f" label FROM predictions WHERE {cond} ORDER BY time, id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = project.read(sql, params)
    meta = ["request_id", "row", "time", "model", "version", "run_id", "latency_ms"]
    inputs = pd.DataFrame.from_records([json.loads(r[7]) for r in rows]) if rows else pd.DataFrame()
    inputs.columns = [f"input.{c}" if c in meta or c in ("prediction", "probabilities", "label") else c
                      for c in inputs.columns]
    cols = list(zip(*rows)) if rows else [[] for _ in range(11)]
    frame = pd.DataFrame({
        "request_id": pd.Series(cols[0], dtype=object),
        "row": pd.Series(cols[1], dtype="int64"),
        "time": pd.to_datetime(pd.Series(cols[2], dtype="float64"), unit="s", utc=True),
        "model": pd.Series(cols[3], dtype=object),
        "version": pd.Series([v if v is not None else pd.NA for v in cols[4]], dtype="Int64"),
        "run_id": pd.Series(cols[5], dtype=object),
        "latency_ms": pd.Series(cols[6], dtype="float64"),
    })
    frame = pd.concat([frame, inputs.set_axis(frame.index)], axis=1) if len(inputs.columns) else frame
    frame["prediction"] = [json.loads(v) for v in cols[8]]
    if any(v is not None for v in cols[9]):
        frame["probabilities"] = [json.loads(v) if v is not None else None for v in cols[9]]
    labels = [json.loads(v) if v is not None else None for v in cols[10]]
    try:   # nullable dtypes keep integer labels integers next to missing ones (Int64, not float)
        frame["label"] = pd.array(labels) if labels and any(v is not None for v in labels) else \
            pd.Series([None] * len(labels), dtype=object)
    except (TypeError, ValueError):   # labels of mixed kinds
        frame["label"] = pd.Series(labels, dtype=object)
    return frame


def set_labels(project: Project, labels, *, chunk: int = 5_000) -> int:
    """Set true labels from ``(request_id, row, value)`` triples; returns rows labeled."""
    now = clock.now()
    batch: list[tuple] = []
    done = 0

    def flush() -> int:
        with project.write() as w:
            return sum(w.execute("UPDATE predictions SET label = ?, label_time = ? WHERE request_id = ? AND row = ?",
                                 args).rowcount for args in batch)

    for request_id, row, value in labels:
        batch.append((_dumps(value), now, request_id, int(row)))
        if len(batch) >= chunk:
            done += flush()
            batch = []
    if batch:
        done += flush()
    return done


@dataclass(frozen=True)
class LabelImport:
    """What :func:`import_labels` did."""

    lines: int
    labeled_rows: int
    unknown: int
    ambiguous: int
    invalid: int
    examples: list[str] = field(default_factory=list)   # a few problems, for the user

    def summary(self) -> str:
        text = f"{self.labeled_rows:,} prediction(s) labeled from {self.lines:,} line(s)"
        extra = [f"{n:,} {what}" for n, what in ((self.unknown, "with an unknown request id"),
                                                  (self.ambiguous, "ambiguous (multi-row request, no row column)"),
                                                  (self.invalid, "invalid")) if n]
        return text + (("; skipped " + ", ".join(extra)) if extra else "") + "."


def _label_json(text: str) -> str:
    try:
        value = json.loads(text)
        if isinstance(value, (int, float, bool)) and not (isinstance(value, float) and not math.isfinite(value)):
            return json.dumps(value)
    except ValueError:
        pass
    return json.dumps(text)


def import_labels(project: Project, csv_path, *, chunk: int = 5_000) -> LabelImport:
    """Join true labels onto logged predictions from a CSV with ``request_id,label[,row]``.

    Without a ``row`` column a label applies to a single-row request (the
    usual online case); a line naming a multi-row request then needs ``row``
    (0-based) and is otherwise skipped as ambiguous. Numbers stay numbers
    (``1`` matches a prediction of ``1``). Re-importing overwrites labels.
    """
    try:
        fh = open(csv_path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"Cannot read labels from {csv_path}: {exc.strerror}.") from None
    lines = labeled = unknown = ambiguous = invalid = 0
    examples: list[str] = []
    now = clock.now()
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        cols = [h.strip().lower() for h in header or []]
        if "request_id" not in cols or "label" not in cols:
            raise UsageError(f"{csv_path} needs a header with request_id and label (and optionally row); "
                             f"it has {', '.join(header or []) or 'no header'}.")
        i_req, i_lab = cols.index("request_id"), cols.index("label")
        i_row = cols.index("row") if "row" in cols else None
        pending: list[tuple] = []

        def apply(batch: list[tuple]) -> None:
            nonlocal labeled, unknown, ambiguous
            with project.write() as w:
                for line_no, req, row, label in batch:
                    if row is None:
                        n = w.execute("SELECT COUNT(*) FROM predictions WHERE request_id = ?", (req,)).fetchone()[0]
                        if n > 1:
                            ambiguous += 1
                            _note(examples, f"line {line_no}: request {req} has {n} rows; add a row column")
                            continue
                        row = 0
                    cur = w.execute("UPDATE predictions SET label = ?, label_time = ? WHERE request_id = ? AND row = ?",
                                    (label, now, req, row))
                    if cur.rowcount:
                        labeled += cur.rowcount
                    else:
                        unknown += 1
                        _note(examples, f"line {line_no}: no logged prediction {req}" + (f" row {row}" if row else ""))

        for line_no, rec in enumerate(reader, start=2):
            if not rec or not any(c.strip() for c in rec):
                continue
            lines += 1
            try:
                req, label = rec[i_req].strip(), rec[i_lab].strip()
                row = int(rec[i_row]) if i_row is not None and rec[i_row].strip() != "" else None
            except (IndexError, ValueError):
                req = label = ""
            if not req or label == "":
                invalid += 1
                _note(examples, f"line {line_no}: needs a request_id, a label" + (" and a whole-number row"
                                                                               if i_row is not None else ""))
                continue
            pending.append((line_no, req, row, _label_json(label)))
            if len(pending) >= chunk:
                apply(pending)
                pending = []
        if pending:
            apply(pending)
    return LabelImport(lines, labeled, unknown, ambiguous, invalid, examples)


def _note(examples: list[str], text: str) -> None:
    if len(examples) < 5:
        examples.append(text)

"""The prediction log: what served models saw and answered, for monitoring.

:class:`PredictionLog` is the server's background writer. A request hands it
one :class:`LogEntry` (a reference to the already-validated rows, no copy,
no encoding) and returns; a thread encodes and writes the waiting entries in
one short transaction every ``interval`` seconds or as soon as
``batch_rows`` rows wait. Memory is bounded: past ``capacity_rows`` waiting
rows the *oldest* unwritten entries are dropped and counted, so a slow disk
never blocks a request or grows the process. :meth:`PredictionLog.stop`
writes everything still waiting.

Storage (migration m007): one ``prediction_requests`` row per request, its
numeric inputs in a binary block (:mod:`.log_codec`, a few bytes a value),
other inputs, outputs and probabilities as JSON arrays; the served identity
and the input column names once per ``served_versions`` row; labels in
``prediction_labels`` by (request, row). The ``predictions`` view shows one
row per predicted row for ad-hoc SQL.

Reading: :func:`get_predictions` (one DataFrame row per predicted row, input
columns expanded, decoded in bulk), :func:`import_labels` (join true labels
by request id).
"""

from __future__ import annotations

import collections
import itertools
import json
import re
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..errors import UsageError
from ..storage.project import Project
from .log_codec import _dumps


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
    written_failures: int = 0     # failed requests recorded (core/serving/prediction_failures.py)


def _numeric_kind(dtype) -> str | None:
    """'f' for float columns, 'i' for integer ones (stored binary); None: JSON."""
    kind = getattr(dtype, "kind", None)
    if kind == "f" and dtype.itemsize <= 8:
        return "f"
    if kind in ("i", "u") and not (kind == "u" and dtype.itemsize == 8):
        return "i"
    return None


def _layout(frame) -> tuple:
    return tuple(str(c) for c in frame.columns), tuple(_numeric_kind(dt) for dt in frame.dtypes)


def encode_entries(entries: list[LogEntry]) -> list[tuple]:
    """The ``prediction_requests`` rows the entries become, in order (served identity not yet resolved).

    Each tuple: ``(identity, columns_json, request_id, time, rows, latency_ms,
    inputs, text_inputs, outputs, probabilities)``. Numeric inputs of all
    entries with the same columns are encoded together (log_codec), so a batch
    of single-row requests costs a few numpy calls, not a few per request.
    """
    import numpy as np

    from .log_codec import encode_blocks

    out: list[tuple | None] = [None] * len(entries)
    groups: dict[tuple, list[int]] = {}
    for i, entry in enumerate(entries):
        groups.setdefault(_layout(entry.frame), []).append(i)
    for (names, kinds), members in groups.items():
        numeric = [j for j, k in enumerate(kinds) if k]
        frames = [entries[i].frame for i in members]
        counts = [len(f) for f in frames]
        if numeric and all(k == "f" for k in kinds):
            matrix = np.vstack([f.to_numpy(dtype=np.float64) for f in frames]) if len(frames) > 1 \
                else frames[0].to_numpy(dtype=np.float64)
            columns = [matrix[:, j] for j in range(matrix.shape[1])]
        else:
            columns = [np.concatenate([f.iloc[:, j].to_numpy() for f in frames]) for j in numeric]
        blocks = encode_blocks(columns, counts)
        text = [j for j, k in enumerate(kinds) if not k]
        columns_json = json.dumps(list(names))
        for i, block in zip(members, blocks):
            entry = entries[i]
            text_inputs = _dumps({names[j]: entry.frame.iloc[:, j].tolist() for j in text}) if text else None
            m = entry.model
            probs = entry.probabilities
            out[i] = ((m.uri, m.name, m.version, m.run_id, m.artifact, m.sha256), columns_json, entry.request_id,
                      entry.time, len(entry.frame), entry.latency_ms, block, text_inputs,
                      _dumps(list(entry.predictions)), _dumps(list(probs)) if probs is not None else None)
    return out


INSERT = ("INSERT INTO prediction_requests (request_id, time, served_id, rows, latency_ms, inputs, text_inputs,"
          " outputs, probabilities) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def write_predictions(project: Project, entries: list[LogEntry], *, chunk_rows: int = 5_000) -> int:
    """Write entries now, about ``chunk_rows`` rows per short transaction. Returns rows written."""
    total = 0
    start = 0
    while start < len(entries):
        stop, rows = start, 0
        while stop < len(entries) and (rows < chunk_rows or stop == start):
            rows += entries[stop].n
            stop += 1
        total += _insert(project, encode_entries(entries[start:stop]))
        start = stop
    return total


def _served_id(w, cache: dict, identity: tuple, columns_json: str) -> int:
    key = (identity, columns_json)
    if key not in cache:
        row = w.execute("SELECT id FROM served_versions WHERE model_uri = ? AND model_name IS ? AND version IS ?"
                        " AND run_id = ? AND artifact = ? AND sha256 = ? AND columns = ? ORDER BY id LIMIT 1",
                        (*identity, columns_json)).fetchone()
        cache[key] = row[0] if row else w.execute(
            "INSERT INTO served_versions (model_uri, model_name, version, run_id, artifact, sha256, columns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (*identity, columns_json)).lastrowid
    return cache[key]


def _insert(project: Project, rows: list[tuple]) -> int:
    with project.write() as w:
        cache: dict = {}
        w.executemany(INSERT, [(r[2], r[3], _served_id(w, cache, r[0], r[1]), *r[4:]) for r in rows])
    return sum(r[4] for r in rows)


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
        """Queue an entry (or a ``FailedRequest``, weighing one row); never blocks on the disk.
        Drops the oldest waiting entries past capacity."""
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

    def _write(self, batch: list) -> bool:
        from .prediction_failures import FailedRequest, write_failures

        answered = [e for e in batch if not isinstance(e, FailedRequest)]
        failed = [e for e in batch if isinstance(e, FailedRequest)]
        try:
            if failed:     # first, in one transaction: if the answered ones fail next, only they go back
                write_failures(self.project, failed)
                batch[:] = answered
                self.stats.written_failures += len(failed)
            rows = write_predictions(self.project, answered, chunk_rows=self.batch_rows)
        except (sqlite3.Error, OSError) as exc:
            self.stats.write_errors += 1
            if str(exc) != self._last_error:
                self._last_error = str(exc)
                print(f"modeldesk: could not write the prediction log ({exc}); will retry", file=sys.stderr)
            return False
        self.stats.written_rows += rows
        self.stats.written_requests += len(answered)
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


def get_predictions(project: Project, model_uri: str, since=None, until=None, *, limit: int | None = None,
                    outputs: bool = True):
    """The prediction log of ``model_uri`` as a pandas DataFrame, oldest first.

    Columns: ``request_id``, ``row`` (position in its request), ``time``
    (UTC), ``model`` (the URI served), ``version``, ``run_id``,
    ``latency_ms``, one column per input, ``prediction``, ``probabilities``
    (when asked for), ``label`` (when imported, else None). ``since`` /
    ``until``: see :func:`to_epoch` (``until`` exclusive).

    Numeric inputs are decoded in bulk (a few numpy calls per column for the
    whole result); JSON is parsed once per column of text inputs, outputs and
    labels, never once per row. ``outputs=False`` leaves out ``prediction``,
    ``probabilities`` and ``label`` (what drift over the inputs reads).
    """
    import numpy as np
    import pandas as pd

    cond, params = _uri_filter(project, model_uri)
    served = {r[0]: r[1:] for r in project.read(
        f"SELECT id, model_uri, version, run_id, columns FROM served_versions WHERE {cond}", params)}
    where, args = _request_filter(served, since, until)
    sql = ("SELECT id, request_id, time, served_id, rows, latency_ms, inputs, text_inputs, outputs, probabilities"
           f" FROM prediction_requests WHERE {where} ORDER BY time, id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"   # at least `limit` rows: a request holds one or more
    requests = project.read(sql, args) if served else []
    cols = list(zip(*requests)) if requests else [[] for _ in range(10)]
    counts = np.asarray(cols[4], dtype=np.int64)
    starts = np.cumsum(counts) - counts
    total = int(counts.sum())

    def each_row(values, dtype=None):
        return np.repeat(np.asarray(values, dtype=dtype), counts) if total else np.asarray([], dtype=dtype)

    versions = [served[s][1] for s in cols[3]]
    frame = pd.DataFrame({
        "request_id": pd.Series(each_row(cols[1], object), dtype=object),
        "row": pd.Series(np.arange(total, dtype=np.int64) - each_row(starts, np.int64), dtype="int64"),
        "time": pd.to_datetime(pd.Series(each_row(cols[2], np.float64), dtype="float64"), unit="s", utc=True),
        "model": pd.Series(each_row([served[s][0] for s in cols[3]], object), dtype=object),
        "version": pd.Series(pd.array(each_row([v if v is not None else pd.NA for v in versions], object),
                                      dtype="Int64")),
        "run_id": pd.Series(each_row([served[s][2] for s in cols[3]], object), dtype=object),
        "latency_ms": pd.Series(each_row(cols[5], np.float64), dtype="float64"),
    })
    inputs = _decode_inputs(served, cols, counts, starts, total)
    meta = set(frame.columns) | {"prediction", "probabilities", "label"}
    for name, values in inputs.items():
        frame[f"input.{name}" if name in meta else name] = values
    if not outputs:
        return frame.iloc[:int(limit)].copy() if limit is not None and len(frame) > limit else frame
    frame["prediction"] = _flat_json(cols[8])
    if any(v is not None for v in cols[9]):
        frame["probabilities"] = _flat_json([v if v is not None else "[" + ",".join(["null"] * n) + "]"
                                             for v, n in zip(cols[9], counts.tolist())])
    labels = _labels(project, cols[0], starts, total)
    try:   # nullable dtypes keep integer labels integers next to missing ones (Int64, not float)
        frame["label"] = pd.array(labels) if labels and any(v is not None for v in labels) else \
            pd.Series([None] * len(labels), dtype=object)
    except (TypeError, ValueError):   # labels of mixed kinds
        frame["label"] = pd.Series(labels, dtype=object)
    if limit is not None and len(frame) > limit:
        frame = frame.iloc[:int(limit)].copy()
    return frame


def _request_filter(served: dict, since, until) -> tuple[str, list]:
    return served_where(sorted(served), to_epoch(since, "since"), to_epoch(until, "until"))


def served_where(served_ids, start: float | None, end: float | None, prefix: str = "") -> tuple[str, list]:
    """SQL condition and arguments for the requests of ``served_ids`` in [start, end) (None: open);
    ``prefix`` qualifies the columns (``"r."``)."""
    ids = list(served_ids)
    where = f"{prefix}served_id IN ({','.join('?' * len(ids))})" if ids else "0"
    args: list = list(ids)
    if start is not None:
        where += f" AND {prefix}time >= ?"
        args.append(start)
    if end is not None:
        where += f" AND {prefix}time < ?"
        args.append(end)
    return where, args


def rows_before(project: Project, served_ids, start: float | None, t: float) -> int:
    """How many predicted rows of ``served_ids`` were logged from ``start`` until before ``t``."""
    where, args = served_where(served_ids, start, t)
    return int(project.read(f"SELECT COALESCE(SUM(rows), 0) FROM prediction_requests WHERE {where}", args)[0][0])


def _flat_json(texts) -> list:
    """Concatenate per-request JSON arrays into one list: a single parse for all of them."""
    if not texts:
        return []
    return list(itertools.chain.from_iterable(json.loads("[" + ",".join(texts) + "]")))


def _decode_inputs(served: dict, cols: list, counts, starts, total: int) -> dict:
    """Input columns by name (in order of first appearance), each an array or list of ``total`` values."""
    import numpy as np
    import pandas as pd

    from .log_codec import decode_blocks

    texts = [t for t in cols[7] if t is not None]
    parsed = iter(json.loads("[" + ",".join(texts) + "]")) if texts else iter(())
    text_parts = [next(parsed) if t is not None else None for t in cols[7]]
    groups: dict[tuple, list[int]] = {}
    for i, (sid, text) in enumerate(zip(cols[3], text_parts)):
        groups.setdefault((sid, tuple(text) if text else ()), []).append(i)
    order: list[str] = []
    parts: dict[str, list] = {}
    for (sid, text_names), members in groups.items():   # dicts keep first-appearance order
        names = json.loads(served[sid][3])
        numeric = [n for n in names if n not in text_names]
        idx = np.asarray(members, dtype=np.int64)
        n_rows = counts[idx]
        pos = np.repeat(starts[idx], n_rows) + (np.arange(int(n_rows.sum())) - np.repeat(np.cumsum(n_rows) - n_rows,
                                                                                        n_rows))
        values, is_int, ints = decode_blocks([cols[6][i] for i in members], n_rows, len(numeric))
        for j, name in enumerate(numeric):
            parts.setdefault(name, []).append(("n", pos, values[:, j], is_int[:, j], ints[:, j]))
        for name in text_names:
            flat = list(itertools.chain.from_iterable(text_parts[i][name] for i in members))
            parts.setdefault(name, []).append(("t", pos, flat))
        for name in names:
            if name not in order:
                order.append(name)
    out = {}
    for name in order:
        pieces = parts[name]
        covered = sum(len(p[1]) for p in pieces)
        if all(p[0] == "n" for p in pieces):
            if covered == total and all(p[3].all() for p in pieces):
                col = np.empty(total, dtype=np.int64)
                for p in pieces:
                    col[p[1]] = p[4]
            else:
                col = np.full(total, np.nan)
                for p in pieces:
                    col[p[1]] = p[2]
            out[name] = col
            continue
        obj = np.full(total, np.nan, dtype=object)
        for p in pieces:
            if p[0] == "n":
                obj[p[1]] = [int(i) if k else v for v, k, i in zip(p[2].tolist(), p[3].tolist(), p[4].tolist())]
            else:
                obj[p[1]] = p[2]
        out[name] = pd.Series(obj.tolist())
    return out


def _labels(project: Project, request_ids, starts, total: int) -> list:
    """Labels by row position (None where unlabeled), parsed in one go."""
    labels: list = [None] * total
    if not total:
        return labels
    position = dict(zip(request_ids, starts.tolist()))
    found: list[tuple[int, str]] = []
    ids = list(request_ids)
    for k in range(0, len(ids), 50_000):   # keep each IN list bounded
        chunk = ids[k:k + 50_000]
        found += project.read("SELECT l.request, l.row, l.label FROM prediction_labels l JOIN json_each(?) j"
                              " ON l.request = j.value", (json.dumps(chunk),))
    if found:
        values = json.loads("[" + ",".join(r[2] for r in found) + "]")
        for (request, row, _), value in zip(found, values):
            labels[position[request] + row] = value
    return labels


# Labels live in their own module; these names stay importable from here (cli, demo, notebooks use them).
from .prediction_labels import LabelImport, import_labels, set_labels  # noqa: E402,F401

"""Reading runs: get one, search many, page through them, metric histories.

Filtering and ordering happen in SQL (core.filters compiles the filter
language); only the page or result set asked for is turned into Python
objects. Run ids are passed to follow-up queries as one JSON array
(``json_each``) instead of thousands of placeholders.

Runs that died say so: before answering, a read looks at the RUNNING runs
(an index holds only those) and takes a run for dead when its process is gone
(same host, pid no longer alive) or it has had no heartbeat for
``HEARTBEAT_TIMEOUT_S``; such runs are shown as KILLED, ended at their last
heartbeat, and that is written back to the file (see :func:`reap_dead_runs`).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import sys
import time
from dataclasses import dataclass, replace

from ..errors import Hint, NotFoundError, UsageError
from ..storage.project import Project
from ..storage.rows import build, named
from .filters import compile_filter, compile_order_by
from .run_entities import Experiment, Run

HEARTBEAT_TIMEOUT_S = 600.0
"""A RUNNING run with no heartbeat for this long (10 minutes) is KILLED. The tracker
beats every few seconds (tracker.HEARTBEAT_INTERVAL_S); the margin covers clocks
of different machines that disagree and a file that stayed locked for a while."""

RUN_COLUMNS = ("r.rid, r.id, r.name, e.name, r.status, r.user, r.start_time, r.end_time, pr.id,"
               " r.experiment_id, r.deleted_at")
RUN_JOINS = "JOIN experiments e ON e.id = r.experiment_id LEFT JOIN runs pr ON pr.rid = r.parent_rid"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (no psutil)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":   # os.kill(pid, 0) would terminate the process there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)   # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5   # access denied: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259   # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # another user's process: alive
        return True
    except OSError:
        return True   # unknown: do not declare a run dead on a guess
    return True


def reap_dead_runs(project: Project) -> dict[int, float]:
    """RUNNING runs whose process is gone: {rid: the time they were last known alive}.

    Dead means: started on this host by a process that no longer exists, or no
    heartbeat (runs from before heartbeats: no start) for HEARTBEAT_TIMEOUT_S.

    They are written back as KILLED (end_time = last heartbeat) in one short
    transaction, compare-and-set on the heartbeat so a run that beat meanwhile
    is left alone. Written, not only derived at read time, because the stored
    status is what everything else reads: filters (``status = 'RUNNING'``)
    and ordering run in SQL, and so do other tools and older ModelDesks; a
    status derived only here would show KILLED next to a filter that still
    finds the run RUNNING. A wrong verdict (a machine asleep past the timeout)
    mends itself: the tracker that still has the run open sets it RUNNING
    again with its next heartbeat. When the write is impossible (a read-only
    file, a long lock) the caller still shows these runs as KILLED.
    """
    rows = project.read("SELECT rid, host, pid, heartbeat, start_time FROM runs WHERE status = 'RUNNING'")
    if not rows:
        return {}
    here, now = socket.gethostname(), time.time()
    dead: dict[int, tuple] = {}
    for rid, host, pid, beat, start in rows:
        last = start if beat is None else beat
        gone = host == here and pid is not None and not pid_alive(pid)
        if gone or now - last > HEARTBEAT_TIMEOUT_S:
            dead[rid] = (last, beat)
    if dead:
        try:
            with project.write() as w:
                w.executemany(
                    "UPDATE runs SET status = 'KILLED', end_time = ? WHERE rid = ? AND status = 'RUNNING'"
                    " AND heartbeat IS ?", [(last, rid, beat) for rid, (last, beat) in dead.items()])
        except sqlite3.Error:
            pass   # read-only or busy: shown as KILLED all the same, written by a later read
    return {rid: last for rid, (last, _) in dead.items()}


LIFECYCLES = ("active", "deleted", "all")
_VIEW_TYPES = {"active_only": "active", "deleted_only": "deleted", "all": "all", 1: "active", 2: "deleted", 3: "all",
               **{name: name for name in LIFECYCLES}}


def lifecycle_of(view) -> str:
    """``active`` | ``deleted`` | ``all`` from ours or MLflow's ``run_view_type``
    (``ViewType.ACTIVE_ONLY`` = 1 / "ACTIVE_ONLY", ``DELETED_ONLY`` = 2, ``ALL`` = 3)."""
    key = view.lower() if isinstance(view, str) else view
    if key not in _VIEW_TYPES or isinstance(view, bool):
        raise UsageError(f"Unknown run view {view!r}: use 'active', 'deleted' or 'all' "
                         "(MLflow's ViewType.ACTIVE_ONLY, DELETED_ONLY, ALL work too).")
    return _VIEW_TYPES[key]


def lifecycle_sql(lifecycle: str, alias: str = "r") -> str:
    """The SQL condition for runs (or experiments) in that lifecycle stage."""
    return {"active": f"{alias}.deleted_at IS NULL", "deleted": f"{alias}.deleted_at IS NOT NULL",
            "all": "1"}[lifecycle_of(lifecycle)]


def list_experiments(project: Project, lifecycle: str = "active") -> list[Experiment]:
    """Experiments by name with the number of their runs in that lifecycle stage.

    ``active`` (the default) lists the experiments that are not deleted and
    counts their active runs; ``deleted`` and ``all`` list every experiment
    (a live experiment may hold deleted runs) and count its deleted or all runs.
    """
    lifecycle = lifecycle_of(lifecycle)
    where = "e.deleted_at IS NULL" if lifecycle == "active" else "1"
    rows = named(project.conn, "SELECT e.id AS id, e.name AS name, e.created_at AS created_at,"
                               " e.deleted_at AS deleted_at,"
                               f" (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id"
                               f" AND {lifecycle_sql(lifecycle)}) AS run_count"
                               f" FROM experiments e WHERE {where} ORDER BY e.name")
    return [build(Experiment, row) for row in rows]


def experiment_ids(project: Project, experiments) -> list[int] | None:
    """Ids for experiment names (or ids); None means all. Unknown names are an error."""
    if experiments is None:
        return None
    if isinstance(experiments, (str, int)):
        experiments = [experiments]
    ids = []
    for exp in experiments:
        if isinstance(exp, str) and exp.isdigit() and project.conn.execute(
                "SELECT 1 FROM experiments WHERE name = ?", (exp,)).fetchone() is None:
            exp = int(exp)   # MLflow hands experiment ids out as text: "3"
        if isinstance(exp, int):
            row = project.conn.execute("SELECT id FROM experiments WHERE id = ?", (exp,)).fetchone()
        else:
            row = project.conn.execute("SELECT id FROM experiments WHERE name = ?", (exp,)).fetchone()
        if row is None:
            known = ", ".join(e.name for e in list_experiments(project)) or "none yet"
            raise NotFoundError(f"No experiment {exp!r} in {project.path}. Experiments: {known}.")
        ids.append(row[0])
    return ids


@dataclass(frozen=True)
class RunQuery:
    """What a search asks for; the same object drives search_runs and GUI pages."""

    experiments: tuple | None = None
    filter: str | None = None
    order_by: tuple = ()
    search: str | None = None  # quick search over run names and tag values
    parent_only: bool = False
    lifecycle: str = "active"  # active | deleted | all (deleted runs are hidden unless asked for)

    def where(self, project: Project) -> tuple[str, list]:
        clauses, args = [], []
        ids = experiment_ids(project, list(self.experiments) if self.experiments is not None else None)
        if ids is not None:
            clauses.append(f"r.experiment_id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        compiled = compile_filter(self.filter)
        clauses.append(compiled.sql)
        args.extend(compiled.params)
        if self.search and self.search.strip():
            pattern = f"%{self.search.strip()}%"
            clauses.append(
                "(r.name LIKE ? OR r.id LIKE ? OR EXISTS (SELECT 1 FROM tags t WHERE t.run_rid = r.rid"
                " AND (t.value LIKE ? OR t.key LIKE ?)))"
            )
            args.extend([pattern, pattern, pattern, pattern])
        if self.parent_only:
            clauses.append("r.parent_rid IS NULL")
        if self.lifecycle != "all":
            clauses.append(lifecycle_sql(self.lifecycle))
        return " AND ".join(f"({c})" for c in clauses) or "1", args


def _query(experiments=None, filter=None, order_by=None, search=None, lifecycle="active") -> RunQuery:
    if isinstance(order_by, str):
        order_by = [order_by]
    if isinstance(experiments, (str, int)):
        experiments = [experiments]
    return RunQuery(
        experiments=tuple(experiments) if experiments is not None else None,
        filter=filter,
        order_by=tuple(order_by or ()),
        search=search,
        lifecycle=lifecycle_of(lifecycle),
    )


def run_rids(project: Project, query: RunQuery, offset: int = 0, limit: int | None = None) -> list[int]:
    """Internal row ids of the matching runs, in the query's order, one page."""
    reap_dead_runs(project)   # so that a filter on status sees them KILLED
    where, args = query.where(project)
    order = compile_order_by(list(query.order_by))
    sql = f"SELECT r.rid FROM runs r WHERE {where} ORDER BY {order.sql}"
    params = args + order.params
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params += [int(limit), int(offset)]
    return [row[0] for row in project.conn.execute(sql, params)]


def runs_by_rid(project: Project, rids: list[int], *, with_data: bool = True) -> list[Run]:
    """Run objects for internal ids, in the given order."""
    if not rids:
        return []
    dead = reap_dead_runs(project)
    ids = json.dumps(list(rids))
    rows = project.read(
        f"SELECT {RUN_COLUMNS} FROM json_each(?) j JOIN runs r ON r.rid = j.value {RUN_JOINS} ORDER BY j.key", (ids,)
    )
    params: dict[int, dict] = {rid: {} for rid in rids}
    metrics: dict[int, dict] = {rid: {} for rid in rids}
    tags: dict[int, dict] = {rid: {} for rid in rids}
    if with_data:
        for table, target in (("params", params), ("tags", tags), ("latest_metrics", metrics)):
            for rid, key, value in project.read(
                f"SELECT x.run_rid, x.key, x.value FROM json_each(?) j JOIN {table} x ON x.run_rid = j.value",
                (ids,),
            ):
                target[rid][key] = float("nan") if value is None and table == "latest_metrics" else value
    out = [
        Run(id=r[1], name=r[2], experiment=r[3], status=r[4], user=r[5], start_time=r[6], end_time=r[7],
            parent_id=r[8], params=params[r[0]], metrics=metrics[r[0]], tags=tags[r[0]], experiment_id=r[9],
            deleted_at=r[10])
        for r in rows
    ]
    if dead:   # only when the write-back could not be made
        out = [replace(run, status="KILLED", end_time=dead[r[0]]) if r[4] == "RUNNING" and r[0] in dead else run
               for r, run in zip(rows, out)]
    return out


def run_rid(project: Project, run_id: str) -> int:
    row = project.conn.execute("SELECT rid FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None and isinstance(run_id, str) and 4 <= len(run_id) < 32:
        matches = project.read("SELECT rid FROM runs WHERE id LIKE ? LIMIT 2", (run_id + "%",))
        if len(matches) == 1:
            row = matches[0]
        elif matches:
            raise UsageError(f"Run id prefix {run_id!r} is ambiguous; give more characters.")
    if row is None:
        raise NotFoundError(f"No run with id {run_id!r} in {project.path}.", hint=Hint("list_runs"))
    return row[0]


def get_run(project: Project, run_id: str) -> Run:
    """One run with its params, latest metrics and tags (id or unique prefix)."""
    return runs_by_rid(project, [run_rid(project, run_id)])[0]


def search_runs(project: Project, experiments=None, filter: str | None = None, order_by=None,
                max_results: int | None = None, search: str | None = None, lifecycle: str = "active"):
    """Runs matching a filter as a DataFrame with MLflow-style column names.

    Columns: run_id, run_name, experiment_id (text, as MLflow), experiment,
    status, user, start_time, end_time, parent_run_id, artifact_uri
    (``runs:/<id>``), lifecycle_stage, then ``metrics.<k>`` (float, NaN when
    missing), ``params.<k>`` and ``tags.<k>`` (text, None when missing).
    Deleted runs are left out unless ``lifecycle`` is ``deleted`` or ``all``.
    """
    import pandas as pd

    if max_results is not None and (isinstance(max_results, bool) or not isinstance(max_results, int)
                                    or max_results < 0):
        raise UsageError(f"max_results must be a whole number of runs, not {max_results!r}.")
    query = _query(experiments, filter, order_by, search, lifecycle)
    rids = run_rids(project, query, 0, max_results)
    return runs_frame(project, rids, pd)


def find_runs(project: Project, experiments=None, filter: str | None = None, order_by=None,
              max_results: int | None = None, lifecycle: str = "active") -> list[Run]:
    """Like :func:`search_runs`, as ``Run`` objects (MLflow's ``output_format="list"``)."""
    rids = run_rids(project, _query(experiments, filter, order_by, None, lifecycle), 0, max_results)
    return runs_by_rid(project, rids)


def runs_frame(project: Project, rids: list[int], pd=None):
    if pd is None:
        import pandas as pd
    import numpy as np

    n = len(rids)
    dead = reap_dead_runs(project)
    ids = json.dumps(rids)
    base = project.read(
        f"SELECT r.id, r.name, e.name, r.status, r.user, r.start_time, r.end_time, pr.id, r.rid,"
        f" r.experiment_id, r.deleted_at FROM json_each(?) j JOIN runs r ON r.rid = j.value {RUN_JOINS}"
        " ORDER BY j.key", (ids,)
    )
    if dead:   # only when the write-back could not be made
        base = [row[:3] + ("KILLED", row[4], row[5], dead[row[8]]) + row[7:]
                if row[3] == "RUNNING" and row[8] in dead else row for row in base]
    cols = list(zip(*base)) if base else [()] * 11
    data: dict[str, object] = {
        "run_id": list(cols[0]),
        "run_name": list(cols[1]),
        "experiment_id": [str(e) for e in cols[9]],
        "experiment": list(cols[2]),
        "status": list(cols[3]),
        "user": list(cols[4]),
        "start_time": pd.to_datetime(np.array(cols[5], dtype="float64"), unit="s", utc=True),
        "end_time": pd.to_datetime(np.array([np.nan if v is None else v for v in cols[6]], dtype="float64"),
                                   unit="s", utc=True),
        "parent_run_id": list(cols[7]),
        "artifact_uri": [f"runs:/{i}" for i in cols[0]],
        "lifecycle_stage": ["active" if d is None else "deleted" for d in cols[10]],
    }
    for prefix, table, numeric in (("metrics", "latest_metrics", True), ("params", "params", False),
                                   ("tags", "tags", False)):
        rows = project.read(
            f"SELECT j.key, x.key, x.value FROM json_each(?) j JOIN {table} x ON x.run_rid = j.value"
            " ORDER BY x.key", (ids,))
        columns: dict[str, object] = {}
        for pos, key, value in rows:
            col = columns.get(key)
            if col is None:
                col = columns[key] = np.full(n, np.nan) if numeric else [None] * n
            col[pos] = np.nan if value is None else value
        for key in sorted(columns):
            data[f"{prefix}.{key}"] = columns[key]
    return pd.DataFrame(data)


def get_metric_history(project: Project, run_id: str, key: str, *, after_seq: int = 0):
    """Every logged point of one metric: DataFrame step, value, timestamp, by step.

    ``after_seq`` returns only chunks written after that sequence number (for
    live curves); the frame's ``attrs["seq"]`` holds the last one read.
    """
    import numpy as np
    import pandas as pd

    rid = run_rid(project, run_id)
    row = project.conn.execute("SELECT id FROM metric_keys WHERE name = ?", (key,)).fetchone()
    chunks = [] if row is None else project.read(
        "SELECT seq, steps, vals, timestamps FROM metric_chunks WHERE run_rid = ? AND key_id = ? AND seq > ?"
        " ORDER BY seq", (rid, row[0], after_seq))
    if not chunks and after_seq == 0:
        known = metric_names(project, rid)
        if key not in known and known:
            raise NotFoundError(f"Run {run_id[:8]} has no metric {key!r}. Its metrics: {', '.join(known)}.")
    steps = np.concatenate([np.frombuffer(c[1], dtype="<i8") for c in chunks]) if chunks else np.zeros(0, "int64")
    values = np.concatenate([np.frombuffer(c[2], dtype="<f8") for c in chunks]) if chunks else np.zeros(0)
    stamps = np.concatenate([np.frombuffer(c[3], dtype="<f8") for c in chunks]) if chunks else np.zeros(0)
    if len(steps) > 1 and not bool(np.all(steps[1:] >= steps[:-1])):
        order = np.argsort(steps, kind="stable")
        steps, values, stamps = steps[order], values[order], stamps[order]
    # The arrays were just copied out of the chunks (writable, ours): hand them
    # to pandas as they are instead of copying them again into one block.
    frame = pd.DataFrame({"step": steps.astype("int64", copy=False), "value": values.astype("float64", copy=False),
                          "timestamp": stamps.astype("float64", copy=False)}, copy=False)
    frame.attrs["seq"] = chunks[-1][0] if chunks else after_seq
    return frame


def metric_names(project: Project, rid: int) -> list[str]:
    return [r[0] for r in project.read("SELECT key FROM latest_metrics WHERE run_rid = ? ORDER BY key", (rid,))]


def known_keys(project: Project, experiments=None) -> dict[str, list[str]]:
    """Param, metric and tag keys used in the given experiments (for completion, columns)."""
    ids = experiment_ids(project, experiments)
    where = "1" if ids is None else f"r.experiment_id IN ({','.join('?' * len(ids))})"
    args = ids or []
    out = {}
    for kind, table in (("params", "params"), ("metrics", "latest_metrics"), ("tags", "tags")):
        out[kind] = [r[0] for r in project.read(
            f"SELECT DISTINCT x.key FROM {table} x JOIN runs r ON r.rid = x.run_rid WHERE {where} ORDER BY x.key",
            args)]
    return out


def child_runs(project: Project, run_id: str) -> list[Run]:
    rid = run_rid(project, run_id)
    rids = [r[0] for r in project.read("SELECT rid FROM runs WHERE parent_rid = ? ORDER BY start_time", (rid,))]
    return runs_by_rid(project, rids)

"""How long the prediction log keeps what it logged, and what it takes on disk.

Settings live in ``project_settings`` as JSON numbers:
``predictions.retention_days`` / ``predictions.retention_rows`` for the whole
project, and the same keys with ``@MODEL`` for one registered model, which
override the project's days for that model. A project ``rows`` limit bounds
the whole log; a model's bounds that model's rows. Whole requests are
deleted, oldest first, in short transactions (a server may be writing), and
their labels go with them. :func:`apply_retention` is what a server calls
every few minutes; :func:`prune_predictions` is the explicit prune.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .. import clock
from ..errors import UsageError
from ..storage.project import Project
from .prediction_log import _uri_filter, to_epoch

KEYS = ("retention_days", "retention_rows")
_CHUNK = 5_000


@dataclass(frozen=True)
class Retention:
    """Retention in force (None: keep everything)."""

    days: float | None = None
    rows: int | None = None


def _key(name: str, model: str | None) -> str:
    return f"predictions.{name}" + (f"@{model}" if model else "")


def get_retention(project: Project, model: str | None = None) -> Retention:
    """The retention set for the project, or for ``model`` alone (its own settings only)."""
    values = {}
    for name in KEYS:
        row = project.conn.execute("SELECT value FROM project_settings WHERE key = ?", (_key(name, model),)).fetchone()
        values[name] = json.loads(row[0]) if row else None
    return Retention(values["retention_days"], values["retention_rows"])


def set_retention(project: Project, *, days: float | None = None, rows: int | None = None,
                  model: str | None = None) -> Retention:
    """Keep ``days`` days or the newest ``rows`` rows (or both); 0 or None clears that setting."""
    for name, value in (("retention_days", days), ("retention_rows", rows)):
        if value is not None and value < 0:
            raise UsageError(f"{name.replace('_', ' ')} must be a positive number, not {value}.")
    with project.write() as w:
        for name, value in (("retention_days", days), ("retention_rows", rows)):
            if value:
                w.execute("INSERT INTO project_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                          " SET value = excluded.value", (_key(name, model), json.dumps(value)))
            else:
                w.execute("DELETE FROM project_settings WHERE key = ?", (_key(name, model),))
    return get_retention(project, model)


def file_bytes(project: Project) -> int:
    """The database's size (pages in use and free), WAL content included."""
    pages, size = project.conn.execute("PRAGMA page_count").fetchone()[0], \
        project.conn.execute("PRAGMA page_size").fetchone()[0]
    return int(pages) * int(size)


def log_size(project: Project) -> int:
    """Bytes the prediction log takes in the file (tables and indexes; estimated without ``dbstat``)."""
    names = [r[0] for r in project.read(
        "SELECT name FROM sqlite_master WHERE tbl_name IN ('prediction_requests', 'prediction_labels',"
        " 'served_versions') AND type IN ('table', 'index')")]
    try:
        row = project.read(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({','.join('?' * len(names))})", names)
        return int(row[0][0] or 0)
    except sqlite3.OperationalError:   # an SQLite built without the dbstat table: estimate
        row = project.read("SELECT COUNT(*), COALESCE(SUM(length(inputs) + length(outputs) + length(request_id)"
                           " + COALESCE(length(text_inputs), 0) + COALESCE(length(probabilities), 0)), 0)"
                           " FROM prediction_requests")
        return int(row[0][1] + row[0][0] * 90)   # ~90 bytes a request: numbers, record and index overhead


def _served_ids(project: Project, model: str | None) -> list[int] | None:
    """Served identities of ``model`` (a registered name or a model URI); None: every model."""
    if model is None:
        return None
    if ":/" in model:
        cond, params = _uri_filter(project, model)
    else:
        cond, params = "model_name = ?", [model]
    return [r[0] for r in project.read(f"SELECT id FROM served_versions WHERE {cond}", params)]


def _in(ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return "1", []
    return (f"served_id IN ({','.join('?' * len(ids))})", list(ids)) if ids else ("0", [])


def _delete(project: Project, where: str, params: list) -> int:
    """Delete the matching requests, a chunk per transaction; returns the rows they held."""
    deleted = 0
    while True:
        with project.write() as w:
            found = w.execute(f"SELECT id, rows FROM prediction_requests WHERE {where} ORDER BY id LIMIT {_CHUNK}",
                              params).fetchall()
            if not found:
                return deleted
            w.executemany("DELETE FROM prediction_requests WHERE id = ?", [(r[0],) for r in found])
        deleted += sum(r[1] for r in found)


def _keep_newest(project: Project, ids: list[int] | None, rows: int) -> int:
    cond, params = _in(ids)
    doomed = [r[0] for r in project.read(
        f"SELECT id FROM (SELECT id, SUM(rows) OVER (ORDER BY time DESC, id DESC) AS newer FROM prediction_requests"
        f" WHERE {cond}) WHERE newer > ?", [*params, int(rows)])]
    deleted = 0
    for k in range(0, len(doomed), _CHUNK):
        deleted += _delete(project, "id IN (SELECT value FROM json_each(?))", [json.dumps(doomed[k:k + _CHUNK])])
    return deleted


def _delete_failures(project: Project, cutoff: float, model: str | None = None, keep_names=()) -> None:
    """Delete the failed requests (``prediction_failures``) logged before ``cutoff``, of ``model`` (a
    registered name or model URI) or of every model but the registered names in ``keep_names``.
    The days rules apply to them as to answered requests; a rows rule does not (they hold no rows)."""
    cond, params = "time < ?", [cutoff]
    if model is not None and model.startswith("runs:/"):
        cond, params = cond + " AND run_id = ?", [*params, model.split(":/", 1)[1].split("/")[0]]
    elif model is not None:
        name = model.split(":/", 1)[1].split("/")[0].split("@")[0] if ":/" in model else model
        cond, params = cond + " AND model_name = ?", [*params, name]
    elif keep_names:
        cond += f" AND (model_name IS NULL OR model_name NOT IN ({','.join('?' * len(keep_names))}))"
        params += list(keep_names)
    with project.write() as w:
        w.execute(f"DELETE FROM prediction_failures WHERE {cond}", params)


def vacuum_file(project: Project) -> None:
    """Give the free pages back to the file system (VACUUM, then truncate the WAL)."""
    conn = project.conn
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def prune_predictions(project: Project, older_than=None, model: str | None = None,
                      vacuum: bool = False) -> tuple[int, int, int]:
    """Delete logged predictions older than ``older_than`` (an age like ``90d`` or a time), of ``model``
    (a registered name or model URI) or of every model; without ``older_than``, all of ``model``'s.

    Returns ``(rows_deleted, bytes_before, bytes_after)``; the file only
    shrinks with ``vacuum=True`` (deleted pages are otherwise reused by later
    writes).
    """
    if older_than is None and model is None:
        raise UsageError("Say what to prune: an age (older_than='90d') and/or a model.")
    before = file_bytes(project)
    cond, params = _in(_served_ids(project, model))
    cutoff = to_epoch(older_than, "older than") if older_than is not None else None
    if cutoff is not None:
        cond += " AND time < ?"
        params.append(cutoff)
    deleted = _delete(project, cond, params)
    if cutoff is not None:
        _delete_failures(project, cutoff, model)
    if vacuum:
        vacuum_file(project)
    return deleted, before, file_bytes(project)


def apply_retention(project: Project) -> int:
    """Apply the retention settings (models' own first, then the project's); returns rows deleted."""
    settings = dict(project.read("SELECT key, value FROM project_settings WHERE key LIKE 'predictions.retention_%'"))
    project_days = json.loads(settings.get(_key("retention_days", None), "null"))
    project_rows = json.loads(settings.get(_key("retention_rows", None), "null"))
    models = {k.split("@", 1)[1] for k in settings if "@" in k}
    deleted = 0
    now = clock.now()
    own_days: list[int] = []
    own_names: list[str] = []
    for model in sorted(models):
        ids = _served_ids(project, model) or []
        rule = get_retention(project, model)
        if rule.days:
            own_days += ids
            own_names.append(model)
            cond, params = _in(ids)
            deleted += _delete(project, f"{cond} AND time < ?", [*params, now - float(rule.days) * 86400])
            _delete_failures(project, now - float(rule.days) * 86400, model)
        if rule.rows and ids:
            deleted += _keep_newest(project, ids, int(rule.rows))
    if project_days:
        cond = "time < ?" + (f" AND served_id NOT IN ({','.join('?' * len(own_days))})" if own_days else "")
        deleted += _delete(project, cond, [now - float(project_days) * 86400, *own_days])
        _delete_failures(project, now - float(project_days) * 86400, keep_names=own_names)
    if project_rows:
        deleted += _keep_newest(project, None, int(project_rows))
    return deleted

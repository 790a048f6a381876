"""Alerts: what a firing monitor leaves behind until someone acknowledges it.

A firing check records an alert with the figures that crossed their
thresholds and appends ``monitor.alert`` to the audit log. While that alert
is open (not acknowledged) and later checks fire on the same version with
the same thresholds crossed, they update it (``last_seen``, ``checks``)
instead of adding one alert and one audit entry per check: a scheduler that
checks every five minutes would otherwise bury the log, and a retrain starts
once per alert, not once per check. Acknowledging an alert
(``monitor.acknowledge`` in the audit log) closes it; the next firing check
opens a new one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from .. import audit, clock
from ..errors import NotFoundError, UsageError
from ..identity import check_user
from ..storage.project import Project
from ..storage.rows import build, named


@dataclass(frozen=True)
class Alert:
    """One alert: the monitor, the version it fired on, and the figures that crossed."""

    id: int
    monitor: str
    model: str
    alias: str
    version: int | None
    at: float
    last_seen: float
    checks: int
    figures: tuple[dict, ...]       # each: kind, label, value, threshold, crossed, note
    summary: str
    acknowledged_by: str | None
    acknowledged_at: float | None

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None

    def to_dict(self) -> dict:
        return {"id": self.id, "monitor": self.monitor, "model": self.model, "alias": self.alias,
                "version": self.version, "at": self.at, "last_seen": self.last_seen, "checks": self.checks,
                "figures": list(self.figures), "summary": self.summary, "acknowledged_by": self.acknowledged_by,
                "acknowledged_at": self.acknowledged_at}


_COLUMNS = ("id, monitor, model, alias, version, at, last_seen, checks, figures, summary, acknowledged_by,"
            " acknowledged_at")


def _alert(row) -> Alert:
    """The one place a ``monitor_alerts`` row becomes an :class:`Alert`."""
    return build(Alert, row, figures=tuple(json.loads(row["figures"])))


def list_alerts(project: Project, monitor: str | None = None, *, open_only: bool = False,
                after: int | None = None, limit: int | None = None) -> list[Alert]:
    """Alerts, newest first; ``after`` keeps those with a higher id (what is new since a known one)."""
    clauses, args = [], []
    if monitor is not None:
        clauses.append("monitor = ?")
        args.append(monitor)
    if open_only:
        clauses.append("acknowledged_at IS NULL")
    if after is not None:
        clauses.append("id > ?")
        args.append(int(after))
    sql = f"SELECT {_COLUMNS} FROM monitor_alerts WHERE {' AND '.join(clauses) or '1'} ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [_alert(r) for r in named(project.conn, sql, args)]


def get_alert(project: Project, alert_id: int) -> Alert:
    rows = named(project.conn, f"SELECT {_COLUMNS} FROM monitor_alerts WHERE id = ?", (int(alert_id),))
    if not rows:
        raise NotFoundError(f"No alert #{alert_id}.")
    return _alert(rows[0])


def _crossed(figures) -> list[str]:
    return sorted(f["kind"] for f in figures if f.get("crossed"))


def record_alert(conn: sqlite3.Connection, *, monitor, version: int | None, figures: list[dict], summary: str,
                 at: float) -> tuple[int, bool]:
    """Inside the caller's write transaction: a new alert (and its ``monitor.alert`` audit entry), or the
    open one of the same version and crossed thresholds seen again. Returns ``(alert id, new)``."""
    crossed = _crossed(figures)
    for row in named(conn, f"SELECT {_COLUMNS} FROM monitor_alerts WHERE monitor = ? AND acknowledged_at IS NULL"
                           " ORDER BY id DESC", (monitor.name,)):
        if row["version"] == version and _crossed(json.loads(row["figures"])) == crossed:
            conn.execute("UPDATE monitor_alerts SET last_seen = ?, checks = checks + 1, figures = ?, summary = ?"
                         " WHERE id = ?", (at, json.dumps(figures), summary, row["id"]))
            return row["id"], False
    alert_id = conn.execute(
        "INSERT INTO monitor_alerts (monitor, model, alias, version, at, last_seen, checks, figures, summary)"
        " VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (monitor.name, monitor.model, monitor.alias, version, at, at, json.dumps(figures), summary)).lastrowid
    audit.append(conn, actor=monitor.owner, action="monitor.alert", model=monitor.model, version=version, at=at,
                 details={"alert_id": alert_id, "monitor": monitor.name, "alias": monitor.alias,
                          "window": monitor.window, "crossed": [f for f in figures if f.get("crossed")]})
    return alert_id, True


def acknowledge(project: Project, alert_id: int, *, actor: str | None = None, comment: str = "") -> Alert:
    """Close an open alert; the next firing check opens a new one. Audit ``monitor.acknowledge``."""
    actor = check_user(actor or project.user)
    now = clock.now()
    with project.write() as w:
        rows = named(w, f"SELECT {_COLUMNS} FROM monitor_alerts WHERE id = ?", (int(alert_id),))
        if not rows:
            raise NotFoundError(f"No alert #{alert_id}.")
        alert = _alert(rows[0])
        if not alert.open:
            raise UsageError(f"Alert #{alert.id} was already acknowledged by {alert.acknowledged_by}.")
        w.execute("UPDATE monitor_alerts SET acknowledged_by = ?, acknowledged_at = ? WHERE id = ?",
                  (actor, now, alert.id))
        audit.append(w, actor=actor, action="monitor.acknowledge", model=alert.model, version=alert.version,
                     at=now, details={"alert_id": alert.id, "monitor": alert.monitor, "comment": comment or ""})
    return get_alert(project, alert.id)

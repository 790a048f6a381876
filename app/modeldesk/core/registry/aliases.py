"""Aliases: which version each alias points at, their history, moves and rollback."""

from __future__ import annotations

import sqlite3

from .. import audit, clock
from ..errors import Hint, RefusedError, UsageError
from ..identity import check_user
from ..storage.blobs import get_blob
from ..storage.project import Project
from ..storage.rows import build, named
from .entities import PRODUCTION, AliasMove, is_protected
from .ledger import checked_sha256
from .settings import get_settings, may_govern
from .versions import alias_holder, check_alias, model_id, version_of


def _moves(conn: sqlite3.Connection, where: str, args) -> list[AliasMove]:
    return [build(AliasMove, r) for r in named(
        conn, "SELECT m.name AS model, h.alias AS alias, h.from_version AS from_version, h.to_version AS to_version,"
        " h.kind AS kind, h.actor AS actor, h.reason AS reason, h.request_id AS request_id, h.at AS at"
        f" FROM alias_history h JOIN registered_models m ON m.id = h.model_id WHERE {where} ORDER BY h.id", args)]


def alias_history(project: Project, name: str, alias: str | None = None) -> list[AliasMove]:
    """Every move of the model's aliases (or of one alias), oldest first."""
    mid = model_id(project.conn, name)
    if alias is None:
        return _moves(project.conn, "h.model_id = ?", (mid,))
    return _moves(project.conn, "h.model_id = ? AND h.alias = ?", (mid, alias.strip().lower()))


def _move_alias(conn: sqlite3.Connection, *, name: str, alias: str, to_version: int, kind: str, actor: str,
                reason: str = "", request_id: int | None = None) -> AliasMove:
    """Point ``alias`` at ``to_version`` and record the move (inside a write transaction).

    Private to the registry: callers (approvals, rollback, set_alias) apply the
    rules first. A protected alias moves only as a completed request's
    promotion or a rollback; anything else is refused here too.
    """
    if is_protected(alias) and kind not in ("promote", "rollback"):
        raise RefusedError(f"{alias} is protected: it moves only through an approved request or a rollback.")
    mid = model_id(conn, name)
    before = alias_holder(conn, mid, alias)
    now = clock.now()
    conn.execute("INSERT INTO aliases (model_id, alias, version, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)"
                 " ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version,"
                 " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                 (mid, alias, to_version, actor, now))
    conn.execute("INSERT INTO alias_history (model_id, alias, from_version, to_version, kind, actor, reason,"
                 " request_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (mid, alias, before, to_version, kind, actor, reason, request_id, now))
    audit.append(conn, actor=actor, action=f"alias.{kind}", model=name, version=to_version, at=now,
                 details={"alias": alias, "from_version": before, "to_version": to_version, "reason": reason,
                          "request_id": request_id})
    return AliasMove(name, alias, before, to_version, kind, actor, reason, request_id, now)


def set_alias(project: Project, name: str, alias: str, version: int, *, actor: str | None = None,
              reason: str = "") -> AliasMove:
    """Point an unprotected alias (staging, champion, ...) at ``version`` directly."""
    alias = check_alias(alias)
    actor = check_user(actor or project.user)
    if is_protected(alias):
        raise RefusedError(
            f"{alias} is protected: a version reaches it only through an approved request.",
            hint=Hint("request", model=name, version=version, alias=alias))
    with project.write() as w:
        v = version_of(w, name, version)
        if alias_holder(w, model_id(w, name), alias) == v.version:
            raise UsageError(f"{alias} already points at {name} v{v.version}; nothing to do.")
        return _move_alias(w, name=name, alias=alias, to_version=v.version, kind="set", actor=actor,
                           reason=reason)


def _previous(moves: list[AliasMove]) -> int | None:
    """The version a rollback would restore: undo the last promotion not yet undone.

    Replays the history as a stack: each move pushes the version it
    replaced, each rollback pops; v1→v2→v3, rollback → v2, rollback → v1.
    """
    stack: list[int] = []
    current = None
    for move in moves:
        if move.kind == "rollback":
            if stack:
                stack.pop()
        elif current is not None and current != move.to_version:
            stack.append(current)
        current = move.to_version
    return stack[-1] if stack else None


def previous_version(project: Project, name: str, alias: str = PRODUCTION) -> int | None:
    """The version ``rollback`` would put back on ``alias``, or None."""
    return _previous(alias_history(project, name, alias))


def rollback(project: Project, name: str, *, alias: str = PRODUCTION, reason: str,
             actor: str | None = None) -> AliasMove:
    """Move ``alias`` back to the version that held it before, in one recorded step.

    Refused when there is no previous version, when the previous version's
    artifact no longer verifies, or (for production, when an approvers list
    is set) when ``actor`` is not an approver.
    """
    alias = check_alias(alias)
    actor = check_user(actor or project.user)
    if not reason or not str(reason).strip():
        raise UsageError("A rollback needs a reason, e.g. --reason \"v3 misclassifies new customers\".")
    with project.write() as w:
        mid = model_id(w, name)
        current = alias_holder(w, mid, alias)
        target = _previous(_moves(w, "h.model_id = ? AND h.alias = ?", (mid, alias)))
        if current is None or target is None:
            what = f"{name}@{alias} is not set" if current is None else \
                f"v{current} is the first version that held {name}@{alias}"
            raise RefusedError(f"Nothing to roll back to: {what}. Promote another version instead.",
                               hint=Hint("request", model=name, alias=alias))
        if is_protected(alias):
            ok, why = may_govern(get_settings(project, name), actor)
            if not ok:
                raise RefusedError(f"{actor} cannot roll back production: {why}")
        previous = version_of(w, name, target)
        get_blob(w, checked_sha256(project, previous), what=f"model {name} v{target}")   # refuse a tampered one
        return _move_alias(w, name=name, alias=alias, to_version=target, kind="rollback", actor=actor,
                           reason=str(reason).strip())


def refresh_version_status(conn: sqlite3.Connection, name: str, version: int) -> str:
    """Recompute a version's status from its requests (inside a write transaction)."""
    mid = model_id(conn, name)
    statuses = [r[0] for r in conn.execute(
        "SELECT status FROM promotion_requests WHERE model_id = ? AND version = ? ORDER BY id DESC", (mid, version))]
    if "pending" in statuses:
        status = "pending"
    elif "completed" in statuses:
        status = "approved"
    elif "rejected" in statuses:
        status = "rejected"
    else:
        status = "registered"
    conn.execute("UPDATE model_versions SET status = ? WHERE model_id = ? AND version = ?", (status, mid, version))
    return status

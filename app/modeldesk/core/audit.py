"""The append-only, hash-chained audit log.

Every registry, alias, approval, gate, override, rollback and settings
change appends one entry *inside the transaction that makes the change*, so
an entry exists exactly when its change does. Each entry's hash is the
sha256 of the canonical JSON of (seq, time, actor, action, model, version,
details, prev_hash), and ``prev_hash`` is the previous entry's hash: editing,
deleting or reordering an entry breaks the chain at that entry.

What the chain cannot do alone: someone who rewrites every entry from the
edited one to the end, recomputing hashes, leaves a valid chain. The head
(latest seq and hash) is printed by ``verify``; noting it somewhere else (a
ticket, a commit) makes such a rewrite evident too. Triggers refuse UPDATE
and DELETE on the table, so an edit needs a deliberate DROP TRIGGER first.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from datetime import datetime, timezone
from typing import Any

from . import clock
from .storage.project import Project
from .storage.rows import build, named
from .registry.entities import AuditEntry, AuditVerification

GENESIS = "0" * 64
_COLUMNS = "seq, time, actor, action, model, version, details, prev_hash, hash"
_TRIGGERS = ("audit_log_no_update", "audit_log_no_delete")


def plain(value: Any) -> Any:
    """Details as plain, finite JSON values (NaN -> None, tuples -> lists)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [plain(v) for v in items]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return str(value)


def canonical_json(value: Any) -> str:
    """The one JSON spelling hashed: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(seq: int, time_: str, actor: str, action: str, model: str | None, version: int | None,
               details: dict, prev_hash: str) -> str:
    """The sha256 that chains an entry: over the canonical JSON of all its fields."""
    record = {"seq": seq, "time": time_, "actor": actor, "action": action, "model": model,
              "version": version, "details": details, "prev_hash": prev_hash}
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def iso_time(at: float) -> str:
    """Unix seconds as ISO 8601 UTC with microseconds, e.g. 2026-11-01T09:30:00.000000Z."""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(conn: sqlite3.Connection, *, actor: str, action: str, model: str | None = None,
           version: int | None = None, details: dict | None = None, at: float | None = None) -> AuditEntry:
    """Append one entry inside the caller's write transaction (project.write()).

    The new entry chains to the recorded head, not to the last row in the
    table, so entries deleted at the end stay evident after later appends.
    """
    if not conn.in_transaction:
        raise RuntimeError("audit.append must run inside the write transaction of the change it records")
    head = conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    if head is None:
        head = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    when = iso_time(clock.now() if at is None else at)
    clean = plain(details or {})
    digest = entry_hash(seq, when, actor, action, model, version, clean, prev)
    conn.execute(f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (seq, when, actor, action, model, version, canonical_json(clean), prev, digest))
    conn.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE"
                 " SET seq = excluded.seq, hash = excluded.hash", (seq, digest))
    return AuditEntry(seq, when, actor, action, model, version, clean, prev, digest)


def record(project: Project, *, action: str, actor: str | None = None, model: str | None = None,
           version: int | None = None, details: dict | None = None) -> AuditEntry:
    """Append one entry in its own transaction (for events that change nothing else,
    e.g. a model server starting or stopping)."""
    with project.write() as w:
        return append(w, actor=actor or project.user, action=action, model=model, version=version,
                      details=details)


def _entry(row: sqlite3.Row) -> AuditEntry:
    """The one place an audit_log row becomes an AuditEntry (columns named as its fields)."""
    try:
        details = json.loads(row["details"])
    except ValueError:
        details = {"unreadable": row["details"]}
    return build(AuditEntry, row, details=details)


def list_entries(project: Project, model: str | None = None, action: str | None = None,
                 version: int | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Entries in order. ``action`` matches exactly or as a prefix: ``request``
    matches ``request.create``, ``request.approve``, ...; ``limit`` keeps the last ones."""
    clauses, args = [], []
    if model is not None:
        clauses.append("model = ?")
        args.append(model)
    if version is not None:
        clauses.append("version = ?")
        args.append(int(version))
    if action:
        clauses.append("(action = ? OR action LIKE ? ESCAPE '\\')")
        escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args += [action, escaped.rstrip(".") + ".%"]
    where = " AND ".join(clauses) or "1"
    base = f"SELECT {_COLUMNS} FROM audit_log WHERE {where}"
    sql = f"{base} ORDER BY seq"
    if limit is not None:
        sql = f"SELECT * FROM ({base} ORDER BY seq DESC LIMIT ?) ORDER BY seq"
        args.append(int(limit))
    return [_entry(row) for row in named(project.conn, sql, args)]


def _describe(row) -> str:
    return f"#{row[0]} ({row[3]} by {row[2]} at {row[1]})"


def verify(project: Project) -> AuditVerification:
    """Check the whole chain; report OK or the first edited, deleted or reordered entry."""
    rows = project.read(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq")
    head = project.conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    present = {r[0] for r in project.read(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")}
    warnings = tuple(
        f"The append-only trigger {name} was removed from the project file (outside ModelDesk)."
        for name in _TRIGGERS if name not in present)

    def bad(seq: int, problem: str, message: str) -> AuditVerification:
        return AuditVerification(False, len(rows), head[1] if head else None, message, seq, problem, warnings)

    prev_hash, expected = GENESIS, 1
    for row in rows:
        seq, time_, actor, action, model, version, details_text, stored_prev, stored_hash = row
        if seq != expected:
            if seq < expected:
                return bad(seq, "reordered", f"Entry #{seq} is out of sequence (expected #{expected}).")
            missing = f"#{expected}" if seq == expected + 1 else f"#{expected}–#{seq - 1}"
            return bad(expected, "deleted",
                       f"Entry {missing} is missing: the log jumps from #{expected - 1} to #{seq}. "
                       "Entries were deleted or renumbered.")
        try:
            details = json.loads(details_text)
        except ValueError:
            return bad(seq, "edited", f"Entry {_describe(row)} was edited: its details are not valid JSON.")
        if entry_hash(seq, time_, actor, action, model, version, details, stored_prev) != stored_hash:
            written_as = _written_as(row, details, len(rows) + 2)
            if written_as is not None:
                return bad(seq, "reordered",
                           f"Entry {_describe(row)} was moved: it was written as entry #{written_as}. "
                           "Entries were reordered.")
            return bad(seq, "edited",
                       f"Entry {_describe(row)} was edited: its content no longer matches its hash.")
        if stored_prev != prev_hash:
            return bad(seq, "reordered",
                       f"Entry {_describe(row)} does not follow entry #{seq - 1}: its prev_hash does not "
                       f"match. Entries were reordered, or #{seq - 1} was replaced.")
        prev_hash, expected = stored_hash, seq + 1
    last = expected - 1
    if head is None and rows:
        return bad(last, "edited", "The audit log's head record was deleted: the end of the log cannot be checked.")
    if head is not None:
        if head[0] > last:
            missing = f"#{last + 1}" if head[0] == last + 1 else f"#{last + 1}–#{head[0]}"
            return bad(last + 1, "deleted",
                       f"Entry {missing} is missing: the log ends at #{last} but #{head[0]} was written. "
                       "Entries at the end were deleted.")
        if head[0] < last or head[1] != prev_hash:
            return bad(head[0] + 1 if head[0] < last else last, "edited",
                       f"The log's end does not match its head record (#{head[0]}): entries after it were "
                       "added or replaced outside ModelDesk.")
    if not rows:
        return AuditVerification(True, 0, None, "Audit log OK: no entries yet.", warnings=warnings)
    return AuditVerification(True, len(rows), prev_hash,
                             f"Audit log OK: {len(rows)} entries, chain intact; head #{last} "
                             f"sha256 {prev_hash}.", warnings=warnings)


def _written_as(row, details: dict, max_seq: int) -> int | None:
    """The seq an entry was hashed with, when it differs from where it sits now."""
    _, time_, actor, action, model, version, _, stored_prev, stored_hash = row
    for seq in range(1, max_seq + 1):
        if seq != row[0] and entry_hash(seq, time_, actor, action, model, version, details,
                                        stored_prev) == stored_hash:
            return seq
    return None

"""The append-only, hash-chained audit log.

Every registry, alias, approval, gate, override, rollback and settings
change appends one entry *inside the transaction that makes the change*, so
an entry exists exactly when its change does. Each entry's hash is the
sha256 of the canonical JSON of (seq, time, actor, action, model, version,
details, prev_hash), and ``prev_hash`` is the previous entry's hash: editing,
deleting or reordering an entry breaks the chain at that entry.

What the chain cannot do alone: someone who rewrites every entry from the
edited one to the end, recomputing hashes, or cuts the end and moves the
head record back, leaves a valid chain. Three things catch that: every
machine that opens the project remembers the highest entry it has seen
(:func:`check_seen_head`), a head printed earlier (in a report, a ticket, a CI
log) can be checked with ``verify --expect-head SEQ:HASH``, and the registry
compares its tables with what the log says (core.registry.ledger). Triggers
refuse UPDATE and DELETE on the table; their SQL is checked too, so an edit
needs a deliberate DROP TRIGGER that verify reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from . import clock
from .errors import UsageError
from .registry.entities import AuditEntry, AuditVerification
from .storage.project import Project
from .storage.rows import build, named
from .text import utc_iso

GENESIS = "0" * 64
_COLUMNS = "seq, time, actor, action, model, version, details, prev_hash, hash"
# The append-only triggers as migration m002 created them (compared without whitespace).
_TRIGGERS = {
    "audit_log_no_update": "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT "
                           "RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END",
    "audit_log_no_delete": "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT "
                           "RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted'); END",
}


def _squash(sql: str | None) -> str:
    return "".join((sql or "").split()).casefold()


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
    when = utc_iso(clock.now() if at is None else at)
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


def verify(project: Project, *, after: tuple[int, str] | None = None) -> AuditVerification:
    """Check the whole chain; report OK or the first edited, deleted or reordered entry.

    ``after=(seq, hash)``: a prefix already verified in this process; when entry
    ``seq`` still has that hash only the entries after it are checked (a
    server re-checking the log every few seconds), else the whole chain.
    """
    start_seq, start_hash = 0, GENESIS
    if after is not None:
        row = project.conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (after[0],)).fetchone()
        if row is not None and row[0] == after[1]:
            start_seq, start_hash = after
    rows = project.read(f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq", (start_seq,))
    head = project.conn.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    present = dict(project.read("SELECT name, sql FROM sqlite_master"
                                " WHERE type = 'trigger' AND tbl_name = 'audit_log'"))
    warnings = tuple(
        f"The append-only trigger {name} was removed from the project file (outside ModelDesk)."
        if name not in present else
        f"The append-only trigger {name} was replaced by one with other SQL (outside ModelDesk)."
        for name, sql in _TRIGGERS.items() if _squash(present.get(name)) != _squash(sql))

    def bad(seq: int | None, problem: str, message: str) -> AuditVerification:
        return AuditVerification(False, len(rows), head[1] if head else None, message, seq, problem, warnings)

    prev_hash, expected = start_hash, start_seq + 1
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
    if head is None and (rows or start_seq):
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
    if warnings:   # the chain holds, but the guard that keeps it append-only was taken down or replaced
        return bad(None, "triggers", warnings[0] + " Entries could have been changed or deleted since.")
    if not rows and not start_seq:
        return AuditVerification(True, 0, None, "Audit log OK: no entries yet.", warnings=warnings)
    return AuditVerification(True, last, prev_hash,
                             f"Audit log OK: {last} entries, chain intact; head #{last} "
                             f"sha256 {prev_hash}.", warnings=warnings)


def _written_as(row, details: dict, max_seq: int) -> int | None:
    """The seq an entry was hashed with, when it differs from where it sits now."""
    _, time_, actor, action, model, version, _, stored_prev, stored_hash = row
    for seq in range(1, max_seq + 1):
        if seq != row[0] and entry_hash(seq, time_, actor, action, model, version, details,
                                        stored_prev) == stored_hash:
            return seq
    return None


# -- what this machine has seen ---------------------------------------------------------------
# Every ModelDesk that opens a project remembers the highest entry of its chain it has seen,
# per project id, outside the project file. A chain that no longer holds that entry was cut or
# replaced (an older copy of the file, a truncated log with its head record moved back).

def data_dir() -> Path:
    """Where ModelDesk keeps what this machine remembers: $XDG_DATA_HOME/modeldesk on Linux
    (~/.local/share/modeldesk), ~/Library/Application Support/ModelDesk on macOS,
    %LOCALAPPDATA%\\ModelDesk on Windows."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "ModelDesk"
    if sys.platform == "darwin" and not os.environ.get("XDG_DATA_HOME"):
        return Path.home() / "Library" / "Application Support" / "ModelDesk"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "modeldesk"


_SEEN_FILE = "audit-heads.json"


def project_id(project: Project) -> str | None:
    """The random id that names this project on every machine (set by migration m006)."""
    row = project.conn.execute("SELECT value FROM project_settings WHERE key = 'project.id'").fetchone()
    return json.loads(row[0]) if row else None


@contextlib.contextmanager
def _seen_file():
    """The machine's record of seen heads, locked against other ModelDesk processes while held."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _SEEN_FILE
    with open(folder / (_SEEN_FILE + ".lock"), "a+") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:   # Windows: last writer wins; the record only ever grows per project
            pass
        try:
            seen = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            seen = {}
        box = {"seen": seen if isinstance(seen, dict) else {}}
        yield box
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(box["seen"], indent=1, sort_keys=True))
        os.replace(tmp, path)


def seen_head(project: Project) -> tuple[int, str] | None:
    """The highest (seq, hash) of this project's chain this machine has seen, or None."""
    pid = project_id(project)
    if pid is None:
        return None
    path = data_dir() / _SEEN_FILE
    try:
        record = json.loads(path.read_text()).get(pid)
    except (OSError, ValueError, AttributeError):
        return None
    return (int(record["seq"]), str(record["hash"])) if record else None


def check_seen_head(project: Project, expect: tuple[int, str] | None = None) -> str | None:
    """Why the chain is not the one seen before (by this machine, or ``expect``), or None.

    "the audit log was cut or replaced since this machine saw entry 42".
    """
    checks = [("this machine saw", seen_head(project))]
    if expect is not None:
        checks.append(("the expected head is", expect))
    for who, head in checks:
        if head is None:
            continue
        seq, digest = head
        row = project.conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            return (f"The audit log was cut or replaced since {who} entry #{seq}: the log no longer has it "
                    "(an older copy of the file, or entries removed at the end).")
        if not row[0].startswith(digest):
            return (f"The audit log was rewritten since {who} entry #{seq}: entry #{seq} now has another hash "
                    f"({row[0][:12]}… instead of {digest[:12]}…).")
    return None


def remember_head(project: Project, *, checked: bool = False) -> None:
    """Record the chain's current head as seen by this machine (when it extends what was seen).

    ``checked``: the caller has just found the chain consistent with the memory (check_seen_head).
    """
    pid = project_id(project)
    head = project.conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    if pid is None or head is None or (not checked and check_seen_head(project) is not None):
        return   # never overwrite the memory of a longer chain with a cut or rewritten one
    if seen_head(project) == (head[0], head[1]):
        return   # nothing new: no lock taken, nothing written (every CLI command and script opens a project)
    try:
        with _seen_file() as box:
            old = box["seen"].get(pid)
            if old is None or int(old.get("seq", 0)) <= head[0]:
                box["seen"][pid] = {"seq": head[0], "hash": head[1], "path": str(project.path),
                                    "at": utc_iso(clock.now())}
    except OSError:
        pass   # a read-only home: nothing remembered, nothing else breaks


def parse_head(text: str) -> tuple[int, str]:
    """``SEQ:HASH`` as printed by ``audit verify`` (the hash may be shortened to 12+ characters)."""
    seq, sep, digest = str(text).strip().partition(":")
    if not sep or not seq.strip().lstrip("#").isdigit() or len(digest.strip()) < 12:
        raise UsageError(f"Expected head {text!r} is not SEQ:HASH, e.g. 42:3f2a9c1e…; "
                         "copy it from the line `audit verify` prints.")
    return int(seq.strip().lstrip("#")), digest.strip().lower()


def on_open(project: Project) -> str | None:
    """What a face calls after opening a project: a warning when the chain is not the one this
    machine saw before (the memory is then kept), else the head is remembered and None returned."""
    try:
        warning = check_seen_head(project)
    except sqlite3.DatabaseError:
        return None   # an old or damaged file: `audit verify` says more
    if warning is None:
        remember_head(project, checked=True)
    return warning

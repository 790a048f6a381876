"""Opening, checking, migrating and connecting to a `.mdesk` project file.

A project is one SQLite file in WAL mode. Every connection gets the same
pragmas (foreign keys, busy timeout); each thread gets its own connection so
that GUI workers, a metric-flush thread and the main thread never share one.
Writers take the write lock up front (``BEGIN IMMEDIATE``) and keep
transactions short, so concurrent processes wait for each other instead of
failing with ``database is locked``.

A file is checked before anything is written to it: not SQLite, truncated,
not a ModelDesk project, or written by a newer ModelDesk are all refused with
a message and leave the file byte-for-byte unchanged.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sqlite3
import struct
import threading
import time
from pathlib import Path
from typing import Iterator

from ..errors import Hint, ProjectError, ProjectPathError
from .migrations import MIGRATION_SET, MIGRATIONS, SCHEMA_VERSION
from ..version import __version__

DEFAULT_PROJECT = "modeldesk.mdesk"
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 60.0


def default_project_path() -> str:
    """`MODELDESK_PROJECT`, else ./modeldesk.mdesk."""
    return os.environ.get("MODELDESK_PROJECT") or DEFAULT_PROJECT


def current_user() -> str:
    """Who is acting: `MODELDESK_USER`, else the OS login name."""
    user = os.environ.get("MODELDESK_USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


def check_file(path: Path) -> int:
    """Read-only checks of an existing file; return its schema version.

    Raises ProjectError for anything we must not touch. Opens the file
    read-only, so nothing (not even the WAL header) is written.
    """
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise ProjectError(
            f"{path} is not a ModelDesk project: it is not an SQLite file. "
            "Open a .mdesk file, or create a new project.", hint=Hint("init")
        )
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    n_pages = struct.unpack(">I", header[28:32])[0]
    valid_for, change_counter = struct.unpack(">I", header[92:96])[0], struct.unpack(">I", header[24:28])[0]
    if page_size < 512 or page_size & (page_size - 1):
        raise ProjectError(f"{path} is damaged: its SQLite header is invalid. Restore it from a backup.")
    if (valid_for == change_counter and n_pages and size < n_pages * page_size) or size % page_size:
        raise ProjectError(
            f"{path} is truncated ({size} bytes, its header says "
            f"{n_pages * page_size}): it was cut short while copying. "
            "Restore the complete file from a backup; it was left unchanged."
        )
    try:
        # Without a live WAL, open as immutable so SQLite creates no -wal/-shm
        # side files next to a file we may be about to refuse.
        live_wal = Path(f"{path}-wal").exists()
        mode = "mode=ro" if live_wal else "mode=ro&immutable=1"
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            applied: list[str] = []
            if "_sqlite_migrations" in tables:
                applied = [
                    r[0]
                    for r in conn.execute(
                        "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,)
                    )
                ]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{path} is damaged and cannot be read ({exc}). Restore it from a backup.") from None
    known = {name for name, _ in MIGRATIONS}
    unknown = [name for name in applied if name not in known]
    if version > SCHEMA_VERSION or unknown:
        raise ProjectError(
            f"{path} was written by a newer ModelDesk (schema {max(version, len(applied))}; "
            f"this ModelDesk {__version__} knows schema {SCHEMA_VERSION}). "
            "Upgrade ModelDesk to open it; the file was left unchanged."
        )
    if version == 0 and tables - {"_sqlite_migrations"}:
        raise ProjectError(
            f"{path} is an SQLite database but not a ModelDesk project. "
            "Choose a .mdesk file, or create a new project.", hint=Hint("init")
        )
    return version


class Project:
    """An open project file. Pass it explicitly; there is no hidden global.

    Connections are per thread. Use :meth:`write` for every change and
    :meth:`read` (or ``.conn``) for queries.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, user: str | None = None):
        self.path = Path(path).expanduser()
        self.user = user or current_user()
        self.backup_path: Path | None = None
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        if self.path.exists():
            if self.path.is_dir():
                raise ProjectPathError(f"{self.path} is a folder; give the path of a .mdesk file.")
            version = check_file(self.path)
        elif create:
            if not self.path.parent.exists():
                raise ProjectPathError(f"Cannot create {self.path}: folder {self.path.parent} does not exist.")
            version = 0
        else:
            raise ProjectPathError(f"No project at {self.path}.", hint=Hint("init", path=str(self.path)))
        if 0 < version < SCHEMA_VERSION:
            self.backup_path = self._backup(version)
        self._migrate()

    # -- connections ---------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; use write() for changes)."""
        if self._closed:
            raise ProjectError(f"Project {self.path} is closed.")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, holding the write lock from the start.

        Nested use inside the same thread joins the outer transaction.
        """
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def read(self, sql: str, params=()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this object opened (all threads)."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()
        self._closed = True

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Project {str(self.path)!r} user={self.user!r}>"

    # -- schema ----------------------------------------------------------
    def _backup(self, version: int) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.bak-{stamp}-schema{version}")
        src = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(target)
            with dst:
                src.backup(dst)
            dst.close()
        finally:
            src.close()
        return target

    def _migrate(self) -> None:
        conn = self.conn
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        conn.execute("PRAGMA journal_mode = WAL")
        from sqlite_utils import Database
        from sqlite_utils.migrations import Migrations

        migrations = Migrations(MIGRATION_SET)
        for name, fn in MIGRATIONS:
            migrations(name=name)(fn)
        db = Database(conn)
        # BEGIN IMMEDIATE: two processes opening a new file at once must not
        # both run the migrations.
        with self.write():
            migrations.apply(db)
            applied = len(migrations.applied(db))
            conn.execute(f"PRAGMA user_version = {applied}")


def open_project(path: str | os.PathLike | None = None, *, create: bool = True, user: str | None = None) -> Project:
    """Open (and create, unless ``create=False``) the project at ``path``."""
    return Project(path or default_project_path(), create=create, user=user)

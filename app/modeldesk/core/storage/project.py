"""Opening, checking, migrating and connecting to a `.mdesk` project file.

A project is one SQLite file in WAL mode. Every connection gets the same
pragmas (foreign keys, busy timeout); each thread gets its own connection so
that GUI workers, a metric-flush thread and the main thread never share one.
Writers take the write lock up front (``BEGIN IMMEDIATE``) and keep
transactions short, so concurrent processes wait for each other instead of
failing with ``database is locked``.

A file is checked before anything is written to it: empty, not SQLite,
truncated, not a ModelDesk project (another program's SQLite database,
whatever its ``user_version``), or written by a newer ModelDesk are all
refused with a message and leave the file byte-for-byte unchanged (no backup,
no WAL switch, no side files). A ModelDesk project carries
``PRAGMA application_id`` = :data:`APPLICATION_ID`; files from before that
(migration m004) are recognised by their sqlite-utils migration records.

Only a missing path becomes a new project (``create=True``), and a zero-length
file only when asked explicitly (``allow_empty=True``: ``modeldesk init``). A
new project is built in a temporary file next to the target and linked into
place whole, so no other process ever sees a half-made project.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import sqlite3
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from ..errors import Hint, ProjectError, ProjectPathError
from ..version import __version__
from .migrations import MIGRATION_SET, MIGRATIONS, SCHEMA_VERSION

DEFAULT_PROJECT = "modeldesk.mdesk"
SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 60.0
APPLICATION_ID = 0x4D44534B
"""``PRAGMA application_id`` of every ModelDesk project: "MDSK" in ASCII."""
_EMPTY = -1   # check_file's answer for a zero-length file it was allowed to accept


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


def _fresh_project_names() -> list[str]:
    """Migrations a ModelDesk file from before application_id could have applied."""
    names = [name for name, _ in MIGRATIONS]
    return names[: names.index("m004_application_id")] if "m004_application_id" in names else names


def check_file(path: Path, *, allow_empty: bool = False) -> int:
    """Read-only checks of an existing file; return its schema version.

    Raises ProjectError for anything we must not touch. Opens the file
    read-only, so nothing (not even the WAL header) is written. A zero-length
    file is refused unless ``allow_empty`` (then the answer is ``_EMPTY``).
    """
    size = path.stat().st_size
    if size == 0:
        if allow_empty:
            return _EMPTY
        raise ProjectError(
            f"{path} is an empty file (0 bytes), not a ModelDesk project; it was left unchanged. "
            "Make it a new project, or open an existing .mdesk file.", hint=Hint("init", path=str(path))
        )
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
        with _read_only(path) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
            applied: list[str] = []
            if "_sqlite_migrations" in tables:
                applied = [
                    r[0]
                    for r in conn.execute(
                        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id", (MIGRATION_SET,)
                    )
                ]
    except sqlite3.DatabaseError as exc:
        raise ProjectError(f"{path} is damaged and cannot be read ({exc}). Restore it from a backup.") from None
    if app_id != APPLICATION_ID:
        # A ModelDesk file from before m004: no application_id yet, but the
        # migration records of our set, all of them ones that come before
        # m004, in order, and counted by user_version.
        older = _fresh_project_names()
        legacy = (app_id == 0 and applied and applied == older[: len(applied)] and version == len(applied))
        if not legacy:
            raise ProjectError(_foreign_message(path, app_id, version, tables), hint=Hint("init", path="NEW.mdesk"))
    known = {name for name, _ in MIGRATIONS}
    unknown = [name for name in applied if name not in known]
    if version > SCHEMA_VERSION or unknown:
        raise ProjectError(
            f"{path} was written by a newer ModelDesk (schema {max(version, len(applied))}; "
            f"this ModelDesk {__version__} knows schema {SCHEMA_VERSION}). "
            "Upgrade ModelDesk to open it; the file was left unchanged."
        )
    return version


def _foreign_message(path: Path, app_id: int, version: int, tables: list[str]) -> str:
    if app_id:
        tag = struct.pack(">I", app_id)
        readable = tag.decode("ascii") if all(32 < b < 127 for b in tag) else ""
        what = f"an SQLite database of another program (application_id 0x{app_id:08X}" + (
            f" = {readable!r})" if readable else ")")
    elif tables:
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        what = f"an SQLite database of another program (user_version {version}; tables {shown})"
    else:
        what = f"an SQLite database without tables (user_version {version})"
    return (
        f"{path} is {what}, not a ModelDesk project; it was left unchanged. "
        "Open a .mdesk file, or create a new project elsewhere."
    )


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that cannot write, and leaves no side files when it can help it."""
    # Without a live WAL, open as immutable so SQLite creates no -wal/-shm
    # side files next to a file we may be about to refuse.
    live_wal = Path(f"{path}-wal").exists()
    mode = "mode=ro" if live_wal else "mode=ro&immutable=1"
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=BUSY_TIMEOUT_S,
                           check_same_thread=False)
    try:
        yield conn
    finally:
        conn.close()


Progress = Callable[[float, str], None]   # fraction 0..1 of opening, what is being done


def _apply_migrations(conn: sqlite3.Connection, write, progress: Progress | None = None) -> None:
    """Every pending migration, in one write transaction (``write`` opens it); ``progress``
    hears the fraction of the pending migrations started."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    pending: list[str] = []     # filled inside the transaction, before the first migration runs

    def reporting(name, fn):
        def run(db):
            if progress is not None and name in pending:
                k = pending.index(name)
                progress(k / len(pending), f"Upgrading the file: step {k + 1} of {len(pending)} ({name})")
            return fn(db)
        return run

    migrations = Migrations(MIGRATION_SET)
    for name, fn in MIGRATIONS:
        migrations(name=name)(reporting(name, fn))
    db = Database(conn)
    with write():
        pending[:] = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
        applied = len(migrations.applied(db))
        conn.execute(f"PRAGMA user_version = {applied}")


def _create_file(path: Path, *, replace_empty: bool) -> None:
    """Build a new project next to ``path`` and put it there whole.

    A missing ``path`` is claimed with a hard link, which fails when another
    process got there first (then its project is opened instead). With
    ``replace_empty`` (``modeldesk init`` on a zero-length file) the empty file
    is replaced.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".creating", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        conn = sqlite3.connect(tmp, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")

            @contextlib.contextmanager
            def write():
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")

            _apply_migrations(conn, write)
        finally:
            conn.close()   # the last connection: checkpoints and removes the -wal/-shm
        if replace_empty:
            if path.stat().st_size != 0:
                raise ProjectError(f"{path} was written to while it was being made a project; "
                                   "it was left as it is. Check what wrote to it and try again.")
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass   # another process created it meanwhile; the caller checks and opens that one
        except OSError:   # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class Project:
    """An open project file. Pass it explicitly; there is no hidden global.

    Connections are per thread. Use :meth:`write` for every change and
    :meth:`read` (or ``.conn``) for queries.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True, user: str | None = None,
                 allow_empty: bool = False, progress: Progress | None = None):
        self.path = Path(path).expanduser()
        self.user = user or current_user()
        self.backup_path: Path | None = None
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        # Every check comes before anything is written (a backup, the WAL
        # switch, a migration): a refused file stays byte-for-byte as it was.
        if self.path.is_dir():
            raise ProjectPathError(f"{self.path} is a folder; give the path of a .mdesk file.")
        if not self.path.exists():
            if not create:
                raise ProjectPathError(f"No project at {self.path}.", hint=Hint("init", path=str(self.path)))
            if not self.path.parent.exists():
                raise ProjectPathError(f"Cannot create {self.path}: folder {self.path.parent} does not exist.")
            _create_file(self.path, replace_empty=False)
        report = progress or (lambda _f, _m: None)
        report(0.0, "Checking the file")
        version = check_file(self.path, allow_empty=allow_empty)
        if version == _EMPTY:
            _create_file(self.path, replace_empty=True)
            version = check_file(self.path)
        if version < SCHEMA_VERSION:   # an older file: the backup is the first half of opening, the upgrade the rest
            self.backup_path = self._backup(version, lambda f: report(0.05 + 0.45 * f,
                                                                      f"Keeping a backup of the older file "
                                                                      f"({f:.0%})"))
            self._migrate(lambda f, m: report(0.5 + 0.5 * f, m))
        else:
            report(0.5, "Opening the file")
            self._migrate()
        report(1.0, "Opened the file")

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
    def _backup(self, version: int, progress: Callable[[float], None] | None = None) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.bak-{stamp}-schema{version}")
        src = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)

        def pages(_status, remaining: int, total: int) -> None:
            if progress is not None and total:
                progress((total - remaining) / total)

        try:
            # One read transaction for the whole copy: a step-by-step backup restarts whenever another
            # connection writes between steps (it might never finish); inside it, it copies one snapshot.
            src.execute("BEGIN")
            src.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            dst = sqlite3.connect(target)
            with dst:
                src.backup(dst, pages=1024, progress=pages)   # 1024 pages a step: progress, same copy
            dst.close()
        finally:
            src.close()
        return target

    def _migrate(self, progress: Progress | None = None) -> None:
        """Called only after check_file accepted the file (and a backup of an older one)."""
        conn = self.conn
        conn.execute("PRAGMA journal_mode = WAL")
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        # BEGIN IMMEDIATE: two processes opening an older file at once must not
        # both run the migrations (sqlite-utils skips the ones already applied).
        _apply_migrations(conn, self.write, progress)


def open_project(path: str | os.PathLike | None = None, *, create: bool = True, user: str | None = None,
                 allow_empty: bool = False, progress: Progress | None = None) -> Project:
    """Open the project at ``path``; with ``create``, a missing path becomes a new project.

    Anything that is not a ModelDesk project is refused untouched, a
    zero-length file included; ``allow_empty=True`` makes a zero-length file a
    new project (only ``modeldesk init`` should ask for that). ``progress(fraction, words)``
    hears the steps: the checks, the backup of an older file (by pages copied) and each
    migration of its upgrade.
    """
    return Project(path or default_project_path(), create=create, user=user, allow_empty=allow_empty,
                   progress=progress)


def check_integrity(path: str | os.PathLike, progress: Callable[[float], None] | None = None) -> list[str]:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` on a project; the problems, [] when ok.

    Read-only: the file is checked like any other open (a foreign or newer
    file is refused untouched) but not migrated. ``progress`` is called about
    every 0.2 s with the seconds spent so far.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise ProjectPathError(f"No project at {path}.", hint=Hint("init", path=str(path)))
    if path.is_dir():
        raise ProjectPathError(f"{path} is a folder; give the path of a .mdesk file.")
    check_file(path)
    problems: list[str] = []
    started = last = time.monotonic()

    def tick() -> int:
        nonlocal last
        now = time.monotonic()
        if progress is not None and now - last >= 0.2:
            last = now
            progress(now - started)
        return 0   # 0: go on

    with _read_only(path) as conn:
        conn.set_progress_handler(tick, 10_000)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            if rows != ["ok"]:
                problems.extend(rows)
            for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check"):
                problems.append(f"row {rowid} of {table} refers to a missing row of {parent}")
        except sqlite3.DatabaseError as exc:
            problems.append(f"the file cannot be read: {exc}")
        finally:
            conn.set_progress_handler(None, 0)
    if progress is not None:
        progress(time.monotonic() - started)
    return problems

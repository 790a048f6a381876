"""The project file: creation, pragmas, schema snapshot, refusal, migration."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from modeldesk.core.errors import ProjectError
from modeldesk.core.storage import migrations as schema
from modeldesk.core.storage.project import open_project

SNAPSHOT = Path(__file__).parents[2] / "data" / "schema.sql"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _schema_sql(path) -> str:
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
    ).fetchall()
    pragmas = [f"PRAGMA {name} = {conn.execute(f'PRAGMA {name}').fetchone()[0]};"
               for name in ("application_id", "user_version")]
    conn.close()
    return "\n".join(pragmas + [" ".join(sql.split()) + ";" for _, _, sql in rows]) + "\n"


def test_new_project_has_wal_foreign_keys_and_schema_version(project):
    conn = project.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    applied = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert applied == [name for name, _ in schema.MIGRATIONS]


def test_schema_matches_snapshot(project):
    """Only migrations change the schema; a change here must be a new migration."""
    actual = _schema_sql(project.path)
    if os.environ.get("MODELDESK_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(actual)
    assert actual == SNAPSHOT.read_text(), (
        "The schema after all migrations differs from tests/data/schema.sql. If the change is "
        "intended (a new migration), rerun with MODELDESK_UPDATE_SNAPSHOT=1 and commit the snapshot."
    )


def test_reopening_does_not_rerun_migrations(project_path):
    open_project(project_path).close()
    before = _digest(project_path)
    open_project(project_path).close()
    assert _digest(project_path) == before


def test_newer_schema_is_refused_untouched(project_path):
    open_project(project_path).close()
    conn = sqlite3.connect(project_path)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.close()
    before = _digest(project_path)
    with pytest.raises(ProjectError, match="newer ModelDesk") as info:
        open_project(project_path)
    assert "Upgrade ModelDesk" in str(info.value)
    assert _digest(project_path) == before
    assert sorted(p.name for p in project_path.parent.iterdir()) == [project_path.name]


def test_unknown_migration_name_is_refused_as_newer(project_path):
    open_project(project_path).close()
    conn = sqlite3.connect(project_path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('modeldesk', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = _digest(project_path)
    with pytest.raises(ProjectError, match="newer ModelDesk"):
        open_project(project_path)
    assert _digest(project_path) == before


def test_garbage_file_is_refused_untouched(project_path):
    project_path.write_bytes(os.urandom(5000))
    before = _digest(project_path)
    with pytest.raises(ProjectError, match="not an SQLite file"):
        open_project(project_path)
    assert _digest(project_path) == before
    assert sorted(p.name for p in project_path.parent.iterdir()) == [project_path.name]


def test_text_file_is_refused(project_path):
    project_path.write_text("name,value\na,1\n")
    with pytest.raises(ProjectError, match="not a ModelDesk project"):
        open_project(project_path)


def test_truncated_file_is_refused_untouched(project_path, md):
    md.set_experiment("e")
    with md.start_run():
        md.log_artifact(os.urandom(300_000), name="big.bin")
    md.set_project(project_path.parent / "other.mdesk")  # closes, checkpoints the WAL
    data = project_path.read_bytes()
    project_path.write_bytes(data[: len(data) // 2])
    before = _digest(project_path)
    with pytest.raises(ProjectError, match="truncated"):
        open_project(project_path)
    assert _digest(project_path) == before


def test_foreign_sqlite_database_is_refused(project_path):
    conn = sqlite3.connect(project_path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.close()
    before = _digest(project_path)
    with pytest.raises(ProjectError, match="not a ModelDesk project"):
        open_project(project_path)
    assert _digest(project_path) == before


def test_missing_project_without_create(tmp_path):
    with pytest.raises(ProjectError, match="No project at") as info:
        open_project(tmp_path / "nope.mdesk", create=False)
    assert info.value.hint.action == "init" and info.value.hint.path.endswith("nope.mdesk")


def test_folder_is_refused(tmp_path):
    with pytest.raises(ProjectError, match="folder"):
        open_project(tmp_path)


def test_older_file_is_backed_up_then_migrated(project_path, monkeypatch):
    proj = open_project(project_path)
    with proj.write() as w:
        w.execute("INSERT INTO experiments (name, created_at) VALUES ('kept', 1.0)")
    proj.close()

    def _m_test_extra(db):
        db.execute("CREATE TABLE extra_table (id INTEGER PRIMARY KEY)")

    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + [("m_test_extra", _m_test_extra)])
    monkeypatch.setattr("modeldesk.core.storage.project.MIGRATIONS", schema.MIGRATIONS)
    monkeypatch.setattr("modeldesk.core.storage.project.SCHEMA_VERSION", len(schema.MIGRATIONS))
    proj = open_project(project_path)
    try:
        assert proj.backup_path is not None and proj.backup_path.exists()
        assert proj.read("PRAGMA user_version")[0][0] == len(schema.MIGRATIONS)
        assert proj.read("SELECT name FROM experiments") == [("kept",)]
        assert proj.read("SELECT name FROM sqlite_master WHERE name = 'extra_table'")
        backup = sqlite3.connect(proj.backup_path)
        assert backup.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        assert backup.execute("SELECT name FROM experiments").fetchall() == [("kept",)]
        backup.close()
    finally:
        proj.close()


def test_several_processes_creating_one_file_at_once(tmp_path):
    path = tmp_path / "race.mdesk"
    code = "import sys; from modeldesk.core.storage.project import open_project; open_project(sys.argv[1]).close()"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE) for _ in range(4)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0] == len(schema.MIGRATIONS)
    conn.close()


# -- issue 9, item 5: only ModelDesk files are opened ------------------------------

def _foreign(path: Path, kind: str) -> Path:
    """Another program's SQLite file (user_version 0, 1, 3, or its own application_id), or a 0-byte file."""
    if kind == "empty":
        path.write_bytes(b"")
        return path
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    if kind.startswith("uv"):
        conn.execute(f"PRAGMA user_version = {int(kind[2:])}")
    elif kind == "appid":
        conn.execute("PRAGMA application_id = 1598903374")  # Monotone's "_MTN"
    conn.commit()
    conn.close()
    return path


def _state(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


FOREIGN_KINDS = ["uv0", "uv1", "uv3", "appid", "empty"]


@pytest.mark.parametrize("kind", FOREIGN_KINDS)
def test_foreign_and_empty_files_are_refused_untouched(tmp_path, kind):
    path = _foreign(tmp_path / "other.db", kind)
    before = _state(tmp_path)
    for create in (True, False):
        with pytest.raises(ProjectError, match="not a ModelDesk project") as info:
            open_project(path, create=create)
        assert "left unchanged" in str(info.value)
    assert _state(tmp_path) == before   # same bytes, no backup, no -wal/-shm


def test_empty_file_message_says_init(tmp_path):
    path = _foreign(tmp_path / "new.mdesk", "empty")
    with pytest.raises(ProjectError, match=r"empty file \(0 bytes\)") as info:
        open_project(path)
    assert info.value.hint.action == "init" and info.value.hint.path == str(path)


def test_foreign_message_says_what_the_file_is(tmp_path):
    with pytest.raises(ProjectError, match="tables invoices") as info:
        open_project(_foreign(tmp_path / "a.db", "uv3"))
    assert "user_version 3" in str(info.value)
    with pytest.raises(ProjectError, match="application_id 0x5F4D544E = .*_MTN"):
        open_project(_foreign(tmp_path / "b.db", "appid"))


def test_allow_empty_makes_a_zero_length_file_a_project(tmp_path):
    path = _foreign(tmp_path / "new.mdesk", "empty")
    with open_project(path, allow_empty=True) as proj:
        assert proj.read("PRAGMA application_id")[0][0] == 0x4D44534B
        assert proj.read("PRAGMA user_version")[0][0] == schema.SCHEMA_VERSION
        assert proj.backup_path is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.mdesk"]   # no temporary file left
    # allow_empty is only about 0-byte files: a foreign file is still refused
    other = _foreign(tmp_path / "other.db", "uv1")
    with pytest.raises(ProjectError, match="not a ModelDesk project"):
        open_project(other, allow_empty=True)


def test_new_project_has_the_application_id(project):
    from modeldesk.core.storage.project import APPLICATION_ID

    assert APPLICATION_ID == int.from_bytes(b"MDSK", "big")
    assert project.read("PRAGMA application_id")[0][0] == APPLICATION_ID


def _previous_schema(monkeypatch, upto: str):
    names = [name for name, _ in schema.MIGRATIONS]
    older = schema.MIGRATIONS[: names.index(upto)]
    monkeypatch.setattr("modeldesk.core.storage.project.MIGRATIONS", older)
    monkeypatch.setattr("modeldesk.core.storage.project.SCHEMA_VERSION", len(older))
    return older


def test_project_from_before_application_id_is_recognised_and_migrated(project_path, monkeypatch):
    older = _previous_schema(monkeypatch, "m004_application_id")
    proj = open_project(project_path)
    with proj.write() as w:
        w.execute("INSERT INTO experiments (name, created_at) VALUES ('kept', 1.0)")
    assert proj.read("PRAGMA application_id")[0][0] == 0
    proj.close()
    monkeypatch.undo()
    proj = open_project(project_path, create=False)
    try:
        assert proj.backup_path is not None and proj.backup_path.exists()
        assert proj.read("PRAGMA application_id")[0][0] == 0x4D44534B
        assert proj.read("PRAGMA user_version")[0][0] == schema.SCHEMA_VERSION
        assert proj.read("SELECT name FROM experiments") == [("kept",)]
        backup = sqlite3.connect(proj.backup_path)
        assert backup.execute("PRAGMA user_version").fetchone()[0] == len(older)
        assert backup.execute("PRAGMA application_id").fetchone()[0] == 0
        backup.close()
    finally:
        proj.close()
    assert _schema_sql(project_path) == SNAPSHOT.read_text()


def test_foreign_file_with_sqlite_utils_records_of_another_set_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT,"
                 " applied_at TEXT)")
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                 " VALUES ('blog', 'm001_initial', 'x')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = _state(tmp_path)
    with pytest.raises(ProjectError, match="not a ModelDesk project"):
        open_project(path)
    assert _state(tmp_path) == before


def test_check_integrity_ok_and_damaged(project_path, tmp_path):
    from modeldesk.core.storage.project import check_integrity

    open_project(project_path).close()
    seen = []
    assert check_integrity(project_path, progress=seen.append) == []
    assert seen   # at least the final call
    before = _state(tmp_path)
    assert check_integrity(project_path) == []
    assert _state(tmp_path) == before   # reads only
    # a broken foreign key is reported
    conn = sqlite3.connect(project_path)
    conn.execute("INSERT INTO runs (id, experiment_id, name, status, user, start_time) "
                 "VALUES ('x', 42, 'orphan', 'FINISHED', 'u', 1.0)")
    conn.commit()
    conn.close()
    problems = check_integrity(project_path)
    assert problems and "runs" in problems[0] and "experiments" in problems[0]
    with pytest.raises(ProjectError, match="not a ModelDesk project"):
        check_integrity(_foreign(tmp_path / "x.db", "uv1"))


def test_opening_an_older_file_reports_its_backup_and_each_migration(project_path, monkeypatch):
    older = _previous_schema(monkeypatch, "m004_application_id")
    proj = open_project(project_path)
    with proj.write() as w:        # ~12 MB: the backup copies it in several steps of 1024 pages
        w.executemany("INSERT INTO experiments (name, created_at) VALUES (?, 1.0)",
                      [(f"{i:06d}" + "x" * 4000,) for i in range(3000)])
    proj.close()
    monkeypatch.undo()
    seen: list[tuple[float, str]] = []
    proj = open_project(project_path, create=False, progress=lambda f, words: seen.append((f, words)))
    try:
        fractions = [f for f, _ in seen]
        assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
        assert seen[0][1] == "Checking the file" and seen[-1][1] == "Opened the file"
        backup = [f for f, words in seen if words.startswith("Keeping a backup")]
        assert len(backup) >= 3 and any(0.05 < f < 0.5 for f in backup) and backup[-1] == 0.5
        pending = schema.MIGRATIONS[len(older):]
        steps = [words for _f, words in seen if words.startswith("Upgrading the file")]
        assert steps == [f"Upgrading the file: step {k + 1} of {len(pending)} ({name})"
                         for k, (name, _fn) in enumerate(pending)]
        assert proj.read("PRAGMA user_version")[0][0] == schema.SCHEMA_VERSION
        assert proj.read("SELECT COUNT(*) FROM experiments")[0][0] == 3000
    finally:
        proj.close()


def test_opening_a_current_file_reports_without_an_upgrade(project_path):
    open_project(project_path).close()
    seen: list[tuple[float, str]] = []
    open_project(project_path, create=False, progress=lambda f, words: seen.append((f, words))).close()
    assert seen == [(0.0, "Checking the file"), (0.5, "Opening the file"), (1.0, "Opened the file")]


def test_the_backup_finishes_while_another_process_writes_during_it(project_path, monkeypatch):
    """The backup is copied in steps (for its progress); writes between steps must not restart it."""
    _previous_schema(monkeypatch, "m004_application_id")
    proj = open_project(project_path)
    with proj.write() as w:
        w.executemany("INSERT INTO experiments (name, created_at) VALUES (?, 1.0)",
                      [(f"{i:06d}" + "x" * 4000,) for i in range(3000)])
    proj.close()
    monkeypatch.undo()
    writer = sqlite3.connect(project_path, isolation_level=None, timeout=10)
    backup_steps = []

    def progress(fraction, words):
        if words.startswith("Keeping a backup"):
            backup_steps.append(fraction)
            if len(backup_steps) <= 10:    # a training script logging while the file is being opened
                writer.execute("INSERT INTO experiments (name, created_at) VALUES (?, 2.0)",
                               (f"during-{len(backup_steps)}",))

    proj = open_project(project_path, create=False, progress=progress)
    try:
        assert len(backup_steps) <= 8          # ~12 MB in 4 MB steps, not restarted at every write
        backup = sqlite3.connect(proj.backup_path)
        kept = backup.execute("SELECT COUNT(*) FROM experiments").fetchone()[0]
        assert backup.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        backup.close()
        assert 3000 <= kept <= 3000 + len(backup_steps)      # one consistent snapshot
        assert proj.read("SELECT COUNT(*) FROM experiments WHERE name LIKE 'during-%'")[0][0] == len(backup_steps)
    finally:
        proj.close()
        writer.close()

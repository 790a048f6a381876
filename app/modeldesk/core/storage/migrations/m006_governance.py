"""Migration m006: the rules a request is decided by, and a project id (issue 9)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m006_governance(db) -> None:
    """Literal SQL only; never edit once released.

    ``promotion_requests.rules``: the approval rules in force when the request
    was opened (JSON), so changing the settings later cannot decide it.
    ``project.id``: a random id that names this project on every machine that
    opens it (each remembers the highest audit entry it has seen, per id).
    ``serving_events`` is rebuilt to admit ``reload_refused`` (a server that
    keeps serving because an alias move is not backed by the audit log).
    """
    _run_script(
        db,
        """
        ALTER TABLE promotion_requests ADD COLUMN rules TEXT;
        INSERT OR IGNORE INTO project_settings (key, value)
            VALUES ('project.id', json_quote(lower(hex(randomblob(16)))));
        CREATE TABLE serving_events_new (
            id INTEGER PRIMARY KEY,
            time REAL NOT NULL,
            event TEXT NOT NULL
                CHECK (event IN ('start', 'stop', 'switch', 'reload_failed', 'reload_refused')),
            model_uri TEXT NOT NULL,
            model_name TEXT,
            version INTEGER,
            run_id TEXT,
            sha256 TEXT,
            user TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        INSERT INTO serving_events_new SELECT id, time, event, model_uri, model_name, version, run_id, sha256,
            user, detail FROM serving_events;
        DROP TABLE serving_events;
        ALTER TABLE serving_events_new RENAME TO serving_events;
        CREATE INDEX serving_events_time ON serving_events(time);
        """,
    )

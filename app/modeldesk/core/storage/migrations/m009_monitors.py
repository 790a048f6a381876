"""Migration m009: monitors, their alerts, and the retrains they start (issue 11, items 2-3)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m009_monitors(db) -> None:
    """Literal SQL only; never edit once released.

    ``monitors``: one row per monitor (core/monitoring/monitors.py): the model
    and alias it watches, its window, its thresholds as JSON, its owner (who
    set it), its retrain command and schedule, and the outcome of its last
    check. ``monitor_alerts``: one row per alert, with the figures that
    crossed (JSON); kept when the monitor is removed. ``retrains``: one row
    per retrain (core/monitoring/retrain.py). The partial unique index lets
    one retrain per monitor be ``running``: a second claim fails inside
    SQLite, whatever process makes it; ``host`` and ``pid`` tell whether the
    process that holds the claim is still alive.
    """
    _run_script(
        db,
        """
        CREATE TABLE monitors (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            model TEXT NOT NULL,
            alias TEXT NOT NULL,
            window_size TEXT NOT NULL,
            thresholds TEXT NOT NULL,
            retrain_command TEXT,
            retrain_every TEXT,
            owner TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            last_check REAL,
            last_state TEXT CHECK (last_state IN ('ok', 'firing', 'error')),
            last_summary TEXT,
            last_retrain REAL
        );
        CREATE TABLE monitor_alerts (
            id INTEGER PRIMARY KEY,
            monitor TEXT NOT NULL,
            model TEXT NOT NULL,
            alias TEXT NOT NULL,
            version INTEGER,
            at REAL NOT NULL,
            last_seen REAL NOT NULL,
            checks INTEGER NOT NULL DEFAULT 1,
            figures TEXT NOT NULL,
            summary TEXT NOT NULL,
            acknowledged_by TEXT,
            acknowledged_at REAL
        );
        CREATE INDEX monitor_alerts_open ON monitor_alerts(monitor) WHERE acknowledged_at IS NULL;
        CREATE TABLE retrains (
            id TEXT PRIMARY KEY,
            monitor TEXT NOT NULL,
            model TEXT NOT NULL,
            alias TEXT NOT NULL,
            owner TEXT NOT NULL,
            reason TEXT NOT NULL,
            command TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
            host TEXT NOT NULL,
            pid INTEGER,
            started_at REAL NOT NULL,
            ended_at REAL,
            exit_code INTEGER,
            output TEXT NOT NULL DEFAULT '',
            run_id TEXT,
            version INTEGER,
            request_id INTEGER,
            message TEXT NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX retrains_one_running ON retrains(monitor) WHERE status = 'running'
        """,
    )

"""Migration m003: the prediction log of served models (issue 5)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m003_predictions(db) -> None:
    """Prediction log and serving events. Literal SQL only; never edit once released."""
    _run_script(
        db,
        """
        -- One row per predicted input row. A request of n rows writes n rows
        -- sharing its request_id (row = 0..n-1). Written in batches by the
        -- server's background writer (core.predictions.PredictionLog).
        CREATE TABLE predictions (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            row INTEGER NOT NULL,
            time REAL NOT NULL,
            model_uri TEXT NOT NULL,
            model_name TEXT,
            version INTEGER,
            run_id TEXT NOT NULL,
            artifact TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            inputs TEXT NOT NULL,
            outputs TEXT NOT NULL,
            probabilities TEXT,
            latency_ms REAL NOT NULL,
            label TEXT,
            label_time REAL
        );
        CREATE INDEX predictions_time ON predictions(time);
        CREATE INDEX predictions_request ON predictions(request_id, row);
        CREATE INDEX predictions_name_time ON predictions(model_name, version, time);
        CREATE INDEX predictions_run_time ON predictions(run_id, artifact, time);
        -- Start, stop, switch and failed reloads of model servers. Also sent
        -- to the audit log where one exists. Never holds a token.
        CREATE TABLE serving_events (
            id INTEGER PRIMARY KEY,
            time REAL NOT NULL,
            event TEXT NOT NULL
                CHECK (event IN ('start', 'stop', 'switch', 'reload_failed')),
            model_uri TEXT NOT NULL,
            model_name TEXT,
            version INTEGER,
            run_id TEXT,
            sha256 TEXT,
            user TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX serving_events_time ON serving_events(time);
        """,
    )

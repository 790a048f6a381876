"""Migration m009: failed prediction requests, for serving health (issue 11, item 1)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m011_prediction_failures(db) -> None:
    """Literal SQL only; never edit once released.

    ``prediction_failures`` keeps one row per /predict or /invocations request
    the server answered with an error (4xx or 5xx): when, which model version
    was being served (run, artifact, sha256 of its bytes, and the registry
    name and version when it had them), the HTTP status, our error code and
    how long the answer took. Answered requests stay in
    ``prediction_requests``; the two together give the error rate.
    """
    _run_script(
        db,
        """
        CREATE TABLE prediction_failures (
            id INTEGER PRIMARY KEY,
            time REAL NOT NULL,
            model_uri TEXT NOT NULL,
            model_name TEXT,
            version INTEGER,
            run_id TEXT NOT NULL,
            artifact TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            status INTEGER NOT NULL,
            code TEXT NOT NULL,
            latency_ms REAL NOT NULL
        );
        CREATE INDEX prediction_failures_model_time ON prediction_failures(run_id, artifact, time)
        """,
    )

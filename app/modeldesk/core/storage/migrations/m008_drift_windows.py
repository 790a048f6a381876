"""Migration m008: stored drift windows (issue 10, item 3)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m008_drift_windows(db) -> None:
    """Literal SQL only; never edit once released.

    ``drift_windows`` keeps one row per computed window of ``drift_windows``
    (core/monitoring/windows.py): the model's identity (run, artifact and
    sha256 of its bytes), the reference dataset's fingerprint, the options
    the window was computed with (``every`` and the drift options, as JSON),
    the window's bounds (Unix seconds, end exclusive for time windows), how
    many predictions it held, the data-set verdict and the full report as
    JSON. A stored window is reused while its row count is unchanged.
    """
    _run_script(
        db,
        """
        CREATE TABLE drift_windows (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            artifact TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            reference TEXT NOT NULL,
            options TEXT NOT NULL,
            window_start REAL NOT NULL,
            window_end REAL NOT NULL,
            rows INTEGER NOT NULL,
            share REAL NOT NULL,
            drifted INTEGER NOT NULL,
            report TEXT NOT NULL,
            computed_at REAL NOT NULL,
            UNIQUE (run_id, artifact, sha256, reference, options, window_start)
        )
        """,
    )

"""Migration m005: which process writes a run, and when it last said so (issue 9, item 8)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m005_run_liveness(db) -> None:
    """Host, pid and heartbeat of RUNNING runs. Literal SQL only; never edit once released."""
    _run_script(
        db,
        """
        -- Written by the tracker that starts (or resumes) a run. The heartbeat
        -- (unix seconds, that host's clock) is refreshed by its flush thread
        -- while the run is open. NULL for runs from before this migration and
        -- for imported runs.
        ALTER TABLE runs ADD COLUMN host TEXT;
        ALTER TABLE runs ADD COLUMN pid INTEGER;
        ALTER TABLE runs ADD COLUMN heartbeat REAL;
        -- Readers look for RUNNING runs whose process is gone on every query:
        -- keep that lookup independent of the number of finished runs.
        CREATE INDEX runs_running ON runs(rid) WHERE status = 'RUNNING'
        """,
    )

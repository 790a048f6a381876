"""Migration m004: the rules a request is decided by, and a project id (issue 9)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m004_governance(db) -> None:
    """Literal SQL only; never edit once released.

    ``promotion_requests.rules``: the approval rules in force when the request
    was opened (JSON), so changing the settings later cannot decide it.
    ``project.id``: a random id that names this project on every machine that
    opens it (each remembers the highest audit entry it has seen, per id).
    """
    _run_script(
        db,
        """
        ALTER TABLE promotion_requests ADD COLUMN rules TEXT;
        INSERT OR IGNORE INTO project_settings (key, value)
            VALUES ('project.id', json_quote(lower(hex(randomblob(16)))));
        """,
    )

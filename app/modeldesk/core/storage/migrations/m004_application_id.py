"""Migration m004: mark the file as a ModelDesk project (issue 9, item 5)."""

from __future__ import annotations

# The value is spelled out here, not imported: a released migration never
# changes when a constant elsewhere does. It is "MDSK" in ASCII, the same as
# modeldesk.core.storage.project.APPLICATION_ID.
_MODELDESK_APPLICATION_ID = 0x4D44534B


def m004_application_id(db) -> None:
    """``PRAGMA application_id``: other programs' SQLite files are told apart
    from ours by this header field, not by guessing from their tables. Files
    created before this migration are recognised by their migration records
    (see project.check_file). Literal values only; never edit once released."""
    db.execute(f"PRAGMA application_id = {_MODELDESK_APPLICATION_ID}")

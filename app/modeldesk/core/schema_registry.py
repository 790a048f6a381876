"""Migration m002: the model registry, approvals and the audit log (issue 4)."""

from __future__ import annotations

from .sqlscript import run_script as _run_script


def m002_registry(db) -> None:
    """Registry tables. Filled in by the registry work; literal SQL only."""
    _run_script(db, "SELECT 1")

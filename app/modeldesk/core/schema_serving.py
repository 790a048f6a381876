"""Migration m003: the prediction log of served models (issue 5)."""

from __future__ import annotations

from .sqlscript import run_script as _run_script


def m003_predictions(db) -> None:
    """Prediction log tables. Filled in by the serving work; literal SQL only."""
    _run_script(db, "SELECT 1")

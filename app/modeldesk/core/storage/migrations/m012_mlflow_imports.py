"""Migration m009: what was imported from MLflow (issue 14, item 4)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m012_mlflow_imports(db) -> None:
    """Literal SQL only; never edit once released.

    ``mlflow_imports`` remembers each MLflow object an import brought in, so a
    second import of the same store adds only what is new: ``kind`` is
    ``experiment``, ``run``, ``model`` (a run's logged model), ``version`` (a
    registered model version) or ``alias``; ``mlflow_id`` is MLflow's own key
    for it (a run id, ``run_id/artifact``, ``name/version``, ``name@alias``);
    ``local_id`` what it became here (our run id, ``name/version``...);
    ``source`` the store it came from and ``note`` what the import could not
    keep elsewhere (e.g. a version's description).
    """
    _run_script(
        db,
        """
        CREATE TABLE mlflow_imports (
            kind TEXT NOT NULL CHECK (kind IN ('experiment', 'run', 'model', 'version', 'alias')),
            mlflow_id TEXT NOT NULL,
            local_id TEXT NOT NULL,
            source TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            imported_at REAL NOT NULL,
            PRIMARY KEY (kind, mlflow_id)
        )
        """,
    )

"""Migration m009: soft deletion of runs and experiments (issue 13, item 3)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m010_run_lifecycle(db) -> None:
    """A lifecycle stage for runs and experiments. Literal SQL only; never edit once released.

    ``deleted_at`` (unix seconds) is NULL for an active run or experiment and
    set when it is deleted (MLflow's ``lifecycle_stage = 'deleted'``);
    ``deleted_by`` names who did it. Deleted rows stay until ``modeldesk gc``
    purges them, so a deletion can be undone.
    """
    _run_script(
        db,
        """
        ALTER TABLE runs ADD COLUMN deleted_at REAL;
        ALTER TABLE runs ADD COLUMN deleted_by TEXT;
        ALTER TABLE experiments ADD COLUMN deleted_at REAL;
        ALTER TABLE experiments ADD COLUMN deleted_by TEXT;
        -- gc and the "Show deleted" filter look for deleted runs only.
        CREATE INDEX runs_deleted ON runs(deleted_at) WHERE deleted_at IS NOT NULL;
        -- Deleting a blob, dataset or environment makes SQLite look for rows that
        -- still refer to it (foreign keys): without these indexes each look is a
        -- full scan, and purging n blobs costs n scans of every referring table.
        CREATE INDEX artifacts_sha256 ON artifacts(sha256);
        CREATE INDEX logged_models_sha256 ON logged_models(sha256);
        CREATE INDEX logged_models_example ON logged_models(input_example_sha256);
        CREATE INDEX logged_models_environment ON logged_models(environment_sha256);
        CREATE INDEX model_versions_sha256 ON model_versions(sha256);
        CREATE INDEX model_versions_example ON model_versions(input_example_sha256);
        CREATE INDEX model_versions_environment ON model_versions(environment_sha256);
        CREATE INDEX datasets_sample ON datasets(sample_sha256);
        CREATE INDEX run_datasets_fingerprint ON run_datasets(fingerprint);
        CREATE INDEX runs_environment ON runs(environment_sha256)
        """,
    )

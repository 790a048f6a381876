"""Migration m001: experiments, runs, params, metrics, tags, artifacts, datasets, models (issue 1)."""

from __future__ import annotations

from ..sqlscript import run_script as _run_script


def m001_initial(db) -> None:
    _run_script(
        db,
        """
        CREATE TABLE experiments (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL
        );
        CREATE TABLE environments (
            sha256 TEXT PRIMARY KEY,
            json TEXT NOT NULL
        );
        CREATE TABLE runs (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            experiment_id INTEGER NOT NULL REFERENCES experiments(id),
            name TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
            user TEXT NOT NULL,
            start_time REAL NOT NULL,
            end_time REAL,
            parent_rid INTEGER REFERENCES runs(rid),
            environment_sha256 TEXT REFERENCES environments(sha256)
        );
        CREATE INDEX runs_experiment_start ON runs(experiment_id, start_time);
        CREATE INDEX runs_parent ON runs(parent_rid);
        CREATE TABLE params (
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_rid, key)
        ) WITHOUT ROWID;
        CREATE TABLE tags (
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (run_rid, key)
        ) WITHOUT ROWID;
        CREATE TABLE metric_keys (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        -- Full history, packed: each flush appends one chunk per run and
        -- metric holding little-endian arrays (int64 steps, float64 values
        -- with NaN kept, float64 unix-second timestamps). A 1,000,000-point
        -- history is a few hundred rows, not a million.
        CREATE TABLE metric_chunks (
            seq INTEGER PRIMARY KEY,
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            key_id INTEGER NOT NULL REFERENCES metric_keys(id),
            n INTEGER NOT NULL,
            min_step INTEGER NOT NULL,
            max_step INTEGER NOT NULL,
            steps BLOB NOT NULL,
            vals BLOB NOT NULL,
            timestamps BLOB NOT NULL
        );
        CREATE INDEX metric_chunks_run_key ON metric_chunks(run_rid, key_id, seq);
        -- The value with the highest (step, timestamp) per run and key
        -- (value NULL stands for NaN: SQLite stores NaN as NULL).
        CREATE TABLE latest_metrics (
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            key TEXT NOT NULL,
            value REAL,
            step INTEGER NOT NULL,
            timestamp REAL NOT NULL,
            PRIMARY KEY (run_rid, key)
        ) WITHOUT ROWID;
        -- Content-addressed blobs, stored in chunks under SQLite's size limit.
        CREATE TABLE blobs (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            chunks INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE blob_chunks (
            sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            seq INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (sha256, seq)
        );
        CREATE TABLE artifacts (
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            size INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (run_rid, path)
        );
        CREATE TABLE datasets (
            fingerprint TEXT PRIMARY KEY,
            rows INTEGER NOT NULL,
            columns INTEGER NOT NULL,
            profile TEXT NOT NULL,
            sample_sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            sample_rows INTEGER NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE run_datasets (
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            fingerprint TEXT NOT NULL REFERENCES datasets(fingerprint),
            target TEXT,
            created_at REAL NOT NULL,
            PRIMARY KEY (run_rid, name, role)
        );
        CREATE TABLE logged_models (
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            name TEXT NOT NULL,
            sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            size INTEGER NOT NULL,
            flavor TEXT NOT NULL,
            signature TEXT NOT NULL,
            input_example_sha256 TEXT REFERENCES blobs(sha256),
            environment_sha256 TEXT REFERENCES environments(sha256),
            created_at REAL NOT NULL,
            PRIMARY KEY (run_rid, name)
        );
        CREATE TABLE project_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )



# Ordered. Append new migrations at the end; never edit or reorder these.

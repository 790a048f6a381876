"""Migration m002: the model registry, approvals and the audit log (issue 4).

Literal SQL only (see core/schema.py): this migration must create the same
tables forever, whatever the registry code looks like later.
"""

from __future__ import annotations

from ..sqlscript import run_script as _run_script

# Trigger bodies hold ';', which run_script splits on: they run one by one.
_AUDIT_TRIGGERS = (
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted'); END
    """,
)


def m002_registry(db) -> None:
    """Registered models, versions, aliases, promotion requests, audit log."""
    _run_script(
        db,
        """
        CREATE TABLE registered_models (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        -- A version copies its logged model's sha256, signature, example and
        -- environment: re-logging a model under the same run and name later
        -- must not change what a registered version is.
        CREATE TABLE model_versions (
            model_id INTEGER NOT NULL REFERENCES registered_models(id),
            version INTEGER NOT NULL CHECK (version >= 1),
            run_rid INTEGER NOT NULL REFERENCES runs(rid),
            logged_model TEXT NOT NULL,
            sha256 TEXT NOT NULL REFERENCES blobs(sha256),
            size INTEGER NOT NULL,
            flavor TEXT NOT NULL,
            signature TEXT NOT NULL,
            input_example_sha256 TEXT REFERENCES blobs(sha256),
            environment_sha256 TEXT REFERENCES environments(sha256),
            status TEXT NOT NULL DEFAULT 'registered'
                CHECK (status IN ('registered', 'pending', 'approved', 'rejected')),
            created_by TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (model_id, version)
        );
        CREATE INDEX model_versions_run ON model_versions(run_rid, logged_model);
        -- Where each alias points now.
        CREATE TABLE aliases (
            model_id INTEGER NOT NULL REFERENCES registered_models(id),
            alias TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (model_id, alias),
            FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
        );
        CREATE TABLE promotion_requests (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES registered_models(id),
            version INTEGER NOT NULL,
            target_alias TEXT NOT NULL,
            requested_by TEXT NOT NULL,
            requested_at REAL NOT NULL,
            comment TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn', 'superseded', 'completed')),
            baseline_version INTEGER,
            closed_by TEXT,
            closed_at REAL,
            superseded_by INTEGER REFERENCES promotion_requests(id),
            FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
        );
        -- At most one open request per model and alias: a new one supersedes it.
        CREATE UNIQUE INDEX promotion_requests_one_pending
            ON promotion_requests(model_id, target_alias) WHERE status = 'pending';
        CREATE INDEX promotion_requests_version ON promotion_requests(model_id, version);
        -- Every move of an alias, in order: kind promote (an approved request),
        -- rollback, or set (a direct move of an unprotected alias).
        CREATE TABLE alias_history (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES registered_models(id),
            alias TEXT NOT NULL,
            from_version INTEGER,
            to_version INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('promote', 'rollback', 'set')),
            actor TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            request_id INTEGER REFERENCES promotion_requests(id),
            at REAL NOT NULL,
            FOREIGN KEY (model_id, to_version) REFERENCES model_versions(model_id, version)
        );
        CREATE INDEX alias_history_model ON alias_history(model_id, alias, id);
        CREATE TABLE gate_results (
            request_id INTEGER NOT NULL REFERENCES promotion_requests(id),
            gate TEXT NOT NULL,
            position INTEGER NOT NULL,
            passed INTEGER NOT NULL CHECK (passed IN (0, 1)),
            message TEXT NOT NULL,
            details TEXT NOT NULL,
            ran_at REAL NOT NULL,
            PRIMARY KEY (request_id, gate)
        );
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            request_id INTEGER NOT NULL REFERENCES promotion_requests(id),
            reviewer TEXT NOT NULL,
            decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
            comment TEXT NOT NULL DEFAULT '',
            at REAL NOT NULL,
            UNIQUE (request_id, reviewer)
        );
        CREATE TABLE gate_overrides (
            request_id INTEGER NOT NULL,
            gate TEXT NOT NULL,
            approver TEXT NOT NULL,
            reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
            at REAL NOT NULL,
            PRIMARY KEY (request_id, gate),
            FOREIGN KEY (request_id, gate) REFERENCES gate_results(request_id, gate)
        );
        -- Append-only, hash-chained: hash = sha256 of the canonical JSON of
        -- (seq, time, actor, action, model, version, details, prev_hash).
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            model TEXT,
            version INTEGER,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_log_model ON audit_log(model, seq);
        CREATE INDEX audit_log_action ON audit_log(action, seq);
        -- The last entry written, kept apart so that deleting entries at the
        -- end of the log (which leaves the chain itself intact) is noticed.
        CREATE TABLE audit_head (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL
        )
        """,
    )
    for trigger in _AUDIT_TRIGGERS:
        db.execute(trigger)

"""The project file's schema, as ordered, named migrations.

Rules (see docs/architecture.md): a released migration is never edited; each
one spells its tables out literally; only migrations change the schema.
``PRAGMA user_version`` always equals the number of migrations applied, kept
in step with sqlite-utils' ``_sqlite_migrations`` records.
"""

from __future__ import annotations

from .m001_initial import m001_initial
from .m002_registry import m002_registry
from .m003_predictions import m003_predictions
from .m004_application_id import m004_application_id
from .m005_run_liveness import m005_run_liveness
from .m006_governance import m006_governance
from .m007_prediction_log import m007_prediction_log
from .m008_drift_windows import m008_drift_windows
from .m009_monitors import m009_monitors
from .m010_run_lifecycle import m010_run_lifecycle
from .m011_prediction_failures import m011_prediction_failures
from .m012_mlflow_imports import m012_mlflow_imports

MIGRATION_SET = "modeldesk"


MIGRATIONS = [
    ("m001_initial", m001_initial),
    ("m002_registry", m002_registry),
    ("m003_predictions", m003_predictions),
    ("m004_application_id", m004_application_id),
    ("m005_run_liveness", m005_run_liveness),
    ("m006_governance", m006_governance),
    ("m007_prediction_log", m007_prediction_log),
    ("m008_drift_windows", m008_drift_windows),
    ("m009_monitors", m009_monitors),
    ("m010_run_lifecycle", m010_run_lifecycle),
    ("m011_prediction_failures", m011_prediction_failures),
    ("m012_mlflow_imports", m012_mlflow_imports),
]

SCHEMA_VERSION = len(MIGRATIONS)

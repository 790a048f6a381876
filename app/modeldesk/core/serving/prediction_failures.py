"""Failed prediction requests: what the server refused or failed on, for the error rate.

The server hands a :class:`FailedRequest` to the same background writer as
answered requests (:class:`~.prediction_log.PredictionLog`), so recording a
failure never touches the disk on the request's thread; the writer stores it
in ``prediction_failures`` (migration m009) in the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..storage.project import Project


@dataclass(slots=True)
class FailedRequest:
    """One /predict or /invocations request answered with an error status."""

    time: float
    model: Any                    # core.serving.ServedModel being served (its identity is logged)
    status: int                   # the HTTP status sent
    code: str                     # our error code ("bad_request", "body_too_large", ...)
    latency_ms: float
    seq: int = 0

    @property
    def n(self) -> int:
        """What it weighs in the writer's bounded queue: one row's worth."""
        return 1


INSERT = ("INSERT INTO prediction_failures (time, model_uri, model_name, version, run_id, artifact, sha256, status,"
          " code, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def write_failures(project: Project, failures: list[FailedRequest]) -> int:
    """Store ``failures`` in one transaction; returns how many."""
    rows = [(f.time, f.model.uri, f.model.name, f.model.version, f.model.run_id, f.model.artifact, f.model.sha256,
             int(f.status), str(f.code)[:64], float(f.latency_ms)) for f in failures]
    if rows:
        with project.write() as db:
            db.executemany(INSERT, rows)
    return len(rows)

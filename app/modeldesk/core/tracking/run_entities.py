"""Plain frozen objects handed across the core's boundary (never raw rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    created_at: float
    run_count: int = 0
    deleted_at: float | None = None

    @property
    def lifecycle_stage(self) -> str:
        """``active`` or ``deleted``, as MLflow names it."""
        return "active" if self.deleted_at is None else "deleted"

    @property
    def experiment_id(self) -> str:
        """The id as MLflow hands it out (text)."""
        return str(self.id)


@dataclass(frozen=True)
class RunInfo:
    """A run's attributes as MLflow's ``RunInfo`` has them: times in milliseconds."""

    run_id: str
    run_name: str
    experiment_id: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(frozen=True)
class RunData:
    """A run's params, latest metrics and tags, as MLflow's ``RunData`` has them."""

    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(round(seconds * 1000))


@dataclass(frozen=True)
class Run:
    """One training run. ``metrics`` holds the latest value of each metric."""

    id: str
    name: str
    experiment: str
    status: str
    user: str
    start_time: float
    end_time: float | None
    parent_id: str | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    experiment_id: int | None = None
    deleted_at: float | None = None

    @property
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.start_time

    @property
    def lifecycle_stage(self) -> str:
        """``active``, or ``deleted`` until it is restored or purged (``modeldesk gc``)."""
        return "active" if self.deleted_at is None else "deleted"

    @property
    def artifact_uri(self) -> str:
        """Where the run's artifacts live: ``runs:/<id>``; ``runs:/<id>/model`` names its model."""
        return f"runs:/{self.id}"

    @property
    def info(self) -> RunInfo:
        """MLflow's ``run.info``: ids, name, status, times in milliseconds, lifecycle stage."""
        return RunInfo(run_id=self.id, run_name=self.name, user_id=self.user, status=self.status,
                       experiment_id="" if self.experiment_id is None else str(self.experiment_id),
                       start_time=_ms(self.start_time), end_time=_ms(self.end_time),
                       lifecycle_stage=self.lifecycle_stage, artifact_uri=self.artifact_uri)

    @property
    def data(self) -> RunData:
        """MLflow's ``run.data``: params, latest metrics and tags."""
        return RunData(params=dict(self.params), metrics=dict(self.metrics), tags=dict(self.tags))


@dataclass(frozen=True)
class Artifact:
    run_id: str
    path: str
    sha256: str
    size: int
    created_at: float


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset logged with a run: the data's fingerprint, profile, and sample."""

    fingerprint: str
    name: str
    role: str
    target: str | None
    rows: int
    columns: int
    profile: dict[str, Any]
    sample_sha256: str
    sample_rows: int


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    name: str
    sha256: str
    size: int
    flavor: str
    signature: dict[str, Any]
    environment_sha256: str | None
    input_example_sha256: str | None
    created_at: float

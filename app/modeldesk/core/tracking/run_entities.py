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

    @property
    def duration(self) -> float | None:
        return None if self.end_time is None else self.end_time - self.start_time


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

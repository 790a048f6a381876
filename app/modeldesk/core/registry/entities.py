"""Frozen objects of the model registry, approvals and audit log.

Core functions return these, never rows; each table's row-to-object mapping
lives next to its queries (core/registry.py, core/approvals.py, core/audit.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..identity import user_key
from ..tracking.run_entities import DatasetRecord, Run

PRODUCTION = "production"
PROTECTED_ALIASES = frozenset({PRODUCTION})


def is_protected(alias: str) -> bool:
    """Whether ``alias`` moves only through an approved request (compared case-insensitively:
    ``Production`` is ``production``)."""
    return isinstance(alias, str) and alias.strip().casefold() in PROTECTED_ALIASES


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    description: str
    created_by: str
    created_at: float
    latest_version: int | None
    version_count: int
    aliases: dict[str, int] = field(default_factory=dict)   # alias -> version


@dataclass(frozen=True)
class ModelVersion:
    """One registered version: a copy of a run's logged model (its lineage)."""

    name: str
    version: int
    run_id: str
    logged_model: str
    sha256: str
    size: int
    flavor: str
    signature: dict[str, Any]
    input_example_sha256: str | None
    environment_sha256: str | None
    status: str          # registered | pending | approved | rejected
    created_by: str
    created_at: float
    aliases: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def source(self) -> str:
        """The run's logged model this version was registered from."""
        return f"runs:/{self.run_id}/{self.logged_model}"


@dataclass(frozen=True)
class Lineage:
    """Where a version came from: its run (params, metrics, tags), data, environment."""

    version: ModelVersion
    run: Run
    datasets: tuple[DatasetRecord, ...]
    environment: dict[str, Any] | None


@dataclass(frozen=True)
class AliasMove:
    model: str
    alias: str
    from_version: int | None
    to_version: int
    kind: str            # promote | rollback | set
    actor: str
    reason: str
    request_id: int | None
    at: float


@dataclass(frozen=True)
class Override:
    gate: str
    approver: str
    reason: str
    at: float


@dataclass(frozen=True)
class GateResult:
    gate: str            # artifact | predict | signature | metric
    passed: bool
    message: str         # one human-readable line
    details: dict[str, Any] = field(default_factory=dict)
    ran_at: float = 0.0
    override: Override | None = None

    @property
    def blocking(self) -> bool:
        """Failed and not overridden: the request cannot be approved."""
        return not self.passed and self.override is None


@dataclass(frozen=True)
class Review:
    reviewer: str
    decision: str        # approve | reject
    comment: str
    at: float


@dataclass(frozen=True)
class ApprovalRequest:
    """A request to point ``target_alias`` at ``version``, with its gates and reviews."""

    id: int
    model: str
    version: int
    target_alias: str
    requested_by: str
    requested_at: float
    comment: str
    status: str          # pending | rejected | withdrawn | superseded | completed (approved: reserved)
    baseline_version: int | None   # production when the gates ran
    closed_by: str | None
    closed_at: float | None
    superseded_by: int | None
    gates: tuple[GateResult, ...] = ()
    reviews: tuple[Review, ...] = ()
    rules: "RegistrySettings | None" = None   # the rules in force when it was opened (None: opened before m006)

    @property
    def approvals(self) -> tuple[str, ...]:
        """The approving reviewers, one per person (names compared in normal form)."""
        seen: dict[str, str] = {}
        for r in self.reviews:
            if r.decision == "approve":
                seen.setdefault(user_key(r.reviewer), r.reviewer)
        return tuple(seen.values())

    @property
    def blocking_gates(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if g.blocking)

    @property
    def is_open(self) -> bool:
        return self.status == "pending"


@dataclass(frozen=True)
class RegistrySettings:
    """Approval rules. Project-wide, optionally overridden per model."""

    required_approvals: int = 1
    four_eyes: bool = True
    primary_metric: str | None = None     # "metrics.roc_auc"
    metric_direction: str = "higher"      # higher | lower (is better)
    tolerance: float = 0.0                # absolute, in the metric's units
    approvers: tuple[str, ...] = ()       # empty: anyone (but the requester, with four_eyes)


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str            # ISO 8601 UTC
    actor: str
    action: str
    model: str | None
    version: int | None
    details: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class AuditVerification:
    """The result of checking the audit chain. ``bad_seq`` names the first bad entry."""

    ok: bool
    entries: int
    head_hash: str | None
    message: str
    bad_seq: int | None = None
    problem: str | None = None    # edited | deleted | reordered | truncated
    warnings: tuple[str, ...] = ()

"""Read-only aggregates of the registry for screens: what the Models and Audit
views show, gathered in one call each so a view can run it in a worker.

Nothing here changes the project or adds a rule; the rules stay in
core/approvals.py (``allowed_actions``) and core/registry.py. Each function
returns frozen objects built from the registry's own API plus, where that API
has no call for it (runs that logged a model), one query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from ..storage.project import Project
from ..storage.rows import build, named
from ..tracking.runs import run_rid, runs_by_rid
from . import aliases, approvals
from . import versions as registry
from .entities import PRODUCTION, AliasMove, ApprovalRequest, Lineage, ModelVersion, RegisteredModel, RegistrySettings
from .settings import get_settings

STAGING = "staging"


# -- models and what waits for the user ------------------------------------------------------
@dataclass(frozen=True)
class ModelSummary:
    """One line of the model list."""

    name: str
    version_count: int
    latest_version: int | None
    aliases: dict[str, int]
    open_requests: int
    waiting_for_user: int
    created_by: str
    created_at: float

    @property
    def production(self) -> int | None:
        return self.aliases.get(PRODUCTION)

    @property
    def staging(self) -> int | None:
        return self.aliases.get(STAGING)


@dataclass(frozen=True)
class Overview:
    """The model list, the requests ``user`` may review (oldest first) and their own open ones."""

    user: str
    models: tuple[ModelSummary, ...]
    waiting: tuple[ApprovalRequest, ...]
    mine: tuple[ApprovalRequest, ...]


def overview(project: Project, user: str) -> Overview:
    """Every model with its production/staging versions, and what waits for ``user``."""
    pending = approvals.list_requests(project, status="pending")[::-1]   # oldest first
    waiting = approvals.pending_reviews(project, user)
    waiting_ids = {r.id for r in waiting}
    models = tuple(
        ModelSummary(m.name, m.version_count, m.latest_version, dict(m.aliases),
                     sum(1 for r in pending if r.model == m.name),
                     sum(1 for r in pending if r.model == m.name and r.id in waiting_ids),
                     m.created_by, m.created_at)
        for m in registry.list_models(project))
    return Overview(user, models, tuple(waiting), tuple(r for r in pending if r.requested_by == user))


# -- one model: its versions and alias history -------------------------------------------------
@dataclass(frozen=True)
class VersionRow:
    """One line of the versions table: the version, its run and primary metric value."""

    version: ModelVersion
    run_name: str
    experiment: str
    metric_value: float | None
    open_requests: tuple[ApprovalRequest, ...] = ()
    waiting_for_user: bool = False


@dataclass(frozen=True)
class AliasInterval:
    """A stretch of time during which ``alias`` pointed at ``version`` (``end`` None: still does)."""

    alias: str
    version: int
    start: float
    end: float | None
    kind: str          # how it started: promote | rollback | set
    actor: str
    reason: str


@dataclass(frozen=True)
class VersionTable:
    """A model's versions (newest first) with what the model-level actions need."""

    model: RegisteredModel
    settings: RegistrySettings
    metric: str | None                  # primary metric without "metrics.", e.g. roc_auc
    rows: tuple[VersionRow, ...]
    history: tuple[AliasMove, ...]      # every alias move, oldest first
    rollback: tuple[bool, str]          # may ``user`` roll production back now (and why not)
    rollback_target: int | None         # the version a rollback would put back

    @property
    def production(self) -> int | None:
        return self.model.aliases.get(PRODUCTION)

    def intervals(self, aliases: Iterable[str] = (PRODUCTION, STAGING)) -> list[AliasInterval]:
        return alias_intervals(self.history, aliases)


def alias_intervals(moves: Iterable[AliasMove], aliases: Iterable[str] | None = None) -> list[AliasInterval]:
    """Turn alias moves (oldest first) into holding intervals, one per move.

    Each move ends the interval of the version the alias pointed at before
    and starts one for the version it points at now; the last interval of
    each alias is open (``end`` None).
    """
    wanted = None if aliases is None else set(aliases)
    out: list[AliasInterval] = []
    current: dict[str, int] = {}     # alias -> index into out
    for move in moves:
        if wanted is not None and move.alias not in wanted:
            continue
        i = current.get(move.alias)
        if i is not None:
            prev = out[i]
            out[i] = AliasInterval(prev.alias, prev.version, prev.start, move.at, prev.kind, prev.actor, prev.reason)
        current[move.alias] = len(out)
        out.append(AliasInterval(move.alias, move.to_version, move.at, None, move.kind, move.actor, move.reason))
    return out


def version_table(project: Project, name: str, user: str) -> VersionTable:
    """Versions of ``name`` (newest first) with run names, primary metric values and open requests."""
    model = registry.get_model(project, name)
    settings = get_settings(project, name)
    metric = settings.primary_metric.removeprefix("metrics.") if settings.primary_metric else None
    versions = registry.list_versions(project, name)
    rids = {v.run_id: run_rid(project, v.run_id) for v in versions}
    runs = {r.id: r for r in runs_by_rid(project, sorted(set(rids.values())))}
    pending = approvals.list_requests(project, name, status="pending")
    waiting = {r.id for r in approvals.pending_reviews(project, user) if r.model == name}
    rows = []
    for v in reversed(versions):
        run = runs.get(v.run_id)
        opened = tuple(r for r in pending if r.version == v.version)
        rows.append(VersionRow(v, run.name if run else "", run.experiment if run else "",
                               run.metrics.get(metric) if run is not None and metric else None,
                               opened, any(r.id in waiting for r in opened)))
    history = tuple(aliases.alias_history(project, name))
    if versions:
        rollback = approvals.allowed_actions(project, name, versions[-1].version, user)["rollback"]
    else:
        rollback = (False, "The model has no versions.")
    return VersionTable(model, settings, metric, tuple(rows), history, rollback,
                        aliases.previous_version(project, name))


# -- one version in detail -----------------------------------------------------------------------
@dataclass(frozen=True)
class VersionDetails:
    """Lineage, requests (newest first) with gates and reviews, and what ``user`` may do."""

    lineage: Lineage
    requests: tuple[ApprovalRequest, ...]
    allowed: dict[str, tuple[bool, str]]
    action_alias: str                       # the alias approve/reject/override/withdraw act on
    open_request: ApprovalRequest | None
    settings: RegistrySettings
    user: str

    @property
    def version(self) -> ModelVersion:
        return self.lineage.version


def version_details(project: Project, name: str, version: int, user: str) -> VersionDetails:
    """Everything the version details pane shows, read in one go."""
    lineage = registry.version_lineage(project, name, version)
    requests = tuple(approvals.list_requests(project, name, version=version))
    open_ = next((r for r in requests if r.is_open), None)
    alias = open_.target_alias if open_ is not None else PRODUCTION
    allowed = approvals.allowed_actions(project, name, version, user, alias=alias)
    return VersionDetails(lineage, requests, allowed, alias, open_, get_settings(project, name), user)


# -- registering: runs that logged a model -------------------------------------------------------
@dataclass(frozen=True)
class RunModels:
    """A run that logged at least one model, and where those models are registered."""

    run_id: str
    run_name: str
    experiment: str
    status: str
    user: str
    start_time: float
    models: tuple[str, ...]
    registered: tuple[str, ...] = ()       # "churn v2", ...
    metrics: dict[str, float] = field(default_factory=dict)


def runs_with_models(project: Project, limit: int = 5000) -> list[RunModels]:
    """Runs with a logged model, newest first (the register dialog's choices)."""
    rows = named(
        project.conn, "SELECT r.rid AS rid, r.id AS run_id, r.name AS run_name, e.name AS experiment,"
        " r.status AS status, r.user AS user, r.start_time AS start_time,"
        " group_concat(lm.name, char(31)) AS models FROM logged_models lm JOIN runs r ON r.rid = lm.run_rid"
        " JOIN experiments e ON e.id = r.experiment_id"
        " GROUP BY r.rid ORDER BY r.start_time DESC, r.rid DESC LIMIT ?", (int(limit),))
    registered: dict[int, list[str]] = {}
    for rid, model, version in project.read(
            "SELECT v.run_rid, m.name, v.version FROM model_versions v JOIN registered_models m"
            " ON m.id = v.model_id ORDER BY m.name, v.version"):
        registered.setdefault(rid, []).append(f"{model} v{version}")
    metrics = {r.id: r.metrics for r in runs_by_rid(project, [row["rid"] for row in rows])} if rows else {}
    return [build(RunModels, r, skip=("rid",), models=tuple(sorted(r["models"].split("\x1f"))),
                  registered=tuple(registered.get(r["rid"], ())), metrics=dict(metrics.get(r["run_id"], {})))
            for r in rows]


# -- audit entries for a table ---------------------------------------------------------------------
_FIRST = ("alias", "from_version", "to_version", "gate", "passed", "reason", "comment", "message", "request_id",
          "source", "approvals")
_LAST = ("sha256", "environment_sha256", "size", "inputs", "run_id")


def details_summary(details: dict[str, Any], limit: int = 60) -> str:
    """An audit entry's details on one line: the telling keys first, long values cut."""
    import json

    def short(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        text = " ".join(str(text).split())
        return text if len(text) <= limit else text[: limit - 1] + "…"

    keys = ([k for k in _FIRST if k in details] + sorted(k for k in details if k not in _FIRST + _LAST)
            + [k for k in _LAST if k in details])
    return ", ".join(f"{k}={short(details[k])}" for k in keys if details[k] not in (None, "", [], {}))

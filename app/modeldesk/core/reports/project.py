"""Gather the whole project's audit report: every model, its versions and governance, and the chain."""

from __future__ import annotations

from collections.abc import Callable

from .. import clock
from ..registry import aliases, approvals
from ..registry import versions as registry
from ..registry.entities import PRODUCTION
from ..storage.project import Project
from .chain import audit_section, chain_status
from .content import Facts, NotAvailable, Report, Section, Table, Text, num, version_label, when
from .monitoring import monitors_in_alert, served_ids, serving_activity

Progress = Callable[[float, str], None]


def _model_section(project: Project, name: str) -> tuple[Section, tuple]:
    """One model's subsection, and its line of the overview table."""
    model = registry.get_model(project, name)
    versions = registry.list_versions(project, name)
    requests = approvals.list_requests(project, name)
    moves = aliases.alias_history(project, name)
    reviews = [x for r in requests for x in r.reviews]
    approved = sum(1 for x in reviews if x.decision == "approve")
    rejected = sum(1 for x in reviews if x.decision == "reject")
    rollbacks = [m for m in moves if m.kind == "rollback"]
    open_ = [r for r in requests if r.is_open]
    activity = {}
    for v in versions:
        activity[v.version] = serving_activity(project, served_ids(project, v.run_id, v.logged_model))
    total = sum(a["rows"] for a in activity.values())
    last = max((a["last"] for a in activity.values() if a["last"] is not None), default=None)
    alert = monitors_in_alert(project, name)
    line = (name, version_label(model.aliases.get(PRODUCTION)), num(len(versions)), num(approved), num(rejected),
            num(len(rollbacks)), num(len(open_)), num(total), when(last), alert)
    blocks: list = [Facts((("Production", version_label(model.aliases.get(PRODUCTION))),
                           ("Aliases", ", ".join(f"{a} → v{v}" for a, v in sorted(model.aliases.items())) or "none"),
                           ("Created by", f"{model.created_by} at {when(model.created_at)}"),
                           ("Monitors in alert", alert),
                           ("Serving activity", f"{num(total)} predictions logged, the last at {when(last)}"
                            if total else "no prediction logged")))]
    blocks.append(Table(("version", "status", "aliases", "registered by", "registered at", "sha256", "predictions"),
                        tuple((f"v{v.version}", v.status, ", ".join(v.aliases) or "—", v.created_by,
                               when(v.created_at), v.sha256[:12] + "…", num(activity[v.version]["rows"]))
                              for v in reversed(versions)), "Versions"))
    decided = [r for r in requests if r.reviews or r.status != "pending"]
    if decided:
        blocks.append(Table(("request", "version", "to", "requested by", "status", "approvals", "rejections"),
                            tuple((f"#{r.id}", f"v{r.version}", r.target_alias, r.requested_by, r.status,
                                   ", ".join(x.reviewer for x in r.reviews if x.decision == "approve") or "—",
                                   ", ".join(f"{x.reviewer}: {x.comment}" for x in r.reviews
                                             if x.decision == "reject") or "—")
                                  for r in sorted(requests, key=lambda r: r.id)), "Requests and decisions"))
    else:
        blocks.append(NotAvailable(f"no promotion of {name} was ever requested",
                                   "Requests, approvals and rejections would be listed here."))
    if rollbacks:
        blocks.append(Table(("at", "alias", "from", "back to", "by", "reason"),
                            tuple((when(m.at), m.alias, version_label(m.from_version), version_label(m.to_version),
                                   m.actor, m.reason or "—") for m in rollbacks), "Rollbacks"))
    if open_:
        blocks.append(Table(("request", "version", "to", "requested by", "at", "approvals so far"),
                            tuple((f"#{r.id}", f"v{r.version}", r.target_alias, r.requested_by, when(r.requested_at),
                                   ", ".join(r.approvals) or "none") for r in open_), "Open requests"))
    return Section(f"model:{name}", f"Model {name}", tuple(blocks)), line


def project_report(project: Project, *, user: str | None = None, progress: Progress | None = None,
                   should_stop: Callable[[], bool] | None = None) -> Report | None:
    """Every registered model with production version, versions, approvals, rejections, rollbacks, open
    requests, monitors in alert and serving activity, then the audit chain's status and head."""
    names = [m.name for m in registry.list_models(project)]
    subs, lines = [], []
    for i, name in enumerate(names):
        if should_stop is not None and should_stop():
            return None
        if progress is not None:
            progress(0.8 * i / max(1, len(names)), f"Reading model {name} ({i + 1} of {len(names)})")
        section, line = _model_section(project, name)
        subs.append(section)
        lines.append(line)
    if lines:
        header = ("model", "production", "versions", "approved", "rejected", "rollbacks", "open requests",
                  "predictions", "last prediction", "monitors in alert")
        overview = (Table(header, lines, "Every model"),)
    else:
        overview = (NotAvailable("no model is registered in this project",
                                 "Registering a run's logged model would list it here."),)
    runs = project.read("SELECT COUNT(*) FROM runs")[0][0]
    experiments = project.read("SELECT COUNT(*) FROM experiments")[0][0]
    summary = Text(f"{len(names)} registered model(s), {num(runs)} run(s) in {num(experiments)} experiment(s).")
    if progress is not None:
        progress(0.85, "Verifying the audit chain")
    chain = chain_status(project)
    now = clock.now()
    sections = (Section("models", "Models", (summary, *overview), tuple(subs)), audit_section(project, chain, None))
    title = f"Audit report: project {project.path.name}"
    return Report("project", title, f"Project {project.path.name}", user or project.user, now, str(project.path),
                  chain, sections, {"models": names})

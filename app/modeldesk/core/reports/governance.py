"""A version report's gates, approval trail and alias history sections."""

from __future__ import annotations

from ..registry.entities import AliasMove, ApprovalRequest, ModelVersion
from ..registry.summaries import alias_intervals
from .content import Band, Chart, Facts, NotAvailable, Section, Table, Text, version_label, when

UNREGISTERED = "Registering the model as a version and requesting its promotion would fill this section."


def gates_section(v: ModelVersion | None, requests: list[ApprovalRequest]) -> Section:
    """Every gate run for ``v`` (one table per request that ran gates), overrides included."""
    title = "Gate results"
    if v is None:
        return Section("gates", title, (NotAvailable("the model was never registered", UNREGISTERED),))
    blocks = []
    for r in sorted(requests, key=lambda r: r.id):
        if not r.gates:
            continue
        rows = []
        for g in r.gates:
            result = "passed" if g.passed else ("overridden" if g.override is not None else "FAILED")
            over = (f"{g.override.approver} at {when(g.override.at)}: {g.override.reason}"
                    if g.override is not None else "")
            rows.append((g.gate, result, g.message, when(g.ran_at), over))
        blocks.append(Table(("gate", "result", "message", "ran at", "override"), tuple(rows),
                            f"Request #{r.id} → {r.target_alias}"))
    if not blocks:
        blocks.append(NotAvailable(f"no gate has run for v{v.version}: it was never requested for promotion",
                                   "Requesting its promotion runs the artifact, predict, signature and metric "
                                   "gates."))
    return Section("gates", title, tuple(blocks))


def approvals_section(v: ModelVersion | None, requests: list[ApprovalRequest]) -> Section:
    """Each request: requester, comment, status, then every review (decision, comment) and override."""
    title = "Approval trail"
    if v is None:
        return Section("approvals", title, (NotAvailable("the model was never registered", UNREGISTERED),))
    if not requests:
        return Section("approvals", title, (NotAvailable(
            f"nobody has requested a promotion of v{v.version}, so there are no reviews",
            "A promotion request and its reviewers' decisions would be listed here."),))
    blocks = []
    for r in sorted(requests, key=lambda r: r.id):
        closed = f" by {r.closed_by} at {when(r.closed_at)}" if r.closed_by else ""
        rules = r.rules
        need = (f"{rules.required_approvals} approval(s), four-eyes {'on' if rules.four_eyes else 'off'}"
                if rules is not None else "—")
        blocks.append(Facts((("Requested by", f"{r.requested_by} at {when(r.requested_at)}"),
                             ("Target", f"{r.target_alias} (production was {version_label(r.baseline_version)})"),
                             ("Comment", r.comment or "—"), ("Status", r.status + closed), ("Rules", need)),
                            f"Request #{r.id}: v{r.version} → {r.target_alias}"))
        if r.reviews:
            blocks.append(Table(("reviewer", "decision", "comment", "at"),
                                tuple((x.reviewer, x.decision, x.comment or "—", when(x.at)) for x in r.reviews),
                                f"Reviews of request #{r.id}"))
        else:
            blocks.append(Text(f"Request #{r.id} has no review yet."))
        overrides = [g for g in r.gates if g.override is not None]
        if overrides:
            blocks.append(Table(("gate", "overridden by", "reason", "at"),
                                tuple((g.gate, g.override.approver, g.override.reason, when(g.override.at))
                                      for g in overrides), f"Gate overrides of request #{r.id}"))
    return Section("approvals", title, tuple(blocks))


def alias_section(v: ModelVersion | None, moves: list[AliasMove], now: float) -> Section:
    """Which version held which alias when: a timeline chart and the table of moves, rollbacks with reasons."""
    title = "Alias history"
    if v is None:
        return Section("aliases", title, (NotAvailable("the model was never registered", UNREGISTERED),))
    if not moves:
        return Section("aliases", title, (NotAvailable(
            f"no alias of {v.name} has pointed at any version yet",
            "Promoting a version (or setting an alias such as staging) would start the history."),))
    bands = tuple(Band(i.alias, f"v{i.version}", i.start, i.end if i.end is not None else now, i.kind == "rollback")
                  for i in alias_intervals(moves))
    rows = tuple((when(m.at), m.alias, version_label(m.from_version), version_label(m.to_version), m.kind, m.actor,
                  m.reason or "—", f"#{m.request_id}" if m.request_id else "—") for m in moves)
    rollbacks = [m for m in moves if m.kind == "rollback"]
    blocks: list = [Chart("alias_timeline", f"Which version held each alias of {v.name}", "timeline", bands=bands),
                    Text("Each bar is a stretch of time an alias pointed at the version written on it; red bars "
                         "began with a rollback. Times in UTC."),
                    Table(("at", "alias", "from", "to", "how", "by", "reason", "request"), rows, "Alias moves")]
    if rollbacks:
        blocks.append(Table(("at", "alias", "from", "back to", "by", "reason"),
                            tuple((when(m.at), m.alias, version_label(m.from_version), version_label(m.to_version),
                                   m.actor, m.reason or "—") for m in rollbacks), "Rollbacks"))
    else:
        blocks.append(Text(f"No alias of {v.name} was ever rolled back."))
    return Section("aliases", title, tuple(blocks))

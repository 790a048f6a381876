"""`modeldesk models ...` and `modeldesk audit ...`: the registry, approvals and audit log.

A thin face over core.registry, core.approvals and core.audit. The acting
user is `--as USER` (before or after the command), else $MODELDESK_USER,
else the login name. Refusals (a failed gate, the four-eyes rule, a
tampered artifact, nothing to roll back, a broken audit chain) exit 1; bad
usage exits 2.
"""

from __future__ import annotations

import dataclasses
import json

import click

from ..core.errors import RefusedError
from ..core.text import fmt_time
from ._common import VERSION, Context, acting, pass_ctx, print_json, print_table


def _gate_lines(req) -> None:
    for g in req.gates:
        mark = "pass" if g.passed else ("overridden" if g.override else "FAIL")
        click.echo(f"  {mark:<10} {g.gate:<9}  {g.message}")
        if g.override:
            click.echo(f"  {'':<10} {'':<9}  overridden by {g.override.approver}: {g.override.reason}")


def _state(project, req) -> str:
    from ..core.registry.settings import get_settings

    if req.status == "completed":
        return f"Completed: {req.model}@{req.target_alias} is now v{req.version}."
    if req.status != "pending":
        return f"Request #{req.id} is {req.status}."
    settings = get_settings(project, req.model)
    waiting = settings.required_approvals - len(req.approvals)
    who = f" from someone other than {req.requested_by} (four-eyes)" if settings.four_eyes else ""
    return (f"{len(req.approvals)} of {settings.required_approvals} approval(s); waiting for {waiting} more{who}. "
            f"A reviewer runs: modeldesk models approve {req.model} {req.version}")


# -- models --------------------------------------------------------------------------
@click.group()
def models() -> None:
    """The model registry: versions, aliases, promotion requests, rollback.

    \b
    Example:
      modeldesk models register 3f2a9c1e churn
      modeldesk --as ana models request churn 1 --to production
      modeldesk --as ben models approve churn 1 --comment "AUC holds on March data"
    """


@models.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def models_list(ctx: Context, fmt: str) -> None:
    """List registered models with their latest version and aliases.

    \b
    Example:
      modeldesk models list
    """
    from ..core.registry.versions import list_models

    found = list_models(ctx.project())
    if fmt == "json":
        print_json([dataclasses.asdict(m) for m in found])
        return
    if not found:
        click.echo("No registered models yet. Register a run's model: modeldesk models register RUN_ID NAME")
        return
    print_table(["name", "versions", "latest", "aliases", "created_by", "created_at"],
                 [[m.name, m.version_count, m.latest_version or "",
                   ", ".join(f"{a}=v{v}" for a, v in m.aliases.items()), m.created_by, fmt_time(m.created_at)]
                  for m in found])


@models.command("show")
@click.argument("name")
@click.argument("version", type=VERSION, required=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def models_show(ctx: Context, name: str, version: int | None, fmt: str) -> None:
    """Show a model (versions, aliases, open requests, alias history) or one version in detail.

    \b
    Example:
      modeldesk models show churn
      modeldesk models show churn 3
    """
    from ..core.registry import aliases, approvals
    from ..core.registry import versions as registry
    from ..core.registry.settings import get_settings
    from ..core.tracking.runs import get_run

    project = ctx.project()
    if version is not None:
        return _show_version(project, name, version, fmt)
    model = registry.get_model(project, name)
    versions = registry.list_versions(project, name)
    reqs = approvals.list_requests(project, name)
    history = aliases.alias_history(project, name)
    settings = get_settings(project, name)
    if fmt == "json":
        print_json({"model": dataclasses.asdict(model), "settings": dataclasses.asdict(settings),
                     "versions": [dataclasses.asdict(v) | {"uri": v.uri, "source": v.source} for v in versions],
                     "requests": [dataclasses.asdict(r) for r in reqs],
                     "alias_history": [dataclasses.asdict(h) for h in history]})
        return
    metric = (settings.primary_metric or "").removeprefix("metrics.")
    click.echo(f"Model {name}  created by {model.created_by} at {fmt_time(model.created_at)}")
    click.echo("Aliases: " + (", ".join(f"{a} → v{v}" for a, v in model.aliases.items()) or "none"))
    click.echo(f"Rules: {settings.required_approvals} approval(s), four-eyes {'on' if settings.four_eyes else 'off'}, "
               + (f"primary metric {metric} ({settings.metric_direction} is better, tolerance {settings.tolerance:g})"
                  if metric else "no primary metric")
               + (f", approvers {', '.join(settings.approvers)}" if settings.approvers else ""))
    rows = []
    for v in versions:
        run = get_run(project, v.run_id)
        value = run.metrics.get(metric) if metric else None
        rows.append([v.version, v.status, ",".join(v.aliases), "" if value is None else f"{value:.4g}",
                     v.created_by, fmt_time(v.created_at), f"{v.run_id[:8]} {run.name}"])
    click.echo("Versions:")
    print_table(["  version", "status", "aliases", metric or "metric", "created_by", "created_at", "run"],
                 [[f"  {r[0]}"] + r[1:] for r in rows])
    pending = [r for r in reqs if r.is_open]
    if pending:
        click.echo("Open requests:")
        for r in pending:
            blocked = f", blocked by {', '.join(g.gate for g in r.blocking_gates)}" if r.blocking_gates else ""
            click.echo(f"  #{r.id} v{r.version} → {r.target_alias} by {r.requested_by}, "
                       f"{len(r.approvals)} approval(s){blocked}")
    if history:
        click.echo("Alias history:")
        for h in history:
            frm = f"v{h.from_version}" if h.from_version is not None else "unset"
            why = f": {h.reason}" if h.reason else ""
            click.echo(f"  {fmt_time(h.at)}  {h.alias} {frm} → v{h.to_version}  {h.kind} by {h.actor}{why}")


def _show_version(project, name: str, version: int, fmt: str) -> None:
    from ..core.registry import approvals
    from ..core.registry import versions as registry

    lineage = registry.version_lineage(project, name, version)
    v, run = lineage.version, lineage.run
    reqs = approvals.list_requests(project, name, version=version)
    if fmt == "json":
        print_json({"version": dataclasses.asdict(v) | {"uri": v.uri, "source": v.source},
                     "run": dataclasses.asdict(run), "datasets": [dataclasses.asdict(d) | {"profile": None}
                                                                  for d in lineage.datasets],
                     "requests": [dataclasses.asdict(r) for r in reqs]})
        return
    click.echo(f"{name} v{v.version}  status {v.status}" + (f"  aliases {', '.join(v.aliases)}" if v.aliases else ""))
    click.echo(f"  source  {v.source}  (run {run.name!r}, experiment {run.experiment}, {run.status})")
    click.echo(f"  sha256  {v.sha256}  {v.size:,} bytes")
    click.echo(f"  registered by {v.created_by} at {fmt_time(v.created_at)}")
    inputs = v.signature.get("inputs") or []
    cols = ", ".join(f"{f['name']} {f['type']}" for f in inputs[:6]) + (" …" if len(inputs) > 6 else "")
    click.echo(f"  inputs  {len(inputs)}: {cols}")
    if run.metrics:
        click.echo("  metrics " + ", ".join(f"{k} {val:.4g}" for k, val in sorted(run.metrics.items())))
    if run.params:
        click.echo("  params  " + ", ".join(f"{k}={val}" for k, val in sorted(run.params.items())))
    for d in lineage.datasets:
        click.echo(f"  dataset {d.name} ({d.role}) {d.rows}×{d.columns} fingerprint {d.fingerprint[:16]}")
    for r in reqs:
        click.echo(f"Request #{r.id} → {r.target_alias} by {r.requested_by} at {fmt_time(r.requested_at)}: {r.status}"
                   + (f" ({r.comment})" if r.comment else ""))
        _gate_lines(r)
        for rev in r.reviews:
            said = f": {rev.comment}" if rev.comment else ""
            click.echo(f"  {rev.decision.rstrip('e')}ed by {rev.reviewer} at {fmt_time(rev.at)}{said}")


@models.command("register")
@click.argument("run_id")
@click.argument("name")
@click.option("--artifact", default="model", show_default=True, help="The run's logged model to register.")
@acting
@pass_ctx
def models_register(ctx: Context, run_id: str, name: str, artifact: str) -> None:
    """Register a run's logged model as the next version of NAME (created if new).

    RUN_ID may be a unique prefix, or a runs:/<run_id>/<name> URI.

    \b
    Example:
      modeldesk models register 3f2a9c1e churn
    """
    from ..core.registry import versions as registry
    from ..core.tracking.artifacts import get_logged_model, parse_model_uri

    project = ctx.project()
    if run_id.startswith("runs:/"):
        _, run_id, artifact = parse_model_uri(run_id)
    logged = get_logged_model(project, run_id, artifact)
    already = registry.registered_as(project, name, logged.run_id, logged.name, logged.sha256) \
        if registry.model_exists(project, name) else None
    if already is not None:
        click.echo(f"{name} v{already.version} already holds {already.source}; nothing registered.")
        return
    v = registry.register_model(project, logged.run_id, name, artifact=logged.name, actor=project.user)
    click.echo(f"Registered {name} v{v.version} from {v.source} (sha256 {v.sha256[:12]}…).")
    click.echo(f"Next: modeldesk models request {name} {v.version} --to production")


@models.command("request")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("--to", "to", default="production", show_default=True, metavar="ALIAS", help="Alias to move.")
@click.option("--comment", default="", help="Why this version should be promoted.")
@acting
@pass_ctx
def models_request(ctx: Context, name: str, version: int, to: str, comment: str) -> None:
    """Ask to promote VERSION: runs the gates, records them, waits for reviewers.

    Exits 1 when a gate failed: the request is recorded but blocked until an
    approver overrides the gate (models override) or a new version is requested.

    \b
    Example:
      modeldesk --as ana models request churn 3 --to production --comment "beats v2 on March data"
    """
    from ..core.registry.approvals import request_promotion

    project = ctx.project()
    req = request_promotion(project, name, version, to=to, comment=comment, actor=project.user)
    base = f"v{req.baseline_version}" if req.baseline_version is not None else "none"
    click.echo(f"Request #{req.id}: {name} v{version} → {to} by {req.requested_by} (production now: {base})")
    _gate_lines(req)
    if req.blocking_gates:
        first = req.blocking_gates[0]
        raise RefusedError(
            f"Request #{req.id} is recorded but blocked: gate {', '.join(g.gate for g in req.blocking_gates)} "
            f"failed. Fix the model and request again, or an approver can override it: "
            f"`modeldesk models override {name} {version} --gate {first.gate} --reason \"...\"`.")
    click.echo(_state(project, req))


def _target(fn):
    return click.option("--to", "to", default=None, metavar="ALIAS",
                        help="The request's alias, when a version has several open requests.")(fn)


@models.command("approve")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("--comment", default="", help="What you checked.")
@_target
@acting
@pass_ctx
def models_approve(ctx: Context, name: str, version: int, comment: str, to: str | None) -> None:
    """Approve the open request of VERSION; the alias moves when approvals are complete.

    \b
    Example:
      modeldesk --as ben models approve churn 3 --comment "checked the lift chart"
    """
    from ..core.registry.approvals import approve

    project = ctx.project()
    req = approve(project, name, version, comment=comment, actor=project.user, to=to)
    click.echo(f"{project.user} approved request #{req.id} ({name} v{version} → {req.target_alias}).")
    click.echo(_state(project, req))


@models.command("reject")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("--comment", required=True, help="Why (required; the requester reads it).")
@_target
@acting
@pass_ctx
def models_reject(ctx: Context, name: str, version: int, comment: str, to: str | None) -> None:
    """Reject the open request of VERSION, saying why.

    \b
    Example:
      modeldesk --as ben models reject churn 3 --comment "recall on the new segment is too low"
    """
    from ..core.registry.approvals import reject

    project = ctx.project()
    req = reject(project, name, version, comment=comment, actor=project.user, to=to)
    click.echo(f"{project.user} rejected request #{req.id} ({name} v{version} → {req.target_alias}): {comment}")


@models.command("withdraw")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("--comment", default="", help="Why (optional).")
@_target
@acting
@pass_ctx
def models_withdraw(ctx: Context, name: str, version: int, comment: str, to: str | None) -> None:
    """Withdraw your own open request for VERSION.

    \b
    Example:
      modeldesk --as ana models withdraw churn 3
    """
    from ..core.registry.approvals import withdraw

    project = ctx.project()
    req = withdraw(project, name, version, actor=project.user, to=to, comment=comment)
    click.echo(f"Withdrew request #{req.id} ({name} v{version} → {req.target_alias}).")


@models.command("override")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("--gate", required=True, type=click.Choice(["artifact", "predict", "signature", "metric"]),
              help="The failed gate to let pass.")
@click.option("--reason", required=True, help="Why it is safe (required, recorded).")
@_target
@acting
@pass_ctx
def models_override(ctx: Context, name: str, version: int, gate: str, reason: str, to: str | None) -> None:
    """Let a failed gate of VERSION's open request pass, with a recorded reason.

    Only an approver may override, and not on their own request (four-eyes).
    The request still needs its approvals.

    \b
    Example:
      modeldesk --as ben models override churn 3 --gate metric --reason "0.2% lower AUC, 3x faster"
    """
    from ..core.registry.approvals import override_gate

    project = ctx.project()
    req = override_gate(project, name, version, gate, reason=reason, actor=project.user, to=to)
    click.echo(f"{project.user} overrode gate {gate} of request #{req.id}: {reason}")
    click.echo(_state(project, req))


@models.command("rollback")
@click.argument("name")
@click.option("--alias", default="production", show_default=True, help="The alias to move back.")
@click.option("--reason", required=True, help="Why (required, recorded).")
@acting
@pass_ctx
def models_rollback(ctx: Context, name: str, alias: str, reason: str) -> None:
    """Move ALIAS back to the version that held it before, in one recorded step.

    \b
    Example:
      modeldesk --as ben models rollback churn --reason "v3 mislabels new customers"
    """
    from ..core.registry.aliases import rollback

    project = ctx.project()
    move = rollback(project, name, alias=alias, reason=reason, actor=project.user)
    click.echo(f"Rolled back {name}@{alias}: v{move.from_version} → v{move.to_version} ({reason}).")


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", type=VERSION)
@click.option("--reason", default="", help="Why (optional, recorded).")
@acting
@pass_ctx
def models_alias(ctx: Context, name: str, alias: str, version: int, reason: str) -> None:
    """Point an unprotected alias (staging, champion, ...) at VERSION.

    production is protected: it moves only through an approved request.

    \b
    Example:
      modeldesk models alias churn staging 3
    """
    from ..core.registry.aliases import set_alias

    project = ctx.project()
    move = set_alias(project, name, alias, version, actor=project.user, reason=reason)
    frm = f"v{move.from_version}" if move.from_version is not None else "unset"
    click.echo(f"{name}@{alias}: {frm} → v{move.to_version}.")


@models.command("requests")
@click.argument("name", required=False)
@click.option("--all", "show_all", is_flag=True, help="Also closed requests.")
@acting
@pass_ctx
def models_requests(ctx: Context, name: str | None, show_all: bool) -> None:
    """List promotion requests; the ones waiting for you come first.

    \b
    Example:
      modeldesk --as ben models requests
    """
    from ..core.registry.approvals import check_review, list_requests
    from ..core.registry.settings import get_settings

    project = ctx.project()
    reqs = list_requests(project, name, status=None if show_all else "pending", for_reviewer=project.user)
    if not reqs:
        click.echo("No open requests." if not show_all else "No requests.")
        return
    rows = []
    for r in reqs:
        yours = r.is_open and check_review(r, get_settings(project, r.model), project.user, "reject")[0]
        gates = "blocked: " + ",".join(g.gate for g in r.blocking_gates) if r.blocking_gates else "passed"
        rows.append([f"#{r.id}", r.model, f"v{r.version}", r.target_alias, r.requested_by, fmt_time(r.requested_at),
                     r.status, len(r.approvals), gates, "you" if yours else ""])
    print_table(["id", "model", "version", "to", "requested_by", "at", "status", "approvals", "gates", "review"], rows)


@models.command("settings")
@click.option("--model", "model", default=None, metavar="NAME", help="Set rules for one model only.")
@click.option("--required-approvals", type=click.IntRange(min=1), help="Approvals needed (default 1).")
@click.option("--four-eyes/--no-four-eyes", default=None, help="Requester may not approve (default on).")
@click.option("--primary-metric", metavar="METRIC", help="e.g. metrics.roc_auc")
@click.option("--higher-is-better/--lower-is-better", "higher", default=None, help="Metric direction.")
@click.option("--tolerance", type=float, help="How much worse than production still passes (metric units).")
@click.option("--approvers", metavar="A,B", help="Who may approve (comma-separated; '' for anyone).")
@click.option("--confirm", is_flag=True, help="Confirm the change another approver proposed (weakening rules).")
@acting
@pass_ctx
def models_settings(ctx: Context, model, required_approvals, four_eyes, primary_metric, higher, tolerance,
                    approvers, confirm) -> None:
    """Show or change the approval rules (project-wide, or --model for one model).

    With an approvers list, a change that weakens the rules (four-eyes off,
    fewer approvals, approvers changed) is only proposed until a second
    approver confirms it with --confirm. A user with an open request cannot
    change the rules.

    \b
    Example:
      modeldesk models settings --required-approvals 2 --primary-metric metrics.roc_auc --tolerance 0.005
      modeldesk --as cara models settings --confirm
    """
    from ..core.registry.settings import get_settings, pending_change, update_settings

    project = ctx.project()
    changes = dict(required_approvals=required_approvals, four_eyes=four_eyes, primary_metric=primary_metric,
                   metric_direction=None if higher is None else ("higher" if higher else "lower"),
                   tolerance=tolerance, approvers=approvers)
    if confirm:
        s = update_settings(project, model=model, actor=project.user, confirm=True)
        click.echo("Confirmed the proposed change.")
    elif any(v is not None for v in changes.values()):
        s = update_settings(project, model=model, actor=project.user, **changes)
    else:
        s = get_settings(project, model)
    scope = f"model {model}" if model else "project"
    click.echo(f"Approval rules ({scope}):")
    click.echo(f"  required approvals  {s.required_approvals}")
    click.echo(f"  four-eyes           {'on' if s.four_eyes else 'off'}")
    click.echo(f"  primary metric      {s.primary_metric or '(none)'}")
    click.echo(f"  direction           {s.metric_direction} is better")
    click.echo(f"  tolerance           {s.tolerance:g}")
    click.echo(f"  approvers           {', '.join(s.approvers) or 'anyone (but the requester, with four-eyes)'}")
    pending = pending_change(project, model)
    if pending:
        scope_opt = f" --model {model}" if model else ""
        click.echo(f"Proposed by {pending['by']}, waiting for a second approver ({', '.join(pending['weakens'])}):")
        click.echo(f"  {json.dumps(pending['changes'])}")
        click.echo(f"  Another approver confirms with: modeldesk --as NAME models settings{scope_opt} --confirm")

"""`modeldesk audit ...`: verify and list the tamper-evident audit log.

Registered together with `modeldesk models` by cli_registry.register().
A broken chain is a refusal (exit 1) that names the first bad entry.
"""

from __future__ import annotations

import dataclasses
import json

import click

from ..core.errors import RefusedError
from ..core.text import fmt_time
from ._common import Context, pass_ctx, print_json, print_table


@click.group()
def audit() -> None:
    """The tamper-evident audit log of registry, approval and alias changes.

    \b
    Example:
      modeldesk audit verify
      modeldesk audit list --model churn --action request
    """


@audit.command("verify")
@click.option("--expect-head", metavar="SEQ:HASH", default=None,
              help="Also check the log still holds this entry (a head printed earlier, e.g. in a report or CI).")
@pass_ctx
def audit_verify(ctx: Context, expect_head: str | None) -> None:
    """Check the hash chain, and that the registry matches it; exit 1 naming what is wrong.

    Catches edited, deleted or reordered entries, a cut log or an older copy of
    the file (against the head this machine saw before, or --expect-head), and
    aliases, versions, requests or reviews changed around ModelDesk.

    \b
    Example:
      modeldesk audit verify
      modeldesk audit verify --expect-head 42:3f2a9c1e5b7d
    """
    from ..core.audit import parse_head
    from ..core.registry.ledger import verify_project

    expected = parse_head(expect_head) if expect_head else None
    result = verify_project(ctx.project(), expect_head=expected)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if not result.ok:
        raise RefusedError(f"Audit log check FAILED: {result.message}")
    click.echo(result.message)
    if result.head_hash:
        click.echo(f"Head: {result.entries}:{result.head_hash}  (check it later with --expect-head)")


@audit.command("list")
@click.option("--model", default=None, help="Only entries about this model.")
@click.option("--action", default=None, help="An action or its prefix, e.g. request or alias.promote.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the last N entries.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def audit_list(ctx: Context, model: str | None, action: str | None, limit: int | None, fmt: str) -> None:
    """List audit entries, oldest first, filtered by model and action.

    \b
    Example:
      modeldesk audit list --model churn --action alias --format json
    """
    from ..core.audit import list_entries

    entries = list_entries(ctx.project(), model=model, action=action, limit=limit)
    if fmt == "json":
        print_json([dataclasses.asdict(e) for e in entries])
        return
    if not entries:
        click.echo("No audit entries match.")
        return
    rows = []
    for e in entries:
        keys = [k for k in _FIRST if k in e.details] + [k for k in e.details if k not in _FIRST]
        parts = [f"{k}={_short(e.details[k])}" for k in keys if e.details[k] not in (None, "", [], {})]
        rows.append([e.seq, fmt_time(e.time), e.actor, e.action, e.model or "",
                     "" if e.version is None else e.version, ", ".join(parts)])
    print_table(["seq", "time", "actor", "action", "model", "version", "details"], rows)


_FIRST = ("alias", "from_version", "to_version", "gate", "passed", "reason", "comment", "request_id")


def _short(value, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"

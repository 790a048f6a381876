"""`modeldesk predictions prune` and `modeldesk predictions retention`: keep the prediction log bounded."""

from __future__ import annotations

import click

from ._common import Context, acting, pass_ctx


def _mib(n: int) -> str:
    return f"{n / 2 ** 20:,.1f} MiB"


@click.group()
def predictions() -> None:
    """Keep the prediction log (what served models answered) bounded.

    \b
    Example:
      modeldesk predictions retention --days 90
      modeldesk predictions prune --older-than 90d --vacuum
    """


@predictions.command("prune")
@click.option("--older-than", "older_than", metavar="AGE",
              help="Delete predictions older than this (90d, 12h, or a date).")
@click.option("--model", metavar="NAME", help="Only this model's predictions (a registered name or model URI).")
@click.option("--vacuum", is_flag=True, help="Then give the freed space back (VACUUM; rewrites the file).")
@acting
@pass_ctx
def prune(ctx: Context, older_than, model, vacuum) -> None:
    """Delete logged predictions; without --older-than or --model, apply the retention settings.

    Deleted space is reused by later writes; --vacuum also shrinks the file
    (it rewrites it, which takes a while on a big project).

    \b
    Example:
      modeldesk predictions prune --older-than 90d
      modeldesk predictions prune --model churn --older-than 30d --vacuum
      modeldesk predictions prune            # what the retention settings say
    """
    from ..core.serving.prediction_retention import (
        apply_retention,
        file_bytes,
        log_size,
        prune_predictions,
        vacuum_file,
    )

    project = ctx.project()
    if older_than is None and model is None:
        before = file_bytes(project)
        deleted = apply_retention(project)
        if vacuum:
            vacuum_file(project)
        after = file_bytes(project)
    else:
        deleted, before, after = prune_predictions(project, older_than=older_than, model=model, vacuum=vacuum)
    click.echo(f"Deleted {deleted:,} prediction(s); the file is {_mib(after)} (was {_mib(before)}), "
               f"the log takes {_mib(log_size(project))}.")


@predictions.command("retention")
@click.option("--days", type=click.FloatRange(min=0), help="Keep this many days of predictions (0: no limit).")
@click.option("--rows", type=click.IntRange(min=0), help="Keep the newest ROWS predictions (0: no limit).")
@click.option("--model", metavar="NAME", help="For this registered model only (overrides the project's days).")
@acting
@pass_ctx
def retention(ctx: Context, days, rows, model) -> None:
    """Show or set how long the prediction log keeps predictions (a running server applies it).

    \b
    Example:
      modeldesk predictions retention --days 90
      modeldesk predictions retention --rows 1000000 --model churn
      modeldesk predictions retention        # show what is set
    """
    from ..core.serving.prediction_retention import get_retention, set_retention

    project = ctx.project()
    if days is not None or rows is not None:
        current = get_retention(project, model)
        set_retention(project, days=current.days if days is None else days,
                      rows=current.rows if rows is None else rows, model=model)
    shown = get_retention(project, model)
    scope = f"model {model}" if model else "the project"
    parts = [f"{shown.days:g} days" if shown.days else None, f"the newest {shown.rows:,} rows" if shown.rows else None]
    text = " and ".join(p for p in parts if p) or "everything (no limit)"
    click.echo(f"Retention for {scope}: keep {text}.")

"""`modeldesk experiments ...`: list, create, rename, delete and restore experiments."""

from __future__ import annotations

import shlex

import click

from ..core.text import fmt_time
from ._common import Context, acting, pass_ctx, print_json, print_table


@click.group()
def experiments() -> None:
    """List, create, rename, delete and restore experiments.

    \b
    Example:
      modeldesk experiments list --all
    """


@experiments.command("list")
@click.option("--deleted", "lifecycle", flag_value="deleted", help="Also deleted experiments; count deleted runs.")
@click.option("--all", "lifecycle", flag_value="all", help="Also deleted experiments; count all runs.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def experiments_list(ctx: Context, lifecycle, fmt) -> None:
    """List experiments with their run counts (active runs unless --deleted/--all).

    \b
    Example:
      modeldesk experiments list
      modeldesk experiments list --deleted --format json
    """
    from ..core.tracking.runs import list_experiments

    found = list_experiments(ctx.project(), lifecycle or "active")
    if lifecycle == "deleted":
        found = [e for e in found if e.deleted_at is not None or e.run_count]
    if fmt == "json":
        print_json([{"experiment_id": e.experiment_id, "name": e.name, "runs": e.run_count,
                     "created_at": e.created_at, "lifecycle_stage": e.lifecycle_stage} for e in found])
        return
    if not found:
        click.echo("No experiments." if lifecycle else "No experiments yet. Create one with: "
                   "modeldesk experiments create NAME")
        return
    print_table(["id", "name", "runs", "created", "stage"],
                [[e.experiment_id, e.name, e.run_count, fmt_time(e.created_at), e.lifecycle_stage] for e in found])


@experiments.command("create")
@click.argument("name")
@acting
@pass_ctx
def experiments_create(ctx: Context, name: str) -> None:
    """Create an experiment (a name another one has, ignoring case, is refused).

    \b
    Example:
      modeldesk experiments create churn
    """
    from ..core.tracking.lifecycle import create_experiment

    exp = create_experiment(ctx.project(), name)
    click.echo(f"Created experiment {exp.name!r} (id {exp.id}).")


@experiments.command("rename")
@click.argument("experiment")
@click.argument("new_name")
@acting
@pass_ctx
def experiments_rename(ctx: Context, experiment: str, new_name: str) -> None:
    """Rename an experiment (by name or id); its runs follow.

    \b
    Example:
      modeldesk experiments rename churn churn-2026
    """
    from ..core.tracking.lifecycle import rename_experiment

    exp = rename_experiment(ctx.project(), experiment, new_name)
    click.echo(f"Renamed experiment {experiment!r} to {exp.name!r}.")


@experiments.command("delete")
@click.argument("experiment")
@acting
@pass_ctx
def experiments_delete(ctx: Context, experiment: str) -> None:
    """Delete an experiment and its runs (restorable until `modeldesk gc` purges them).

    \b
    Example:
      modeldesk experiments delete old-sweep
    """
    from ..core.tracking.lifecycle import delete_experiment

    exp = delete_experiment(ctx.project(), experiment)
    click.echo(f"Deleted experiment {exp.name!r} and its runs. Undo with: "
               f"modeldesk experiments restore {shlex.quote(exp.name)}")


@experiments.command("restore")
@click.argument("experiment")
@acting
@pass_ctx
def experiments_restore(ctx: Context, experiment: str) -> None:
    """Bring a deleted experiment back, with the runs that were deleted with it.

    \b
    Example:
      modeldesk experiments restore old-sweep
    """
    from ..core.tracking.lifecycle import restore_experiment

    exp = restore_experiment(ctx.project(), experiment)
    click.echo(f"Restored experiment {exp.name!r} ({exp.run_count} runs).")

"""`modeldesk runs ...`: list runs (filtered, ordered; table, CSV or JSON) and show one."""

from __future__ import annotations

import json

import click

from ..core.text import fmt_duration, fmt_number, fmt_time
from ._common import FORMATS, Context, acting, iso_frame, iso_times, no_short_order_by, pass_ctx, print_runs_table


@click.group()
def runs() -> None:
    """List and inspect runs.

    \b
    Example:
      modeldesk runs list --experiment churn --order-by "metrics.val_auc DESC"
    """


@runs.command("list")
@click.option("--experiment", "-e", multiple=True, help="Only runs of this experiment (repeatable).")
@click.option("--filter", "-f", "filter_", metavar="FILTER", help='e.g. "metrics.auc > 0.9 and params.depth = \'8\'"')
@click.option("--order-by", multiple=True, metavar="KEY [ASC|DESC]", help='e.g. "metrics.auc DESC" (repeatable)')
@click.option("-o", "old_order_by", hidden=True, expose_value=False, callback=no_short_order_by)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many runs (table default: 50).")
@click.option("--deleted", "lifecycle", flag_value="deleted", help="Only deleted runs.")
@click.option("--all", "lifecycle", flag_value="all", help="Deleted runs too.")
@pass_ctx
def runs_list(ctx: Context, experiment, filter_, order_by, fmt, limit, lifecycle=None) -> None:
    """List runs, filtered and ordered, as a table, CSV or JSON.

    \b
    Example:
      modeldesk runs list --filter "metrics.accuracy > 0.9" --order-by "metrics.accuracy DESC"
      modeldesk runs list --format csv > runs.csv
    """
    from ..core.tracking.runs import search_runs

    project = ctx.project()
    table_limit = limit or 50
    frame = search_runs(project, list(experiment) or None, filter_, list(order_by),
                        max_results=(table_limit + 1) if fmt == "table" else limit, lifecycle=lifecycle or "active")
    if fmt == "csv":
        click.echo(iso_frame(frame).to_csv(index=False), nl=False)
    elif fmt == "json":
        records = json.loads(iso_frame(frame).to_json(orient="records"))
        click.echo(json.dumps(records, indent=2))
    else:
        more = len(frame) > table_limit
        print_runs_table(frame.head(table_limit))
        if more:
            click.echo("… more runs match; use --limit or --format csv to see them all.")


@runs.command("show")
@click.argument("run_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def runs_show(ctx: Context, run_id: str, fmt: str) -> None:
    """Show one run: params, latest metrics, tags, datasets, artifacts, models.

    RUN_ID may be a unique prefix of at least 4 characters.

    \b
    Example:
      modeldesk runs show 3f2a9c1e
    """
    from ..core.tracking import artifacts as art
    from ..core.tracking.runs import get_run

    project = ctx.project()
    run = get_run(project, run_id)
    datasets = art.list_datasets(project, run.id)
    artifacts = art.list_artifacts(project, run.id)
    models = art.list_models(project, run.id)
    env = art.run_environment(project, run.id)
    if fmt == "json":
        out = {
            "run_id": run.id, "run_name": run.name, "experiment": run.experiment, "status": run.status,
            "user": run.user, "start_time": run.start_time, "end_time": run.end_time,
            "parent_run_id": run.parent_id, "params": run.params, "metrics": run.metrics, "tags": run.tags,
            "datasets": [{"name": d.name, "role": d.role, "fingerprint": d.fingerprint, "rows": d.rows,
                          "columns": d.columns, "target": d.target} for d in datasets],
            "artifacts": [{"path": a.path, "sha256": a.sha256, "size": a.size} for a in artifacts],
            "models": [{"name": m.name, "sha256": m.sha256, "signature": m.signature} for m in models],
            "environment": {k: env.get(k) for k in ("python", "platform", "git")} if env else None,
        }
        out["lifecycle_stage"] = run.lifecycle_stage
        click.echo(json.dumps(iso_times(out), indent=2, default=str))
        return
    started = fmt_time(run.start_time)
    click.echo(f"Run {run.id}  {run.name!r}")
    click.echo(f"  experiment {run.experiment}   status {run.status}   user {run.user}")
    dur = f"   duration {fmt_duration(run.duration)}" if run.duration is not None else ""
    click.echo(f"  started {started}{dur}")
    if run.parent_id:
        click.echo(f"  parent {run.parent_id}")
    if run.deleted_at is not None:
        click.echo(f"  deleted: hidden from lists; undo with: modeldesk runs restore {run.id[:8]}")
    for title, mapping in (("Params", run.params), ("Metrics", run.metrics), ("Tags", run.tags)):
        if mapping:
            click.echo(f"{title}:")
            width = max(len(k) for k in mapping)
            for key in sorted(mapping):
                value = mapping[key]
                click.echo(f"  {key.ljust(width)}  {fmt_number(value, nan='') if title == 'Metrics' else value}")
    if datasets:
        click.echo("Datasets:")
        for d in datasets:
            click.echo(f"  {d.name} ({d.role}) {d.rows}×{d.columns}  fingerprint {d.fingerprint[:16]}")
    if models:
        click.echo("Models:")
        for m in models:
            cols = len(m.signature.get("inputs") or [])
            click.echo(f"  {m.name}  sha256 {m.sha256[:16]}  {cols} input columns  runs:/{run.id}/{m.name}")
    if artifacts:
        click.echo("Artifacts:")
        for a in artifacts:
            click.echo(f"  {a.path}  {a.size} bytes  sha256 {a.sha256[:16]}")
    if env:
        git = env.get("git") or {}
        commit = f"   git {git.get('commit', '')[:10]}{' (dirty)' if git.get('dirty') else ''}" if git else ""
        click.echo(f"Environment: Python {env.get('python')}{commit}")


# -- lifecycle: delete, restore, rename (issue 13) --------------------------------------------
@runs.command("delete")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@acting
@pass_ctx
def runs_delete(ctx: Context, run_ids) -> None:
    """Delete runs: hidden from lists and searches until restored (`modeldesk gc` purges them).

    \b
    Example:
      modeldesk runs delete 3f2a9c1e 9b1d04aa
      modeldesk runs list --deleted
    """
    from ..core.tracking.lifecycle import delete_runs

    for run in delete_runs(ctx.project(), list(run_ids)):
        click.echo(f"Deleted run {run.id[:8]} {run.name!r}. Undo with: modeldesk runs restore {run.id[:8]}")


@runs.command("restore")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@acting
@pass_ctx
def runs_restore(ctx: Context, run_ids) -> None:
    """Bring deleted runs back (a run purged by `modeldesk gc` is gone for good).

    \b
    Example:
      modeldesk runs restore 3f2a9c1e
    """
    from ..core.tracking.lifecycle import restore_runs

    for run in restore_runs(ctx.project(), list(run_ids)):
        click.echo(f"Restored run {run.id[:8]} {run.name!r} in {run.experiment}.")


@runs.command("rename")
@click.argument("run_id")
@click.argument("name")
@acting
@pass_ctx
def runs_rename(ctx: Context, run_id: str, name: str) -> None:
    """Give a run another name (run names need not be unique).

    \b
    Example:
      modeldesk runs rename 3f2a9c1e rf-200-final
    """
    from ..core.tracking.lifecycle import rename_run

    run = rename_run(ctx.project(), run_id, name)
    click.echo(f"Renamed run {run.id[:8]} to {run.name!r}.")

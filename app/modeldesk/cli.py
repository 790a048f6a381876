"""The `modeldesk` command line: a thin face over modeldesk.core.

Every command's docstring is its --help text, with an example. Errors are
one clear line on stderr and a non-zero exit: 1 when a rule refused the
action, 2 for bad usage. Set MODELDESK_DEBUG=1 to see a traceback.
"""

from __future__ import annotations

import json
import os
import sys
import time

import click

from .core.version import __version__
from .core.errors import ModelDeskError


class Context:
    def __init__(self, project_path: str | None, user: str | None):
        self.project_path = project_path
        self.user = user
        self._project = None

    def project(self, *, create: bool = False):
        if self._project is None:
            from .core.storage.project import default_project_path, open_project

            path = self.project_path or default_project_path()
            self._project = open_project(path, create=create, user=self.user)
        return self._project


pass_ctx = click.make_pass_decorator(Context)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", "project_path", metavar="PATH", envvar="MODELDESK_PROJECT",
              help="Project file (default: $MODELDESK_PROJECT or ./modeldesk.mdesk).")
@click.option("--as", "user", metavar="USER", envvar="MODELDESK_USER",
              help="Act as USER (default: $MODELDESK_USER or your login name).")
@click.version_option(__version__, prog_name="modeldesk")
@click.pass_context
def cli(ctx: click.Context, project_path: str | None, user: str | None) -> None:
    """ModelDesk: track, compare, approve, serve and audit scikit-learn models.

    Without a command, opens the desktop app.

    \b
    Example:
      modeldesk demo demo.mdesk --no-ui
      modeldesk --project demo.mdesk runs list --filter "metrics.accuracy > 0.95"
    """
    ctx.obj = Context(project_path, user)
    if ctx.invoked_subcommand is None:
        ctx.invoke(ui, path=None)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False))
@pass_ctx
def init(ctx: Context, path: str) -> None:
    """Create an empty project file at PATH.

    \b
    Example:
      modeldesk init team.mdesk
    """
    from .core.storage.project import open_project

    if os.path.exists(path) and os.path.getsize(path) > 0:
        project = open_project(path, create=False)
        click.echo(f"{path} is already a ModelDesk project; nothing to do.")
    else:
        project = open_project(path, create=True, user=ctx.user)
        click.echo(f"Created project {path}.")
    project.close()


@cli.group()
def runs() -> None:
    """List and inspect runs.

    \b
    Example:
      modeldesk runs list --experiment churn --order-by "metrics.val_auc DESC"
    """


FORMATS = click.Choice(["table", "csv", "json"])


@runs.command("list")
@click.option("--experiment", "-e", multiple=True, help="Only runs of this experiment (repeatable).")
@click.option("--filter", "-f", "filter_", metavar="FILTER", help='e.g. "metrics.auc > 0.9 and params.depth = \'8\'"')
@click.option("--order-by", "-o", multiple=True, metavar="KEY [ASC|DESC]", help='e.g. "metrics.auc DESC" (repeatable)')
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many runs (table default: 50).")
@pass_ctx
def runs_list(ctx: Context, experiment, filter_, order_by, fmt, limit) -> None:
    """List runs, filtered and ordered, as a table, CSV or JSON.

    \b
    Example:
      modeldesk runs list --filter "metrics.accuracy > 0.9" --order-by "metrics.accuracy DESC"
      modeldesk runs list --format csv > runs.csv
    """
    from .core.tracking.runs import search_runs

    project = ctx.project()
    table_limit = limit or 50
    frame = search_runs(project, list(experiment) or None, filter_, list(order_by),
                        max_results=(table_limit + 1) if fmt == "table" else limit)
    if fmt == "csv":
        click.echo(frame.to_csv(index=False), nl=False)
    elif fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        click.echo(json.dumps(records, indent=2))
    else:
        more = len(frame) > table_limit
        _print_table(frame.head(table_limit))
        if more:
            click.echo("… more runs match; use --limit or --format csv to see them all.")


def _print_table(frame) -> None:
    if frame.empty:
        click.echo("No runs match. Log one with md.start_run(), or relax --filter.")
        return
    rows = []
    metric_cols = [c for c in frame.columns if c.startswith("metrics.")][:6]
    header = ["run_id", "run_name", "experiment", "status", "start", "duration"] + metric_cols
    for rec in frame.itertuples(index=False):
        values = dict(zip(frame.columns, rec))
        start = values["start_time"]
        end = values["end_time"]
        dur = "" if end is None or str(end) == "NaT" else _fmt_duration((end - start).total_seconds())
        row = [values["run_id"][:8], values["run_name"], values["experiment"], values["status"],
               start.strftime("%Y-%m-%d %H:%M:%S"), dur]
        row += [_fmt_num(values[c]) for c in metric_cols]
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header] + rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def _fmt_num(v) -> str:
    try:
        if v != v:
            return ""
        return f"{v:.6g}"
    except TypeError:
        return str(v)


def _fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"
    return f"{seconds // 3600:.0f}h{(seconds % 3600) // 60:02.0f}m"


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
    from .core.tracking import artifacts as art
    from .core.tracking.runs import get_run

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
        click.echo(json.dumps(out, indent=2, default=str))
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(run.start_time))
    click.echo(f"Run {run.id}  {run.name!r}")
    click.echo(f"  experiment {run.experiment}   status {run.status}   user {run.user}")
    dur = f"   duration {_fmt_duration(run.duration)}" if run.duration is not None else ""
    click.echo(f"  started {started}{dur}")
    if run.parent_id:
        click.echo(f"  parent {run.parent_id}")
    for title, mapping in (("Params", run.params), ("Metrics", run.metrics), ("Tags", run.tags)):
        if mapping:
            click.echo(f"{title}:")
            width = max(len(k) for k in mapping)
            for key in sorted(mapping):
                value = mapping[key]
                click.echo(f"  {key.ljust(width)}  {_fmt_num(value) if title == 'Metrics' else value}")
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


@cli.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@pass_ctx
def ui(ctx: Context, path: str | None) -> None:
    """Open the desktop app (on PATH, or --project, or the last project).

    \b
    Example:
      modeldesk ui team.mdesk
    """
    from .gui.launch import launch

    sys.exit(launch(path or ctx.project_path, user=ctx.user))


@cli.command()
@click.argument("path", required=False, default="demo.mdesk", type=click.Path(dir_okay=False))
@click.option("--no-ui", is_flag=True, help="Only build the project; do not open the app.")
@click.option("--quick", is_flag=True, help="A smaller sweep (for tests); still real models.")
@pass_ctx
def demo(ctx: Context, path: str, no_ui: bool, quick: bool) -> None:
    """Build a realistic demo project from scikit-learn's bundled data.

    Three experiments and real hyperparameter sweeps over breast cancer,
    wine and diabetes (nothing is downloaded), then opens the app.

    \b
    Example:
      modeldesk demo demo.mdesk --no-ui
    """
    from .demo import build_demo

    def progress(fraction: float, message: str) -> None:
        click.echo(f"[{fraction:4.0%}] {message}", err=True)

    summary = build_demo(path, user=ctx.user, quick=quick, progress=progress)
    click.echo(summary)
    if not no_ui:
        from .gui.launch import launch

        sys.exit(launch(path, user=ctx.user))


def main(argv=None) -> None:
    """Console entry point: run the CLI, turning our errors into one line."""
    try:
        cli.main(args=argv, prog_name="modeldesk", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ModelDeskError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # no tracebacks for users
        if os.environ.get("MODELDESK_DEBUG"):
            raise
        click.echo(f"Error: unexpected {type(exc).__name__}: {exc}. "
                   "Set MODELDESK_DEBUG=1 to see the traceback and report it.", err=True)
        sys.exit(1)


# Command groups of other features register themselves here (one line each).
# --- command registrations ---
from .cli_registry import register as _register_registry; _register_registry(cli)  # noqa: E402
from .cli_serving import register as _register_serving; _register_serving(cli)  # noqa: E402

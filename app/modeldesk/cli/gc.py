"""`modeldesk gc`: purge deleted runs and the blobs nothing refers to any more."""

from __future__ import annotations

import sys

import click

from ._common import Context, acting, pass_ctx


def _age(text: str | None) -> float | None:
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.replace(".", "", 1).isdigit():
        raise click.BadParameter(f"{text!r} is not an age like 30d, 12h or 2w.", param_hint="--older-than")
    return float(number) * units[unit]


@click.command("gc")
@click.option("--run-id", "run_ids", multiple=True, metavar="RUN_ID", help="Purge only this deleted run (repeatable).")
@click.option("--older-than", metavar="AGE", help="Only runs deleted at least this long ago, e.g. 30d.")
@click.option("--dry-run", is_flag=True, help="Say what would be purged; change nothing.")
@acting
@pass_ctx
def gc(ctx: Context, run_ids, older_than, dry_run) -> None:
    """Purge deleted runs for good, then blobs, datasets and deleted experiments nothing uses.

    A deleted run behind a registered model version (or whose model served
    predictions) is kept, and said so: exit code 1. Each purge is an audit
    entry. Purged runs cannot be restored.

    \b
    Example:
      modeldesk gc --dry-run
      modeldesk gc --older-than 30d
    """
    from ..core.tracking.gc import collect

    project = ctx.project()
    tty = sys.stderr.isatty()

    def progress(fraction: float, message: str) -> None:
        if tty:
            click.echo(f"\r{message} ({fraction:.0%})", err=True, nl=False)

    result = collect(project, run_ids=list(run_ids) or None, older_than=_age(older_than), dry_run=dry_run,
                     progress=progress)
    if tty:
        click.echo("", err=True)
    n = len(result.purged_runs)
    runs_text = f"{n} deleted run{'s' if n != 1 else ''}"
    if dry_run:
        click.echo(f"Would purge {runs_text}.")
        for run_id in result.purged_runs:
            click.echo(f"  {run_id}")
    else:
        gone = result.purged_experiments
        click.echo(f"Purged {runs_text}, {result.blobs} unreferenced blob{'s' if result.blobs != 1 else ''}"
                   f" ({result.bytes:,} bytes)" + (f" and the deleted experiments {', '.join(gone)}" if gone else "")
                   + "." + (" Cancelled before the end." if result.cancelled else ""))
    for kept in result.kept:
        click.echo(f"Kept run {kept.run_id[:8]} ({kept.run_name}): {kept.reason}.", err=True)
    if result.kept:
        sys.exit(1)

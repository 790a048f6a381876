"""`modeldesk models download` and `modeldesk runs artifacts`: files out of a project, verified.

Attached to the `models` and `runs` groups by cli/__init__.py (kept apart from models.py and
runs.py, which other commands grow in).
"""

from __future__ import annotations

import click

from ..core.text import fmt_size, fmt_time, iso_time
from ._common import FORMATS, VERSION, Context, pass_ctx, print_json, print_table


@click.command("download")
@click.argument("name")
@click.argument("version", type=VERSION)
@click.option("-o", "--output", "output", required=True, metavar="DIR", type=click.Path(file_okay=False),
              help="Folder to write into (created if missing).")
@click.option("--force", is_flag=True, help="Replace files that already exist in DIR.")
@pass_ctx
def models_download(ctx: Context, name: str, version: int, output: str, force: bool) -> None:
    """Write a registered version into DIR: model.joblib, input_example.json, modeldesk.json.

    The model's bytes are checked against the sha256 it was registered with
    (as loading does); a tampered model is refused (exit 1) and nothing is
    written. modeldesk.json holds the name, version, source run, sha256,
    signature and environment.

    \b
    Example:
      modeldesk models download churn 3 -o churn-v3/
      python -c "import joblib; print(joblib.load('churn-v3/model.joblib'))"
    """
    from ..core.files_out import download_version

    written = download_version(ctx.project(), name, version, output, overwrite=force)
    _report(written)


@click.command("artifacts")
@click.argument("run_id")
@click.option("-o", "--output", "output", metavar="DIR", type=click.Path(file_okay=False),
              help="Download them into this folder (created if missing); without it, list them.")
@click.option("--force", is_flag=True, help="With -o: replace files that already exist in DIR.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True, help="How to list them.")
@pass_ctx
def runs_artifacts(ctx: Context, run_id: str, output: str | None, force: bool, fmt: str) -> None:
    """List a run's artifacts and logged models, or download them all with -o DIR.

    RUN_ID may be a unique prefix. Every file is checked against its sha256
    before anything is written; models land in DIR/models/NAME.joblib.

    \b
    Example:
      modeldesk runs artifacts 3f2a9c1e
      modeldesk runs artifacts 3f2a9c1e -o run-files/
    """
    from ..core.files_out import download_run_files, run_files
    from ..core.tracking.runs import get_run

    project = ctx.project()
    if output is not None:
        _report(download_run_files(project, run_id, output, overwrite=force))
        return
    run = get_run(project, run_id)
    found = run_files(project, run.id)
    if fmt == "json":
        print_json([{"kind": k, "path": p, "size": s, "sha256": h, "created_at": at} for k, p, s, h, at in found])
    elif fmt == "csv":
        click.echo("kind,path,size,sha256,created_at")
        for k, p, s, h, at in found:
            click.echo(",".join([k, _csv(p), str(s), h, iso_time(at)]))
    elif not found:
        click.echo(f"Run {run.id[:8]} has no artifacts or models. Log one with md.log_artifact(path).")
    else:
        print_table(["kind", "path", "size", "logged", "sha256"],
                    [[k, p, fmt_size(s), fmt_time(at), h[:12]] for k, p, s, h, at in found])


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text


def _report(written) -> None:
    for rel, size, sha256 in written.files:
        click.echo(f"  {rel}  {fmt_size(size)}  sha256 {sha256[:12]}")
    click.echo(f"Wrote {len(written.files)} file(s) to {written.folder}.")

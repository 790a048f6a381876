"""`modeldesk report`: an audit report of a model version or the whole project, as PDF or HTML.

Works headless: without a display the charts and the PDF are drawn on Qt's offscreen platform.
"""

from __future__ import annotations

import click

from ..core.errors import UsageError
from ._common import Context, acting, pass_ctx


@click.command("report")
@acting
@pass_ctx   # above the options: it sees this command's own --project flag and leaves it alone
@click.argument("model_uri", required=False, metavar="MODEL_URI")
@click.option("--project", "whole_project", is_flag=True, help="Report on the whole project instead of one version.")
@click.option("-o", "--output", required=True, metavar="FILE.pdf|FILE.html",
              help="Where to write the report; the format comes from the extension.")
@click.option("--letter", is_flag=True, help="US Letter pages instead of A4 (PDF only).")
def report(ctx: Context, model_uri: str | None, whole_project: bool, output: str, letter: bool) -> None:
    """Write an audit report: identity, lineage, comparison, gates, approvals, alias history,
    monitoring, the model's audit-log entries and whether the whole chain verifies, with its head hash.

    MODEL_URI is models:/NAME/VERSION, NAME/VERSION, NAME@ALIAS or runs:/RUN_ID/model (a model never
    registered). Each export is recorded in the audit log as report.export with the file's sha256.

    \b
    Example:
      modeldesk report churn/3 -o churn-v3.pdf
      modeldesk report models:/churn@production -o churn.html
      modeldesk report --project -o project.pdf --letter
    """
    from ..gui.reports.export import check_target, export_report

    if whole_project == bool(model_uri):
        raise UsageError("Name one MODEL_URI (e.g. churn/3), or --project for the whole project, not both.")
    page = "Letter" if letter else "A4"
    check_target(output, page)
    project = ctx.project()
    done = export_report(project, None if whole_project else model_uri, output, page_size=page, user=ctx.user)
    pages = f", {done.pages} pages {page}" if done.pages else ""
    click.echo(f"Wrote {done.path} ({done.format.upper()}{pages}, {done.size:,} bytes).")
    click.echo(f"sha256 {done.sha256}  (audit entry #{done.entry_seq}, report.export)")
    click.echo(f"Audit {done.report.chain.status}; head {done.report.chain.head}")

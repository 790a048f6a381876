"""`modeldesk init`, `modeldesk demo` and `modeldesk ui`: project files and the desktop app."""

from __future__ import annotations

import os
import sys

import click

from ._common import Context, pass_ctx


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
@pass_ctx
def init(ctx: Context, path: str) -> None:
    """Create an empty project file at PATH.

    \b
    Example:
      modeldesk init team.mdesk
    """
    from ..core.storage.project import open_project

    if os.path.exists(path) and os.path.getsize(path) > 0:
        project = open_project(path, create=False)
        click.echo(f"{path} is already a ModelDesk project; nothing to do.")
    else:
        project = open_project(path, create=True, user=ctx.user)
        click.echo(f"Created project {path}.")
    project.close()


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@pass_ctx
def ui(ctx: Context, path: str | None) -> None:
    """Open the desktop app (on PATH, or --project, or the last project).

    \b
    Example:
      modeldesk ui team.mdesk
    """
    from ..gui.launch import launch

    sys.exit(launch(path or ctx.project_path, user=ctx.user))


@click.command()
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
    from ..demo import build_demo

    def progress(fraction: float, message: str) -> None:
        click.echo(f"[{fraction:4.0%}] {message}", err=True)

    summary = build_demo(path, user=ctx.user, quick=quick, progress=progress)
    click.echo(summary)
    if not no_ui:
        from ..gui.launch import launch

        sys.exit(launch(path, user=ctx.user))

"""`modeldesk init`, `modeldesk check`, `modeldesk demo` and `modeldesk ui`: project files and the desktop app."""

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

    PATH must not exist yet, or be an empty (0-byte) file. The only command
    that makes a project: every other one refuses a missing, empty or foreign
    file and leaves it as it is.

    \b
    Example:
      modeldesk init team.mdesk
    """
    from ..core.storage.project import open_project

    if os.path.exists(path) and os.path.getsize(path) > 0:
        project = open_project(path, create=False)
        click.echo(f"{path} is already a ModelDesk project; nothing to do.")
    else:
        project = open_project(path, create=True, allow_empty=True, user=ctx.user)
        click.echo(f"Created project {path}.")
    project.close()


@click.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@pass_ctx
def check(ctx: Context, path: str | None) -> None:
    """Check the project file for damage (PRAGMA integrity_check and foreign keys).

    Reads only: the file is not migrated or changed. Progress goes to stderr.
    Exit 0 when the file is sound, 1 with the problems listed.

    \b
    Example:
      modeldesk --project team.mdesk check
      modeldesk check team.mdesk
    """
    from ..core.storage.project import check_integrity, default_project_path

    target = path or ctx.project_path or default_project_path()
    tty = sys.stderr.isatty()
    shown = [0.0]

    def progress(seconds: float) -> None:
        if tty:
            click.echo(f"\rChecking {target}… {seconds:5.1f} s", err=True, nl=False)
        elif seconds - shown[0] >= 2.0:
            shown[0] = seconds
            click.echo(f"Checking {target}… {seconds:.0f} s", err=True)

    click.echo(f"Checking {target}…", err=True)
    problems = check_integrity(target, progress=progress)
    if tty:
        click.echo("", err=True)
    if not problems:
        click.echo(f"OK: {target} passed the integrity and foreign-key checks.")
        return
    click.echo(f"{target} has {len(problems)} problem{'s' if len(problems) != 1 else ''}:")
    for problem in problems:
        click.echo(f"  {problem}")
    click.echo("Restore the file from a backup (or a teammate's copy); the project was not changed.")
    sys.exit(1)


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

"""The `modeldesk` command line: a thin face over modeldesk.core.

Every command's docstring is its --help text, with an example. Errors are
one clear line on stderr and a non-zero exit: 1 when a rule refused the
action, 2 for bad usage. Set MODELDESK_DEBUG=1 to see a traceback.
"""

from __future__ import annotations

import os
import sys

import click

from ..core.errors import ModelDeskError
from ._common import Context, with_hint
from .audit import audit
from .drift import drift
from .experiments import experiments
from .files import models_download, runs_artifacts
from .gc import gc
from .interop import export, import_
from .models import models
from .monitor import monitor
from .predictions import predictions
from .project import check, demo, init, ui
from .report import report
from .runs import runs
from .serving import labels, score, serve


def _print_versions(ctx: click.Context, _param, value: bool) -> None:
    """`modeldesk --version`: one line each for ModelDesk, Python, Qt and SQLite."""
    if not value or ctx.resilient_parsing:
        return
    from ..core.version import versions

    try:   # the Qt runtime's version; importing QtCore starts no QApplication and opens no window
        from PySide6.QtCore import qVersion

        qt = qVersion()
    except ImportError:
        qt = None
    for name, text in versions(qt):
        click.echo(f"{name} {text}")
    ctx.exit(0)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--project", "project_path", metavar="PATH", envvar="MODELDESK_PROJECT",
              help="Project file (default: $MODELDESK_PROJECT or ./modeldesk.mdesk).")
@click.option("--as", "user", metavar="USER", envvar="MODELDESK_USER",
              help="Act as USER (default: $MODELDESK_USER or your login name).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_versions,
              help="Show the versions of ModelDesk, Python, Qt and SQLite, and exit.")
@click.pass_context
def cli(ctx: click.Context, project_path: str | None, user: str | None) -> None:
    """ModelDesk: track, compare, approve, serve and audit scikit-learn models.

    Without a command, opens the desktop app.

    \b
    Example:
      modeldesk demo demo.mdesk --no-ui
      modeldesk --project demo.mdesk runs list --filter "metrics.accuracy > 0.95"
    """
    typed = {name: value for name, value in (("project_path", project_path), ("user", user))
             if value is not None and ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE}
    ctx.obj = Context(project_path, user, typed)
    if ctx.invoked_subcommand is None:
        ctx.invoke(ui, path=None)


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
        click.echo(with_hint(f"Error: {exc}", exc.hint), err=True)
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


for _command in (init, check, demo, ui, runs, models, audit, serve, score, labels, predictions, drift, report,
                 monitor):
    cli.add_command(_command)
models.add_command(models_download)     # issue 13: files out of a project (cli/files.py)
runs.add_command(runs_artifacts)
for _command in (experiments, gc, import_, export):   # issue 13 lifecycle, issue 14 MLflow
    cli.add_command(_command)

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
from ..core.version import __version__
from ._common import Context, with_hint
from .audit import audit
from .drift import drift
from .interop import export, import_
from .models import models
from .predictions import predictions
from .project import check, demo, init, ui
from .runs import runs
from .serving import labels, score, serve


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


for _command in (init, check, demo, ui, runs, models, audit, serve, score, labels, predictions, drift,
                 import_, export):
    cli.add_command(_command)

"""`modeldesk serve`, `modeldesk score` and `modeldesk labels import`.

A thin face over modeldesk.server and core.scoring / core.predictions.
MODEL_URI is `runs:/<run_id>/<name>`, `models:/<name>/<version>`,
`models:/<name>@<alias>`, or the short forms `name/3` and `name@alias`.
Imports stay light here: this module is loaded for every `modeldesk` command.
"""

from __future__ import annotations

import os
import sys

import click

from ..core.errors import UsageError
from ._common import Context, acting, one_model_uri, pass_ctx


def _project_path(ctx: Context) -> str:
    from ..core.errors import NotFoundError
    from ..core.storage.project import default_project_path

    path = ctx.project_path or default_project_path()
    import os

    if not os.path.exists(path):
        raise NotFoundError(f"No project at {path}. Pass --project PATH or set MODELDESK_PROJECT.")
    return path


@click.command()
@click.argument("model_uri", required=False)
@click.option("-m", "--model-uri", "model_uri_opt", metavar="URI",
              help="MODEL_URI as an option (as in `mlflow models serve -m`).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires a token.")
@click.option("-p", "--port", default=5005, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0 picks a free one; the URL is printed).")
@click.option("--token", envvar="MODELDESK_SERVE_TOKEN", metavar="T",
              help="Require 'Authorization: Bearer T' on every endpoint but /health and /ping "
                   "(also $MODELDESK_SERVE_TOKEN, which keeps it out of `ps`). "
                   "Generated and printed when --host is not loopback and none is given.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads answering requests.")
@click.option("--no-log", is_flag=True, help="Do not log predictions to the project.")
@click.option("--max-body-mb", default=32.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Refuse request bodies over this size (413).")
@click.option("--max-rows", type=click.IntRange(min=1), help="Refuse requests with more rows (default 20,000).")
@click.option("--reload-interval", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="Seconds between checks whether an alias moved (0: never switch).")
@acting
@pass_ctx
def serve(ctx: Context, model_uri, model_uri_opt, host, port, token, threads, no_log, max_body_mb, max_rows,
          reload_interval) -> None:
    """Serve MODEL_URI over HTTP until Ctrl+C or SIGTERM.

    Endpoints: /health, /metadata, /predict, /invocations (MLflow's scoring
    protocol, with /ping and /version), /metrics (Prometheus). Inputs are checked against the model's
    signature; every prediction is logged to the project for monitoring.
    A server on an alias (name@production) switches to the version the
    alias points at within a few seconds of a promotion or rollback.

    \b
    Example:
      modeldesk serve churn@production --port 5005
      modeldesk serve -m models:/churn@production -p 5005      # MLflow's spelling
      curl -s localhost:5005/predict -H 'Content-Type: application/json' \\
           -d '{"records": [{"age": 41, "plan": "pro"}]}'
    """
    from ..server.runner import serve as run

    model_uri = one_model_uri(model_uri, model_uri_opt)
    code = run(_project_path(ctx), model_uri, host=host, port=port, token=token, threads=threads,
               log_predictions=not no_log, max_body=int(max_body_mb * 2**20), max_rows=max_rows,
               reload_interval=reload_interval, user=ctx.user, parent_pid=_parent_pid())
    sys.exit(code)


def _parent_pid() -> int | None:
    """MODELDESK_SERVE_PARENT: the pid of the app that started this server (it stops when that app is gone)."""
    value = os.environ.get("MODELDESK_SERVE_PARENT", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UsageError(f"MODELDESK_SERVE_PARENT must be a process id, not {value!r}. Unset it to serve normally.")
    return int(value)


@click.command()
@click.argument("args", nargs=-1, metavar="MODEL_URI INPUT.csv")
@click.option("-m", "--model-uri", "model_uri_opt", metavar="URI", help="MODEL_URI as an option (MLflow's -m).")
@click.option("-i", "--input-path", "input_opt", metavar="INPUT.csv", type=click.Path(exists=True, dir_okay=False),
              help="INPUT.csv as an option (MLflow's -i).")
@click.option("-o", "--output", "output", required=True, metavar="OUTPUT.csv", type=click.Path(dir_okay=False),
              help="Where to write the input's columns plus the predictions.")
@click.option("--proba", is_flag=True, help="Add one proba_<class> column per class.")
@click.option("--chunk-rows", default=50_000, show_default=True, type=click.IntRange(min=1),
              help="Rows read and scored at a time (bounds memory).")
@pass_ctx
def score(ctx: Context, args, model_uri_opt, input_opt, output, proba, chunk_rows) -> None:
    """Score a CSV file with MODEL_URI, streaming it in chunks.

    Rows are checked like the server checks requests; a bad row is left out
    and reported with its reason. A file larger than memory works.

    \b
    Example:
      modeldesk score churn@production customers.csv -o scored.csv --proba
      modeldesk score -m models:/churn@production -i customers.csv -o scored.csv   # MLflow's spelling
    """
    from ..core.serving.scoring import score_csv

    rest = list(args)
    model_uri = one_model_uri(rest.pop(0) if rest and model_uri_opt is None else None, model_uri_opt)
    if input_opt is None and not rest:
        raise click.UsageError("Missing INPUT.csv: modeldesk score MODEL_URI INPUT.csv -o OUTPUT.csv")
    input_csv = input_opt if input_opt is not None else rest.pop(0)
    if rest:
        raise click.UsageError(f"Unexpected extra argument(s): {' '.join(rest)}.")
    if input_opt is None:
        input_csv = click.Path(exists=True, dir_okay=False).convert(input_csv, None, click.get_current_context())

    project = ctx.project()
    with click.progressbar(length=1000, label="Scoring", file=sys.stderr, show_percent=True) as bar:
        done = [0]

        def progress(fraction: float, message: str) -> None:
            step = int(fraction * 1000)
            if step > done[0]:
                bar.update(step - done[0])
                done[0] = step

        summary = score_csv(project, model_uri, input_csv, output, proba=proba, chunk_rows=chunk_rows,
                            progress=progress)
        if done[0] < 1000:
            bar.update(1000 - done[0])
    click.echo(summary.text())
    if summary.rows_read and not summary.rows_scored:
        sys.exit(1)


@click.group()
def labels() -> None:
    """Join true labels onto logged predictions (for concept drift).

    \b
    Example:
      modeldesk labels import outcomes.csv
    """


@labels.command("import")
@click.argument("file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@acting
@pass_ctx
def labels_import(ctx: Context, file) -> None:
    """Import labels from a CSV with the columns request_id,label (and optionally row).

    request_id is the id /predict answered with (or the X-Request-ID you
    sent). For a request with several rows, add a 0-based row column.

    \b
    Example:
      printf 'request_id,label\\n4f1c0e...,1\\n' > outcomes.csv
      modeldesk labels import outcomes.csv
    """
    from ..core.serving.prediction_log import import_labels

    result = import_labels(ctx.project(), file)
    click.echo(result.summary())
    for example in result.examples:
        click.echo(f"  {example}", err=True)
    if result.lines and not result.labeled_rows:
        sys.exit(1)

"""`modeldesk import mlflow` and `modeldesk export mlflow|mlflow-model`: moving data in and out through MLflow."""

from __future__ import annotations

import sys

import click

from ._common import Context, acting, pass_ctx, print_json


def _with_bar(label: str, work):
    """Run ``work(progress)`` under a terminal progress bar fed with fractions."""
    with click.progressbar(length=1000, label=label, show_eta=False, file=sys.stderr) as bar:
        done = [0]

        def progress(fraction: float, message: str = "") -> None:
            step = int(max(0.0, min(1.0, fraction)) * 1000)
            if step > done[0]:
                bar.update(step - done[0])
                done[0] = step
        return work(progress)


def _report(summary, fmt: str) -> None:
    if fmt == "json":
        print_json(summary.to_dict())
    else:
        click.echo("\n".join(summary.lines()))


@click.group("import")
def import_() -> None:
    """Bring runs and models in from another tool.

    \b
    Example:
      modeldesk import mlflow sqlite:///$HOME/mlflow/mlflow.db
    """


@import_.command("mlflow")
@click.argument("source")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="How to print the summary.")
@acting
@pass_ctx
def import_mlflow_cmd(ctx: Context, source: str, fmt: str) -> None:
    """Import an MLflow tracking store: experiments, runs, metric histories, artifacts, models, registry.

    SOURCE is an MLflow database (sqlite:///ABSOLUTE/PATH/mlflow.db) or a
    tracking directory (mlruns/). Needs MLflow: pip install 'modeldesk[mlflow]'.
    Running it again adds only what is new. scikit-learn models become
    ModelDesk models; other flavors are kept as artifacts and listed as
    skipped. A production alias is not set: a promotion request is opened
    for a teammate to approve.

    \b
    Example:
      modeldesk import mlflow sqlite:////home/ana/mlflow.db
      modeldesk --project team.mdesk import mlflow ./mlruns --as ana
    """
    from ..core.interop.mlflow_import import import_mlflow

    project = ctx.project(create=True)
    summary = _with_bar("Importing from MLflow", lambda progress: import_mlflow(
        project, source, actor=ctx.user, progress=progress))
    _report(summary, fmt)


@click.group("export")
def export() -> None:
    """Write runs and models out for another tool.

    \b
    Example:
      modeldesk export mlflow sqlite:///$HOME/mlflow/mlflow.db
      modeldesk export mlflow-model churn@production ./churn-model
    """


@export.command("mlflow")
@click.argument("target")
@click.option("--experiment", "experiments", multiple=True, metavar="NAME",
              help="Only this experiment (repeat for several); default: all of them.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="How to print the summary.")
@acting
@pass_ctx
def export_mlflow_cmd(ctx: Context, target: str, experiments: tuple[str, ...], fmt: str) -> None:
    """Export experiments, runs, metric histories, artifacts and the registry into an MLflow store.

    TARGET is an MLflow database (sqlite:///ABSOLUTE/PATH/mlflow.db, created
    if missing; artifacts go to mlartifacts/ beside it), a directory, or an
    MLflow server URL (http://host:5000). Exporting again adds only what is
    new. Needs MLflow: pip install 'modeldesk[mlflow]'.

    \b
    Example:
      modeldesk export mlflow sqlite:////srv/mlflow/mlflow.db
      modeldesk export mlflow http://mlflow.internal:5000 --experiment churn
    """
    from ..core.interop.mlflow_export import export_mlflow

    project = ctx.project()
    summary = _with_bar("Exporting to MLflow", lambda progress: export_mlflow(
        project, target, experiments=list(experiments) or None, actor=ctx.user, progress=progress))
    _report(summary, fmt)


@export.command("mlflow-model")
@click.argument("model_uri")
@click.argument("directory", type=click.Path(file_okay=False))
@pass_ctx
def export_mlflow_model_cmd(ctx: Context, model_uri: str, directory: str) -> None:
    """Write one model as an MLflow model directory (MLmodel with python_function and sklearn flavors).

    MODEL_URI is a registered version (churn/3, churn@production,
    models:/churn/3) or a run's model (runs:/RUN_ID/model). DIRECTORY must be
    new or empty. The result loads with mlflow.pyfunc.load_model and serves
    with `mlflow models serve -m DIRECTORY`. The bytes are verified first.

    \b
    Example:
      modeldesk export mlflow-model churn@production ./churn-model
      mlflow models predict -m ./churn-model -i rows.json --env-manager local
    """
    from ..core.interop.mlflow_models import save_model_dir

    path = save_model_dir(ctx.project(), model_uri, directory)
    click.echo(f"Wrote the MLflow model {model_uri} to {path}")

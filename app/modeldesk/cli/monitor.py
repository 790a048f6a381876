"""`modeldesk monitor`: watch a served model, alert when it drifts or degrades, retrain it."""

from __future__ import annotations

import sys

import click

from ._common import Context, acting, pass_ctx, print_json, print_table

OUTPUT = click.Choice(["table", "json"])


def _when(ts) -> str:
    from ..core.text import fmt_time

    return fmt_time(ts) if ts is not None else "never"


def _value(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


@click.group()
def monitor() -> None:
    """Monitors: thresholds on a served model's drift, metrics and latency, alerts, and retraining.

    A scheduler (cron, Task Scheduler, CI) runs `modeldesk monitor check`,
    which exits 1 when a monitor fires; the open app checks every few
    minutes too.

    \b
    Example:
      modeldesk monitor set cancer-classifier --drift-share 0.5 --retrain "python retrain.py"
      modeldesk monitor check
    """


@monitor.command("set")
@click.argument("name")
@click.option("--model", metavar="MODEL", help="The registered model to watch (default: NAME).")
@click.option("--alias", default="production", show_default=True, help="The alias to watch.")
@click.option("--window", default="1d", show_default=True, metavar="PERIOD",
              help="How far back each check looks: 30m, 1h, 1d, 7d...")
@click.option("--drift-share", type=float, metavar="X", help="Fire when this share of input columns drifts (0-1).")
@click.option("--columns", metavar="A,B", help="Fire when any of these input columns drifts.")
@click.option("--metric", metavar="M", help="accuracy, f1, roc_auc, estimated_accuracy, estimated_roc_auc, "
              "rmse, mae or r2 (with --min or --max-drop).")
@click.option("--min", "metric_min", type=float, metavar="V", help="Fire when --metric is below V.")
@click.option("--max-drop", type=float, metavar="D", help="Fire when --metric fell more than D from its training "
              "value.")
@click.option("--error-rate", type=float, metavar="R", help="Fire when the share of failed requests exceeds R.")
@click.option("--p99-ms", type=float, metavar="MS", help="Fire when the 99th percentile latency exceeds MS.")
@click.option("--retrain", "retrain_command", metavar="COMMAND",
              help="Run COMMAND in the project's folder when the monitor fires.")
@click.option("--retrain-every", metavar="PERIOD", help="Also run the retrain command every PERIOD (e.g. 7d).")
@acting
@pass_ctx
def set_(ctx: Context, name, model, alias, window, drift_share, columns, metric, metric_min, max_drop, error_rate,
         p99_ms, retrain_command, retrain_every) -> None:
    """Create or replace monitor NAME (you become its owner).

    The monitor watches MODEL@ALIAS (MODEL defaults to NAME) over the last
    --window at each check. A retrain command runs with MODELDESK_PROJECT,
    MODELDESK_RETRAIN (the reason) and MODELDESK_RETRAIN_ID set; the run it
    logs becomes the model's next version with a promotion request to ALIAS
    in your name, which waits for a reviewer. Retraining never promotes.

    \b
    Example:
      modeldesk monitor set cancer-classifier --drift-share 0.5 --p99-ms 250
      modeldesk monitor set churn-auc --model churn --metric roc_auc --max-drop 0.05 \\
          --retrain "python train.py" --retrain-every 7d
    """
    from ..core.monitoring.monitors import make_thresholds, set_monitor

    thresholds = make_thresholds(drift_share=drift_share, columns=columns or (), metric=metric,
                                 metric_min=metric_min, max_drop=max_drop, error_rate=error_rate, p99_ms=p99_ms)
    project = ctx.project()
    m = set_monitor(project, name, model, alias=alias, window=window, thresholds=thresholds,
                    retrain=retrain_command, retrain_every=retrain_every, actor=ctx.user or project.user)
    retrain = f"; retrains with: {m.retrain_command}" if m.retrain_command else ""
    every = f" (and every {m.retrain_every})" if m.retrain_every else ""
    click.echo(f"Monitor {m.name} watches {m.model}@{m.alias} over the last {m.window}: "
               f"{m.thresholds.describe()}{retrain}{every}. Owner: {m.owner}.")


@monitor.command("list")
@click.option("--format", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_ctx
def list_(ctx: Context, fmt: str) -> None:
    """The monitors, their thresholds and their last check.

    \b
    Example:
      modeldesk monitor list --format json
    """
    from ..core.monitoring.monitors import list_monitors

    found = list_monitors(ctx.project())
    if fmt == "json":
        print_json([m.to_dict() for m in found])
        return
    if not found:
        click.echo("No monitors yet. Set one with: modeldesk monitor set MODEL --drift-share 0.5")
        return
    print_table(["name", "watches", "window", "thresholds", "retrain", "owner", "last check", "state"],
                [[m.name, f"{m.model}@{m.alias}", m.window, m.thresholds.describe(),
                  (m.retrain_command or "-") + (f" (every {m.retrain_every})" if m.retrain_every else ""),
                  m.owner, _when(m.last_check), m.last_state or "-"] for m in found])


@monitor.command("remove")
@click.argument("name")
@acting
@pass_ctx
def remove(ctx: Context, name: str) -> None:
    """Delete monitor NAME (its alerts and retrains are kept).

    \b
    Example:
      modeldesk monitor remove cancer-classifier
    """
    from ..core.monitoring.monitors import remove_monitor

    project = ctx.project()
    m = remove_monitor(project, name, actor=ctx.user or project.user)
    click.echo(f"Removed monitor {m.name} ({m.model}@{m.alias}).")


@monitor.command("check")
@click.argument("name", required=False)
@click.option("--format", "fmt", type=OUTPUT, default="table", show_default=True)
@click.option("--wait", is_flag=True, help="Wait for a retrain this check starts (default: it runs detached and "
              "records itself).")
@acting
@pass_ctx
def check(ctx: Context, name, fmt: str, wait: bool) -> None:
    """Check every monitor (or NAME) now. Exit 0 when none fires, 1 when one fires (or cannot be checked).

    A firing monitor records an alert; a monitor with --retrain starts its
    command when it opens a new alert or its --retrain-every has passed.
    The retrain runs detached unless --wait is given.

    \b
    Example:
      modeldesk monitor check
      modeldesk monitor check cancer-classifier --format json
      */15 * * * *  modeldesk --project /srv/team.mdesk monitor check   (crontab)
    """
    from ..core.monitoring.checks import check as run_checks

    results = run_checks(ctx.project(), name, wait=wait)
    bad = any(r.state != "ok" for r in results)
    if fmt == "json":
        print_json({"firing": any(r.firing for r in results), "monitors": [r.to_dict() for r in results]})
    elif not results:
        click.echo("No monitors to check. Set one with: modeldesk monitor set MODEL --drift-share 0.5")
    else:
        for r in results:
            click.echo(f"{r.state.upper():6}  {r.monitor} ({r.model}@{r.alias}): {r.summary}")
            for f in r.figures:
                mark = "CROSSED" if f["crossed"] else ""
                note = f"  ({f['note']})" if f["note"] else ""
                click.echo(f"        {f['label']}: {_value(f['value'])} (threshold {_value(f['threshold'])})"
                           f" {mark}{note}".rstrip())
            if r.alert_id is not None:
                click.echo(f"        alert #{r.alert_id}{' (new)' if r.new_alert else ' (still open)'}")
            if r.retrain:
                click.echo(f"        retrain: {r.retrain['message']}")
    if bad:
        sys.exit(1)


@monitor.command("alerts")
@click.argument("name", required=False)
@click.option("--open", "open_only", is_flag=True, help="Only alerts nobody acknowledged yet.")
@click.option("--format", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_ctx
def alerts_(ctx: Context, name, open_only: bool, fmt: str) -> None:
    """Alerts of every monitor (or NAME), newest first.

    \b
    Example:
      modeldesk monitor alerts --open
    """
    from ..core.monitoring.alerts import list_alerts

    found = list_alerts(ctx.project(), name, open_only=open_only)
    if fmt == "json":
        print_json([a.to_dict() for a in found])
        return
    if not found:
        click.echo("No alerts.")
        return
    print_table(["id", "monitor", "version", "at", "checks", "acknowledged", "summary"],
                [[a.id, a.monitor, a.version or "-", _when(a.at), a.checks, a.acknowledged_by or "-", a.summary]
                 for a in found])


@monitor.command("ack")
@click.argument("alert_id", type=int)
@click.option("--comment", default="", help="Why, or what was done.")
@acting
@pass_ctx
def ack(ctx: Context, alert_id: int, comment: str) -> None:
    """Acknowledge alert ALERT_ID; the next firing check opens a new one.

    \b
    Example:
      modeldesk monitor ack 12 --comment "retrained, v5 requested"
    """
    from ..core.monitoring.alerts import acknowledge

    project = ctx.project()
    a = acknowledge(project, alert_id, actor=ctx.user or project.user, comment=comment)
    click.echo(f"Alert #{a.id} of {a.monitor} acknowledged by {a.acknowledged_by}.")


@monitor.command("retrains")
@click.argument("name", required=False)
@click.option("--format", "fmt", type=OUTPUT, default="table", show_default=True)
@pass_ctx
def retrains(ctx: Context, name, fmt: str) -> None:
    """Retrains of every monitor (or NAME), newest first; see one's output with `monitor output ID`.

    \b
    Example:
      modeldesk monitor retrains cancer-classifier
    """
    from ..core.monitoring.retrain import list_retrains

    found = list_retrains(ctx.project(), name)
    if fmt == "json":
        print_json([r.to_dict() for r in found])
        return
    if not found:
        click.echo("No retrains yet.")
        return
    print_table(["id", "monitor", "status", "started", "exit", "version", "request", "message"],
                [[r.id[:8], r.monitor, r.status, _when(r.started_at), "-" if r.exit_code is None else r.exit_code,
                  r.version or "-", f"#{r.request_id}" if r.request_id else "-", r.message] for r in found])


@monitor.command("output")
@click.argument("retrain_id")
@pass_ctx
def output(ctx: Context, retrain_id: str) -> None:
    """The output (stdout and stderr) a retrain's command printed.

    \b
    Example:
      modeldesk monitor output 3f2a9c1e
    """
    from ..core.monitoring.retrain import get_retrain

    r = get_retrain(ctx.project(), retrain_id)
    click.echo(f"Retrain {r.id} of {r.monitor}: {r.status}. {r.message}".rstrip(), err=True)
    click.echo(r.output, nl=False)


@monitor.command("run-retrain", hidden=True)
@click.argument("retrain_id")
@pass_ctx
def run_retrain_(ctx: Context, retrain_id: str) -> None:
    """Run a claimed retrain now (what a detached retrain runs in a packaged app). Exit 0 done, 1 failed.

    \b
    Example:
      modeldesk --project team.mdesk monitor run-retrain 3f2a9c1e
    """
    from ..core.monitoring.retrain import get_retrain, run_retrain

    project = ctx.project()
    r = run_retrain(project, get_retrain(project, retrain_id).id)
    click.echo(f"Retrain {r.id[:8]} of {r.monitor}: {r.status}. {r.message}".rstrip())
    if r.status != "done":
        sys.exit(1)

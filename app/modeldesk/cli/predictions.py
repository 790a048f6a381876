"""`modeldesk predictions`: how the server answered (health) and keeping the prediction log bounded (prune,
retention)."""

from __future__ import annotations

import math
import sys

import click

from ..core.text import fmt_time, iso_time
from ._common import FORMATS, Context, acting, iso_frame, pass_ctx, print_json, print_table


def _mib(n: int) -> str:
    return f"{n / 2 ** 20:,.1f} MiB"


@click.group()
def predictions() -> None:
    """What served models answered: their serving health, and keeping the prediction log bounded.

    \b
    Example:
      modeldesk predictions health churn@production --every 1h --since 24h
      modeldesk predictions retention --days 90
      modeldesk predictions prune --older-than 90d --vacuum
    """


def _ms(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:,.1f}"


def _finite(value):
    return None if value is None or not math.isfinite(value) else float(value)


@predictions.command("health")
@click.argument("model_uri")
@click.option("--every", default="1d", show_default=True, metavar="PERIOD",
              help="Window size: 1h, 1d, 1w (or a multiple such as 6h), aligned to UTC.")
@click.option("--since", metavar="T", help="Requests from this time (ISO date/time, or an age like 7d).")
@click.option("--until", metavar="T", help="Requests before this time (ISO date/time, or an age like 1d).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--max-error-rate", "max_error_rate", type=click.FloatRange(0, 1), metavar="RATE",
              help="Exit 1 when the last window's error rate is above RATE (a fraction: 0.05 is 5 %).")
@pass_ctx
def health(ctx: Context, model_uri: str, every, since, until, fmt: str, max_error_rate) -> None:
    """Serving health of a model version per window: requests, rows, failed requests, error rate, latency.

    Read from the prediction log and the failed requests a `modeldesk serve`
    server logs: one line per window that saw a request (answered or
    failed); p50/p99 are the latency of the answered requests, "-" where
    every request failed. MODEL_URI names one version (an alias: the one it
    names now). Exit 0, or 1 with --max-error-rate when the last window's
    error rate is above it (no traffic is not a failure); 2 on bad usage.

    \b
    Example:
      modeldesk predictions health churn@production
      modeldesk predictions health models:/churn/3 --every 1h --since 24h --format csv > health.csv
      modeldesk predictions health churn@production --every 1h --since 6h --max-error-rate 0.05
    """
    from ..core.monitoring.serving_health import serving_health
    from ..core.monitoring.windows import describe_period, period_bounds

    project = ctx.project()
    frame = serving_health(project, model_uri, every=every, since=since, until=until)
    last = float(frame["error_rate"].iloc[-1]) if len(frame) else None
    exceeded = max_error_rate is not None and last is not None and last > max_error_rate
    if fmt == "json":
        print_json({"model": model_uri, "every": every, "since": since, "until": until,
                    "max_error_rate": max_error_rate, "exceeded": exceeded, "windows": [
                        {"window_start": iso_time(r.window_start), "window_end": iso_time(r.window_end),
                         "requests": int(r.requests), "rows": int(r.rows), "failed": int(r.failed),
                         "error_rate": float(r.error_rate), "p50_ms": _finite(r.p50_ms),
                         "p99_ms": _finite(r.p99_ms)} for r in frame.itertuples(index=False)]})
    elif fmt == "csv":
        click.echo(iso_frame(frame).to_csv(index=False), nl=False)
    elif not frame.empty:
        print_table(["window_start", "requests", "rows", "failed", "error_rate", "p50_ms", "p99_ms"],
                    [[fmt_time(r.window_start, "min"), f"{r.requests:,}", f"{r.rows:,}", f"{r.failed:,}",
                      f"{r.error_rate:.1%}", _ms(r.p50_ms), _ms(r.p99_ms)] for r in frame.itertuples(index=False)])
        total, failed = int(frame["requests"].sum()), int(frame["failed"].sum())
        click.echo(f"{len(frame)} window(s): {total:,} requests answered, {failed:,} failed "
                   f"(error rate {failed / (total + failed):.1%}); the last window's error rate is {last:.1%}.")
    if frame.empty:     # the sentence beside a table; on stderr beside CSV/JSON, which stay parseable
        start, end = period_bounds(since, until)
        click.echo(f"No requests to {model_uri} were logged {describe_period(start, end)}, answered or failed: "
                   f"no serving health to show. Serve it (modeldesk serve {model_uri}) and send it requests, "
                   "or widen --since/--until.", err=fmt != "table")
    if exceeded:
        click.echo(f"The last window's error rate, {last:.1%}, is above --max-error-rate {max_error_rate:g}.",
                   err=True)
        sys.exit(1)


@predictions.command("prune")
@click.option("--older-than", "older_than", metavar="AGE",
              help="Delete predictions older than this (90d, 12h, or a date).")
@click.option("--model", metavar="NAME", help="Only this model's predictions (a registered name or model URI).")
@click.option("--vacuum", is_flag=True, help="Then give the freed space back (VACUUM; rewrites the file).")
@acting
@pass_ctx
def prune(ctx: Context, older_than, model, vacuum) -> None:
    """Delete logged predictions; without --older-than or --model, apply the retention settings.

    Deleted space is reused by later writes; --vacuum also shrinks the file
    (it rewrites it, which takes a while on a big project).

    \b
    Example:
      modeldesk predictions prune --older-than 90d
      modeldesk predictions prune --model churn --older-than 30d --vacuum
      modeldesk predictions prune            # what the retention settings say
    """
    from ..core.serving.prediction_retention import (
        apply_retention,
        file_bytes,
        log_size,
        prune_predictions,
        vacuum_file,
    )

    project = ctx.project()
    if older_than is None and model is None:
        before = file_bytes(project)
        deleted = apply_retention(project)
        if vacuum:
            vacuum_file(project)
        after = file_bytes(project)
    else:
        deleted, before, after = prune_predictions(project, older_than=older_than, model=model, vacuum=vacuum)
    click.echo(f"Deleted {deleted:,} prediction(s); the file is {_mib(after)} (was {_mib(before)}), "
               f"the log takes {_mib(log_size(project))}.")


@predictions.command("retention")
@click.option("--days", type=click.FloatRange(min=0), help="Keep this many days of predictions (0: no limit).")
@click.option("--rows", type=click.IntRange(min=0), help="Keep the newest ROWS predictions (0: no limit).")
@click.option("--model", metavar="NAME", help="For this registered model only (overrides the project's days).")
@acting
@pass_ctx
def retention(ctx: Context, days, rows, model) -> None:
    """Show or set how long the prediction log keeps predictions (a running server applies it).

    \b
    Example:
      modeldesk predictions retention --days 90
      modeldesk predictions retention --rows 1000000 --model churn
      modeldesk predictions retention        # show what is set
    """
    from ..core.serving.prediction_retention import get_retention, set_retention

    project = ctx.project()
    if days is not None or rows is not None:
        current = get_retention(project, model)
        set_retention(project, days=current.days if days is None else days,
                      rows=current.rows if rows is None else rows, model=model)
    shown = get_retention(project, model)
    scope = f"model {model}" if model else "the project"
    parts = [f"{shown.days:g} days" if shown.days else None, f"the newest {shown.rows:,} rows" if shown.rows else None]
    text = " and ".join(p for p in parts if p) or "everything (no limit)"
    click.echo(f"Retention for {scope}: keep {text}.")

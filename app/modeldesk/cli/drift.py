"""`modeldesk drift`: has what a model sees drifted from what it learned from? Exit 0 no, 1 yes, 2 bad usage."""

from __future__ import annotations

import math
import sys

import click

from ..core.text import fmt_time, iso_time
from ._common import Context, pass_ctx, print_json, print_table

SHOWN_COLUMNS = 4     # drifted columns named per window line before "+N more"


def _num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"


@click.command("drift")
@click.argument("model_uri")
@click.option("--current", "current", metavar="FILE.csv", help="Compare this CSV batch instead of the prediction log.")
@click.option("--since", metavar="T", help="Predictions from this time (ISO date/time, or an age like 7d).")
@click.option("--until", metavar="T", help="Predictions before this time (ISO date/time, or an age like 1d).")
@click.option("--every", metavar="PERIOD", help="One line per window: 1h, 1d, 1w, or N predictions (e.g. 500).")
@click.option("--outputs", is_flag=True,
              help="Compare what the model answered (prediction drift) instead of what it was asked.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def drift(ctx: Context, model_uri: str, current, since, until, every, outputs: bool, fmt: str) -> None:
    """Data drift of a model's inputs (or, with --outputs, its answers) against its training data.

    The reference is the dataset logged with the version's run in role
    training (its stored sample), cut to the model's input columns; the
    current data is what the model was asked (the prediction log, in
    --since/--until) or a CSV batch (--current). With --outputs, what the
    model answered in --since/--until is compared with its own predictions
    on that reference (no labels needed): the predicted class (or value)
    and, when every request logged them, each class's probability. Exit 0
    when the data set has not drifted, 1 when it has (with --every: the last
    window), 2 on bad usage.

    \b
    Example:
      modeldesk drift models:/churn@production --since 7d
      modeldesk drift churn@production --current batch.csv --format json
      modeldesk drift models:/churn@production --every 1d
      modeldesk drift churn@production --outputs --since 7d
    """
    from ..core.errors import UsageError

    if current is not None and (since or until or every):
        raise UsageError("--current compares a CSV file; --since, --until and --every read the prediction log: "
                         "use one or the other.")
    if outputs and (current is not None or every is not None):
        raise UsageError("--outputs compares the model's logged answers over one period (--since/--until); "
                         f"it takes no {'--current' if current is not None else '--every'}: "
                         "drop one or the other.")
    project = ctx.project()
    if outputs:
        from ..core.monitoring.prediction_drift import prediction_drift

        report = prediction_drift(project, model_uri, since=since, until=until)
        drifted = report.drifted
        if fmt == "json":
            print_json({"model": model_uri, "outputs": True, "current": "prediction log", "since": since,
                        "until": until, **report.to_dict()})
        else:
            _print_report(report, None, outputs=True)
    elif every is not None:
        drifted = _windows(project, model_uri, every, since, until, fmt)
    else:
        from ..core.monitoring.windows import drift_for

        report = drift_for(project, model_uri, since=since, until=until, current=current)
        drifted = report.drifted
        if fmt == "json":
            print_json({"model": model_uri, "current": current or "prediction log", "since": since, "until": until,
                        **report.to_dict()})
        else:
            _print_report(report, current)
    if drifted:
        sys.exit(1)


def _print_report(report, current, *, outputs: bool = False) -> None:
    source = current or "the prediction log"
    verdict = "DRIFTED" if report.drifted else "not drifted"
    if outputs:
        click.echo(f"Outputs {verdict}: {len(report.drifted_columns)} of {report.tested} tested outputs drifted "
                   f"(share {report.share:.2f}, drifts at {report.share_threshold:g}); reference: the model's "
                   f"predictions on {report.reference_rows:,} training rows, current {report.current_rows:,} "
                   f"rows answered, from {source}.")
    else:
        click.echo(f"Data set {verdict}: {len(report.drifted_columns)} of {report.tested} tested columns drifted "
                   f"(share {report.share:.2f}, drifts at {report.share_threshold:g}); reference "
                   f"{report.reference_rows:,} rows, current {report.current_rows:,} rows from {source}.")
    rows = sorted(report.results, key=lambda r: (not r.drifted, not r.tested))
    print_table(["column", "drifted", "test", "score", "threshold", "psi", "missing", "note"],
                [[r.column, "DRIFT" if r.drifted else "", r.test or "-", _num(r.score), _num(r.threshold),
                  _num(r.psi, 2), _num(r.missing_cur, 2), r.note] for r in rows])
    for column, why in report.skipped:
        click.echo(f"Not compared: {column} ({why}).")


def _windows(project, model_uri, every, since, until, fmt) -> bool:
    from ..core.monitoring.windows import drift_windows

    frame = drift_windows(project, model_uri, every=every, since=since, until=until)
    windows = []
    for start, group in frame.groupby("window_start", sort=True):
        first = group.iloc[0]
        drifted_cols = group.loc[group["drifted"], ["column", "score"]]
        windows.append({
            "window_start": iso_time(start), "window_end": iso_time(first["window_end"]), "rows": int(first["rows"]),
            "share": float(first["share"]), "drifted": bool(first["dataset_drifted"]),
            "drifted_columns": list(drifted_cols["column"]),
            "columns": [{"column": r.column, "test": r.test, "score": None if math.isnan(r.score) else r.score,
                         "threshold": None if math.isnan(r.threshold) else r.threshold, "drifted": bool(r.drifted),
                         "note": r.note} for r in group.itertuples(index=False)],
        })
    last = bool(windows[-1]["drifted"]) if windows else False
    if fmt == "json":
        print_json({"model": model_uri, "every": str(every), "since": since, "until": until, "drifted": last,
                    "windows": windows})
        return last
    if not windows:
        click.echo(f"No predictions of {model_uri} were logged in that period: no windows to compare.")
        return False
    rows = []
    for w in windows:
        names = w["drifted_columns"]
        shown = ", ".join(names[:SHOWN_COLUMNS]) + (f" +{len(names) - SHOWN_COLUMNS} more"
                                                     if len(names) > SHOWN_COLUMNS else "")
        rows.append([fmt_time(w["window_start"], "min"), f"{w['rows']:,}", f"{w['share']:.2f}",
                     "DRIFT" if w["drifted"] else "", shown])
    print_table(["window_start", "rows", "share", "drifted", "drifted columns"], rows)
    n = sum(w["drifted"] for w in windows)
    click.echo(f"{n} of {len(windows)} windows drifted; the last one {'has' if last else 'has not'}.")
    return last

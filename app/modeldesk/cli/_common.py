"""What every command group shares: the context (project, acting user), `--as`,
version arguments, formats, and table/JSON printing. Imports no command module."""

from __future__ import annotations

import json
import time

import click

class Context:
    def __init__(self, project_path: str | None, user: str | None):
        self.project_path = project_path
        self.user = user
        self._project = None

    def project(self, *, create: bool = False):
        if self._project is None:
            from ..core.storage.project import default_project_path, open_project

            path = self.project_path or default_project_path()
            self._project = open_project(path, create=create, user=self.user)
        return self._project


pass_ctx = click.make_pass_decorator(Context)


FORMATS = click.Choice(["table", "csv", "json"])


class _Version(click.ParamType):
    """A version number: 3 or v3."""

    name = "VERSION"

    def convert(self, value, param, ctx):
        text = str(value).strip()
        digits = text[1:] if text[:1] in ("v", "V") else text
        if not digits.isdigit() or int(digits) < 1:
            self.fail(f"{value!r} is not a version number like 3.", param, ctx)
        return int(digits)


VERSION = _Version()


def _set_user(ctx: click.Context, _param, value):
    if value:
        ctx.find_object(Context).user = value
    return value


def acting(fn):
    """Also accept `--as USER` after the command, where people tend to type it."""
    return click.option("--as", "as_user", metavar="USER", expose_value=False, callback=_set_user,
                        is_eager=True, help="Act as USER (also: modeldesk --as USER ..., $MODELDESK_USER).")(fn)


def when(at: float | None) -> str:
    return "" if at is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def print_table(header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header] + rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def print_json(value) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def print_runs_table(frame) -> None:
    if frame.empty:
        click.echo("No runs match. Log one with md.start_run(), or relax --filter.")
        return
    rows = []
    metric_cols = [c for c in frame.columns if c.startswith("metrics.")][:6]
    header = ["run_id", "run_name", "experiment", "status", "start", "duration"] + metric_cols
    for rec in frame.itertuples(index=False):
        values = dict(zip(frame.columns, rec))
        start = values["start_time"]
        end = values["end_time"]
        dur = "" if end is None or str(end) == "NaT" else fmt_duration((end - start).total_seconds())
        row = [values["run_id"][:8], values["run_name"], values["experiment"], values["status"],
               start.strftime("%Y-%m-%d %H:%M:%S"), dur]
        row += [fmt_num(values[c]) for c in metric_cols]
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header] + rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def fmt_num(v) -> str:
    try:
        if v != v:
            return ""
        return f"{v:.6g}"
    except TypeError:
        return str(v)


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"
    return f"{seconds // 3600:.0f}h{(seconds % 3600) // 60:02.0f}m"

"""What every command group shares: the context (project, acting user), `--as`,
version arguments, formats, and table/JSON printing. Imports no command module."""

from __future__ import annotations

import json

import click

from ..core.errors import Hint
from ..core.text import fmt_duration, fmt_number, fmt_time, iso_time


class Context:
    def __init__(self, project_path: str | None, user: str | None):
        self.project_path = project_path
        self.user = user
        self._project = None

    def project(self, *, create: bool = False):
        if self._project is None:
            from ..core.audit import on_open
            from ..core.storage.project import default_project_path, open_project

            path = self.project_path or default_project_path()
            self._project = open_project(path, create=create, user=self.user)
            warning = on_open(self._project)
            if warning:
                click.echo(f"Warning: {warning} Run `modeldesk audit verify`.", err=True)
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


def print_table(header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header] + rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def print_json(value) -> None:
    """JSON with every time in the machine format (:func:`iso_times`)."""
    click.echo(json.dumps(iso_times(value), indent=2, default=str))


TIME_KEYS = frozenset({"at", "time", "start_time", "end_time", "timestamp"})


def iso_times(value):
    """``value`` with every time field (``*_at``, ``at``, ``time``, ``start_time``, ``end_time``,
    ``timestamp``: unix seconds or an ISO string) as ISO 8601 with the local offset (core.text.iso_time),
    recursively through dicts and lists; everything else unchanged."""
    if isinstance(value, dict):
        return {k: (_iso_or_same(v) if _is_time(k, v) else iso_times(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [iso_times(v) for v in value]
    return value


def _is_time(key, value) -> bool:
    if not isinstance(key, str) or not (key in TIME_KEYS or key.endswith("_at")):
        return False
    return isinstance(value, (int, float, str)) and not isinstance(value, bool) and value != ""


def _iso_or_same(value):
    try:
        return iso_time(value)
    except (TypeError, ValueError):     # a field named like a time that holds something else
        return value


def iso_frame(frame):
    """A copy of a table whose datetime columns are ISO 8601 text with the local offset (for CSV and JSON)."""
    import pandas as pd

    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[name]):
            out[name] = [iso_time(v) for v in out[name]]
    return out


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
               fmt_time(start), dur]
        row += [fmt_number(values[c], nan="") for c in metric_cols]
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header] + rows:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())


def hint_command(hint: Hint | None) -> str:
    """The CLI's words for a core hint: the command to run (empty when there is no hint)."""
    if hint is None:
        return ""
    m, v = hint.model or "NAME", hint.version if hint.version is not None else "VERSION"
    return {
        "init": f"Create one with: modeldesk init {hint.path or 'PATH'}",
        "register": "Register one with: modeldesk models register RUN_ID NAME",
        "request": f"Ask for it with: modeldesk models request {m} {v} --to {hint.alias or 'production'}",
        "approve": f"Ask a teammate to run: modeldesk models approve {m} {v}",
        "withdraw": f"To take it back, run: modeldesk models withdraw {m} {v}",
        "reject": f"A reviewer runs: modeldesk models reject {m} {v} --comment \"...\"",
        "override": (f"An approver runs: modeldesk models override {m} {v} --gate {hint.gate or 'GATE'}"
                     " --reason \"...\""),
        "set_primary_metric": "Set one with: modeldesk models settings --primary-metric metrics.roc_auc",
        "list_runs": "List runs with: modeldesk runs list",
        "score_file": "Score a file with: modeldesk score MODEL_URI INPUT.csv -o OUTPUT.csv",
    }[hint.action]


def with_hint(text: str, hint: Hint | None) -> str:
    """``text`` followed by the hint's command, on its own line when there is one."""
    command = hint_command(hint)
    return f"{text}\n  {command}" if command else text

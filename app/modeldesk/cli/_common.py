"""What every command group shares: the context (project, acting user), `--as`,
version arguments, formats, and table/JSON printing. Imports no command module."""

from __future__ import annotations

import json

import click

from ..core.errors import Hint
from ..core.text import fmt_duration, fmt_number, fmt_time, iso_time


class Context:
    """What every command shares. ``given`` holds the values typed on the command line (not
    from the environment), so `--project A runs list --project B` is refused instead of guessed."""

    def __init__(self, project_path: str | None, user: str | None, given: dict | None = None):
        self.project_path = project_path
        self.user = user
        self.given = dict(given or {})
        self._project = None

    def merge(self, name: str, value: str, flag: str) -> None:
        """Take `--project`/`--as` given after the command; the same value twice is fine."""
        before = self.given.get(name)
        if before is not None and before != value:
            raise click.UsageError(f"{flag} was given twice, as {before!r} and {value!r}: give it once, "
                                   "before or after the command.")
        self.given[name] = value
        setattr(self, name, value)

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


def _merge(name: str, flag: str):
    def callback(ctx: click.Context, _param, value):
        if value is not None and value != "":
            ctx.find_object(Context).merge(name, value, flag)
        return value
    return callback


def common_options(fn):
    """`--project PATH` and `--as USER` on a command, merged with the ones given before it:
    `modeldesk --project X runs list` and `modeldesk runs list --project X` are the same.

    Every command that takes the context gets them through :func:`pass_ctx`; a command that
    does not can use this decorator itself. Applying it twice adds nothing."""
    params = getattr(fn, "__click_params__", [])
    names = {p.name for p in params}
    spelled = {opt for p in params for opt in p.opts}
    if "as_user" not in names:
        fn = click.option("--as", "as_user", metavar="USER", expose_value=False, is_eager=True,
                          callback=_merge("user", "--as"),
                          help="Act as USER (also before the command; default: $MODELDESK_USER "
                               "or your login name).")(fn)
    # `report --project` (the whole project, as the contract spells it) keeps its meaning there;
    # that command takes the project file before it: `modeldesk --project X report --project -o F`
    if "project_opt" not in names and "--project" not in spelled:
        fn = click.option("--project", "project_opt", metavar="PATH", expose_value=False, is_eager=True,
                          callback=_merge("project_path", "--project"),
                          help="Project file (also before the command; default: $MODELDESK_PROJECT "
                               "or ./modeldesk.mdesk).")(fn)
    return fn


_pass_context = click.make_pass_decorator(Context)


def pass_ctx(fn):
    """Pass the shared :class:`Context` first, and accept `--project`/`--as` here too."""
    return common_options(_pass_context(fn))


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


def no_short_order_by(_ctx, _param, value):
    """`-o` means output in every command; where it once meant --order-by, say so instead of guessing."""
    if value is not None:
        raise click.UsageError(f"-o means an output file or folder in every modeldesk command; "
                               f"to order runs write --order-by {value!r}.")


def one_model_uri(argument: str | None, option: str | None) -> str:
    """MODEL_URI given as an argument or as `-m/--model-uri` (MLflow's spelling), exactly once."""
    if argument is not None and option is not None and argument != option:
        raise click.UsageError(f"Two models given ({argument!r} and -m {option!r}): give MODEL_URI once.")
    uri = option if option is not None else argument
    if not uri:
        raise click.UsageError("Missing MODEL_URI (e.g. churn@production or models:/churn/3), "
                               "as an argument or with -m.")
    return uri


def acting(fn):
    """Marks a command that acts as a user; `--as USER` itself comes with :func:`common_options`."""
    return common_options(fn)


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

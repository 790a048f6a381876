"""Monitors: what to watch on a served model, and when to call for attention.

A monitor watches one alias of one registered model (``production`` by
default, stored in lower case as aliases are) over a window ending at the
time of the check (``1d`` by default: the last day; ``1h``, ``6h``, ``1w``...)
with any of these thresholds:

- ``drift_share``: fires when the share of drifted input columns reaches it
  (the same ``>=`` rule as the data-set verdict of ``drift``);
- ``columns``: fires when any of the named input columns drifts;
- ``metric`` with ``metric_min`` (fires below it) and/or ``max_drop`` (fires
  when the metric fell more than this from the value the version's run logged
  for it; for error metrics, ``rmse`` and ``mae``, a rise is the drop);
- ``error_rate``: the share of failed requests;
- ``p99_ms``: the 99th percentile of the logged request latencies.

Its owner is the identity that set it: a retrain it starts opens the
promotion request in the owner's name. ``retrain_command`` runs when the
monitor fires, and every ``retrain_every`` when that is set (see
``retrain``). Evaluating monitors is ``checks``; alerts are ``alerts``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass

from .. import audit, clock
from ..errors import NotFoundError, UsageError
from ..identity import check_user
from ..storage.project import Project
from ..storage.rows import build, named

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_PERIOD = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
CLASSIFIER_METRICS = ("accuracy", "f1", "roc_auc", "estimated_accuracy", "estimated_roc_auc")
REGRESSOR_METRICS = ("rmse", "mae", "r2")
METRICS = CLASSIFIER_METRICS + REGRESSOR_METRICS
LOWER_IS_BETTER = frozenset({"rmse", "mae"})


@dataclass(frozen=True)
class Thresholds:
    """What makes a monitor fire; None (or no columns) leaves a check out."""

    drift_share: float | None = None
    columns: tuple[str, ...] = ()
    metric: str | None = None
    metric_min: float | None = None
    max_drop: float | None = None
    error_rate: float | None = None
    p99_ms: float | None = None

    def to_json(self) -> str:
        return json.dumps({k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()},
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Thresholds":
        data = json.loads(text or "{}")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["columns"] = tuple(known.get("columns") or ())
        return cls(**known)

    @property
    def empty(self) -> bool:
        return (self.drift_share is None and not self.columns and self.metric is None
                and self.error_rate is None and self.p99_ms is None)

    def describe(self) -> str:
        """One line, e.g. ``drift share >= 0.5; accuracy < 0.9; p99 > 250 ms``."""
        parts = []
        if self.drift_share is not None:
            parts.append(f"drift share >= {self.drift_share:g}")
        if self.columns:
            parts.append("drift in " + ", ".join(self.columns))
        if self.metric is not None and self.metric_min is not None:
            parts.append(f"{self.metric} < {self.metric_min:g}")
        if self.metric is not None and self.max_drop is not None:
            parts.append(f"{self.metric} drops > {self.max_drop:g} from training")
        if self.error_rate is not None:
            parts.append(f"error rate > {self.error_rate:g}")
        if self.p99_ms is not None:
            parts.append(f"p99 > {self.p99_ms:g} ms")
        return "; ".join(parts) or "none"


@dataclass(frozen=True)
class Monitor:
    """A stored monitor and the outcome of its last check."""

    name: str
    model: str
    alias: str
    window: str
    thresholds: Thresholds
    retrain_command: str | None
    retrain_every: str | None
    owner: str
    created_at: float
    updated_at: float
    last_check: float | None = None
    last_state: str | None = None        # ok | firing | error; None before the first check
    last_summary: str | None = None
    last_retrain: float | None = None

    @property
    def uri(self) -> str:
        return f"models:/{self.model}@{self.alias}"

    @property
    def window_seconds(self) -> int:
        return parse_period(self.window, "window")

    def to_dict(self) -> dict:
        """The JSON form (CLI ``--format json``)."""
        return {"name": self.name, "model": self.model, "alias": self.alias, "window": self.window,
                "thresholds": json.loads(self.thresholds.to_json()), "retrain_command": self.retrain_command,
                "retrain_every": self.retrain_every, "owner": self.owner, "created_at": self.created_at,
                "updated_at": self.updated_at, "last_check": self.last_check, "last_state": self.last_state,
                "last_summary": self.last_summary, "last_retrain": self.last_retrain}


def parse_period(text, what: str = "window") -> int:
    """``"30m"``, ``"1h"``, ``"1d"``, ``"1w"`` (any positive multiple) in seconds; else a ``UsageError``."""
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) < 1:
        raise UsageError(f"{what} {text!r} is not a period: use a number and a unit, e.g. 30m, 1h, 1d or 7d.")
    return int(match.group(1)) * _UNIT[match.group(2)]


def check_monitor_name(name) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name.strip()):
        raise UsageError(f"Bad monitor name {name!r}: use letters, digits, '.', '_' or '-' "
                         "(starting with a letter or digit), e.g. cancer-drift.")
    return name.strip()


_COLUMNS = ("name, model, alias, window_size AS window, thresholds, retrain_command, retrain_every, owner,"
            " created_at, updated_at, last_check, last_state, last_summary, last_retrain")


def _monitor(row) -> Monitor:
    """The one place a ``monitors`` row becomes a :class:`Monitor`."""
    return build(Monitor, row, thresholds=Thresholds.from_json(row["thresholds"]))


def list_monitors(project: Project, conn: sqlite3.Connection | None = None) -> list[Monitor]:
    """Every monitor, by name."""
    return [_monitor(r) for r in named(conn or project.conn, f"SELECT {_COLUMNS} FROM monitors ORDER BY name")]


def get_monitor(project: Project, name: str, conn: sqlite3.Connection | None = None) -> Monitor:
    """One monitor; an unknown name is a ``NotFoundError`` naming the ones there are."""
    rows = named(conn or project.conn, f"SELECT {_COLUMNS} FROM monitors WHERE name = ?", (name,))
    if not rows:
        known = ", ".join(m.name for m in list_monitors(project)) or "none yet"
        raise NotFoundError(f"No monitor named {name!r} (monitors: {known}).")
    return _monitor(rows[0])


def _number(value, what: str, *, low: float | None = None, high: float | None = None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number, not {value!r}.") from None
    if number != number or (low is not None and number < low) or (high is not None and number > high):
        span = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise UsageError(f"{what} must be {span}, not {value!r}.")
    return number


def make_thresholds(*, drift_share=None, columns=(), metric=None, metric_min=None, max_drop=None,
                    error_rate=None, p99_ms=None) -> Thresholds:
    """Checked thresholds (each problem is a ``UsageError`` saying what to give instead)."""
    if isinstance(columns, str):
        columns = [c for c in columns.split(",")]
    cols = tuple(dict.fromkeys(str(c).strip() for c in (columns or ()) if str(c).strip()))
    if metric is not None:
        metric = str(metric).strip().removeprefix("metrics.")
        if metric not in METRICS:
            raise UsageError(f"Unknown metric {metric!r}: use one of {', '.join(METRICS)}.")
        if metric_min is None and max_drop is None:
            raise UsageError(f"--metric {metric} needs --min V (fire below V) or --max-drop D "
                             "(fire when it fell more than D from its training value).")
    elif metric_min is not None or max_drop is not None:
        raise UsageError("--min and --max-drop need --metric M (e.g. --metric accuracy --min 0.9).")
    return Thresholds(drift_share=_number(drift_share, "--drift-share", low=0.0, high=1.0), columns=cols,
                      metric=metric, metric_min=_number(metric_min, "--min"),
                      max_drop=_number(max_drop, "--max-drop", low=0.0),
                      error_rate=_number(error_rate, "--error-rate", low=0.0, high=1.0),
                      p99_ms=_number(p99_ms, "--p99-ms", low=0.0))


def _check_columns(project: Project, model: str, alias: str, columns: tuple[str, ...]) -> None:
    """Named columns must be inputs of the version the alias holds now (when it holds one with a signature)."""
    from ..registry.versions import alias_version, get_version

    version = alias_version(project, model, alias)
    if not columns or version is None:
        return
    inputs = [str(f["name"]) for f in (get_version(project, model, version).signature or {}).get("inputs") or ()]
    unknown = [c for c in columns if inputs and c not in inputs]
    if unknown:
        raise UsageError(f"{model}@{alias} (v{version}) has no input column {unknown[0]!r}; "
                         f"its inputs are {', '.join(inputs[:8])}{' ...' if len(inputs) > 8 else ''}.")


def set_monitor(project: Project, name: str, model: str | None = None, *, alias: str = "production", window: str = "1d",
                thresholds: Thresholds | None = None, retrain: str | None = None, retrain_every: str | None = None,
                actor: str | None = None) -> Monitor:
    """Create or replace monitor ``name``; the acting user becomes its owner. Audit ``monitor.set``.

    A monitor needs a threshold, or a retrain schedule (``retrain_every``,
    which needs a ``retrain`` command). ``model`` defaults to ``name`` (a
    monitor named after the model it watches). The model must exist; the alias need
    not point anywhere yet (the check says so until it does).
    """
    from ..registry.versions import check_alias, get_model

    name = check_monitor_name(name)
    model = name if model is None else model
    actor = check_user(actor or project.user)
    get_model(project, model)     # NotFoundError names the models there are
    alias = check_alias(alias)
    parse_period(window, "--window")
    thresholds = thresholds or Thresholds()
    if retrain is not None and not str(retrain).strip():
        raise UsageError("--retrain needs a command, e.g. --retrain \"python train.py\".")
    retrain = str(retrain).strip() if retrain is not None else None
    if retrain_every is not None:
        parse_period(retrain_every, "--retrain-every")
        if retrain is None:
            raise UsageError("--retrain-every needs the command to run: add --retrain \"COMMAND\".")
    if thresholds.empty and retrain_every is None:
        raise UsageError(f"Monitor {name!r} has nothing to watch: give a threshold (--drift-share, --columns, "
                         "--metric with --min or --max-drop, --error-rate, --p99-ms) or --retrain-every.")
    _check_columns(project, model, alias, thresholds.columns)
    now = clock.now()
    with project.write() as w:
        old = w.execute("SELECT created_at FROM monitors WHERE name = ?", (name,)).fetchone()
        if old is None:
            w.execute("INSERT INTO monitors (name, model, alias, window_size, thresholds, retrain_command,"
                      " retrain_every, owner, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (name, model, alias, window.strip(), thresholds.to_json(), retrain, retrain_every, actor,
                       now, now))
        else:
            w.execute("UPDATE monitors SET model = ?, alias = ?, window_size = ?, thresholds = ?,"
                      " retrain_command = ?, retrain_every = ?, owner = ?, updated_at = ?, last_check = NULL,"
                      " last_state = NULL, last_summary = NULL WHERE name = ?",
                      (model, alias, window.strip(), thresholds.to_json(), retrain, retrain_every, actor, now,
                       name))
        audit.append(w, actor=actor, action="monitor.set", model=model, at=now,
                     details={"monitor": name, "alias": alias, "window": window.strip(),
                              "thresholds": json.loads(thresholds.to_json()), "retrain_command": retrain,
                              "retrain_every": retrain_every, "replaced": old is not None})
    return get_monitor(project, name)


def remove_monitor(project: Project, name: str, *, actor: str | None = None) -> Monitor:
    """Delete monitor ``name`` (its alerts and retrains are kept). Audit ``monitor.remove``."""
    actor = check_user(actor or project.user)
    monitor = get_monitor(project, name)
    with project.write() as w:
        w.execute("DELETE FROM monitors WHERE name = ?", (monitor.name,))
        audit.append(w, actor=actor, action="monitor.remove", model=monitor.model,
                     details={"monitor": monitor.name, "alias": monitor.alias, "owner": monitor.owner})
    return monitor


def record_state(conn: sqlite3.Connection, name: str, *, at: float, state: str, summary: str) -> None:
    """The outcome of a check, inside the caller's transaction."""
    conn.execute("UPDATE monitors SET last_check = ?, last_state = ?, last_summary = ? WHERE name = ?",
                 (at, state, summary, name))

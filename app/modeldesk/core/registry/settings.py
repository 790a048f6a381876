"""Approval settings: project-wide values, optionally overridden per model.

Stored in ``project_settings`` as JSON values under ``registry.<key>``
(project) and ``registry.<key>@<model>`` (one model). Every change appends a
``settings.change`` audit entry in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace

from .. import audit
from ..errors import RefusedError, UsageError
from ..storage.project import Project
from .entities import RegistrySettings

KEYS = tuple(f.name for f in fields(RegistrySettings))
DIRECTIONS = ("higher", "lower")


def _key(name: str, model: str | None) -> str:
    return f"registry.{name}" + (f"@{model}" if model else "")


def normalize_metric(metric: str | None) -> str | None:
    """``roc_auc`` and ``metrics.roc_auc`` both mean the run metric roc_auc."""
    if metric is None or not str(metric).strip():
        return None
    metric = str(metric).strip()
    return metric if metric.startswith("metrics.") else f"metrics.{metric}"


def _validate(changes: dict) -> dict:
    out = {}
    for key, value in changes.items():
        if key not in KEYS:
            raise UsageError(f"Unknown registry setting {key!r}; settings: {', '.join(KEYS)}.")
        if key == "required_approvals":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"required_approvals must be a whole number of at least 1, not {value!r}: "
                                 "production is reached only through an approved request.")
        elif key == "four_eyes":
            value = bool(value)
        elif key == "primary_metric":
            value = normalize_metric(value)
        elif key == "metric_direction":
            value = {"higher_is_better": "higher", "lower_is_better": "lower"}.get(value, value)
            if value not in DIRECTIONS:
                raise UsageError(f"metric_direction must be 'higher' or 'lower' (is better), not {value!r}.")
        elif key == "tolerance":
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise UsageError(f"tolerance must be a number, not {value!r}.") from None
            if not value >= 0:
                raise UsageError(f"tolerance must be 0 or more (in the metric's units), not {value!r}.")
        elif key == "approvers":
            if isinstance(value, str):
                value = value.split(",")
            value = tuple(dict.fromkeys(v.strip() for v in value if v and v.strip()))
        out[key] = value
    return out


def _stored(project: Project, model: str | None) -> dict:
    keys = {_key(k, model): k for k in KEYS}
    rows = project.read(
        f"SELECT key, value FROM project_settings WHERE key IN ({','.join('?' * len(keys))})", list(keys))
    values = {}
    for key, text in rows:
        value = json.loads(text)
        values[keys[key]] = tuple(value) if keys[key] == "approvers" else value
    return values


def get_settings(project: Project, model: str | None = None) -> RegistrySettings:
    """The rules in force: defaults, then project values, then ``model``'s own."""
    values = _stored(project, None)
    if model:
        values.update(_stored(project, model))
    return replace(RegistrySettings(), **values)


def model_overrides(project: Project, model: str) -> dict:
    """The settings ``model`` sets itself (on top of the project's)."""
    return _stored(project, model)


def may_govern(settings: RegistrySettings, user: str) -> tuple[bool, str]:
    """Whether ``user`` is on the approvers list (always true when the list is empty)."""
    if settings.approvers and user not in settings.approvers:
        return False, (f"{user} is not an approver; approvers are {', '.join(settings.approvers)}. "
                       "Ask one of them.")
    return True, ""


def update_settings(project: Project, *, model: str | None = None, actor: str | None = None,
                    reset: tuple[str, ...] = (), **changes) -> RegistrySettings:
    """Change settings (project-wide, or for ``model`` only); ``reset`` drops a model's own values.

    When an approvers list is set, only approvers may change settings (so
    a requester cannot turn the rules off for their own request).
    """
    actor = actor or project.user
    changes = _validate({k: v for k, v in changes.items() if v is not None})
    for key in reset:
        if key not in KEYS:
            raise UsageError(f"Unknown registry setting {key!r}; settings: {', '.join(KEYS)}.")
    if model:
        from .versions import model_id  # the model must exist

        model_id(project.conn, model)
    with project.write() as w:
        before = get_settings(project, model)
        ok, why = may_govern(before, actor)
        if not ok:
            raise RefusedError(f"{actor} cannot change the approval settings: {why}")
        diff = {}
        for key in reset:
            w.execute("DELETE FROM project_settings WHERE key = ?", (_key(key, model),))
        for key, value in changes.items():
            stored = list(value) if key == "approvers" else value
            w.execute("INSERT INTO project_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                      " SET value = excluded.value", (_key(key, model), json.dumps(stored)))
        after = get_settings(project, model)
        old, new = asdict(before), asdict(after)
        diff = {k: [old[k], new[k]] for k in KEYS if old[k] != new[k]}
        if diff:
            audit.append(w, actor=actor, action="settings.change", model=model,
                         details={"scope": f"model {model}" if model else "project", "changes": diff})
    return after

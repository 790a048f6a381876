"""Approval settings: project-wide values, optionally overridden per model.

Stored in ``project_settings`` as JSON values under ``registry.<key>``
(project) and ``registry.<key>@<model>`` (one model). Every change appends a
``settings.change`` audit entry in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace

from .. import audit, clock
from ..errors import RefusedError, UsageError
from ..identity import check_user, same_user, user_in, user_key
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
            names: dict[str, str] = {}
            for v in value:
                if v and v.strip():
                    names.setdefault(user_key(check_user(v)), v.strip())   # one entry per person
            value = tuple(names.values())
        out[key] = value
    return out


def _stored(project: Project, model: str | None) -> dict:
    return _stored_conn(project.conn, model)


def _stored_conn(conn, model: str | None) -> dict:
    keys = {_key(k, model): k for k in KEYS}
    rows = conn.execute(
        f"SELECT key, value FROM project_settings WHERE key IN ({','.join('?' * len(keys))})", list(keys))
    values = {}
    for key, text in rows:
        value = json.loads(text)
        values[keys[key]] = tuple(value) if keys[key] == "approvers" else value
    return values


def rules_json(settings: RegistrySettings) -> str:
    """The rules as stored with a request (JSON)."""
    return json.dumps(asdict(settings), sort_keys=True)


def rules_from_json(text: str | None) -> RegistrySettings | None:
    """Rules stored with a request, or None for requests opened before they were stored."""
    if not text:
        return None
    values = json.loads(text)
    values["approvers"] = tuple(values.get("approvers") or ())
    return replace(RegistrySettings(), **{k: v for k, v in values.items() if k in KEYS})


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
    if settings.approvers and not user_in(user, settings.approvers):
        return False, (f"{user} is not an approver; approvers are {', '.join(settings.approvers)}. "
                       "Ask one of them.")
    return True, ""


def weakenings(before: RegistrySettings, after: RegistrySettings) -> list[str]:
    """How ``after`` makes promotion easier than ``before``, in words (empty: it does not)."""
    out = []
    if before.four_eyes and not after.four_eyes:
        out.append("four-eyes off")
    if after.required_approvals < before.required_approvals:
        out.append(f"required approvals {before.required_approvals} -> {after.required_approvals}")
    if {user_key(a) for a in before.approvers} != {user_key(a) for a in after.approvers} and before.approvers:
        out.append("approvers changed")
    return out


def _pending_key(model: str | None) -> str:
    return "registry.pending" + (f"@{model}" if model else "")


def pending_change(project: Project, model: str | None = None) -> dict | None:
    """A weakening change waiting for a second approver: {"changes", "reset", "by", "at", "weakens"}, or None."""
    row = project.conn.execute("SELECT value FROM project_settings WHERE key = ?", (_pending_key(model),)).fetchone()
    return json.loads(row[0]) if row else None


def _open_requests_of(w, actor: str, model: str | None) -> list[tuple]:
    sql = ("SELECT r.id, m.name, r.version, r.target_alias, r.requested_by FROM promotion_requests r"
           " JOIN registered_models m ON m.id = r.model_id WHERE r.status = 'pending'")
    args: list = []
    if model:
        sql += " AND m.name = ?"
        args.append(model)
    return [r for r in w.execute(sql, args) if same_user(r[4], actor)]


def update_settings(project: Project, *, model: str | None = None, actor: str | None = None,
                    reset: tuple[str, ...] = (), confirm: bool = False, **changes) -> RegistrySettings:
    """Change settings (project-wide, or for ``model`` only); ``reset`` drops a model's own values.

    Guards, so a requester cannot talk the rules around:
    - when an approvers list is set, only approvers may change settings;
    - a user with an open request (on ``model``, or on any model for a
      project-wide change) cannot change the rules at all until it closes;
    - a change that weakens the rules (four-eyes off, fewer approvals,
      approvers changed) while an approvers list exists is only proposed:
      it is logged (``settings.propose``) and takes effect when a second
      approver confirms it (``confirm=True``, logged as ``settings.change``).
    Every change is logged; rules stored with open requests still decide them.
    Returns the settings in force afterwards.
    """
    actor = check_user(actor or project.user)
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
        mine = _open_requests_of(w, actor, model)
        if mine:
            rid, name, version, alias = mine[0][:4]
            raise RefusedError(f"{actor} has an open request (#{rid}: {name} v{version} -> {alias}); a requester "
                               "cannot change the approval rules while their request is open. Withdraw it first, "
                               "or ask another approver to change them.")
        pending_key = _pending_key(model)
        if confirm:
            pending = pending_change(project, model)
            if pending is None:
                raise UsageError("There is no proposed settings change to confirm"
                                 + (f" for {model}." if model else "."))
            if same_user(pending["by"], actor):
                raise RefusedError(f"{actor} proposed this change; it needs a second approver to confirm it.")
            changes, reset = _validate(pending["changes"]), tuple(pending["reset"])
            w.execute("DELETE FROM project_settings WHERE key = ?", (pending_key,))
        proposed = _apply(w, model, changes, reset, dry_run=True, before=before)
        weak = weakenings(before, proposed)
        if weak and before.approvers and not confirm:
            now = clock.now()
            stored = {"changes": {k: (list(v) if k == "approvers" else v) for k, v in changes.items()},
                      "reset": list(reset), "by": actor, "at": now, "weakens": weak}
            w.execute("INSERT INTO project_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                      " SET value = excluded.value", (pending_key, json.dumps(stored)))
            audit.append(w, actor=actor, action="settings.propose", model=model, at=now,
                         details={"scope": f"model {model}" if model else "project", "weakens": weak,
                                  "changes": stored["changes"], "reset": stored["reset"]})
            return before
        after = _apply(w, model, changes, reset)
        old, new = asdict(before), asdict(after)
        diff = {k: [old[k], new[k]] for k in KEYS if old[k] != new[k]}
        if diff:
            details = {"scope": f"model {model}" if model else "project", "changes": diff}
            if weak:
                details["weakens"] = weak
            if confirm:
                details.update(proposed_by=pending["by"], confirmed_by=actor)
            audit.append(w, actor=actor, action="settings.change", model=model, details=details)
    return after


def _apply(w, model: str | None, changes: dict, reset, *, dry_run: bool = False,
           before: RegistrySettings | None = None) -> RegistrySettings:
    """Write ``changes`` and ``reset`` (or, with ``dry_run``, only compute the result)."""
    if dry_run:
        values = asdict(before)
        if reset and model:
            project_level = {}
            for key, text in w.execute("SELECT key, value FROM project_settings WHERE key IN ("
                                       + ",".join("?" * len(reset)) + ")", [_key(k, None) for k in reset]):
                project_level[key.removeprefix("registry.")] = json.loads(text)
            defaults = asdict(RegistrySettings())
            for key in reset:
                values[key] = project_level.get(key, defaults[key])
        values.update(changes)
        values["approvers"] = tuple(values["approvers"])
        return replace(RegistrySettings(), **values)
    for key in reset:
        w.execute("DELETE FROM project_settings WHERE key = ?", (_key(key, model),))
    for key, value in changes.items():
        stored = list(value) if key == "approvers" else value
        w.execute("INSERT INTO project_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                  " SET value = excluded.value", (_key(key, model), json.dumps(stored)))
    values = _stored_conn(w, None)
    if model:
        values.update(_stored_conn(w, model))
    return replace(RegistrySettings(), **values)

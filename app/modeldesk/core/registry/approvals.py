"""Promotion requests: gates, reviews, overrides, and the atomic alias move.

A request asks to point an alias (``production`` by default) at a version.
It runs the gates (core/gates.py) against the current production version
and stores their results; reviewers then approve or reject it. The rules
(core/registry_settings.py): required approvals, the four-eyes rule (the
requester cannot approve, reject or override on their own request), and an
optional approvers list. A failed gate blocks approval until an approver
overrides it with a written reason. A new request for the same alias
supersedes an open one; the requester may withdraw theirs.

Each action is one ``project.write()`` transaction (BEGIN IMMEDIATE) that
re-reads the request inside it, so two reviewers approving at the same time
cannot move the alias twice: the second one finds the request completed.
Rule checks are plain functions shared with :func:`allowed_actions`, so the
GUI disables exactly what the core would refuse, with the same reason.
"""

from __future__ import annotations

import json
import sqlite3

from .. import audit, clock
from ..errors import Hint, NotFoundError, Reason, RefusedError, UsageError
from ..identity import check_user, same_user
from ..storage.blobs import get_blob
from ..storage.project import Project
from ..storage.rows import build, named
from .aliases import _move_alias, previous_version, refresh_version_status
from .entities import PRODUCTION, ApprovalRequest, GateResult, Override, RegistrySettings, Review
from .gates import GATES, run_gates
from .ledger import checked_sha256
from .settings import get_settings, may_govern, rules_from_json, rules_json
from .versions import alias_holder, check_alias, model_id, version_of

ACTIONS = ("request", "approve", "reject", "withdraw", "override", "rollback", "set_alias")
# Named as ApprovalRequest's fields: see _requests.
_R_COLUMNS = ("r.id AS id, m.name AS model, r.version AS version, r.target_alias AS target_alias,"
              " r.requested_by AS requested_by, r.requested_at AS requested_at, r.comment AS comment,"
              " r.status AS status, r.baseline_version AS baseline_version, r.closed_by AS closed_by,"
              " r.closed_at AS closed_at, r.superseded_by AS superseded_by, r.rules AS rules")
_R_FROM = "promotion_requests r JOIN registered_models m ON m.id = r.model_id"


# -- reading -------------------------------------------------------------------------
def _requests(conn: sqlite3.Connection, where: str, args=()) -> list[ApprovalRequest]:
    out = []
    for row in named(conn, f"SELECT {_R_COLUMNS} FROM {_R_FROM} WHERE {where} ORDER BY r.id", args):
        rid = row["id"]
        overrides = {o["gate"]: build(Override, o) for o in named(
            conn, "SELECT gate, approver, reason, at FROM gate_overrides WHERE request_id = ?", (rid,))}
        gates = tuple(build(GateResult, g, passed=bool(g["passed"]), details=json.loads(g["details"]),
                            override=overrides.get(g["gate"]))
                      for g in named(conn, "SELECT gate, passed, message, details, ran_at FROM gate_results"
                                           " WHERE request_id = ? ORDER BY position", (rid,)))
        reviews = tuple(build(Review, r) for r in named(
            conn, "SELECT reviewer, decision, comment, at FROM reviews WHERE request_id = ? ORDER BY id", (rid,)))
        out.append(build(ApprovalRequest, row, gates=gates, reviews=reviews, rules=rules_from_json(row["rules"])))
    return out


def get_request(project: Project, request_id: int) -> ApprovalRequest:
    """One request with its gate results, overrides and reviews."""
    found = _requests(project.conn, "r.id = ?", (int(request_id),))
    if not found:
        raise NotFoundError(f"No promotion request #{request_id}.")
    return found[0]


def list_requests(project: Project, name: str | None = None, *, version: int | None = None,
                  status: str | None = None, for_reviewer: str | None = None) -> list[ApprovalRequest]:
    """Requests, newest first. With ``for_reviewer``, the pending ones that
    reviewer can act on come first, then other pending ones, then the rest."""
    clauses, args = [], []
    if name is not None:
        clauses.append("r.model_id = ?")
        args.append(model_id(project.conn, name))
    if version is not None:
        clauses.append("r.version = ?")
        args.append(int(version))
    if status is not None:
        clauses.append("r.status = ?")
        args.append(status)
    found = _requests(project.conn, " AND ".join(clauses) or "1", args)[::-1]
    if for_reviewer is None:
        return found

    def rank(req: ApprovalRequest) -> int:
        if not req.is_open:
            return 2
        return 0 if check_review(req, get_settings(project, req.model), for_reviewer, "reject")[0] else 1

    return sorted(found, key=rank)


def pending_reviews(project: Project, user: str) -> list[ApprovalRequest]:
    """Open requests ``user`` may review (approve or reject), oldest first."""
    return [r for r in list_requests(project, status="pending")[::-1]
            if check_review(r, get_settings(project, r.model), user, "reject")[0]]


def _open_request(conn: sqlite3.Connection, name: str, version: int, to: str | None) -> ApprovalRequest:
    """The pending request for this version (and alias); a clear error when there is none."""
    mid = model_id(conn, name)
    where, args = "r.model_id = ? AND r.version = ?", [mid, int(version)]
    if to:
        where += " AND r.target_alias = ?"
        args.append(to)
    found = _requests(conn, where, args)
    pending = [r for r in found if r.is_open]
    if len(pending) == 1:
        return pending[0]
    if len(pending) > 1:
        targets = " and ".join(r.target_alias for r in pending)
        raise UsageError(f"{name} v{version} has open requests to {targets}; say which with --to ALIAS.")
    if not found:
        target = f" to {to}" if to else ""
        raise NotFoundError(f"{name} v{version} has no promotion request{target}.",
                            hint=Hint("request", model=name, version=version, alias=to or PRODUCTION))
    last = found[-1]
    by = f" by {last.closed_by}" if last.closed_by else ""
    raise RefusedError(f"Request #{last.id} ({name} v{version} → {last.target_alias}) is already "
                       f"{last.status}{by}; there is nothing open to act on.")


def pending_request(project: Project, name: str, version: int, to: str | None = None) -> ApprovalRequest | None:
    """The open request of a version, or None."""
    try:
        return _open_request(project.conn, name, version, to)
    except (NotFoundError, RefusedError):
        return None


# -- rules (shared by the actions and allowed_actions) ----------------------------------
def check_review(req: ApprovalRequest | None, settings: RegistrySettings, user: str,
                 action: str) -> tuple[bool, str]:
    """May ``user`` approve / reject / override on ``req``? (ok, reason when not)

    The rules stored with the request when it was opened decide it; ``settings``
    (today's) only for requests opened before rules were stored.
    """
    if req is None:
        return False, "There is no open request for this version."
    if not req.is_open:
        return False, f"Request #{req.id} is already {req.status}."
    settings = req.rules or settings
    ok, why = may_govern(settings, user)
    if not ok:
        return False, why
    verb = {"approve": "approve", "reject": "reject", "override": "override a gate of"}[action]
    if settings.four_eyes and same_user(user, req.requested_by):
        if action == "approve":
            return False, Reason(f"{user} requested this promotion; the four-eyes rule needs another reviewer.",
                                 Hint("approve", model=req.model, version=req.version))
        if action == "reject":
            return False, Reason(f"{user} requested this promotion; the four-eyes rule does not let them {verb} it.",
                                 Hint("withdraw", model=req.model, version=req.version))
        return False, Reason(f"{user} requested this promotion; the four-eyes rule does not let them {verb} it. "
                             "Ask another approver.")
    if action != "override":
        done = next((r for r in req.reviews if same_user(r.reviewer, user)), None)
        if done is not None:
            return False, (f"{user} already {done.decision.rstrip('e')}ed request #{req.id}; each reviewer counts once "
                           f"({len(req.approvals)} approval(s) so far).")
    if action == "approve" and req.blocking_gates:
        names = ", ".join(g.gate for g in req.blocking_gates)
        first = req.blocking_gates[0]
        return False, Reason(f"Gate {names} failed: {first.message} A failed gate blocks approval. Fix the model "
                             "and request again, or an approver can override the gate.",
                             Hint("override", model=req.model, version=req.version, gate=first.gate))
    return True, ""


def check_withdraw(req: ApprovalRequest | None, user: str) -> tuple[bool, str]:
    """May ``user`` withdraw ``req``? Only its requester may. (ok, reason when not)"""
    if req is None:
        return False, "There is no open request for this version."
    if not req.is_open:
        return False, f"Request #{req.id} is already {req.status}."
    if not same_user(user, req.requested_by):
        return False, Reason(f"Only {req.requested_by}, who made request #{req.id}, can withdraw it; a reviewer "
                             "rejects it instead.", Hint("reject", model=req.model, version=req.version))
    return True, ""


def allowed_actions(project: Project, name: str, version: int, user: str, *,
                    alias: str = PRODUCTION) -> dict[str, tuple[bool, str]]:
    """What ``user`` may do on ``name`` v``version`` now: action -> (allowed, reason).

    The reason says why not when refused (the core's own refusal message),
    and may hold a short hint when allowed.

    Actions: request (to ``alias``), approve, reject, withdraw, override,
    rollback (of ``alias``, whatever the version), set_alias (an unprotected
    alias such as staging).
    """
    conn = project.conn
    v = version_of(conn, name, version)
    mid = model_id(conn, name)
    settings = get_settings(project, name)
    open_ = list_requests(project, name, version=version, status="pending")
    req = next((r for r in open_ if r.target_alias == alias), open_[0] if open_ else None)
    out: dict[str, tuple[bool, str]] = {}
    holder = alias_holder(conn, mid, alias)
    out["request"] = (False, f"v{v.version} already holds {alias}.") if holder == v.version else (True, "")
    for action in ("approve", "reject", "override"):
        ok, why = check_review(req, settings, user, action)
        if ok and action == "override" and not any(not g.passed and g.override is None for g in req.gates):
            ok, why = False, "No gate failed on this request; there is nothing to override."
        out[action] = (ok, why)
    out["withdraw"] = check_withdraw(req, user)
    target = previous_version(project, name, alias)
    if holder is None or target is None:
        out["rollback"] = (False, f"Nothing to roll back to: {name}@{alias} has no previous version.")
    else:
        ok, why = may_govern(settings, user) if alias == PRODUCTION else (True, "")
        out["rollback"] = (ok, why or f"Puts v{target} back on {alias} (now v{holder}).")
    out["set_alias"] = (True, "Production moves only through an approved request; other aliases can be set.")
    return out


# -- actions -----------------------------------------------------------------------------
def request_promotion(project: Project, name: str, version: int, *, to: str = PRODUCTION, comment: str = "",
                      actor: str | None = None) -> ApprovalRequest:
    """Ask to point ``to`` at ``version``: run the gates, store them, open the request.

    An open request for the same alias is superseded. The request is stored
    even when a gate fails (it is then blocked until overridden); check
    ``.blocking_gates`` on the result.
    """
    to = check_alias(to)
    actor = check_user(actor or project.user)
    settings = get_settings(project, name)
    for _attempt in range(3):
        candidate = version_of(project.conn, name, version)
        mid = model_id(project.conn, name)
        if alias_holder(project.conn, mid, to) == candidate.version:
            raise UsageError(f"{name} v{candidate.version} already holds {to}; nothing to request.")
        base_v = alias_holder(project.conn, mid, PRODUCTION)
        baseline = version_of(project.conn, name, base_v) if base_v is not None else None
        results = run_gates(project, candidate, baseline, settings)   # slow part: outside the transaction
        now = clock.now()
        with project.write() as w:
            if alias_holder(w, mid, PRODUCTION) != base_v:
                continue   # production moved while the gates ran: run them again against the new one
            if alias_holder(w, mid, to) == candidate.version:
                raise UsageError(f"{name} v{candidate.version} already holds {to}; nothing to request.")
            old = _requests(w, "r.model_id = ? AND r.target_alias = ? AND r.status = 'pending'", (mid, to))
            for o in old:
                w.execute("UPDATE promotion_requests SET status = 'superseded', closed_by = ?, closed_at = ?"
                          " WHERE id = ?", (actor, now, o.id))
            rid = w.execute(
                "INSERT INTO promotion_requests (model_id, version, target_alias, requested_by, requested_at,"
                " comment, status, baseline_version, rules) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                (mid, candidate.version, to, actor, now, comment or "", base_v, rules_json(settings))).lastrowid
            audit.append(w, actor=actor, action="request.create", model=name, version=candidate.version, at=now,
                         details={"request_id": rid, "alias": to, "comment": comment or "",
                                  "baseline_version": base_v, "rules": json.loads(rules_json(settings))})
            for o in old:
                w.execute("UPDATE promotion_requests SET superseded_by = ? WHERE id = ?", (rid, o.id))
                audit.append(w, actor=actor, action="request.supersede", model=name, version=o.version, at=now,
                             details={"request_id": o.id, "alias": to, "superseded_by": rid,
                                      "new_version": candidate.version})
                refresh_version_status(w, name, o.version)
            for pos, g in enumerate(results):
                w.execute("INSERT INTO gate_results (request_id, gate, position, passed, message, details, ran_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (rid, g.gate, pos, int(g.passed), g.message, audit.canonical_json(audit.plain(g.details)),
                           g.ran_at))
                audit.append(w, actor=actor, action="gate.run", model=name, version=candidate.version, at=now,
                             details={"request_id": rid, "gate": g.gate, "passed": g.passed, "message": g.message})
            refresh_version_status(w, name, candidate.version)
        return get_request(project, rid)
    raise RefusedError(f"production of {name} kept moving while the gates ran; request again.")


def _review_or_refuse(w, project, name, version, to, actor, action) -> ApprovalRequest:
    req = _open_request(w, name, version, to)
    ok, why = check_review(req, get_settings(project, name), actor, action)
    if not ok:
        raise RefusedError(why, hint=getattr(why, "hint", None))
    return req


def approve(project: Project, name: str, version: int, *, comment: str = "", actor: str | None = None,
            to: str | None = None) -> ApprovalRequest:
    """Approve the open request of a version; when approvals are complete the alias moves.

    One transaction: the review, and (when it is the last one needed) the
    alias move, the request's completion and their audit entries.
    """
    actor = check_user(actor or project.user)
    with project.write() as w:
        req = _review_or_refuse(w, project, name, version, to, actor, "approve")
        settings = req.rules or get_settings(project, name)
        now = clock.now()
        w.execute("INSERT INTO reviews (request_id, reviewer, decision, comment, at) VALUES (?, ?, 'approve', ?, ?)",
                  (req.id, actor, comment or "", now))
        approvals = list(req.approvals) + [actor]
        audit.append(w, actor=actor, action="request.approve", model=name, version=req.version, at=now,
                     details={"request_id": req.id, "alias": req.target_alias, "comment": comment or "",
                              "approvals": len(approvals), "required": settings.required_approvals})
        if len(approvals) >= settings.required_approvals:
            _complete(project, w, req, approvals, settings, actor)
    return get_request(project, req.id)


def _complete(project: Project, w, req: ApprovalRequest, approvals: list[str], settings: RegistrySettings,
              actor: str) -> None:
    mid = model_id(w, req.model)
    production = alias_holder(w, mid, PRODUCTION)
    if production != req.baseline_version and production != req.version:
        was = f"v{req.baseline_version}" if req.baseline_version is not None else "unset"
        raise RefusedError(
            f"production of {req.model} changed from {was} to v{production} since the gates of request "
            f"#{req.id} ran, so they compared with the wrong version. Request again.",
            hint=Hint("request", model=req.model, version=req.version, alias=req.target_alias))
    v = version_of(w, req.model, req.version)
    get_blob(w, checked_sha256(project, v), what=f"model {req.model} v{req.version}")   # changed since the gates?
    now = clock.now()
    if alias_holder(w, mid, req.target_alias) != req.version:
        _move_alias(w, name=req.model, alias=req.target_alias, to_version=req.version, kind="promote",
                   actor=actor, reason=req.comment, request_id=req.id)
    w.execute("UPDATE promotion_requests SET status = 'completed', closed_by = ?, closed_at = ? WHERE id = ?",
              (actor, now, req.id))
    audit.append(w, actor=actor, action="request.complete", model=req.model, version=req.version, at=now,
                 details={"request_id": req.id, "alias": req.target_alias, "approvals": approvals,
                          "required": settings.required_approvals, "four_eyes": settings.four_eyes,
                          "overrides": [g.gate for g in req.gates if g.override is not None]})
    refresh_version_status(w, req.model, req.version)


def reject(project: Project, name: str, version: int, *, comment: str, actor: str | None = None,
           to: str | None = None) -> ApprovalRequest:
    """Reject the open request of a version; a comment saying why is required."""
    actor = check_user(actor or project.user)
    if not comment or not str(comment).strip():
        raise UsageError("A rejection needs a comment that tells the requester why, e.g. "
                         "\"recall dropped on new data\".", hint=Hint("reject", model=name, version=version))
    with project.write() as w:
        req = _review_or_refuse(w, project, name, version, to, actor, "reject")
        now = clock.now()
        w.execute("INSERT INTO reviews (request_id, reviewer, decision, comment, at) VALUES (?, ?, 'reject', ?, ?)",
                  (req.id, actor, comment.strip(), now))
        w.execute("UPDATE promotion_requests SET status = 'rejected', closed_by = ?, closed_at = ? WHERE id = ?",
                  (actor, now, req.id))
        audit.append(w, actor=actor, action="request.reject", model=name, version=req.version, at=now,
                     details={"request_id": req.id, "alias": req.target_alias, "comment": comment.strip()})
        refresh_version_status(w, name, req.version)
    return get_request(project, req.id)


def withdraw(project: Project, name: str, version: int, *, actor: str | None = None, to: str | None = None,
             comment: str = "") -> ApprovalRequest:
    """The requester takes their open request back."""
    actor = check_user(actor or project.user)
    with project.write() as w:
        req = _open_request(w, name, version, to)
        ok, why = check_withdraw(req, actor)
        if not ok:
            raise RefusedError(why, hint=getattr(why, "hint", None))
        now = clock.now()
        w.execute("UPDATE promotion_requests SET status = 'withdrawn', closed_by = ?, closed_at = ? WHERE id = ?",
                  (actor, now, req.id))
        audit.append(w, actor=actor, action="request.withdraw", model=name, version=req.version, at=now,
                     details={"request_id": req.id, "alias": req.target_alias, "comment": comment or ""})
        refresh_version_status(w, name, req.version)
    return get_request(project, req.id)


def override_gate(project: Project, name: str, version: int, gate: str, *, reason: str,
                  actor: str | None = None, to: str | None = None) -> ApprovalRequest:
    """An approver lets a failed gate pass, with a written reason that is recorded.

    An override is not an approval: the request still needs its reviews.
    """
    actor = check_user(actor or project.user)
    if gate not in GATES:
        raise UsageError(f"Unknown gate {gate!r}; gates: {', '.join(GATES)}.")
    if not reason or not str(reason).strip():
        raise UsageError("Overriding a gate needs a written reason, e.g. --reason \"the new column is "
                         "filled by the client from release 2.4\".")
    with project.write() as w:
        req = _review_or_refuse(w, project, name, version, to, actor, "override")
        result = next((g for g in req.gates if g.gate == gate), None)
        if result is None or result.passed:
            raise UsageError(f"Gate {gate} passed on request #{req.id}; there is nothing to override.")
        if result.override is not None:
            raise UsageError(f"Gate {gate} of request #{req.id} was already overridden by "
                             f"{result.override.approver}.")
        now = clock.now()
        w.execute("INSERT INTO gate_overrides (request_id, gate, approver, reason, at) VALUES (?, ?, ?, ?, ?)",
                  (req.id, gate, actor, reason.strip(), now))
        audit.append(w, actor=actor, action="gate.override", model=name, version=req.version, at=now,
                     details={"request_id": req.id, "gate": gate, "reason": reason.strip(),
                              "gate_message": result.message})
    return get_request(project, req.id)

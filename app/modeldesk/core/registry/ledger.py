"""The audit log is the truth for governed state.

``verify_project`` replays the hash-chained log and checks that the registry's
tables say what the logged entries say: the models and versions (with the
sha256 each was registered with), where every alias points and how it got
there, every request's status and every review. A change made around
ModelDesk (``UPDATE aliases`` with sqlite3, an edited review) is reported in
words: "production of churn points to v3, but the last logged move put v1
there". It also checks the head this machine saw before and, when given,
a head printed earlier (``--expect-head``), so a cut or an older copy of the
file is caught.

What it cannot catch is stated in docs/registry.md: someone with write
access who rewrites the tables *and* the whole chain consistently, on a
machine that never saw the project, with no head printed anywhere.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass, field, replace

from .. import audit
from ..identity import user_key
from ..storage.project import Project
from .entities import AuditEntry, AuditVerification


@dataclass
class Replayed:
    """Governed state as the log tells it."""

    models: set[str] = field(default_factory=set)
    versions: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)   # -> (sha256, seq)
    aliases: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)     # -> (version, seq)
    moves: Counter = field(default_factory=Counter)       # (model, alias, from, to, kind)
    requests: dict[int, dict] = field(default_factory=dict)
    reviews: Counter = field(default_factory=Counter)     # (request_id, reviewer key, decision, comment)


_CLOSING = {"request.complete": "completed", "request.reject": "rejected", "request.withdraw": "withdrawn",
            "request.supersede": "superseded"}


def replay(entries: list[AuditEntry]) -> Replayed:
    """Fold the log's entries into the state they describe."""
    state = Replayed()
    for e in entries:
        d = e.details
        if e.action == "model.create":
            state.models.add(e.model)
        elif e.action == "version.register":
            state.models.add(e.model)
            state.versions[(e.model, e.version)] = (d.get("sha256"), e.seq)
        elif e.action.startswith("alias."):
            alias = str(d.get("alias", "")).strip().lower()
            state.aliases[(e.model, alias)] = (d.get("to_version"), e.seq)
            state.moves[(e.model, alias, d.get("from_version"), d.get("to_version"), e.action[6:])] += 1
        elif e.action == "request.create":
            state.requests[d["request_id"]] = {"model": e.model, "version": e.version, "alias": d.get("alias"),
                                               "status": "pending", "seq": e.seq}
        elif e.action in _CLOSING and d.get("request_id") in state.requests:
            state.requests[d["request_id"]]["status"] = _CLOSING[e.action]
            state.requests[d["request_id"]]["seq"] = e.seq
        if e.action in ("request.approve", "request.reject"):
            decision = "approve" if e.action == "request.approve" else "reject"
            state.reviews[(d.get("request_id"), user_key(e.actor), decision, d.get("comment") or "")] += 1
    return state


def _v(version) -> str:
    return "unset" if version is None else f"v{version}"


def mismatches(project: Project, state: Replayed) -> list[str]:
    """Where the tables disagree with the log, one sentence each (empty: they agree)."""
    conn = project.conn
    return (_models_and_versions(conn, state) + _aliases(conn, state) + _requests(conn, state)
            + _reviews(conn, state))


def _models_and_versions(conn, state: Replayed) -> list[str]:
    out: list[str] = []
    models = {r[0] for r in conn.execute("SELECT name FROM registered_models")}
    for name in sorted(models - state.models):
        out.append(f"model {name} is in the registry, but no entry of the log registered it")
    for name in sorted(state.models - models):
        out.append(f"model {name} was registered in the log, but it is gone from the registry")

    versions = {(m, v): sha for m, v, sha in conn.execute(
        "SELECT m.name, v.version, v.sha256 FROM model_versions v JOIN registered_models m ON m.id = v.model_id")}
    for key in sorted(set(versions) | set(state.versions)):
        name, version = key
        if key not in state.versions:
            out.append(f"{name} v{version} is in the registry, but no entry of the log registered it")
        elif key not in versions:
            out.append(f"{name} v{version} was registered (entry #{state.versions[key][1]}), but it is gone")
        elif versions[key] != state.versions[key][0]:
            logged, seq = state.versions[key]
            out.append(f"{name} v{version}'s model sha256 is {str(versions[key])[:12]}…, but it was registered "
                       f"as {str(logged)[:12]}… (entry #{seq})")
    return out


def _aliases(conn, state: Replayed) -> list[str]:
    out: list[str] = []
    aliases = {(m, a.strip().lower()): v for m, a, v in conn.execute(
        "SELECT m.name, a.alias, a.version FROM aliases a JOIN registered_models m ON m.id = a.model_id")}
    for key in sorted(set(aliases) | set(state.aliases)):
        name, alias = key
        logged = state.aliases.get(key)
        if logged is None:
            out.append(f"{alias} of {name} points to {_v(aliases[key])}, but no logged move ever set it")
        elif key not in aliases:
            out.append(f"{alias} of {name} is not set, but the last logged move put {_v(logged[0])} there "
                       f"(entry #{logged[1]})")
        elif aliases[key] != logged[0]:
            out.append(f"{alias} of {name} points to {_v(aliases[key])}, but the last logged move put "
                       f"{_v(logged[0])} there (entry #{logged[1]})")

    moves = Counter((m, a.strip().lower(), f, t, k) for m, a, f, t, k in conn.execute(
        "SELECT m.name, h.alias, h.from_version, h.to_version, h.kind FROM alias_history h"
        " JOIN registered_models m ON m.id = h.model_id"))
    for (name, alias, frm, to, kind), n in sorted((moves - state.moves).items(), key=str):
        out.append(f"the alias history shows {name}@{alias} {_v(frm)} → {_v(to)} ({kind}), which the log never "
                   "recorded")
    for (name, alias, frm, to, kind), n in sorted((state.moves - moves).items(), key=str):
        out.append(f"the log recorded {name}@{alias} {_v(frm)} → {_v(to)} ({kind}), but the alias history lost it")
    return out


def _requests(conn, state: Replayed) -> list[str]:
    out: list[str] = []
    requests = {rid: (m, v, a, s) for rid, m, v, a, s in conn.execute(
        "SELECT r.id, m.name, r.version, r.target_alias, r.status FROM promotion_requests r"
        " JOIN registered_models m ON m.id = r.model_id")}
    for rid in sorted(set(requests) | set(state.requests)):
        logged = state.requests.get(rid)
        if logged is None:
            m, v, a, s = requests[rid]
            out.append(f"request #{rid} ({m} v{v} → {a}) is in the registry, but the log never recorded it")
        elif rid not in requests:
            out.append(f"request #{rid} ({logged['model']} v{logged['version']} → {logged['alias']}) was logged, "
                       "but it is gone")
        else:
            m, v, a, s = requests[rid]
            if (m, v, a) != (logged["model"], logged["version"], logged["alias"]):
                out.append(f"request #{rid} is for {m} v{v} → {a}, but it was logged for {logged['model']} "
                           f"v{logged['version']} → {logged['alias']}")
            elif s != logged["status"]:
                out.append(f"request #{rid} ({m} v{v} → {a}) is {s}, but the log says {logged['status']} "
                           f"(entry #{logged['seq']})")
    return out


def _reviews(conn, state: Replayed) -> list[str]:
    out: list[str] = []
    reviews = Counter((rid, user_key(who), decision, comment or "") for rid, who, decision, comment in conn.execute(
        "SELECT request_id, reviewer, decision, comment FROM reviews"))
    for (rid, who, decision, comment), n in sorted((reviews - state.reviews).items(), key=str):
        out.append(f"a review of request #{rid} by {who} ({decision}: {comment!r}) is not in the log")
    for (rid, who, decision, comment), n in sorted((state.reviews - reviews).items(), key=str):
        out.append(f"the log has a review of request #{rid} by {who} ({decision}: {comment!r}) that the "
                   "registry lost")
    return out


def verify_project(project: Project, expect_head: tuple[int, str] | None = None,
                   remember: bool = True) -> AuditVerification:
    """The chain, the head this machine (or ``expect_head``) saw, and the registry against the log.

    On success the machine remembers the head (``remember``), so a later cut is caught here.
    """
    result = audit.verify(project)
    if not result.ok:
        return result
    cut = audit.check_seen_head(project, expect_head)
    if cut is not None:
        return replace(result, ok=False, message=cut, problem="cut")
    entries = audit.list_entries(project)
    wrong = mismatches(project, replay(entries))
    if wrong:
        if not entries:
            message = (f"The audit log is empty, but the registry has history ({wrong[0]}): the log was emptied "
                       "or replaced.")
        else:
            more = f" (and {len(wrong) - 1} more difference{'s' if len(wrong) > 2 else ''})" if len(wrong) > 1 else ""
            message = f"The registry does not match its audit log: {wrong[0]}{more}."
        return replace(result, ok=False, message=message, problem="state",
                       warnings=result.warnings + tuple(wrong[1:]))
    if remember:
        audit.remember_head(project)
    return result


_VERIFIED: "weakref.WeakKeyDictionary[Project, tuple[int, str]]" = weakref.WeakKeyDictionary()


def verified_chain(project: Project) -> AuditVerification:
    """The chain checked, re-checking only what was appended since this process last verified it."""
    result = audit.verify(project, after=_VERIFIED.get(project))
    if result.ok and result.head_hash:
        _VERIFIED[project] = (result.entries, result.head_hash)
    return result


def alias_is_backed(project: Project, name: str, alias: str, version: int | None) -> str | None:
    """Why ``alias`` of ``name`` pointing at ``version`` is not backed by the log, or None when it is.

    For a server about to follow an alias move: the chain must verify and its
    last logged move of the alias must have put ``version`` there.
    """
    result = verified_chain(project)
    if not result.ok:
        return f"the audit log does not verify: {result.message}"
    alias = alias.strip().lower()
    last = None
    for e in audit.list_entries(project, model=name, action="alias"):
        if str(e.details.get("alias", "")).strip().lower() == alias:
            last = e
    logged = last.details.get("to_version") if last else None
    if logged != version:
        return (f"{alias} of {name} points to {_v(version)}, but the last logged move put {_v(logged)} there"
                + (f" (entry #{last.seq})" if last else ""))
    return None


def registered_sha256(project: Project, name: str, version: int) -> str:
    """The sha256 ``name`` v``version`` was registered with, read from a verifying chain.

    Raises IntegrityError when the chain does not verify or has no registration of it.
    """
    from ..errors import IntegrityError

    result = verified_chain(project)
    if not result.ok:
        raise IntegrityError(f"Refusing to load {name} v{version}: the audit log does not verify "
                             f"({result.message}). Run `audit verify` and restore the project from a backup.")
    entries = [e for e in audit.list_entries(project, model=name, version=version, action="version.register")]
    if not entries:
        raise IntegrityError(f"Refusing to load {name} v{version}: the audit log has no registration of it, "
                             "so its bytes cannot be checked.")
    return entries[-1].details.get("sha256")


def checked_sha256(project: Project, v) -> str:
    """The sha256 to load ``v`` (a ModelVersion) by, once it matches the one it was registered with.

    Loading a pickled model runs code, so a registered version's bytes are
    checked against its ``version.register`` entry in a verifying chain, not
    only against the row beside it: a swapped blob whose sha256 matches its own
    bytes, pointed at by an edited ``model_versions.sha256``, is refused here,
    before anything is unpickled.
    """
    from ..errors import IntegrityError

    registered = registered_sha256(project, v.name, v.version)
    if registered != v.sha256:
        raise IntegrityError(
            f"Refusing to load {v.name} v{v.version}: the registry points at sha256 {str(v.sha256)[:12]}…, but it was "
            f"registered as {str(registered)[:12]}… (audit log). The project file was changed outside ModelDesk; "
            "restore it from a backup.")
    return registered

"""The model registry: named models, numbered versions, aliases and rollback.

A version is a frozen copy of a run's logged model (sha256, signature, input
example, environment) plus the run it came from, so re-logging a model later
never changes a registered version. Aliases point at one version each;
``production`` is protected and moves only through an approved request
(core/approvals.py) or a rollback. Every change is appended to the audit log
in the transaction that makes it.
"""

from __future__ import annotations

import json
import re
import sqlite3

from .. import audit, clock
from ..errors import Hint, NotFoundError, UsageError
from ..identity import check_user
from ..storage.project import Project
from ..storage.rows import build, named
from ..tracking.artifacts import get_environment, get_logged_model, list_datasets, parse_model_uri
from ..tracking.runs import get_run, run_rid
from .entities import Lineage, ModelVersion, RegisteredModel

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_ALIAS = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,63}")
# Named as ModelVersion's fields (plus the model's id, to find its aliases): see _versions.
_V_COLUMNS = ("m.name AS name, v.version AS version, r.id AS run_id, v.logged_model AS logged_model,"
              " v.sha256 AS sha256, v.size AS size, v.flavor AS flavor, v.signature AS signature,"
              " v.input_example_sha256 AS input_example_sha256, v.environment_sha256 AS environment_sha256,"
              " v.status AS status, v.created_by AS created_by, v.created_at AS created_at, v.model_id AS model_id")
_V_FROM = "model_versions v JOIN registered_models m ON m.id = v.model_id JOIN runs r ON r.rid = v.run_rid"


def check_name(name: str) -> str:
    """A valid model name, or UsageError saying what a name may hold."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UsageError(f"Bad model name {name!r}: use letters, digits, '.', '_' or '-' "
                         "(starting with a letter or digit), e.g. churn-classifier.")
    return name


def check_alias(alias: str) -> str:
    """A valid alias in its stored form, lower case (a word starting with a letter, never a
    bare number), or UsageError. Aliases are case-insensitive: ``Production`` is ``production``."""
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias.strip()):
        raise UsageError(f"Bad alias {alias!r}: use a word starting with a letter, e.g. production, "
                         "staging, champion.")
    return alias.strip().lower()


def model_id(conn: sqlite3.Connection, name: str) -> int:
    """The row id of model ``name``; NotFoundError listing the registered models."""
    row = conn.execute("SELECT id FROM registered_models WHERE name = ?", (name,)).fetchone()
    if row is None:
        known = [r[0] for r in conn.execute("SELECT name FROM registered_models ORDER BY name")]
        if known:
            raise NotFoundError(f"No registered model {name!r}. Models: {', '.join(known)}.")
        raise NotFoundError(f"No registered model {name!r}: no model is registered yet.", hint=Hint("register"))
    return row[0]


def _versions(conn: sqlite3.Connection, where: str, args=(), order: str = "v.version") -> list[ModelVersion]:
    """The versions matching ``where``: the one place model_versions rows become ModelVersion objects."""
    rows = named(conn, f"SELECT {_V_COLUMNS} FROM {_V_FROM} WHERE {where} ORDER BY {order}", args)
    aliases: dict[tuple, list] = {}
    for mid in {r["model_id"] for r in rows}:
        for alias, version in conn.execute(
                "SELECT alias, version FROM aliases WHERE model_id = ? ORDER BY alias", (mid,)):
            aliases.setdefault((mid, version), []).append(alias)
    return [build(ModelVersion, r, skip=("model_id",), signature=json.loads(r["signature"]),
                  aliases=tuple(aliases.get((r["model_id"], r["version"]), ()))) for r in rows]


def version_of(conn: sqlite3.Connection, name: str, version: int) -> ModelVersion:
    """One version, read through ``conn`` (use inside a write transaction)."""
    mid = model_id(conn, name)
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise UsageError(f"A version is a number like 3, not {version!r}.") from None
    rows = _versions(conn, "v.model_id = ? AND v.version = ?", (mid, version))
    if not rows:
        known = [str(r[0]) for r in conn.execute(
            "SELECT version FROM model_versions WHERE model_id = ? ORDER BY version", (mid,))]
        raise NotFoundError(f"Model {name!r} has no version {version}; its versions: {', '.join(known) or 'none'}.")
    return rows[0]


def get_version(project: Project, name: str, version: int) -> ModelVersion:
    """Version ``version`` of model ``name``, with its aliases."""
    return version_of(project.conn, name, version)


def list_versions(project: Project, name: str) -> list[ModelVersion]:
    """All versions of ``name``, oldest first."""
    mid = model_id(project.conn, name)
    return _versions(project.conn, "v.model_id = ?", (mid,))


def versions_of_run(project: Project, run_id: str) -> list[ModelVersion]:
    """Versions registered from a run (the Experiments view's "registered as")."""
    rid = run_rid(project, run_id)
    return _versions(project.conn, "v.run_rid = ?", (rid,), order="m.name, v.version")


def list_models(project: Project) -> list[RegisteredModel]:
    """Every registered model, by name, with its latest version and aliases."""
    rows = named(project.conn,
                 "SELECT m.id AS id, m.name AS name, m.description AS description, m.created_by AS created_by,"
                 " m.created_at AS created_at, MAX(v.version) AS latest_version, COUNT(v.version) AS version_count"
                 " FROM registered_models m LEFT JOIN model_versions v ON v.model_id = m.id"
                 " GROUP BY m.id ORDER BY m.name")
    aliases: dict[int, dict] = {}
    for mid, alias, version in project.read("SELECT model_id, alias, version FROM aliases ORDER BY alias"):
        aliases.setdefault(mid, {})[alias] = version
    return [build(RegisteredModel, r, skip=("id",), aliases=aliases.get(r["id"], {})) for r in rows]


def model_exists(project: Project, name: str) -> bool:
    """Whether a model called ``name`` is registered."""
    return project.conn.execute("SELECT 1 FROM registered_models WHERE name = ?", (name,)).fetchone() is not None


def get_model(project: Project, name: str) -> RegisteredModel:
    """One registered model with its latest version and aliases."""
    model_id(project.conn, name)   # NotFoundError listing the models
    return next(m for m in list_models(project) if m.name == name)


def alias_version(project: Project, name: str, alias: str) -> int | None:
    """The version ``alias`` points at now, or None (cheap: servers poll it)."""
    return alias_holder(project.conn, model_id(project.conn, name), alias)


def alias_holder(conn: sqlite3.Connection, mid: int, alias: str) -> int | None:
    """The version ``alias`` of model id ``mid`` points at, read through ``conn``."""
    row = conn.execute("SELECT version FROM aliases WHERE model_id = ? AND alias = ?",
                       (mid, alias.strip().lower())).fetchone()
    return row[0] if row else None


def resolve_version(project: Project, uri: str) -> ModelVersion:
    """The version a URI names: ``models:/name/3``, ``models:/name@alias``, ``name/3``, ``name@alias``,
    and ``models:/name/latest`` (MLflow's habit): the highest version number, whatever its aliases."""
    parts = parse_model_uri(uri)
    if parts[0] != "models":
        raise UsageError(f"{uri!r} names a run's model, not a registered version; use models:/<name>/<version>.")
    _, name, version, alias = parts
    if version is None and alias is None:
        version = get_model(project, name).latest_version
        if version is None:
            raise NotFoundError(f"Model {name!r} has no versions yet, so models:/{name}/latest names nothing.")
    if alias is not None:
        version = alias_version(project, name, alias)
        if version is None:
            known = ", ".join(f"{a} → v{v}" for a, v in get_model(project, name).aliases.items()) or "none yet"
            raise NotFoundError(f"Model {name!r} has no alias {alias!r} (aliases: {known}).")
    return get_version(project, name, version)


def register_model(project: Project, source: str, name: str, *, artifact: str = "model",
                   actor: str | None = None, description: str | None = None) -> ModelVersion:
    """Register a run's logged model as the next version of ``name`` (created if new).

    ``source`` is ``runs:/<run_id>/<artifact>`` or a run id (prefix ok) with
    ``artifact``. Registering the same run model into the same name again
    returns the existing version instead of adding a duplicate.
    """
    check_name(name)
    actor = check_user(actor or project.user)
    if isinstance(source, str) and source.startswith("models:/"):
        raise UsageError(f"Register a run's logged model (runs:/<run_id>/<name>), not {source!r}.")
    if isinstance(source, str) and source.startswith("runs:/"):
        _, run_id, artifact = parse_model_uri(source)
    else:
        run_id = source
    logged = get_logged_model(project, run_id, artifact)   # NotFoundError names the run's models
    rid = run_rid(project, logged.run_id)
    existing = registered_as(project, name, logged.run_id, logged.name, logged.sha256)
    if existing is not None:
        return existing
    now = clock.now()
    with project.write() as w:
        row = w.execute("SELECT id FROM registered_models WHERE name = ?", (name,)).fetchone()
        if row is None:
            mid = w.execute("INSERT INTO registered_models (name, description, created_by, created_at)"
                            " VALUES (?, ?, ?, ?)", (name, description or "", actor, now)).lastrowid
            audit.append(w, actor=actor, action="model.create", model=name, at=now,
                         details={"description": description or ""})
        else:
            mid = row[0]
        version = w.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_id = ?",
                            (mid,)).fetchone()[0]
        w.execute(
            "INSERT INTO model_versions (model_id, version, run_rid, logged_model, sha256, size, flavor, signature,"
            " input_example_sha256, environment_sha256, status, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'registered', ?, ?)",
            (mid, version, rid, logged.name, logged.sha256, logged.size, logged.flavor,
             json.dumps(logged.signature, default=str), logged.input_example_sha256, logged.environment_sha256,
             actor, now))
        audit.append(w, actor=actor, action="version.register", model=name, version=version, at=now,
                     details={"source": f"runs:/{logged.run_id}/{logged.name}", "run_id": logged.run_id,
                              "sha256": logged.sha256, "size": logged.size,
                              "environment_sha256": logged.environment_sha256,
                              "inputs": len(logged.signature.get("inputs") or [])})
    return get_version(project, name, version)


def registered_as(project: Project, name: str, run_id: str, artifact: str = "model",
                  sha256: str | None = None) -> ModelVersion | None:
    """The version of ``name`` already holding this run's model (same bytes), if any."""
    row = project.conn.execute("SELECT id FROM registered_models WHERE name = ?", (name,)).fetchone()
    if row is None:
        return None
    rid = run_rid(project, run_id)
    where = "v.model_id = ? AND v.run_rid = ? AND v.logged_model = ?"
    args = [row[0], rid, artifact]
    if sha256:
        where += " AND v.sha256 = ?"
        args.append(sha256)
    rows = _versions(project.conn, where, args, order="v.version LIMIT 1")
    return rows[0] if rows else None


def find_version_for(project: Project, logged, name: str | None = None) -> ModelVersion | None:
    """The registered version holding a logged model's exact bytes (in model ``name``), if any."""
    rid = run_rid(project, logged.run_id)
    where = "v.run_rid = ? AND v.logged_model = ? AND v.sha256 = ?"
    args: list = [rid, logged.name, logged.sha256]
    if name:
        where += " AND m.name = ?"
        args.append(name)
    rows = _versions(project.conn, where, args, order="m.name, v.version LIMIT 1")
    return rows[0] if rows else None


def version_lineage(project: Project, name: str, version: int) -> Lineage:
    """Where a version came from: run (params, metrics, tags), datasets, environment."""
    v = get_version(project, name, version)
    return Lineage(v, get_run(project, v.run_id), tuple(list_datasets(project, v.run_id)),
                   get_environment(project, v.environment_sha256))


# -- aliases -----------------------------------------------------------------------

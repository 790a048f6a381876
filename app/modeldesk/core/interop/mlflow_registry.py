"""The registry part of an MLflow import: registered models, versions and aliases.

Versions go through ``registry.versions.register_model`` (a ``version.register``
audit entry each, the importing user as actor). Aliases go through the
governed paths, never around them: an ordinary alias is moved with
``set_alias`` (an ``alias.set`` entry whose reason names the MLflow store); a
protected alias such as ``production`` is never set by an import: a promotion
request is opened for the version that held it in MLflow, so the gates run and
a teammate approves it as for any other version.
"""

from __future__ import annotations

from .. import clock
from ..errors import ModelDeskError
from ..registry.entities import is_protected
from ..storage.project import Project
from .mlflow_store import TransferSummary, remember


def import_registry(project: Project, uri: str, registered, known: dict, summary: TransferSummary, actor: str, *,
                    tick, stop) -> None:
    """Register the versions and apply the aliases of ``registered`` ([(model, versions)])."""
    from ..registry.versions import check_alias, check_name

    for rm, versions in registered:
        try:
            check_name(rm.name)
        except ModelDeskError as exc:
            summary.skip(f"registered model {rm.name!r}", str(exc))
            continue
        local_versions: dict[str, int] = {}
        for mv in versions:
            if stop():
                summary.cancelled = True
                return
            tick(f"{rm.name} v{mv.version}")
            key = f"{rm.name}/{mv.version}"
            if ("version", key) in known:
                local_versions[str(mv.version)] = int(known[("version", key)].rsplit("/", 1)[1])
                continue
            local = _register(project, uri, rm, mv, known, summary, actor)
            if local is not None:
                local_versions[str(mv.version)] = local
        for alias, version in _aliases(rm):
            what = f"alias {rm.name}@{alias}"
            try:
                alias = check_alias(alias)
            except ModelDeskError as exc:
                summary.skip(what, str(exc))
                continue
            local = local_versions.get(str(version))
            if local is None:
                summary.skip(what, f"MLflow version {version} was not imported (see above)")
                continue
            if known.get(("alias", f"{rm.name}@{alias}")) == f"{rm.name}/{local}":
                continue   # imported before and unchanged in MLflow
            _apply_alias(project, uri, rm.name, alias, int(version), local, summary, actor)


def _aliases(rm) -> list[tuple[str, str]]:
    """A registered model's aliases as (alias, version): a dict in MLflow 3, a list of objects before."""
    raw = getattr(rm, "aliases", None) or {}
    if isinstance(raw, dict):
        return sorted((str(a), str(v)) for a, v in raw.items())
    return sorted((str(a.alias), str(a.version)) for a in raw)


def _source_model(mv, known: dict) -> str | None:
    """Our ``run_id/name`` for the model an MLflow version was registered from, if it was imported."""
    source = str(mv.source or "")
    keys = []
    if getattr(mv, "model_id", None):
        keys.append(mv.model_id)
    if source.startswith("models:/m-"):
        keys.append(source[len("models:/"):].split("/", 1)[0])
    elif source.startswith("runs:/"):
        keys.append(source[len("runs:/"):].strip("/"))
    elif mv.run_id and "/artifacts/" in source:
        keys.append(f"{mv.run_id}/{source.split('/artifacts/', 1)[1].strip('/')}")
    for key in keys:
        if ("model", key) in known:
            return known[("model", key)]
    return None


def _register(project: Project, uri: str, rm, mv, known: dict, summary: TransferSummary, actor: str) -> int | None:
    """Register one MLflow version here; our version number, or None when skipped (said why)."""
    from ..registry.versions import register_model, registered_as

    what = f"{rm.name} v{mv.version}"
    if str(getattr(mv, "status", "READY")) not in ("READY", "ModelVersionStatus.READY"):
        summary.skip(what, f"its status in MLflow is {mv.status}")
        return None
    source = _source_model(mv, known)
    if source is None:
        summary.skip(what, f"its model ({mv.source}) was not imported: not a scikit-learn model, "
                           "or its run is deleted or outside this store")
        return None
    run_id, name = source.split("/", 1)
    try:
        before = registered_as(project, rm.name, run_id, name)
        version = register_model(project, f"runs:/{run_id}/{name}", rm.name, actor=actor,
                                 description=rm.description or "")
    except ModelDeskError as exc:
        summary.skip(what, str(exc))
        return None
    if before is not None:
        summary.notes.append(f"{what} is the same model as {rm.name} v{before.version} here: mapped to it.")
    else:
        summary.add("versions")
        if version.version == 1:
            summary.add("registered models")
    if version.version != int(mv.version) and before is None:
        summary.notes.append(f"{what} became {rm.name} v{version.version} here (the model already had versions).")
    note = mv.description or ""
    with project.write() as w:
        remember(w, "version", f"{rm.name}/{mv.version}", f"{rm.name}/{version.version}", uri, clock.now(), note)
    return version.version


def _apply_alias(project: Project, uri: str, name: str, alias: str, mlflow_version: int, local: int,
                 summary: TransferSummary, actor: str) -> None:
    from ..registry.aliases import set_alias
    from ..registry.approvals import pending_request, request_promotion
    from ..registry.versions import alias_version

    what = f"alias {name}@{alias}"
    reason = f"imported from MLflow {uri}: {alias} pointed at version {mlflow_version} there"
    try:
        if alias_version(project, name, alias) == local:
            pass   # already so here
        elif is_protected(alias):
            if pending_request(project, name, local, alias) is not None:
                summary.skip(what, f"a request to move it to v{local} is already open")
                return
            req = request_promotion(project, name, local, to=alias, comment=reason.capitalize() + ".",
                                    actor=actor)
            summary.add("requests")
            blocked = f"; gates failed: {', '.join(g.gate for g in req.blocking_gates)}" if req.blocking_gates \
                else ""
            summary.notes.append(f"{name}@{alias} is protected: opened request #{req.id} to move it to v{local}; "
                                 f"it moves when a teammate approves{blocked}.")
            return   # remembered only once it holds: a later import must not open a second request
        else:
            set_alias(project, name, alias, local, actor=actor, reason=reason)
            summary.add("aliases")
    except ModelDeskError as exc:
        summary.skip(what, str(exc))
        return
    with project.write() as w:
        remember(w, "alias", f"{name}@{alias}", f"{name}/{local}", uri, clock.now())

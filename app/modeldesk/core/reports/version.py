"""Gather a model version's audit report (or a run's unregistered model's) into a :class:`Report`."""

from __future__ import annotations

from collections.abc import Callable

from .. import clock
from ..errors import NotFoundError
from ..registry import aliases, approvals
from ..registry import versions as registry
from ..storage.project import Project
from ..tracking.artifacts import get_logged_model, parse_model_uri
from ..tracking.run_entities import LoggedModel
from ..tracking.runs import get_run
from .chain import audit_section, chain_status
from .content import Report
from .governance import alias_section, approvals_section, gates_section
from .lineage import comparison_section, identity_section, lineage_section, replaced_version
from .monitoring import monitoring_section

Progress = Callable[[float, str], None]


def _run_or_none(project: Project, run_id: str):
    try:
        return get_run(project, run_id)
    except NotFoundError:
        return None


def version_report(project: Project, uri: str, *, user: str | None = None, progress: Progress | None = None,
                   should_stop: Callable[[], bool] | None = None) -> Report | None:
    """Everything a version's report says, gathered from the project (None when ``should_stop`` said stop).

    ``uri``: ``models:/name/3``, ``models:/name@alias`` (short forms ``name/3``, ``name@alias``) or
    ``runs:/RUN/model`` for a model never registered. The version is read from the registry's tables
    without loading the model, so a project whose log was tampered with still gets a report that says so.
    """
    def step(fraction: float, text: str) -> None:
        if progress is not None:
            progress(fraction, text)

    parts = parse_model_uri(uri if uri.startswith(("runs:/", "models:/")) else f"models:/{uri}")
    step(0.02, "Reading the model and its lineage")
    if parts[0] == "runs":
        v, logged, moves, versions, requests = None, get_logged_model(project, parts[1], parts[2]), [], [], []
        full = f"runs:/{parts[1]}/{parts[2]}"
    else:
        v = registry.resolve_version(project, f"models:/{parts[1]}" + (
            f"@{parts[3]}" if parts[3] is not None else f"/{parts[2]}"))
        logged = LoggedModel(v.run_id, v.logged_model, v.sha256, v.size, v.flavor, v.signature,
                             v.environment_sha256, v.input_example_sha256, v.created_at)
        moves = aliases.alias_history(project, v.name)
        versions = registry.list_versions(project, v.name)
        requests = approvals.list_requests(project, v.name, version=v.version)
        full = v.uri
    run = _run_or_none(project, logged.run_id)
    now = clock.now()
    sections = [identity_section(v, logged, full), lineage_section(project, run, logged)]
    if v is not None:
        base_no, why = replaced_version(v, moves, versions)
        base = next((x for x in versions if x.version == base_no), None)
        sections.append(comparison_section(v, base, why, run, _run_or_none(project, base.run_id) if base else None))
    else:
        sections.append(comparison_section(None, None, "", run, None))
    sections += [gates_section(v, requests), approvals_section(v, requests), alias_section(v, moves, now)]
    if should_stop is not None and should_stop():
        return None
    step(0.1, "Reading the prediction log")

    def monitoring_progress(fraction: float, text: str) -> None:
        step(0.1 + 0.75 * fraction, text)

    monitoring = monitoring_section(project, full, logged.run_id, logged.name, progress=monitoring_progress,
                                    should_stop=should_stop)
    if should_stop is not None and should_stop():
        return None
    sections.append(monitoring)
    step(0.88, "Verifying the audit chain")
    chain = chain_status(project)
    sections.append(audit_section(project, chain, v.name if v is not None else None))
    if v is not None:
        title, subject = f"Audit report: {v.name} v{v.version}", f"{v.name} v{v.version}"
        meta = {"model": v.name, "version": v.version, "uri": v.uri, "sha256": v.sha256}
    else:
        title, subject = f"Audit report: {full} (not registered)", full
        meta = {"model": None, "version": None, "uri": full, "sha256": logged.sha256}
    step(0.9, "Report content gathered")
    return Report("version", title, subject, user or project.user, now, str(project.path), chain,
                  tuple(sections), meta)


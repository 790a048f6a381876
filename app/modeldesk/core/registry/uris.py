"""Resolving model URIs to logged models and loading them (sha256 verified).

``runs:/<run_id>/<name>`` names a run's logged model; ``models:/<name>/<version>``
and ``models:/<name>@<alias>`` (CLI short forms ``name/3``, ``name@alias``)
name a registered version, which loads the exact bytes it was registered with.
"""

from __future__ import annotations

from ..storage.project import Project
from ..tracking.artifacts import get_logged_model, load_logged_model, parse_model_uri
from ..tracking.run_entities import LoggedModel


def resolve_model(project: Project, uri: str) -> LoggedModel:
    """The logged model a URI names (a registered version resolves to its own copy)."""
    parts = parse_model_uri(uri)
    if parts[0] == "runs":
        return get_logged_model(project, parts[1], parts[2])
    from .ledger import checked_sha256
    from .versions import resolve_version

    v = resolve_version(project, uri)
    sha256 = checked_sha256(project, v)   # against its registration in the audit log, before any unpickling
    return LoggedModel(v.run_id, v.logged_model, sha256, v.size, v.flavor, v.signature, v.environment_sha256,
                       v.input_example_sha256, v.created_at)


def load_model(project: Project, uri: str):
    """Load the model a URI names, refusing it if its bytes changed since logging."""
    return load_logged_model(project, resolve_model(project, uri))

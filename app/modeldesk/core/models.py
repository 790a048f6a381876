"""Resolving model URIs to logged models and loading them (sha256 verified)."""

from __future__ import annotations

from .artifacts import get_logged_model, load_logged_model, parse_model_uri
from .entities import LoggedModel
from .errors import NotFoundError
from .project import Project


def resolve_model(project: Project, uri: str) -> LoggedModel:
    """The logged model a URI names: runs:/<id>/<name> (models:/ once registered)."""
    parts = parse_model_uri(uri)
    if parts[0] == "runs":
        return get_logged_model(project, parts[1], parts[2])
    raise NotFoundError(
        f"No registered model for {uri!r}: this project has no model registry entries yet. "
        "Load a run's model with runs:/<run_id>/<name>.")


def load_model(project: Project, uri: str):
    """Load the model a URI names, refusing it if its bytes changed since logging."""
    return load_logged_model(project, resolve_model(project, uri))

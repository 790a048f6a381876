"""Errors the core raises. Each message says what is wrong; what to do next is a ``Hint``.

Faces (CLI, GUI, server) map them: ``UsageError`` means the caller asked for
something malformed (CLI exit 2, HTTP 400); ``RefusedError`` means a rule
refused an action (CLI exit 1, HTTP 409/403).

Each face speaks its own words: a refusal carries a structured :class:`Hint`
(an action, a model, a version...) instead of a shell command in its text. The
CLI and the server render a hint as the command to run
(``modeldesk models approve churn 1``), the desktop app as a sentence about a
button ("Ask a teammate to approve it in the Models view").
"""

from __future__ import annotations

from dataclasses import dataclass

# What a hint can suggest. Each face renders every one of these (a test checks it).
HINT_ACTIONS = (
    "init",                 # create a project file (path)
    "register",             # register a run's model in the registry
    "request",              # ask for a promotion of model/version to alias
    "approve",              # a teammate approves model/version (four-eyes)
    "withdraw",             # the requester takes their request back
    "reject",               # a reviewer rejects model/version, with a comment
    "override",             # an approver overrides a failed gate of model/version
    "set_primary_metric",   # the registry settings need a primary metric
    "list_runs",            # find a run's id
    "score_file",           # large inputs: batch scoring of a file instead of a request
)


@dataclass(frozen=True)
class Hint:
    """What the user can do next, as facts; each face words it its own way."""

    action: str
    model: str | None = None
    version: int | None = None
    alias: str | None = None
    gate: str | None = None
    path: str | None = None

    def __post_init__(self):
        if self.action not in HINT_ACTIONS:
            raise ValueError(f"unknown hint action {self.action!r}")


class Reason(str):
    """A refusal reason (plain text, usable as a ``str``) that may carry a :class:`Hint`."""

    hint: Hint | None

    def __new__(cls, text: str = "", hint: Hint | None = None):
        self = super().__new__(cls, text)
        self.hint = hint
        return self


class ModelDeskError(Exception):
    """Base class of every error ModelDesk raises on purpose.

    ``hint`` (keyword only) says what to do next, for the face to render.
    """

    exit_code = 1

    def __init__(self, *args, hint: Hint | None = None):
        super().__init__(*args)
        self.hint = hint


class UsageError(ModelDeskError):
    """The request itself is malformed: bad filter, unknown run, bad URI."""

    exit_code = 2


class RefusedError(ModelDeskError):
    """A rule refused the action (tampered artifact, param re-logged, ...)."""

    exit_code = 1


class ProjectError(RefusedError):
    """The project file cannot be opened: newer schema, not SQLite, truncated."""


class ProjectPathError(ProjectError, UsageError):
    """The path names no project: a missing file, a folder, a missing parent folder (CLI exit 2)."""

    exit_code = 2


class NotFoundError(UsageError):
    """A run, experiment, artifact or model that does not exist."""


class IntegrityError(RefusedError):
    """Stored content no longer matches its sha256: it was changed after logging."""


class FilterError(UsageError):
    """A filter or order_by expression that does not parse.

    ``position`` is the 0-based character offset of the offending token and
    ``token`` its text, so faces can point at it.
    """

    def __init__(self, message: str, text: str = "", position: int = 0, token: str = ""):
        self.reason = message
        self.text = text
        self.position = position
        self.token = token
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.text:
            return self.reason
        caret = " " * self.position + "^" * max(1, len(self.token))
        return f"{self.reason}\n  {self.text}\n  {caret}"

"""Errors the core raises. Each message says what is wrong and what to do.

Faces (CLI, GUI, server) map them: ``UsageError`` means the caller asked for
something malformed (CLI exit 2, HTTP 400); ``RefusedError`` means a rule
refused an action (CLI exit 1, HTTP 409/403).
"""


class ModelDeskError(Exception):
    """Base class of every error ModelDesk raises on purpose."""

    exit_code = 1


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

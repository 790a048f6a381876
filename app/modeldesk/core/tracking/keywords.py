"""MLflow's keyword names beside ours: one value per meaning, a clear error on a clash.

The fluent API accepts ``run_name=`` beside ``name=``, ``filter_string=``
beside ``filter=``, ``experiment_names=``/``experiment_ids=`` beside
``experiment=``, and a tracking URI where we say project. The rules live
here so every face reads them the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import UsageError


def pick(**named):
    """The one value given among keywords that mean the same (None when none is).

    ``pick(name=None, run_name="rf")`` is ``"rf"``; two different values are a
    ``UsageError`` naming both keywords.
    """
    given = {k: v for k, v in named.items() if v is not None}
    values = list(given.values())
    if any(v != values[0] for v in values[1:]):
        raise UsageError(f"{' and '.join(f'{k}={v!r}' for k, v in given.items())} disagree: give one of them.")
    return values[0] if values else None


def experiments_of(experiment=None, experiments=None, experiment_names=None, experiment_ids=None):
    """The experiments a search names, by our keywords or MLflow's (None: all)."""
    chosen = [(k, v) for k, v in (("experiment", experiment), ("experiments", experiments),
                                  ("experiment_names", experiment_names), ("experiment_ids", experiment_ids))
              if v is not None]
    if len(chosen) > 1:
        raise UsageError(f"Give the experiments once, not as both {chosen[0][0]}= and {chosen[1][0]}=.")
    if not chosen:
        return None
    key, value = chosen[0]
    items = [value] if isinstance(value, (str, int)) else list(value)
    if key == "experiment_ids":
        try:
            return [int(i) for i in items]
        except (TypeError, ValueError):
            raise UsageError(f"experiment_ids are numbers (as text or not), e.g. ['1'], not {value!r}; "
                             "use experiment_names= for names.") from None
    return items


def output_format_of(value) -> str:
    """``pandas`` or ``list`` (MLflow's ``search_runs(output_format=...)``)."""
    if value not in ("pandas", "list"):
        raise UsageError(f"output_format is 'pandas' (a DataFrame) or 'list' (Run objects), not {value!r}.")
    return value


def project_path_of_uri(uri) -> str:
    """The project file a tracking URI names: a path (``team.mdesk``), ``file:`` or ``sqlite:///`` URI.

    A server URI (``http://``, ``databricks``...) is refused: a project is one
    file, there is no tracking server to talk to.
    """
    if isinstance(uri, os.PathLike):
        return os.fspath(uri)
    if not isinstance(uri, str) or not uri.strip():
        raise UsageError("set_tracking_uri needs the project file, e.g. 'team.mdesk' or 'sqlite:///team.mdesk'.")
    text = uri.strip()
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if len(scheme) <= 1:   # a plain path (a Windows drive letter parses as a one-letter scheme)
        return text
    if scheme == "sqlite":   # sqlite:///relative.mdesk, sqlite:////absolute.mdesk (SQLAlchemy's form)
        rest = text[len("sqlite:"):]
        if not rest.startswith("///"):
            raise UsageError(f"{uri!r}: write sqlite:///relative/path.mdesk or sqlite:////absolute/path.mdesk.")
        return unquote(rest[3:])
    if scheme == "file":
        return unquote(parsed.path) if not parsed.netloc else str(Path("//" + parsed.netloc) / parsed.path)
    raise UsageError(f"{uri!r} is a {scheme}: URI; ModelDesk tracks into a project file, not a server. "
                     "Give the file's path, e.g. md.set_tracking_uri('team.mdesk').")

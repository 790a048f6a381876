"""What MLflow import and export share: MLflow itself (imported lazily), store
URIs, and the summary both report.

MLflow is an optional extra (``pip install 'modeldesk[mlflow]'``): nothing in
ModelDesk imports it until an import or export starts, and without it the
user gets one clear sentence instead of a traceback. Stores are always read
and written through MLflow's own client, so MLflow's schema changes stay
MLflow's problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import UsageError

MISSING = "MLflow is not installed: pip install 'modeldesk[mlflow]'"
Progress = Callable[[float, str], None]


class MlflowMissingError(UsageError):
    """MLflow is needed for this and is not installed."""


def require_mlflow():
    """The ``mlflow`` module, or MlflowMissingError with the install command."""
    try:
        import mlflow  # noqa: F401  (lazy: a heavy, optional import)
        from mlflow import MlflowClient  # noqa: F401
    except ImportError:
        raise MlflowMissingError(MISSING) from None
    return mlflow


def store_uri(location: str, *, must_exist: bool) -> str:
    """An MLflow tracking URI for ``location``: ``sqlite:///…``, a server URL, or a directory.

    A directory becomes a ``file://`` URI. With ``must_exist`` (imports) a
    missing database file or directory is refused: MLflow would quietly create
    an empty store there, and the import would find nothing.
    """
    text = str(location).strip()
    if not text:
        raise UsageError("Name an MLflow store: sqlite:///path/mlflow.db, a directory like mlruns/, or a URL.")
    if text.startswith(("http://", "https://", "databricks")):
        return text
    if text.startswith("sqlite:///"):
        path = Path(text[len("sqlite:///"):])
        if must_exist and not path.is_file():
            raise UsageError(f"No MLflow database at {path}: check the path (sqlite:///ABSOLUTE/PATH/mlflow.db "
                             "has four slashes before an absolute path).")
        if not must_exist:
            path.parent.mkdir(parents=True, exist_ok=True)
        return "sqlite:///" + str(path.resolve())
    if "://" in text and not text.startswith("file://"):
        scheme = text.split("://", 1)[0]
        raise UsageError(f"Unsupported MLflow store {text!r} ({scheme}://): use sqlite:///path/mlflow.db, "
                         "a tracking directory (mlruns/), or an http(s):// server URL.")
    path = Path(text[len("file://"):] if text.startswith("file://") else text).expanduser()
    if path.suffix in (".db", ".sqlite") and not path.is_dir():
        raise UsageError(f"{text!r} looks like a database file: write it as sqlite:///{path.resolve()}.")
    if must_exist and not path.is_dir():
        raise UsageError(f"No MLflow tracking directory at {path}: point at the folder that holds the "
                         "experiment folders (usually mlruns/).")
    if not must_exist:
        path.mkdir(parents=True, exist_ok=True)
    return path.resolve().as_uri()


def client_for(uri: str):
    """An MlflowClient on ``uri`` for tracking and the model registry."""
    require_mlflow()
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.search_experiments(max_results=1)   # opens the store now, so a bad one fails here, in words
    except MlflowException as exc:
        raise UsageError(f"MLflow could not open {uri}: {exc.message}") from None
    return client


@dataclass
class TransferSummary:
    """What an import or export did: counts by kind, what was skipped and why, notes."""

    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (what, why)
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    def skip(self, what: str, why: str) -> None:
        self.skipped.append((what, why))

    def lines(self) -> list[str]:
        """The summary as lines of text, for the CLI and the app."""
        order = ("experiments", "runs", "params", "tags", "metric points", "artifacts", "models",
                 "registered models", "versions", "aliases", "requests")
        done = [f"{self.counts[k]:,} {k}" for k in order if self.counts.get(k)]
        done += [f"{v:,} {k}" for k, v in self.counts.items() if k not in order and v]
        out = [("Cancelled after " if self.cancelled else "Done: ") + (", ".join(done) or "nothing new") + "."]
        out += self.notes
        if self.skipped:
            out.append(f"Skipped {len(self.skipped)}:")
            out += [f"  {what}: {why}" for what, why in self.skipped]
        return out

    def to_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "counts": dict(self.counts),
                "skipped": [{"what": w, "why": y} for w, y in self.skipped], "notes": list(self.notes),
                "cancelled": self.cancelled}



def remember(w, kind: str, mlflow_id: str, local_id: str, uri: str, now: float, note: str = "") -> None:
    """Record (inside ``w``'s transaction) that MLflow's ``kind``/``mlflow_id`` is ``local_id`` here."""
    w.execute("INSERT INTO mlflow_imports (kind, mlflow_id, local_id, source, note, imported_at)"
              " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, mlflow_id) DO UPDATE SET local_id = excluded.local_id,"
              " note = excluded.note, imported_at = excluded.imported_at", (kind, mlflow_id, local_id, uri, note, now))

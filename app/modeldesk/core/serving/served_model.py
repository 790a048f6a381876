"""The model a server serves: loading, verifying, following an alias, events.

Flask-free so that the server, batch scoring and the GUI share it. A
:class:`ModelHolder` keeps the current :class:`ServedModel`; requests read
``holder.current`` once and use that object throughout, and a switch to a
new version replaces the attribute in one assignment after the new model
has loaded, passed its sha256 check and predicted on its input example, so
no request ever sees a half-loaded model.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import clock
from ..errors import ModelDeskError, RefusedError
from ..storage.project import Project
from ..storage.rows import build, named
from ..tracking.run_entities import LoggedModel


@dataclass(frozen=True)
class ServedModel:
    """A loaded, verified model and what identifies it."""

    uri: str
    name: str | None          # registered model name (None for a runs:/ URI not registered)
    version: int | None       # registered version, when known
    run_id: str
    artifact: str
    sha256: str
    signature: dict
    aliases: tuple = ()
    loaded_at: float = 0.0
    example: dict | None = field(default=None, compare=False, repr=False)   # first input example row
    model: Any = field(default=None, compare=False, repr=False)

    @property
    def classes(self) -> list | None:
        """Class labels in predict_proba's column order (None for a regressor)."""
        from ..tracking.signature import to_json

        classes = getattr(self.model, "classes_", None)
        return to_json(classes) if classes is not None else self.signature.get("classes")

    @property
    def has_proba(self) -> bool:
        return hasattr(self.model, "predict_proba")

    @property
    def display_version(self) -> str:
        """"3" for a registered version, else the run id's first 8 characters."""
        return str(self.version) if self.version is not None else self.run_id[:8]

    def identity(self) -> dict:
        return {"model": self.uri, "name": self.name, "version": self.version, "run_id": self.run_id,
                "artifact": self.artifact, "sha256": self.sha256}


def full_uri(uri: str) -> str:
    """``uri`` in its full form: the CLI's ``name/3`` and ``name@alias`` become ``models:/...``."""
    from ..tracking.artifacts import parse_model_uri

    parse_model_uri(uri)   # UsageError for anything malformed
    return uri if uri.startswith(("runs:/", "models:/")) else f"models:/{uri}"


def describe(project: Project, uri: str, logged: LoggedModel) -> tuple[str | None, int | None, tuple]:
    """(registered name, version, aliases) of the logged model a URI resolved to.

    A models:/ URI asks the registry; a runs:/ URI counts as the registered
    version holding the same bytes, if there is one (else neither).
    """
    from ..tracking.artifacts import parse_model_uri

    parts = parse_model_uri(uri)
    try:
        from ..registry import versions as registry
    except ImportError:   # a ModelDesk without the registry
        return (parts[1], parts[2], ()) if parts[0] == "models" else (None, None, ())
    try:
        if parts[0] == "models":
            mv = registry.resolve_version(project, uri)
        else:
            mv = registry.find_version_for(project, logged)
    except ModelDeskError:
        mv = None
    if mv is None:
        return None, None, ()
    return mv.name, int(mv.version), tuple(mv.aliases or ())


def load_served(project: Project, uri: str, *, verify: bool = True) -> ServedModel:
    """Resolve ``uri``, load its model (sha256 verified) and check it predicts on its example.

    Raises :class:`~modeldesk.core.errors.NotFoundError` for an unknown URI,
    :class:`~modeldesk.core.errors.IntegrityError` for a changed artifact and
    :class:`RefusedError` when the model cannot predict on its own example.
    """
    from ..registry.uris import resolve_model
    from ..tracking.artifacts import load_input_example, load_logged_model
    from ..tracking.signature import to_json

    logged = resolve_model(project, uri)
    model = load_logged_model(project, logged)
    if not hasattr(model, "predict"):
        raise RefusedError(f"{uri} is a {type(model).__name__}, which has no predict(); it cannot be served.")
    example = load_input_example(project, logged)
    if verify and example is not None:
        _verify(uri, logged, model, example)
    first = None
    if example is not None and len(example):
        first = {str(k): to_json(v) for k, v in example.iloc[0].items()}
    name, version, aliases = describe(project, uri, logged)
    signature = signature_with_training_nulls(project, logged)
    return ServedModel(uri, name, version, logged.run_id, logged.name, logged.sha256, signature,
                       aliases, clock.now(), first, model)


def signature_with_training_nulls(project: Project, logged: LoggedModel) -> dict:
    """The model's signature, with ``nullable`` set for every input column that
    had missing values in the run's training data.

    The signature is inferred from the input example, a few rows that may
    happen to have no gaps; what the model accepts is what it was trained on.
    A column is nullable when the example had a missing value in it or when a
    dataset logged with the run in the role ``training`` did.
    """
    from ..tracking.artifacts import list_datasets

    inputs = logged.signature.get("inputs") or []
    if not inputs or all(f.get("nullable") for f in inputs):
        return logged.signature
    with_gaps = set()
    for record in list_datasets(project, logged.run_id):
        if record.role == "training":
            with_gaps |= {str(c.get("name")) for c in record.profile.get("per_column") or [] if c.get("missing")}
    if not with_gaps & {str(f.get("name")) for f in inputs if not f.get("nullable")}:
        return logged.signature
    return {**logged.signature,
            "inputs": [{**f, "nullable": True} if str(f.get("name")) in with_gaps else f for f in inputs]}


def _verify(uri: str, logged: LoggedModel, model, example) -> None:
    from .model_threads import one_thread
    from .validation import model_input

    try:
        with one_thread():   # on the loading thread: no OpenMP team there (core/serving/model_threads.py)
            model.predict(model_input(logged.signature, example))
    except Exception as exc:
        raise RefusedError(f"{uri} (sha256 {logged.sha256[:12]}) fails on its own input example: "
                           f"{type(exc).__name__}: {exc}. It was not served.") from None


class ModelHolder:
    """The model being served, re-resolving its URI every ``interval`` seconds.

    ``on_switch(old, new)`` and ``on_error(message)`` are called from the
    polling thread. Call :meth:`start` to poll and :meth:`stop` to end it.
    """

    def __init__(self, project: Project, uri: str, *, interval: float = 2.0,
                 on_switch: Callable[[ServedModel, ServedModel], None] | None = None,
                 on_error: Callable[[str], None] | None = None, initial: ServedModel | None = None,
                 on_refused: Callable[[str], None] | None = None):
        self.project, self.uri, self.interval = project, uri, interval
        self.current: ServedModel = initial or load_served(project, uri)
        self.on_switch, self.on_error, self.on_refused = on_switch, on_error, on_refused
        self.switches = 0
        self.reload_errors = 0
        self.refused: str | None = None   # why the last alias move was not followed (None: following)
        self._failed_sha: str | None = None
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.interval and self.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="modeldesk-model-poll", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception as exc:  # the poller must outlive any one failure (alias deleted, file busy)
                self._report(f"could not resolve {self.uri}: {exc}")

    def check(self) -> bool:
        """Re-resolve the URI now; switch if it names other bytes. True if switched."""
        from ..registry.uris import resolve_model

        logged = resolve_model(self.project, self.uri)
        self._last_error = None   # resolvable again: a later failure is news
        old = self.current
        if logged.sha256 == old.sha256 and logged.run_id == old.run_id and logged.name == old.artifact:
            version = describe(self.project, self.uri, logged)[1]
            if version == old.version:
                return False
        if logged.sha256 == self._failed_sha:
            return False     # already refused; wait for the alias to move again
        why = self._unbacked_move()
        if why is not None:
            if why != self.refused:
                self.refused = why
                record_event(self.project, "reload_refused", old, self.uri, reason=why)
                if self.on_refused is not None:
                    self.on_refused(f"not following {self.uri}: {why}; still serving v{old.version}")
            return False
        self.refused = None
        try:
            new = load_served(self.project, self.uri)
        except ModelDeskError as exc:
            self._failed_sha = logged.sha256
            self._report(str(exc))
            return False
        self.current = new       # one assignment: requests see the old or the new model, never a mix
        self.switches += 1
        self._failed_sha = None
        if self.on_switch is not None:
            self.on_switch(old, new)
        return True

    def _unbacked_move(self) -> str | None:
        """For an alias URI, why its current target is not backed by a verifying log entry (None: it is)."""
        from ..registry.ledger import alias_is_backed
        from ..registry.versions import alias_version
        from ..tracking.artifacts import parse_model_uri

        parts = parse_model_uri(self.uri)
        if parts[0] != "models" or parts[3] is None:
            return None
        return alias_is_backed(self.project, parts[1], parts[3], alias_version(self.project, parts[1], parts[3]))

    def _report(self, message: str) -> None:
        """Count a failure; tell on_error once per distinct message (polling repeats them)."""
        self.reload_errors += 1
        if message != self._last_error:
            self._last_error = message
            if self.on_error is not None:
                self.on_error(message)


# -- events ------------------------------------------------------------------------------
EVENTS = ("start", "stop", "switch", "reload_failed", "reload_refused")


def record_event(project: Project, event: str, served: ServedModel | None, uri: str, **detail) -> None:
    """Record a serving event (start/stop/switch/reload_failed).

    One transaction writes it to the hash-chained audit log (action
    ``serving.<event>``) and to ``serving_events`` (what the Serving view
    lists). ``detail`` keys mentioning a token are dropped: a token is never
    recorded.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown serving event {event!r}")
    detail = {k: v for k, v in detail.items() if "token" not in k.lower() or k == "token_required"}
    detail.setdefault("pid", os.getpid())
    ident = served.identity() if served is not None else {"model": uri}
    with project.write() as w:
        w.execute(
            "INSERT INTO serving_events (time, event, model_uri, model_name, version, run_id, sha256, user, detail)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (clock.now(), event, uri, ident.get("name"), ident.get("version"), ident.get("run_id"),
             ident.get("sha256"), project.user, json.dumps(detail, default=str, sort_keys=True)))
        try:
            from .. import audit
        except ImportError:   # a ModelDesk without the audit log
            return
        audit.append(w, actor=project.user, action=f"serving.{event}", model=ident.get("name"),
                     version=ident.get("version"),
                     details={"uri": uri, "run_id": ident.get("run_id"), "sha256": ident.get("sha256"), **detail})


@dataclass(frozen=True)
class ServingEvent:
    time: float
    event: str
    model_uri: str
    model_name: str | None
    version: int | None
    run_id: str | None
    sha256: str | None
    user: str
    detail: dict


def list_events(project: Project, limit: int = 200) -> list[ServingEvent]:
    """The latest serving events, newest first."""
    rows = named(project.conn, "SELECT time, event, model_uri, model_name, version, run_id, sha256, user, detail"
                               " FROM serving_events ORDER BY id DESC LIMIT ?", (limit,))
    return [build(ServingEvent, r, detail=json.loads(r["detail"])) for r in rows]

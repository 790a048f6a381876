"""What one serving app serves with, kept on the app as ``app.extensions["modeldesk"]``.

``create_app`` builds a :class:`ServingState` and puts it there; the routes
read it through :func:`serving_state` (the app of the current request).
"""

from __future__ import annotations

import sys
import threading

from flask import current_app

from ..core.serving.prediction_log import PredictionLog
from ..core.serving.served_model import ModelHolder, ServedModel, full_uri, load_served, record_event
from ..core.storage.project import open_project
from .metrics import Metrics
from .predictor import Predictor

EXTENSION = "modeldesk"


class ServingState:
    """Everything one app serves with; ``close()`` flushes the log and stops threads."""

    def __init__(self, project_path, model_uri: str, *, token: str | None, log_predictions: bool,
                 max_body: int, max_rows: int, reload_interval: float, announce: bool, user: str | None):
        self.uri = full_uri(model_uri)
        self.project = open_project(project_path, create=False, user=user)
        from ..core.audit import on_open

        chain_warning = on_open(self.project)
        if chain_warning:
            say(f"warning: {chain_warning} Run `modeldesk audit verify`.")
        self.token = token.encode() if token else None
        self.max_body, self.max_rows = max_body, max_rows
        self.metrics = Metrics()
        self.announce = announce
        try:
            served = load_served(self.project, self.uri)
        except BaseException:
            self.project.close()
            raise
        self.holder = ModelHolder(self.project, self.uri, interval=reload_interval, initial=served,
                                  on_switch=self._switched, on_error=self._reload_failed,
                                  on_refused=self._reload_refused)
        self.log = PredictionLog(self.project) if log_predictions else None
        self.predictor = Predictor()
        self._closed = False
        self._stop_retention = threading.Event()
        self._retention = threading.Thread(target=self._retention_loop, name="modeldesk-retention", daemon=True)
        self.holder.start()
        if self.log is not None:
            self._retention.start()

    @property
    def current(self) -> ServedModel:
        return self.holder.current

    def record(self, event: str, served: ServedModel | None, **detail) -> None:
        try:
            record_event(self.project, event, served, self.uri, **detail)
        except Exception as exc:   # events are not worth failing a start/stop over
            say(f"could not record the {event} event: {exc}")

    def _switched(self, old: ServedModel, new: ServedModel) -> None:
        if self.announce:
            say(f"switched {self.uri} from {_label(old)} to {_label(new)}")
        self.record("switch", new, previous_version=old.version, previous_run_id=old.run_id,
                    previous_sha256=old.sha256)

    def _reload_failed(self, message: str) -> None:
        if self.announce:
            say(f"kept serving {_label(self.current)}: {message}")
        self.record("reload_failed", self.current, reason=message)

    def _reload_refused(self, message: str) -> None:
        say(message)   # always: an alias moved around the audit log is news for whoever runs the server

    def _retention_loop(self) -> None:
        """Apply the prediction log's retention settings at start and every RETENTION_INTERVAL_S,
        off the request threads, on this thread's own connection."""
        from ..core.serving.prediction_retention import apply_retention

        while not self._stop_retention.is_set():
            try:
                self.metrics.pruned_rows += apply_retention(self.project)
            except Exception as exc:   # a busy or read-only file: try again next time
                say(f"could not apply the prediction log's retention: {exc}")
            self._stop_retention.wait(RETENTION_INTERVAL_S)

    def close(self) -> None:
        """Stop following the URI, write every logged prediction, close the project."""
        if self._closed:
            return
        self._closed = True
        self._stop_retention.set()
        if self._retention.is_alive():
            self._retention.join(timeout=30)
        self.holder.stop()
        self.predictor.close()
        if self.log is not None:
            self.log.stop()
        self.project.close()


RETENTION_INTERVAL_S = 300.0


def serving_state() -> ServingState:
    """The state of the app answering the current request."""
    return current_app.extensions[EXTENSION]


def _label(served: ServedModel) -> str:
    return f"version {served.version}" if served.version is not None else f"run {served.run_id[:8]}"


def say(message: str) -> None:
    """One line on stderr, the operator's log of `modeldesk serve`."""
    print(f"modeldesk serve: {message}", file=sys.stderr, flush=True)

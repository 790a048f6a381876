"""The Flask app factory that serves one model URI (DESIGN.md "HTTP").

``create_app`` is handed the project path and the model URI; it loads and
verifies the model once, starts the prediction-log writer and the thread
that follows the URI (an alias that moves is picked up within
``reload_interval`` seconds), keeps all of that on the app as
``app.extensions["modeldesk"]`` (a :class:`~.state.ServingState`), and
registers the routes blueprint (``routes.bp``) and the JSON error handlers.
Call ``app.extensions["modeldesk"].close()`` (the runner does) to flush the
log and stop those threads.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.exceptions import HTTPException

from ..core.serving.validation import DEFAULT_MAX_ROWS
from . import routes
from .state import EXTENSION, ServingState


def create_app(project_path, model_uri: str, *, token: str | None = None, log_predictions: bool = True,
               max_body: int = 32 * 2**20, max_rows: int = DEFAULT_MAX_ROWS, reload_interval: float = 2.0,
               announce: bool = False, user: str | None = None) -> Flask:
    """A Flask app serving ``model_uri`` from the project at ``project_path``.

    ``token``: when set, every endpoint but /health and /ping needs ``Authorization:
    Bearer <token>``. ``max_body`` (bytes) and ``max_rows`` bound a request.
    ``reload_interval``: seconds between checks whether the URI now names
    another version (0 turns following off). ``announce`` prints errors and
    switches to stderr (the CLI's log). ``user``: who started it, for the
    audit log (default: $MODELDESK_USER or the login name).
    """
    if not Path(project_path).exists():
        from ..core.errors import NotFoundError

        raise NotFoundError(f"No project at {project_path}.")
    state = ServingState(project_path, model_uri, token=token, log_predictions=log_predictions,
                         max_body=max_body, max_rows=max_rows, reload_interval=reload_interval, announce=announce,
                         user=user)
    app = Flask("modeldesk.server")
    app.config["MAX_CONTENT_LENGTH"] = max_body
    app.extensions[EXTENSION] = state
    app.register_blueprint(routes.bp)
    app.register_error_handler(HTTPException, routes.http_error)
    app.register_error_handler(Exception, routes.unexpected_error)
    return app

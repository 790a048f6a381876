"""The HTTP endpoints of a serving app (DESIGN.md "HTTP"), as a module-level Blueprint.

Nothing here holds state: every handler reads the app's :class:`ServingState`
through :func:`serving_state`. ``create_app`` registers :data:`bp` and the two
error handlers (:func:`http_error`, :func:`unexpected_error`).

Anything a client sends gets a JSON answer: a prediction, or
``{"error": {"code", "message"}}`` with a 4xx status. Never a traceback.
"""

from __future__ import annotations

import hmac
import json
import re
import sys
import time
import uuid

import numpy as np
from flask import Blueprint, Response, g, request
from werkzeug.exceptions import HTTPException

from ..core.errors import ModelDeskError
from ..core.serving.examples import curl_example
from ..core.serving.prediction_failures import FailedRequest
from ..core.serving.prediction_log import LogEntry
from ..core.serving.validation import ValidationError, model_input, validate_payload
from ..core.tracking.signature import to_json
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .state import say, serving_state

ENDPOINTS = ("/health", "/ping", "/version", "/metadata", "/predict", "/invocations", "/metrics")
PREDICT_ENDPOINTS = ("/predict", "/invocations")   # their error answers are logged as failed requests
OPEN_ENDPOINTS = ("/health", "/ping")   # answered without a token: liveness probes
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
              411: "length_required", 413: "body_too_large", 415: "unsupported_media_type",
              431: "headers_too_large", 500: "internal_error", 503: "unavailable"}

bp = Blueprint("serving", __name__)


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _error(code: str, message: str, status: int, headers=None) -> Response:
    body = {"error": {"code": code, "message": message}}
    if request.path == "/invocations":   # what MLflow's own clients read
        body["error_code"] = "BAD_REQUEST" if status < 500 else "INTERNAL_ERROR"
        body["message"] = message
    g.error_code = code
    return Response(_dumps(body), status=status, mimetype="application/json", headers=headers)


def _json(obj, status: int = 200, headers=None) -> Response:
    return Response(_dumps(obj), status=status, mimetype="application/json", headers=headers)


# --- every request, routed or not (a 404 is timed, counted and needs the token too) ----------

@bp.before_app_request
def _start():
    g.t0 = time.perf_counter()
    state = serving_state()
    if state.token is not None and request.path not in OPEN_ENDPOINTS:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), state.token):
            return _error("unauthorized", "This server needs 'Authorization: Bearer <token>' (the token "
                          "printed when it started, or the one given with --token).", 401,
                          {"WWW-Authenticate": 'Bearer realm="modeldesk"'})
    return None


@bp.after_app_request
def _count(response: Response):
    state = serving_state()
    if request.url_rule is not None:
        rule = request.url_rule.rule
    else:   # 404/405: a fixed label, so random paths cannot grow /metrics
        rule = request.path if request.path in ENDPOINTS else "other"
    elapsed = time.perf_counter() - g.get("t0", time.perf_counter())
    code = g.get("error_code")
    state.metrics.observe(rule, request.method, response.status_code, elapsed, code=code, rows=g.get("rows", 0))
    if response.status_code >= 400 and rule in PREDICT_ENDPOINTS and state.log is not None:
        # for serving health's error rate; queued to the log's writer thread, never written here
        state.log.submit(FailedRequest(time.time(), state.current, response.status_code, code or "http_error",
                                       elapsed * 1000.0))
    if code is not None and state.announce:
        say(f"{response.status_code} {request.method} {rule} {code}")
    return response


# --- error handlers, registered on the app by create_app --------------------------------------

def http_error(exc: HTTPException):
    """Werkzeug's HTTP errors (404, 405, 413, ...) as our JSON errors."""
    status = exc.code or 500
    code = HTTP_CODES.get(status, "http_error")
    if status == 404:
        message = f"No such endpoint; this server answers {', '.join(ENDPOINTS)}."
    elif status == 405:
        allowed = ", ".join(getattr(exc, "valid_methods", None) or [])
        message = f"{request.method} is not allowed here; use {allowed}."
    elif status == 413:
        message = (f"The body is larger than this server's limit of {serving_state().max_body:,} bytes "
                   "(modeldesk serve --max-body-mb). Split the request, or use `modeldesk score` for files.")
    else:
        message = exc.description or exc.name
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() == "allow"]
    return _error(code, message, status, headers)


def unexpected_error(exc: Exception):
    """A bug of ours: the traceback goes to the operator's log, a plain 500 to the client."""
    import traceback

    traceback.print_exception(exc, file=sys.stderr)   # for the operator, never for the client
    return _error("internal_error", f"The server failed on this request ({type(exc).__name__}); "
                  "the details are in the server's log.", 500)


# --- the endpoints ------------------------------------------------------------------------------

@bp.get("/health")
def health():
    state = serving_state()
    served = state.current
    body = {"status": "ok", "model": served.uri, "version": served.version, "run_id": served.run_id,
            "sha256": served.sha256, "uptime_s": round(time.time() - state.metrics.started, 3)}
    if state.holder.refused:   # still serving, but not following an alias move the audit log does not back
        body["reload_refused"] = state.holder.refused
    return _json(body)


@bp.get("/ping")
def ping():
    # MLflow's scoring server answers its liveness probe (ScoringServerClient.wait_server_ready) with
    # 200 and a bare newline; so do we, byte for byte, so MLflow's clients see what they expect.
    return Response(b"\n", mimetype="application/json")


@bp.get("/version")
def version():
    from ..core.version import __version__

    return _json({"name": "modeldesk", "version": __version__})


@bp.get("/metadata")
def metadata():
    state = serving_state()
    served = state.current
    sig = served.signature
    body = {**served.identity(), "flavor": "sklearn", "aliases": list(served.aliases),
            "signature": {"inputs": sig.get("inputs") or [], "outputs": sig.get("outputs"),
                          "input_kind": sig.get("input_kind", "dataframe")},
            "classes": served.classes if served.has_proba else sig.get("classes"),
            "has_proba": served.has_proba, "loaded_at": served.loaded_at,
            "limits": {"max_body_bytes": state.max_body, "max_rows": state.max_rows},
            "prediction_log": state.log is not None,
            "example": {"records": [served.example]} if served.example else None,
            "curl": curl_example(sig, request.host_url, example=served.example) if sig.get("inputs") else None}
    return _json(body)


@bp.get("/metrics")
def prometheus():
    state = serving_state()
    served = state.current
    text = state.metrics.render(
        model={"uri": served.uri, "name": served.name, "version": served.version, "run_id": served.run_id,
               "sha256": served.sha256},
        log_stats=state.log.stats if state.log is not None else None, logging_on=state.log is not None,
        switches=state.holder.switches, reload_errors=state.holder.reload_errors)
    return Response(text, content_type=METRICS_CONTENT_TYPE)   # the classic text format, version 0.0.4


@bp.post("/predict")
def predict():
    return _predict(mlflow=False)


@bp.post("/invocations")
def invocations():
    return _predict(mlflow=True)


def _flag(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on", ""):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValidationError("bad_parameter", f"?{name}= takes true or false, not {raw[:40]!r}.", 400)


def _predict(*, mlflow: bool) -> Response:
    t0 = g.t0
    state = serving_state()
    served = state.current      # one model for the whole request, even if a switch happens meanwhile
    try:
        proba = False if mlflow else _flag("proba")
        if proba and not served.has_proba:
            raise ValidationError("proba_unavailable", f"This model ({type(served.model).__name__}) has no "
                                  "predict_proba; ask without ?proba=true.", 400)
        body = request.get_data(cache=False)
        batch = validate_payload(body, request.content_type, served.signature, mlflow=mlflow,
                                 max_rows=state.max_rows)
        X = model_input(served.signature, batch.frame)
        def run():
            predicted = _as_list(served.model.predict(X))
            return predicted, (_as_list(served.model.predict_proba(X)) if proba else None)

        try:
            predictions, probabilities = state.predictor.call(served.model, batch.n_rows, run)
        except Exception as exc:   # valid rows the model still refuses: the client's data, not our bug
            raise ValidationError("prediction_failed", f"The model could not predict on these rows: "
                                  f"{type(exc).__name__}: {str(exc)[:300]}", 400) from None
    except ValidationError as exc:
        return _error(exc.code, exc.message + _hint_text(exc.hint), exc.status)
    except ModelDeskError as exc:
        return _error("bad_request", str(exc), 400)
    header_id = request.headers.get("X-Request-ID", "")
    request_id = header_id if _REQUEST_ID.match(header_id) else uuid.uuid4().hex
    g.rows = batch.n_rows
    if state.log is not None:
        state.log.submit(LogEntry(request_id, time.time(), served, batch.frame, predictions,
                                  (time.perf_counter() - t0) * 1000.0, probabilities))
    headers = {"X-Request-ID": request_id}
    if mlflow:
        if batch.warnings:
            headers["X-ModelDesk-Warnings"] = "; ".join(batch.warnings)[:1000]
        response = _json({"predictions": predictions}, headers=headers)
    else:
        answer = {"predictions": predictions, "request_id": request_id, "model": served.uri,
                  "version": served.version, "run_id": served.run_id, "warnings": batch.warnings}
        if probabilities is not None:
            answer["classes"] = served.classes
            answer["probabilities"] = probabilities
        response = _json(answer, headers=headers)
    if batch.n_rows >= BIG_REQUEST_ROWS:
        response.call_on_close(give_memory_back)
    return response


def _hint_text(hint) -> str:
    """The server's words for a core hint: HTTP clients are scripts, so the command to run."""
    if hint is not None and hint.action == "score_file":
        return " Score a file with: modeldesk score MODEL_URI INPUT.csv -o OUTPUT.csv"
    return ""


# A request of many rows leaves tens of MB of freed pages in the allocator's arenas; without
# handing them back, a server's RSS only grows (~800 MiB after a dozen 100,000-row requests).
BIG_REQUEST_ROWS = 5_000


def give_memory_back() -> None:
    """Return freed memory to the operating system (glibc's malloc_trim; a no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _as_list(pred) -> list:
    """Predictions as JSON-ready lists: numpy/pandas values, NaN as null, frames as records."""
    if hasattr(pred, "to_dict") and hasattr(pred, "columns"):
        return [{str(k): to_json(v) for k, v in row.items()} for row in pred.to_dict("records")]
    arr = np.asarray(pred)
    if arr.dtype.kind in "iub":
        return arr.tolist()
    if arr.dtype.kind == "f" and np.isfinite(arr).all():
        return arr.tolist()
    return to_json(arr)

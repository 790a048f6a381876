"""Running the serving app under waitress, and stopping it cleanly.

:class:`ServerHandle` runs waitress in a thread (tests bind port 0) and
stops it without leaving a thread or a socket behind. waitress 3.0.2's own
``close()`` leaves its worker threads running (PLATFORM.md), so the stop
is: close the listening socket from waitress' loop thread, let requests in
flight finish and their answers go out, close every channel through the
loop's trigger, join the loop thread, shut the task dispatcher down, then
flush the prediction log and stop the app's threads.

:func:`serve` is ``modeldesk serve``: loopback by default; any other
address needs a token (one is generated and printed when none is given);
SIGTERM and SIGINT stop it cleanly, writing every logged prediction first.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import socket
import sys
import threading
import time

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")


def is_loopback(host: str) -> bool:
    """True when ``host`` only reaches this machine (127.0.0.0/8, ::1, localhost)."""
    host = host.strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


# Waitress's defaults let 100 idle connections (connection_limit 100, kept for channel_timeout 120 s)
# make a server unreachable for two minutes, token or not. poll() instead of select() lifts the
# 1,024-descriptor ceiling; idle connections are closed after 10 s (checked every 5 s).
ABUSE_SETTINGS = {"asyncore_use_poll": True, "connection_limit": 1000, "channel_timeout": 10,
                  "cleanup_interval": 5}


def _json_error_task(state):
    """waitress' own errors (bad HTTP, body over the limit) answered as our JSON errors.

    Flask never sees these requests, so the task counts them in ``state.metrics`` itself,
    under the same labels Flask's after_request would use.
    """
    import json

    from waitress.task import ErrorTask

    from .routes import ENDPOINTS

    class JsonErrorTask(ErrorTask):
        def execute(self):
            err = self.request.error
            code = {400: "bad_request", 413: "body_too_large", 431: "headers_too_large",
                    500: "internal_error"}.get(err.code, "http_error")
            message = f"{err.reason}: {err.body}" if err.code != 500 else "The server failed on this request."
            body = json.dumps({"error": {"code": code, "message": message}}).encode()
            self.status = f"{err.code} {err.reason}"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self._count(err.code, code)   # before the answer goes out, as Flask's after_request does
            self.write(body)

        def _count(self, status: int, code: str) -> None:
            # Every input is defaulted: a request waitress could not parse has no path or method.
            path = getattr(self.request, "path", None) or ""
            endpoint = path if path in ENDPOINTS else "other"   # fixed labels, as in routes._count
            method = str(getattr(self.request, "command", None) or "").upper()
            method = method if method in _METHODS else "other"   # garbage must not grow /metrics
            elapsed = max(0.0, time.time() - self.start_time) if self.start_time else 0.0
            state.metrics.observe(endpoint, method, status, elapsed, code=code)
            if state.announce:
                print(f"modeldesk serve: {status} {method} {endpoint} {code}", file=sys.stderr, flush=True)

    return JsonErrorTask


class ServerHandle:
    """A waitress server for a serving app, running in a background thread.

    ``ServerHandle(app, port=0).start()`` binds a free port (``.port``,
    ``.url``); ``stop()`` leaves no thread or open socket. A context manager.
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, threads: int = 8,
                 record_events: bool = True, drain_timeout: float = 5.0):
        self.app, self.host, self.requested_port, self.threads = app, host, port, threads
        self.state = app.extensions["modeldesk"]
        self.record_events, self.drain_timeout = record_events, drain_timeout
        self.server = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> "ServerHandle":
        from waitress import create_server
        from waitress.channel import HTTPChannel
        from waitress.task import ThreadedTaskDispatcher

        host = "127.0.0.1" if self.host == "localhost" else self.host
        dispatcher = ThreadedTaskDispatcher()   # threads start only once the port is bound
        self.server = create_server(
            self.app, host=host, port=self.requested_port, threads=self.threads, ident="modeldesk",
            max_request_body_size=self.state.max_body, clear_untrusted_proxy_headers=True,
            expose_tracebacks=False, _dispatcher=dispatcher, **ABUSE_SETTINGS)
        dispatcher.set_thread_count(self.threads)
        channel_class = type("ModelDeskChannel", (HTTPChannel,), {"error_task_class": _json_error_task(self.state)})
        for listener in self._listeners():
            listener.channel_class = channel_class
        self._thread = threading.Thread(target=self.server.run, name="modeldesk-waitress", daemon=True)
        self._thread.start()
        if self.record_events:
            self.state.record("start", self.state.current, host=self.host, port=self.port,
                              threads=self.threads, token_required=self.state.token is not None,
                              prediction_log=self.state.log is not None)
        return self

    def _map(self) -> dict:
        return getattr(self.server, "_map", None) or self.server.map

    def _listeners(self) -> list:
        from waitress.server import BaseWSGIServer

        if isinstance(self.server, BaseWSGIServer):
            return [self.server]
        return [s for s in list(self._map().values()) if isinstance(s, BaseWSGIServer)]

    @property
    def port(self) -> int:
        listener = self._listeners()[0] if self.server is not None else None
        return int(listener.effective_port) if listener is not None else self.requested_port

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def stop(self, reason: str = "stopped") -> None:
        """Stop accepting, finish requests in flight, close everything, flush the log."""
        if self._stopped or self.server is None:
            return
        self._stopped = True
        from waitress import wasyncore
        from waitress.channel import HTTPChannel

        listeners = self._listeners()
        trigger = listeners[0].trigger
        map_ = self._map()
        port = self.port
        closed = threading.Event()

        def close_listeners():
            for listener in listeners:
                wasyncore.dispatcher.close(listener)   # the listening socket only; channels stay
            closed.set()

        if _pull(trigger, close_listeners):
            closed.wait(self.drain_timeout)
        else:                                            # no way into the loop thread: do it from here
            close_listeners()
        dispatcher = self.server.task_dispatcher
        deadline = time.monotonic() + self.drain_timeout
        while time.monotonic() < deadline:
            channels = [c for c in list(map_.values()) if isinstance(c, HTTPChannel)]
            busy = dispatcher.queue or dispatcher.active_count or any(
                c.requests or c.total_outbufs_len for c in channels)
            if not busy:
                break
            time.sleep(0.01)
        if not _pull(trigger, lambda: wasyncore.close_all(map_)):
            wasyncore.close_all(map_)                    # the loop sees an empty map and returns
        self._thread.join(timeout=10)
        dispatcher.shutdown(timeout=10)
        if self.record_events:
            log = self.state.log
            if log is not None:
                log.flush()
            stats = log.stats if log is not None else None
            self.state.record("stop", self.state.current, host=self.host, port=port, reason=reason,
                              logged_rows=stats.written_rows if stats else None,
                              dropped_rows=stats.dropped_rows if stats else None)
        self.state.close()

    def __enter__(self) -> "ServerHandle":
        return self.start() if self.server is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve(project_path, model_uri: str, *, host: str = "127.0.0.1", port: int = 5005, token: str | None = None,
          threads: int = 8, log_predictions: bool = True, max_body: int = 32 * 2**20,
          max_rows: int | None = None, reload_interval: float = 2.0, user: str | None = None, echo=None,
          parent_pid: int | None = None) -> int:
    """Serve until SIGTERM/SIGINT; returns the process exit code (0 after a clean stop).

    With ``parent_pid`` (the app that started this server) it also stops
    cleanly when that process is gone, so a crashed or killed app leaves no
    server behind holding a port.

    Any non-loopback ``host`` needs a token: one is generated with
    :func:`secrets.token_urlsafe` and printed when ``token`` is None.
    """
    from .app import create_app

    echo = echo or (lambda text: print(text, flush=True))
    generated = False
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(32)
        generated = True
    kwargs = {"max_rows": max_rows} if max_rows else {}
    app = create_app(project_path, model_uri, token=token, log_predictions=log_predictions, max_body=max_body,
                     reload_interval=reload_interval, announce=True, user=user, **kwargs)
    stop_requested = threading.Event()
    received: list[str] = []

    def on_signal(signum, _frame):
        received.append(signal.Signals(signum).name)
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            handle = ServerHandle(app, host, port, threads=threads).start()
        except OSError as exc:
            app.extensions["modeldesk"].close()
            from ..core.errors import UsageError

            raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}. "
                             "Pick another --port (0 picks a free one).") from None
        served = handle.state.current
        label = f"version {served.version}" if served.version is not None else f"run {served.run_id[:8]}"
        echo(f"Serving {handle.state.uri} ({label}, sha256 {served.sha256[:12]}) at {handle.url}")
        if generated:
            echo(f"Token (send 'Authorization: Bearer <token>'; /health and /ping are open): {token}")
        elif token:
            echo("Requests need 'Authorization: Bearer <token>' (the token given with --token); "
                 "/health and /ping are open.")
        echo(f"Prediction log: {'on' if log_predictions else 'off'}. Press Ctrl+C to stop.")
        while not stop_requested.wait(0.5):
            if parent_pid is not None and os.getppid() != parent_pid:   # re-parented: the app died
                received.append("the app that started it exited")
                break
        handle.stop(reason=received[0] if received else "stopped")
        stats = handle.state.log.stats if handle.state.log is not None else None
        logged = f"; {stats.written_rows:,} prediction(s) logged, {stats.dropped_rows:,} dropped" if stats else ""
        echo(f"Stopped ({received[0] if received else 'stop'}){logged}.")
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _pull(trigger, thunk) -> bool:
    """Run ``thunk`` in waitress's loop thread; False when its trigger is gone.

    Seen once in a test run: the trigger's pipe was already closed (EBADF) at
    the second pull of a stop. The stop then does the work from this thread
    rather than fail half-way with the log unflushed.
    """
    try:
        trigger.pull_trigger(thunk)
    except OSError:
        return False
    return True

"""A model server started from the desktop app: ``modeldesk serve`` as a child process.

One code path with the CLI: the child is ``python -m modeldesk --project PATH
serve URI --port 0``, started with QProcess. Its first stdout line
(``Serving URI (version 3, sha256 …) at URL``) gives the URL; stderr is the
server's log (errors, version switches). Once it answers, ``/health`` and
``/metrics`` are read every second off the GUI thread (a worker with
urllib, on a small named pool of its own so a long scoring run cannot starve it),
and :class:`MetricsHistory` turns the counters into requests/s, errors/s and
latency quantiles for the live chart.

Stopping sends SIGTERM, which the server answers with a clean stop (requests
in flight finish, the prediction log is flushed, the stop is recorded); a
server that has not exited after :data:`KILL_AFTER_MS` is killed.
"""

from __future__ import annotations

import collections
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from ..kit.workers import Jobs, Task, pool

FIRST_LINE = re.compile(r"^Serving (?P<uri>\S+) \((?P<what>.*)\) at (?P<url>https?://\S+)\s*$")
_LABELS = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
POLL_MS = 1000
KILL_AFTER_MS = 15_000          # the server drains for up to 5 s, then flushes its log
HTTP_TIMEOUT_S = 2.0
LOG_LINES = 2000
OWN_ENDPOINTS = ("/health", "/ping", "/version", "/metrics", "/metadata")   # probes and what the app reads: not traffic

STARTING, RUNNING, STOPPING, STOPPED, FAILED = "starting", "running", "stopping", "stopped", "failed"

POLL_POOL = "server-polls"   # reads servers' /metrics: apart from the views' queries


# -- reading /metrics (no Qt below this line until ServerProcess) ------------------------
def split_key(key: str) -> tuple[str, dict[str, str]]:
    """``'name{a="1",b="x"}'`` -> ``('name', {'a': '1', 'b': 'x'})``."""
    name, _, rest = key.partition("{")
    return name, {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _LABELS.findall(rest)}


@dataclass
class Totals:
    """Counters of one /metrics page, summed the way the Serving view shows them."""

    requests: float = 0.0                   # traffic: every endpoint but the app's own reads
    errors: float = 0.0
    rows: float = 0.0
    errors_by_code: dict = field(default_factory=dict)     # (code, endpoint) -> count
    p50: float | None = None                # seconds, last minute's successful predictions
    p99: float | None = None
    last_error: float = 0.0                 # unix time
    logged_rows: float | None = None
    dropped_rows: float | None = None

    @classmethod
    def from_samples(cls, samples: dict[str, float]) -> "Totals":
        t = cls()
        for key, value in samples.items():
            name, labels = split_key(key)
            if name == "modeldesk_requests_total":
                if labels.get("endpoint") not in OWN_ENDPOINTS:
                    t.requests += value
            elif name == "modeldesk_request_errors_total":
                t.errors += value
                k = (labels.get("code", "?"), labels.get("endpoint", "?"))
                t.errors_by_code[k] = t.errors_by_code.get(k, 0) + value
            elif name == "modeldesk_predicted_rows_total":
                t.rows += value
            elif name == "modeldesk_prediction_latency_seconds":
                if labels.get("quantile") == "0.5":
                    t.p50 = value
                elif labels.get("quantile") == "0.99":
                    t.p99 = value
            elif name == "modeldesk_last_error_timestamp_seconds":
                t.last_error = value
            elif name == "modeldesk_prediction_log_written_rows_total":
                t.logged_rows = value
            elif name == "modeldesk_prediction_log_dropped_rows_total":
                t.dropped_rows = value
        return t


class MetricsHistory:
    """Rates between successive /metrics pages, kept for ``keep_s`` seconds."""

    def __init__(self, keep_s: float = 900.0):
        self.keep_s = keep_s
        self.times: collections.deque = collections.deque()
        self.rps: collections.deque = collections.deque()
        self.eps: collections.deque = collections.deque()
        self.p50_ms: collections.deque = collections.deque()
        self.p99_ms: collections.deque = collections.deque()
        self.last: Totals | None = None
        self._last_t: float | None = None

    def add(self, t: float, totals: Totals) -> None:
        prev, prev_t = self.last, self._last_t
        self.last, self._last_t = totals, t
        if prev is None or prev_t is None or t <= prev_t:
            return
        dt = t - prev_t
        nan = float("nan")
        self.times.append(t)
        # a counter that went down means the server restarted: count from zero
        self.rps.append(max(0.0, totals.requests - (prev.requests if totals.requests >= prev.requests else 0)) / dt)
        self.eps.append(max(0.0, totals.errors - (prev.errors if totals.errors >= prev.errors else 0)) / dt)
        self.p50_ms.append(totals.p50 * 1000 if totals.p50 is not None else nan)
        self.p99_ms.append(totals.p99 * 1000 if totals.p99 is not None else nan)
        while self.times and self.times[0] < t - self.keep_s:
            for series in (self.times, self.rps, self.eps, self.p50_ms, self.p99_ms):
                series.popleft()

    def __len__(self) -> int:
        return len(self.times)

    def recent_rate(self, seconds: float = 5.0) -> tuple[float, float]:
        """Mean requests/s and errors/s over the last ``seconds``."""
        if not self.times:
            return 0.0, 0.0
        cutoff = self.times[-1] - seconds
        picked = [(r, e) for t, r, e in zip(self.times, self.rps, self.eps) if t > cutoff]
        return (sum(r for r, _ in picked) / len(picked), sum(e for _, e in picked) / len(picked))


def fetch(url: str, want_metadata: bool) -> dict:
    """GET /health, /metrics (and /metadata) from a local server. Runs on a worker thread."""
    import urllib.request

    from ...core.serving.metrics_text import parse_metrics

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))   # loopback: never a proxy

    def get(path: str) -> bytes:
        with opener.open(url.rstrip("/") + path, timeout=HTTP_TIMEOUT_S) as response:
            return response.read()

    try:
        out = {"health": json.loads(get("/health")), "samples": parse_metrics(get("/metrics").decode()),
               "time": time.time()}
        if want_metadata:
            out["metadata"] = json.loads(get("/metadata"))
    except (OSError, ValueError) as exc:   # refused, timed out, stopping: an answer, not a traceback
        reason = getattr(exc, "reason", None) or exc
        return {"error": f"{type(reason).__name__}: {reason}" if not str(reason) else str(reason)}
    return out


# -- the process ---------------------------------------------------------------------------
class ServerProcess(QObject):
    """One ``modeldesk serve`` child process and what the app knows about it.

    ``changed`` fires when status, URL, version or figures change; ``logLine``
    for every line the server prints; ``sampled`` after each /metrics read.
    """

    changed = Signal()
    logLine = Signal(str)
    sampled = Signal()

    def __init__(self, project_path, uri: str, *, user: str | None = None, extra_args: tuple = (),
                 python: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.project_path = str(project_path)
        self.uri = uri
        self.user = user
        self.status = STARTING
        self.message = ""                   # why it failed, or what it is doing
        self.url: str | None = None
        self.port: int | None = None
        self.version = None                 # from /health
        self.run_id: str | None = None
        self.health: dict = {}
        self.metadata: dict | None = None
        self.started_at: float | None = None   # time.time() when the URL line arrived
        self.uptime_s: float | None = None
        self.exit_code: int | None = None
        self.history = MetricsHistory()
        self.log: collections.deque = collections.deque(maxlen=LOG_LINES)
        self.error_lines: collections.deque = collections.deque(maxlen=50)
        self.unreachable = 0                # failed polls in a row
        self._stop_requested = False
        self._poll: Task | None = None      # the /metrics read in flight
        self.jobs = Jobs(self, pool(POLL_POOL, max_threads=4, expiry_ms=5000))
        self._want_metadata = True
        self._partial = {"out": b"", "err": b""}
        self.process = QProcess(self)
        self.process.setProgram(python or sys.executable)
        # A frozen app (PyInstaller) is itself the `modeldesk` command; otherwise run the package.
        args = ([] if getattr(sys, "frozen", False) and python is None else ["-m", "modeldesk"])
        args += ["--project", self.project_path]
        if user:
            args += ["--as", user]
        self.process.setArguments(args + ["serve", uri, "--port", "0", *extra_args])
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.remove("MODELDESK_SERVE_TOKEN")   # loopback without a token, so the app can read /metrics
        env.insert("MODELDESK_SERVE_PARENT", str(os.getpid()))   # if the app dies, the server stops too
        self.process.setProcessEnvironment(env)
        self.process.readyReadStandardOutput.connect(self._read_stdout)
        self.process.readyReadStandardError.connect(self._read_stderr)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._process_error)
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self.poll)

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.status, self.message = STARTING, "loading the model…"
        self.process.start()
        self.changed.emit()

    @property
    def pid(self) -> int | None:
        pid = self.process.processId()
        return int(pid) if pid else None

    @property
    def alive(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    @property
    def active(self) -> bool:
        """Starting, running or stopping: a process the app must stop before it quits."""
        return self.status in (STARTING, RUNNING, STOPPING) and self.alive

    def stop(self) -> None:
        """Ask the server to stop cleanly (SIGTERM); killed if it has not exited in time."""
        if not self.alive:
            return
        self._stop_requested = True
        self.status, self.message = STOPPING, "stopping…"
        self._timer.stop()
        self.process.terminate()
        QTimer.singleShot(KILL_AFTER_MS, self, self._kill_if_running)
        self.changed.emit()

    def _kill_if_running(self) -> None:
        if self.alive:
            self._line("modeldesk (app): the server did not stop in time; killed it.")
            self.process.kill()

    def wait_stopped(self, msecs: int = KILL_AFTER_MS) -> bool:
        """Block until the process has exited (quitting the app); kills it after ``msecs``."""
        if not self.alive:
            return True
        if not self.process.waitForFinished(msecs):
            self.process.kill()
            return self.process.waitForFinished(3000)
        return True

    def _finished(self, code: int, exit_status) -> None:
        self._timer.stop()
        self._flush_partial()
        self.exit_code = code
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        if self._stop_requested or (code == 0 and not crashed):
            self.status, self.message = STOPPED, "stopped"
        else:
            self.status = FAILED
            errors = [line for line in self.log if line.startswith("Error:")]
            if errors:
                self.message = errors[-1][len("Error:"):].strip()
            elif crashed:
                self.message = "the server process crashed"
            else:
                tail = [line for line in self.log if line.strip()][-1:]
                self.message = f"exited with code {code}" + (f": {tail[0]}" if tail else "")
        self.changed.emit()

    def _process_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.status, self.message = FAILED, f"could not start {self.process.program()}: " \
                                                f"{self.process.errorString()}"
            self.changed.emit()

    # -- output --------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        for line in self._lines("out", bytes(self.process.readAllStandardOutput())):
            self._line(line)
            match = FIRST_LINE.match(line)
            if match and self.url is None:
                self.url = match.group("url")
                self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])
                self.started_at = time.time()
                self.status, self.message = RUNNING, ""
                self._timer.start()
                self.changed.emit()
                self.poll()

    def _read_stderr(self) -> None:
        for line in self._lines("err", bytes(self.process.readAllStandardError())):
            self._line(line)
            if line.startswith("modeldesk serve: ") or line.startswith("Error:") or "Traceback" in line:
                self.error_lines.append((time.time(), line))

    def _lines(self, which: str, data: bytes) -> list[str]:
        data = self._partial[which] + data
        *complete, self._partial[which] = data.split(b"\n")
        return [raw.decode("utf-8", "replace").rstrip("\r") for raw in complete]

    def _flush_partial(self) -> None:
        self._read_stdout()
        self._read_stderr()
        for which in ("out", "err"):
            if self._partial[which]:
                self._line(self._partial[which].decode("utf-8", "replace"))
                self._partial[which] = b""

    def _line(self, line: str) -> None:
        self.log.append(line)
        self.logLine.emit(line)

    # -- polling /health and /metrics -----------------------------------------------------
    def poll(self) -> None:
        if self.url is None or self.status != RUNNING or self._poll is not None:
            return
        self._poll = self.jobs.start(fetch, self.url, self._want_metadata, done=self._polled,
                                     failed=self._poll_failed)

    def _release(self) -> None:
        self._poll = None   # (Jobs keeps the task until its pool thread has left it)

    def _polled(self, result: dict) -> None:
        if "error" in result:
            self._poll_failed(result["error"])
            return
        self._release()
        if self.status != RUNNING:
            return
        self.unreachable = 0
        health = result["health"]
        if self.version is not None and health.get("version") != self.version:
            self._want_metadata = True          # switched version: the signature may differ
        self.health = health
        self.version = health.get("version")
        self.run_id = health.get("run_id")
        self.uptime_s = health.get("uptime_s")
        if "metadata" in result:
            self.metadata = result["metadata"]
            self._want_metadata = False
        self.history.add(result["time"], Totals.from_samples(result["samples"]))
        self.message = ""
        self.sampled.emit()
        self.changed.emit()

    def _poll_failed(self, text: str) -> None:
        self._release()
        if self.status == RUNNING:
            self.unreachable += 1
            if self.unreachable >= 3:
                self.message = f"not answering: {text}"
                self.changed.emit()

    # -- what the view shows ---------------------------------------------------------------
    def uptime(self) -> float | None:
        if self.status != RUNNING or self.started_at is None:
            return None
        return time.time() - self.started_at

    def status_text(self) -> str:
        if self.status == RUNNING and self.message:
            return f"running, {self.message}"
        if self.status == FAILED:
            return f"failed: {self.message}" if self.message else "failed"
        return self.status

    def curl(self) -> str | None:
        """A copyable curl command for one row, built from the served signature."""
        if self.metadata is None or self.url is None:
            return None
        from ...core.serving.examples import curl_example

        signature = self.metadata.get("signature") or {}
        if not signature.get("inputs"):
            return None
        example = self.metadata.get("example") or {}
        row = (example.get("records") or [None])[0]
        return curl_example(signature, self.url, example=row)

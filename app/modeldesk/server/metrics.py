"""Request counters and latency figures, rendered in Prometheus' text format.

``/metrics`` is read by Prometheus and by the desktop app's Serving view
(live requests/s from the counters, p50/p99 from the recent quantiles).
"""

from __future__ import annotations

import collections
import threading
import time

BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RECENT_WINDOW_S = 60.0
QUANTILES = (0.5, 0.9, 0.99)
PREDICT_ENDPOINTS = ("/predict", "/invocations")


class Metrics:
    """Thread-safe counters of one server process."""

    def __init__(self):
        self.pruned_rows = 0   # by the retention thread (one writer: a plain int is enough)
        self.started = time.time()
        self._lock = threading.Lock()
        self.requests: collections.Counter = collections.Counter()    # (endpoint, method, status)
        self.errors: collections.Counter = collections.Counter()      # (endpoint, code)
        self.rows: collections.Counter = collections.Counter()        # endpoint -> predicted rows
        self._hist: dict[str, list] = {}                              # endpoint -> [bucket counts..., sum, count]
        self._recent: collections.deque = collections.deque(maxlen=20_000)   # (time, seconds) of predictions
        self.last_error_time = 0.0

    def observe(self, endpoint: str, method: str, status: int, seconds: float, *, code: str | None = None,
                rows: int = 0) -> None:
        with self._lock:
            self.requests[(endpoint, method, status)] += 1
            hist = self._hist.get(endpoint)
            if hist is None:
                hist = self._hist[endpoint] = [0] * (len(BUCKETS) + 2)
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    hist[i] += 1
                    break
            hist[-2] += seconds
            hist[-1] += 1
            if code is not None:
                self.errors[(endpoint, code)] += 1
                self.last_error_time = time.time()
            if rows:
                self.rows[endpoint] += rows
            if endpoint in PREDICT_ENDPOINTS and status < 400:
                self._recent.append((time.monotonic(), seconds))

    def recent_quantiles(self) -> tuple[dict[float, float], int]:
        """Latency quantiles of successful predictions in the last minute, and their count."""
        cutoff = time.monotonic() - RECENT_WINDOW_S
        with self._lock:
            values = sorted(s for t, s in self._recent if t >= cutoff)
        if not values:
            return {}, 0
        return {q: values[min(len(values) - 1, int(q * len(values)))] for q in QUANTILES}, len(values)

    def render(self, *, model: dict, log_stats=None, switches: int = 0, reload_errors: int = 0,
               logging_on: bool = True) -> str:
        out: list[str] = []

        def meta(name: str, kind: str, text: str) -> None:
            out.append(f"# HELP {name} {text}")
            out.append(f"# TYPE {name} {kind}")

        with self._lock:
            requests = sorted(self.requests.items())
            errors = sorted(self.errors.items())
            rows = sorted(self.rows.items())
            hists = {k: list(v) for k, v in sorted(self._hist.items())}
            last_error = self.last_error_time
        meta("modeldesk_requests_total", "counter", "HTTP requests answered, by endpoint, method and status.")
        for (endpoint, method, status), n in requests:
            out.append(f'modeldesk_requests_total{{endpoint="{endpoint}",method="{method}",status="{status}"}} {n}')
        meta("modeldesk_request_errors_total", "counter", "Error answers, by endpoint and error code.")
        for (endpoint, code), n in errors:
            out.append(f'modeldesk_request_errors_total{{endpoint="{endpoint}",code="{code}"}} {n}')
        meta("modeldesk_last_error_timestamp_seconds", "gauge", "Unix time of the last error answer (0: none yet).")
        out.append(f"modeldesk_last_error_timestamp_seconds {last_error:.3f}")
        meta("modeldesk_predicted_rows_total", "counter", "Rows predicted, by endpoint.")
        for endpoint, n in rows:
            out.append(f'modeldesk_predicted_rows_total{{endpoint="{endpoint}"}} {n}')
        meta("modeldesk_request_duration_seconds", "histogram", "Time from request to answer, by endpoint.")
        for endpoint, hist in hists.items():
            cumulative = 0
            for bound, n in zip(BUCKETS, hist):
                cumulative += n
                out.append(f'modeldesk_request_duration_seconds_bucket{{endpoint="{endpoint}",le="{bound:g}"}} '
                           f"{cumulative}")
            out.append(f'modeldesk_request_duration_seconds_bucket{{endpoint="{endpoint}",le="+Inf"}} {hist[-1]}')
            out.append(f'modeldesk_request_duration_seconds_sum{{endpoint="{endpoint}"}} {hist[-2]:.6f}')
            out.append(f'modeldesk_request_duration_seconds_count{{endpoint="{endpoint}"}} {hist[-1]}')
        quantiles, count = self.recent_quantiles()
        meta("modeldesk_prediction_latency_recent_seconds", "summary",
             f"Latency of successful predictions over the last {RECENT_WINDOW_S:g} s.")
        for q, v in quantiles.items():
            out.append(f'modeldesk_prediction_latency_recent_seconds{{quantile="{q:g}"}} {v:.6f}')
        out.append(f"modeldesk_prediction_latency_recent_seconds_count {count}")
        meta("modeldesk_prediction_log_enabled", "gauge", "1 when predictions are logged to the project.")
        out.append(f"modeldesk_prediction_log_enabled {int(logging_on)}")
        if log_stats is not None:
            for name, value, kind, text in (
                    ("written_rows_total", log_stats.written_rows, "counter", "Prediction rows written."),
                    ("dropped_rows_total", log_stats.dropped_rows, "counter",
                     "Prediction rows dropped because the writer fell behind (oldest first)."),
                    ("dropped_requests_total", log_stats.dropped_requests, "counter",
                     "Requests whose log entries were dropped."),
                    ("pending_rows", log_stats.pending_rows, "gauge", "Prediction rows waiting to be written."),
                    ("write_errors_total", log_stats.write_errors, "counter", "Failed prediction log writes.")):
                meta(f"modeldesk_prediction_log_{name}", kind, text)
                out.append(f"modeldesk_prediction_log_{name} {value}")
        meta("modeldesk_model_info", "gauge", "The model being served (value 1).")
        labels = ",".join(f'{k}="{_escape(v)}"' for k, v in model.items())
        out.append(f"modeldesk_model_info{{{labels}}} 1")
        meta("modeldesk_model_switches_total", "counter", "Times the served model was switched to another version.")
        out.append(f"modeldesk_model_switches_total {switches}")
        meta("modeldesk_model_reload_errors_total", "counter", "Failed attempts to load a new version.")
        out.append(f"modeldesk_model_reload_errors_total {reload_errors}")
        meta("modeldesk_start_time_seconds", "gauge", "Unix time the server started.")
        out.append(f"modeldesk_start_time_seconds {self.started:.3f}")
        meta("modeldesk_uptime_seconds", "gauge", "Seconds since the server started.")
        out.append(f"modeldesk_uptime_seconds {time.time() - self.started:.3f}")
        meta("modeldesk_prediction_log_pruned_rows_total", "counter",
             "Logged predictions deleted by the project's retention settings.")
        out.append(f"modeldesk_prediction_log_pruned_rows_total {self.pruned_rows}")
        return "\n".join(out) + "\n"


def _escape(value) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')

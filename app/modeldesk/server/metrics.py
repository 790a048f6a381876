"""Request counters and latency figures, exposed through ``prometheus_client``.

``/metrics`` is read by Prometheus and by the desktop app's Serving view
(live requests/s from the counters, p50/p99 from the summary's quantiles).
Each :class:`Metrics` has its own ``CollectorRegistry``, so several apps can
live in one process (the tests do) without sharing counters.

Standard metrics come from the library (counters with ``_total``, the latency
histogram, the process collector's memory/CPU/open files). Figures owned by
other objects (the prediction log's writer, the model holder, the retention
thread) are read at scrape time by :class:`_Snapshot`, a custom collector.
"""

from __future__ import annotations

import collections
import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, SummaryMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.samples import Sample

BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RECENT_WINDOW_S = 60.0
QUANTILES = (0.5, 0.9, 0.99)
PREDICT_ENDPOINTS = ("/predict", "/invocations")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"   # what generate_latest writes


class Metrics:
    """Thread-safe counters of one server process, in a registry of their own."""

    def __init__(self):
        self.pruned_rows = 0   # by the retention thread (one writer: a plain int is enough)
        self.started = time.time()
        self._lock = threading.Lock()
        self._recent: collections.deque = collections.deque(maxlen=20_000)   # (time, seconds) of predictions
        self._latency_sum = 0.0     # every successful prediction since start: never goes backwards
        self._latency_count = 0
        self._render_lock = threading.Lock()
        self._scrape: dict = {}
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("modeldesk_requests", "HTTP requests answered, by endpoint, method and status.",
                                ("endpoint", "method", "status"), registry=registry)
        self.errors = Counter("modeldesk_request_errors", "Error answers, by endpoint and error code.",
                              ("endpoint", "code"), registry=registry)
        self.last_error = Gauge("modeldesk_last_error_timestamp_seconds",
                                "Unix time of the last error answer (0: none yet).", registry=registry)
        self.rows = Counter("modeldesk_predicted_rows", "Rows predicted, by endpoint.", ("endpoint",),
                            registry=registry)
        self.duration = Histogram("modeldesk_request_duration_seconds", "Time from request to answer, by endpoint.",
                                  ("endpoint",), buckets=BUCKETS, registry=registry)
        ProcessCollector(registry=registry)   # process_resident_memory_bytes, process_cpu_seconds_total, ...
        registry.register(_Snapshot(self))

    def observe(self, endpoint: str, method: str, status: int, seconds: float, *, code: str | None = None,
                rows: int = 0) -> None:
        self.requests.labels(endpoint, method, str(status)).inc()
        self.duration.labels(endpoint).observe(seconds)
        if code is not None:
            self.errors.labels(endpoint, code).inc()
            self.last_error.set(time.time())
        if rows:
            self.rows.labels(endpoint).inc(rows)
        if endpoint in PREDICT_ENDPOINTS and status < 400:
            with self._lock:
                self._recent.append((time.monotonic(), seconds))
                self._latency_sum += seconds
                self._latency_count += 1

    def latency_summary(self) -> tuple[dict[float, float], float, int]:
        """Quantiles of the last minute's successful predictions; sum and count of all of them."""
        cutoff = time.monotonic() - RECENT_WINDOW_S
        with self._lock:
            values = sorted(s for t, s in self._recent if t >= cutoff)
            total, count = self._latency_sum, self._latency_count
        quantiles = {q: values[min(len(values) - 1, int(q * len(values)))] for q in QUANTILES} if values else {}
        return quantiles, total, count

    def render(self, *, model: dict, log_stats=None, switches: int = 0, reload_errors: int = 0,
               logging_on: bool = True) -> bytes:
        """The text page (Prometheus format 0.0.4) with the figures other objects own as of now."""
        with self._render_lock:   # one scrape at a time reads the snapshot it set
            self._scrape = {"model": model, "log_stats": log_stats, "switches": switches,
                            "reload_errors": reload_errors, "logging_on": logging_on}
            try:
                return generate_latest(self.registry)
            finally:
                self._scrape = {}


class _Snapshot:
    """A custom collector for figures read at scrape time (not counted by this module)."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def describe(self):
        return []   # names vary with what the scrape passes; nothing to check at registration

    def collect(self):
        m = self.metrics
        scrape = m._scrape
        quantiles, total, count = m.latency_summary()
        summary = SummaryMetricFamily(
            "modeldesk_prediction_latency_seconds",
            f"Latency of successful predictions: quantiles over the last {RECENT_WINDOW_S:g} s, "
            "_sum and _count since the server started.")
        summary.add_metric([], count_value=count, sum_value=total)
        for q, v in quantiles.items():   # a summary's quantile samples, as client_golang's max-age window
            summary.samples.append(Sample("modeldesk_prediction_latency_seconds", {"quantile": f"{q:g}"}, v))
        yield summary
        yield GaugeMetricFamily("modeldesk_prediction_log_enabled", "1 when predictions are logged to the project.",
                                value=int(scrape.get("logging_on", True)))
        stats = scrape.get("log_stats")
        if stats is not None:
            for name, value, text in (
                    ("written_rows", stats.written_rows, "Prediction rows written."),
                    ("dropped_rows", stats.dropped_rows,
                     "Prediction rows dropped because the writer fell behind (oldest first)."),
                    ("dropped_requests", stats.dropped_requests, "Requests whose log entries were dropped."),
                    ("write_errors", stats.write_errors, "Failed prediction log writes.")):
                yield CounterMetricFamily(f"modeldesk_prediction_log_{name}", text, value=value)
            yield GaugeMetricFamily("modeldesk_prediction_log_pending_rows", "Prediction rows waiting to be written.",
                                    value=stats.pending_rows)
        model = scrape.get("model")
        if model is not None:
            info = InfoMetricFamily("modeldesk_model", "The model being served (value 1).")
            info.add_metric([], {k: "" if v is None else str(v) for k, v in model.items()})
            yield info
        yield CounterMetricFamily("modeldesk_model_switches",
                                  "Times the served model was switched to another version.",
                                  value=scrape.get("switches", 0))
        yield CounterMetricFamily("modeldesk_model_reload_errors", "Failed attempts to load a new version.",
                                  value=scrape.get("reload_errors", 0))
        yield GaugeMetricFamily("modeldesk_start_time_seconds", "Unix time the server started.", value=m.started)
        yield GaugeMetricFamily("modeldesk_uptime_seconds", "Seconds since the server started.",
                                value=time.time() - m.started)
        yield CounterMetricFamily("modeldesk_prediction_log_pruned_rows",
                                  "Logged predictions deleted by the project's retention settings.",
                                  value=m.pruned_rows)

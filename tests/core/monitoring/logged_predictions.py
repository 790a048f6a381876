"""A registered breast-cancer model with ten days of logged predictions, the last three shifted;
answered and failed requests with chosen latencies, for serving health."""

from __future__ import annotations

import numpy as np
import pandas as pd

from modeldesk.core.serving.prediction_failures import FailedRequest, write_failures
from modeldesk.core.serving.prediction_log import LogEntry, write_predictions
from modeldesk.core.serving.served_model import load_served
from support.data import breast_cancer
from support.registry import log_run

DAY0 = 1_767_225_600.0          # 2026-01-01 00:00 UTC
DAYS = 10
SHIFTED_DAYS = 3                # the last three days read larger
PER_DAY = 150
SHIFTED = ["mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness", "mean compactness",
           "mean concavity", "mean concave points", "mean symmetry", "mean fractal dimension", "radius error",
           "texture error", "perimeter error", "area error", "worst radius", "worst texture", "worst perimeter",
           "worst area", "worst smoothness", "worst compactness"]   # 20 of 30 columns


def register(md, name: str = "cancer", dataset: bool = True) -> str:
    """Log and register a model (with its training dataset, target included); return its URI."""
    run_id = log_run(md, dataset=dataset)
    md.register_model(f"runs:/{run_id}/model", name)
    return f"models:/{name}/1"


def log_day(project, uri: str, day: int, *, shifted: bool, n: int = PER_DAY, seed: int | None = None) -> int:
    """Log ``n`` single-row requests on day ``day`` (0 = DAY0); returns the rows written."""
    served = load_served(project, uri)
    X, _ = breast_cancer()
    rng = np.random.default_rng(day if seed is None else seed)
    frame = X.iloc[rng.integers(0, len(X), n)].reset_index(drop=True)
    frame = frame * (1 + rng.normal(0, 0.01, frame.shape))
    if shifted:
        frame[SHIFTED] = frame[SHIFTED] * 1.5
    times = np.sort(DAY0 + day * 86400 + rng.uniform(0.02, 0.98, n) * 86400)
    predictions = served.model.predict(frame)
    entries = [LogEntry(f"d{day}-{seed}-{k}", float(times[k]), served, frame.iloc[k:k + 1],
                        [int(predictions[k])], 1.0) for k in range(n)]
    return write_predictions(project, entries)


def fill(project, uri: str, days: int = DAYS, shifted_days: int = SHIFTED_DAYS) -> int:
    return sum(log_day(project, uri, d, shifted=d >= days - shifted_days) for d in range(days))


def day(d: int) -> pd.Timestamp:
    return pd.Timestamp(DAY0 + d * 86400, unit="s", tz="UTC")


def log_requests(project, uri: str, day: int, latencies, rows: int = 1, hour: float = 1.0) -> None:
    """One answered request of ``rows`` rows per latency (ms), a second apart from ``hour`` on day ``day``."""
    served = load_served(project, uri)
    X, _ = breast_cancer()
    entries = [LogEntry(f"d{day}-h{hour}-{k}", DAY0 + day * 86400 + hour * 3600 + k, served, X.iloc[:rows],
                        [0] * rows, float(ms)) for k, ms in enumerate(latencies)]
    write_predictions(project, entries)


def log_failures(project, uri: str, day: int, n: int, hour: float = 2.0) -> None:
    """``n`` requests answered 400 (bad_request), a second apart from ``hour`` on day ``day``."""
    served = load_served(project, uri)
    write_failures(project, [FailedRequest(DAY0 + day * 86400 + hour * 3600 + k, served, 400, "bad_request", 0.3)
                             for k in range(n)])

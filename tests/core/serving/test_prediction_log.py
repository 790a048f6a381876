"""core.predictions: the batched background log writer, reading the log, labels, curl examples."""

from __future__ import annotations

import json
import shlex
import sqlite3
import threading
import time

import pandas as pd
import pytest

from modeldesk.core.errors import UsageError
from modeldesk.core.serving import prediction_log as preds
from modeldesk.core.serving.examples import curl_example
from modeldesk.core.serving.prediction_log import LogEntry, PredictionLog, get_predictions, import_labels
from modeldesk.core.serving.served_model import ServedModel

SIG = {"inputs": [{"name": "x", "type": "double", "nullable": False},
                  {"name": "kind", "type": "string", "nullable": False}]}
MODEL = ServedModel("runs:/abc/model", None, None, "abc", "model", "f" * 64, SIG)
OTHER = ServedModel("models:/churn/2", "churn", 2, "def", "model", "e" * 64, SIG)


def entry(i: int, rows: int = 1, at: float | None = None, model=MODEL, request_id: str | None = None) -> LogEntry:
    frame = pd.DataFrame({"x": [float(i + r) for r in range(rows)], "kind": ["a"] * rows})
    return LogEntry(request_id or f"r{i}", time.time() if at is None else at, model, frame,
                    [i % 2] * rows, 1.5, None)


def count(project) -> int:
    return project.read("SELECT COUNT(*) FROM predictions")[0][0]


def test_writer_batches_off_the_callers_thread(project):
    log = PredictionLog(project, interval=0.05, batch_rows=1000, autostart=False)
    for i in range(500):
        log.submit(entry(i))
    assert count(project) == 0, "submit must only queue: the caller's thread never writes"
    log.start()
    assert log.flush(10)
    assert count(project) == 500 and log.stats.written_rows == 500
    assert log.stats.batches < 50, "rows must be written in batches, not one by one"
    log.stop()


def test_writer_wakes_early_when_a_batch_is_full(project):
    log = PredictionLog(project, interval=30, batch_rows=20)
    for i in range(20):
        log.submit(entry(i))
    deadline = time.monotonic() + 5
    while count(project) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert count(project) == 20
    log.stop()


def test_falling_behind_drops_the_oldest_and_counts_them(project):
    log = PredictionLog(project, capacity_rows=10, autostart=False)
    for i in range(15):
        log.submit(entry(i))
    assert log.stats.dropped_rows == 5 and log.stats.dropped_requests == 5 and log.stats.pending_rows == 10
    log.submit(entry(99, rows=3))                  # a 3-row request pushes out three more single rows
    assert log.stats.dropped_rows == 8 and log.stats.pending_rows == 10
    log.start()
    assert log.flush(10)
    ids = [r[0] for r in project.read("SELECT DISTINCT request_id FROM predictions ORDER BY request")]
    assert ids == [f"r{i}" for i in range(8, 15)] + ["r99"]
    log.stop()


def test_stop_flushes_everything_at_once(project):
    log = PredictionLog(project, interval=60, batch_rows=100_000)
    for i in range(300):
        log.submit(entry(i, rows=2))
    log.stop()   # does not wait for the 60 s interval (the per-test timeout would fail it)
    assert count(project) == 600
    log.submit(entry(1000))                       # after stop: counted, not written, no error
    assert log.stats.dropped_requests == 1 and count(project) == 600


def test_many_threads_lose_nothing(project):
    log = PredictionLog(project, interval=0.02)

    def work(k):
        for i in range(250):
            log.submit(entry(k * 1000 + i))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.stop()
    assert count(project) == 1000 and log.stats.dropped_rows == 0


def test_write_errors_are_retried(project, monkeypatch):
    real = preds.write_predictions
    failures = [2]

    def flaky(*args, **kw):
        if failures[0]:
            failures[0] -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return real(*args, **kw)

    monkeypatch.setattr(preds, "write_predictions", flaky)
    log = PredictionLog(project, interval=0.01)
    for i in range(10):
        log.submit(entry(i))
    assert log.flush(15)
    log.stop()
    assert count(project) == 10 and log.stats.write_errors == 2


# -- reading ------------------------------------------------------------------------------------------------
def _fill(project):
    day = 86400.0
    base = pd.Timestamp("2026-11-01T00:00:00Z").timestamp()
    entries = [entry(i, at=base + i * day) for i in range(5)]
    entries.append(entry(50, rows=2, at=base + 2.5 * day, model=OTHER, request_id="batch-1"))
    preds.write_predictions(project, entries)
    return base, day


def test_get_predictions_filters_by_model_and_time(project):
    base, day = _fill(project)
    df = get_predictions(project, "runs:/abc/model")
    assert df["request_id"].tolist() == ["r0", "r1", "r2", "r3", "r4"]
    assert list(df.columns) == ["request_id", "row", "time", "model", "version", "run_id", "latency_ms", "x",
                                "kind", "prediction", "label"]
    assert str(df["time"].dt.tz) == "UTC" and df["x"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert get_predictions(project, "runs:/abc/model", since="2026-11-02", until="2026-11-04")["request_id"].tolist() \
        == ["r1", "r2"]
    assert len(get_predictions(project, "runs:/abc/model", since=base + 3 * day)) == 2
    assert len(get_predictions(project, "runs:/abc/model", since=pd.Timestamp("2026-11-04T00:00:00Z"))) == 2
    other = get_predictions(project, "models:/churn/2")
    assert other["row"].tolist() == [0, 1] and other["version"].tolist() == [2, 2]
    assert len(get_predictions(project, "churn/2")) == 2                     # CLI short form
    assert get_predictions(project, "models:/churn/3").empty
    with pytest.raises(UsageError, match="not a time"):
        get_predictions(project, "runs:/abc/model", since="last tuesday")


def test_relative_times(project):
    preds.write_predictions(project, [entry(1, at=time.time() - 7200), entry(2)])
    assert get_predictions(project, "runs:/abc/model", since="1h")["request_id"].tolist() == ["r2"]
    assert len(get_predictions(project, "runs:/abc/model", since="3h")) == 2


def test_import_labels(project, tmp_path):
    _fill(project)
    path = tmp_path / "labels.csv"
    path.write_text("request_id,label\nr0,1\nr1,0\nnope,1\nbatch-1,1\n,1\nr2,\n")
    result = import_labels(project, path)
    assert (result.lines, result.labeled_rows, result.unknown, result.ambiguous, result.invalid) == (6, 2, 1, 1, 2)
    assert "2 prediction(s) labeled" in result.summary() and "unknown request id" in result.summary()
    assert any("batch-1 has 2 rows" in e for e in result.examples)
    df = get_predictions(project, "runs:/abc/model")
    assert df["label"].iloc[:2].tolist() == [1, 0] and pd.isna(df["label"].iloc[2])   # numbers stay numbers
    assert pd.api.types.is_integer_dtype(df["label"])
    rows = tmp_path / "rows.csv"
    rows.write_text("Request_ID,row,label\nbatch-1,1,malignant\nbatch-1,0,benign\n")
    assert import_labels(project, rows).labeled_rows == 2
    assert get_predictions(project, "churn/2")["label"].tolist() == ["benign", "malignant"]


def test_import_labels_needs_the_columns(project, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,y\n1,2\n")
    with pytest.raises(UsageError, match="request_id and label"):
        import_labels(project, path)
    with pytest.raises(UsageError, match="Cannot read"):
        import_labels(project, tmp_path / "missing.csv")


# -- curl -------------------------------------------------------------------------------------------------
def test_curl_example_is_a_runnable_command():
    sig = {"inputs": [{"name": "it's", "type": "double"}, {"name": "n", "type": "long"},
                      {"name": "tier", "type": "category", "categories": ["gold"]}, {"name": "s", "type": "string"}]}
    cmd = curl_example(sig, "http://127.0.0.1:5005", token="tok en")
    argv = shlex.split(cmd)
    assert argv[:5] == ["curl", "-s", "-X", "POST", "http://127.0.0.1:5005/predict"]
    assert "Authorization: Bearer tok en" in argv and "Content-Type: application/json" in argv
    body = json.loads(argv[argv.index("-d") + 1])
    assert body == {"records": [{"it's": 0.0, "n": 0, "tier": "gold", "s": "text"}]}
    with_example = curl_example(sig, "http://h:1/invocations", example={"n": 7}, proba=True)
    assert "http://h:1/invocations?proba=true" in with_example and '"n": 7' in with_example
    assert "Authorization" not in with_example

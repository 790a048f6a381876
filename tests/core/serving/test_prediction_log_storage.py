"""The prediction log's compact storage (issue 9, item 7): size per row, migration of the old
format, bulk reading, pruning, retention and VACUUM."""

from __future__ import annotations

import json
import sqlite3
import time

import numpy as np
import pandas as pd
import pytest

from modeldesk.core.serving import prediction_log as preds
from modeldesk.core.serving.prediction_log import LogEntry, get_predictions, set_labels, write_predictions
from modeldesk.core.serving.prediction_retention import (
    apply_retention,
    file_bytes,
    get_retention,
    log_size,
    prune_predictions,
    set_retention,
)
from modeldesk.core.serving.served_model import ServedModel
from modeldesk.core.storage.project import open_project


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).data


def served(name="cancer", version=1, columns=None):
    sig = {"inputs": [{"name": c, "type": "double"} for c in (columns or ["x"])]}
    return ServedModel(f"models:/{name}/{version}", name, version, f"run{name}{version}", "model",
                       "a" * 64, sig)


def single_rows(X, model, n, start=0.0, step=1.0):
    return [LogEntry(f"{k:032x}", start + k * step, model, X.iloc[[k % len(X)]], [k % 2], 1.7)
            for k in range(n)]


def checkpointed_bytes(project) -> int:
    project.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return file_bytes(project)


def test_a_30_column_float_row_takes_at_most_300_bytes(project, cancer):
    model = served(columns=list(cancer.columns))
    write_predictions(project, single_rows(cancer, model, 50))   # the first pages of each table
    before = checkpointed_bytes(project)
    n = 4000
    write_predictions(project, single_rows(cancer, model, n, start=100.0))
    per_row = (checkpointed_bytes(project) - before) / n
    assert per_row <= 300, f"{per_row:.0f} bytes per logged row"
    df = get_predictions(project, "models:/cancer/1")
    assert len(df) == n + 50
    back = df[list(cancer.columns)].to_numpy()
    want = np.vstack([cancer.iloc[[k % len(cancer)]].to_numpy() for k in range(50)] +
                     [cancer.iloc[[k % len(cancer)]].to_numpy() for k in range(n)])
    assert (back.view(np.int64) == want.view(np.int64)).all()     # bit for bit


def test_values_come_back_bit_for_bit(project):
    odd = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e300, 5e-324, 1 / 3, 0.1, -7.25, 2.0 ** 60, 123456.789]
    sig = {"inputs": [{"name": "f", "type": "double"}, {"name": "i", "type": "long"}]}
    model = ServedModel("runs:/r/model", None, None, "r", "model", "b" * 64, sig)
    frame = pd.DataFrame({"f": odd, "i": np.array([0, -1, 127, 128, -129, 2 ** 40, -(2 ** 62), 2 ** 63 - 1, 5, 6, 7,
                                                   8], dtype=np.int64)})
    write_predictions(project, [LogEntry("big", 1.0, model, frame, list(range(12)), 2.0)])
    df = get_predictions(project, "runs:/r/model")
    assert df["i"].dtype == np.int64 and df["i"].tolist() == frame["i"].tolist()
    got, want = df["f"].to_numpy(), frame["f"].to_numpy()
    assert ((got.view(np.int64) == want.view(np.int64)) | (np.isnan(got) & np.isnan(want))).all()


def test_reading_100k_rows_parses_no_json_per_row(project, cancer, monkeypatch):
    model = served(columns=list(cancer.columns))
    write_predictions(project, single_rows(cancer, model, 100_000), chunk_rows=50_000)
    set_labels(project, [(f"{k:032x}", 0, k % 2) for k in range(0, 100_000, 3)])
    calls = []
    real = json.loads
    monkeypatch.setattr(preds.json, "loads", lambda *a, **k: calls.append(1) or real(*a, **k))
    df = get_predictions(project, "cancer/1")
    assert len(df) == 100_000 and df["mean radius"].dtype == np.float64
    assert df["label"].notna().sum() == 33_334 and df["prediction"].tolist()[:4] == [0, 1, 0, 1]
    assert len(calls) < 10, f"{len(calls)} json.loads calls for 100,000 rows"


# -- the old format, migrated ----------------------------------------------------------------------------
def _old_project(path):
    """A project at schema 6 (before m007) whose predictions table holds rows in the old (m003) format."""
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from modeldesk.core.storage.migrations import MIGRATION_SET, MIGRATIONS

    conn = sqlite3.connect(path, isolation_level=None)
    migrations = Migrations(MIGRATION_SET)
    for name, fn in MIGRATIONS[:6]:
        migrations(name=name)(fn)
    conn.execute("BEGIN")
    migrations.apply(Database(conn))
    conn.execute("PRAGMA user_version = 6")
    old = ("INSERT INTO predictions (request_id, row, time, model_uri, model_name, version, run_id, artifact, sha256,"
           " inputs, outputs, probabilities, latency_ms, label, label_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    ident = ("models:/churn/2", "churn", 2, "run2", "model", "c" * 64)
    rows = [
        ("r1", 0, 100.0, *ident, '{"x": 1.5, "n": 3, "kind": "a"}', "1", "[0.25, 0.75]", 1.25, "1", 150.0),
        ("b1", 0, 200.0, *ident, '{"x": null, "n": 4, "kind": "b"}', "0", "[0.5, 0.5]", 2.5, None, None),
        ("b1", 1, 200.0, *ident, '{"x": 0.1, "n": 5, "kind": null}', "1", "[0.125, 0.875]", 2.5, '"yes"', 160.0),
        ("r2", 0, 300.0, "runs:/run9/model", None, None, "run9", "model", "d" * 64, '{"x": 2.0, "n": 6, "kind": "c"}',
         '"spam"', None, 0.5, None, None),
    ]
    conn.executemany(old, rows)
    conn.execute("COMMIT")
    conn.close()


def test_a_migrated_old_log_reads_back_identically(tmp_path):
    path = tmp_path / "old.mdesk"
    _old_project(path)
    with open_project(path) as p:
        assert p.read("PRAGMA user_version")[0][0] >= 5
        assert p.read("SELECT COUNT(*) FROM prediction_requests")[0][0] == 3   # one per request
        assert p.read("SELECT type FROM sqlite_master WHERE name = 'predictions'")[0][0] == "view"
        assert p.read("SELECT request_id, row, model_name, sha256, prediction FROM predictions ORDER BY request, row")\
            == [("r1", 0, "churn", "c" * 64, 1), ("b1", 0, "churn", "c" * 64, 0), ("b1", 1, "churn", "c" * 64, 1),
                ("r2", 0, None, "d" * 64, "spam")]
        df = get_predictions(p, "models:/churn/2")
        assert list(df.columns) == ["request_id", "row", "time", "model", "version", "run_id", "latency_ms", "x",
                                    "n", "kind", "prediction", "probabilities", "label"]
        assert df["request_id"].tolist() == ["r1", "b1", "b1"] and df["row"].tolist() == [0, 0, 1]
        assert df["x"].dtype == np.float64 and df["x"].tolist()[0] == 1.5 and np.isnan(df["x"].iloc[1]) \
            and df["x"].iloc[2] == 0.1
        assert df["n"].dtype == np.int64 and df["n"].tolist() == [3, 4, 5]
        assert df["kind"].tolist()[:2] == ["a", "b"] and pd.isna(df["kind"].iloc[2])
        assert df["prediction"].tolist() == [1, 0, 1]
        assert df["probabilities"].tolist() == [[0.25, 0.75], [0.5, 0.5], [0.125, 0.875]]
        assert df["label"].tolist()[0] == 1 and pd.isna(df["label"].iloc[1]) and df["label"].iloc[2] == "yes"
        assert df["latency_ms"].tolist() == [1.25, 2.5, 2.5] and df["version"].tolist() == [2, 2, 2]
        other = get_predictions(p, "runs:/run9/model")
        assert other["prediction"].tolist() == ["spam"] and other["x"].tolist() == [2.0]


# -- pruning, retention, vacuum ---------------------------------------------------------------------------
DAY = 86400.0


def _two_models(project, cancer, now):
    a, b = served("a", columns=list(cancer.columns)), served("b", columns=list(cancer.columns))
    entries = []
    for k in range(200):   # one request a day per model for 100 days; b's requests hold 3 rows
        entries.append(LogEntry(f"a{k}", now - (k % 100) * DAY - 1, a, cancer.iloc[[k]], [0], 1.0))
        entries.append(LogEntry(f"b{k}", now - (k % 100) * DAY - 1, b, cancer.iloc[k:k + 3], [0, 1, 0], 1.0))
    write_predictions(project, entries)


def test_prune_by_age_and_by_model(project, cancer):
    now = time.time()
    _two_models(project, cancer, now)
    deleted, before, after = prune_predictions(project, older_than="30d", model="a")
    assert deleted == 140 and before > 0 and after == before           # 70 of 100 days, 2 requests a day
    assert len(get_predictions(project, "models:/a/1")) == 60 and len(get_predictions(project, "models:/b/1")) == 600
    deleted, *_ = prune_predictions(project, older_than="10d")
    assert deleted == 40 + 3 * 180
    assert len(get_predictions(project, "models:/b/1")) == 60
    assert prune_predictions(project, model="b")[0] == 60
    assert get_predictions(project, "models:/b/1").empty
    with pytest.raises(Exception, match="Say what to prune"):
        prune_predictions(project)


def test_retention_rows_and_days(project, cancer):
    now = time.time()
    _two_models(project, cancer, now)
    set_labels(project, [("b1", 0, 1), ("b199", 2, 0)])
    set_retention(project, days=50)
    set_retention(project, rows=30, model="b")
    assert get_retention(project) .days == 50 and get_retention(project, "b").rows == 30
    deleted = apply_retention(project)
    a, b = get_predictions(project, "models:/a/1"), get_predictions(project, "models:/b/1")
    assert len(a) == 100 and len(b) == 30 and deleted == 100 + 570
    assert b["time"].min() > a["time"].min()                           # b kept its newest rows
    assert project.read("SELECT COUNT(*) FROM prediction_labels")[0][0] == 1   # labels go with their rows
    set_retention(project, days=80, model="a")                          # a model's days override the project's
    set_retention(project, rows=0, model="b")
    assert get_retention(project, "b").rows is None
    write_predictions(project, [LogEntry(f"old{k}", now - 70 * DAY, served("a", columns=list(cancer.columns)),
                                         cancer.iloc[[k]], [1], 1.0) for k in range(5)])
    apply_retention(project)
    assert len(get_predictions(project, "models:/a/1")) == 105
    set_retention(project, rows=50)                                     # the project's rows bound the whole log
    apply_retention(project)
    assert len(get_predictions(project, "models:/a/1")) + len(get_predictions(project, "models:/b/1")) <= 50


def test_vacuum_gives_the_space_back(project_path, cancer):
    with open_project(project_path) as p:
        write_predictions(p, single_rows(cancer, served(columns=list(cancer.columns)), 20_000, start=1.0))
        p.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = project_path.stat().st_size
        used = log_size(p)
        assert used > 20_000 * 100
        deleted, before, after = prune_predictions(p, older_than=time.time(), vacuum=True)
        assert deleted == 20_000 and after < before / 2 and log_size(p) < used / 10
    assert project_path.stat().st_size < size / 2

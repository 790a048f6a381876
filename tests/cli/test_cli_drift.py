"""`modeldesk drift`: exit 0 / 1 / 2, the table and the JSON shape."""

from __future__ import annotations

import json

import pytest
from core.monitoring.logged_predictions import DAY0, DAYS, PER_DAY, SHIFTED, day, fill, register

from modeldesk.core.text import iso_time
from support.cli import run_cli
from support.data import breast_cancer


@pytest.fixture
def logged(md, project_path):
    uri = register(md)
    fill(md.get_project(), uri)
    md.flush()
    return project_path, uri


def run(capsys, path, *args):
    return run_cli(capsys, "--project", path, "drift", *args)


def test_drifted_period_exits_1_with_drifted_columns_first(logged, capsys):
    path, uri = logged
    code, out, err = run(capsys, path, uri, "--since", day(DAYS - 3).isoformat())
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith("Data set DRIFTED:") and f"current {3 * PER_DAY:,} rows" in lines[0]
    assert lines[1].split()[:4] == ["column", "drifted", "test", "score"]
    flags = ["DRIFT" in line for line in lines[2:]]
    assert flags == sorted(flags, reverse=True) and sum(flags) >= 15   # drifted ones first
    first = lines[2].split()
    assert "DRIFT" in first and "ks" in first and "0.050" in first     # score beside its threshold
    assert "target" not in out


def test_undrifted_period_exits_0(logged, capsys):
    path, uri = logged
    code, out, err = run(capsys, path, uri, "--until", day(5).isoformat())
    assert code == 0, err
    assert out.startswith("Data set not drifted:")


def test_every_prints_one_line_per_window(logged, capsys):
    path, uri = logged
    code, out, err = run(capsys, path, uri, "--every", "1d")
    assert code == 1, err      # the last window drifted
    lines = out.splitlines()
    assert lines[0].split() == ["window_start", "rows", "share", "drifted", "drifted", "columns"]
    assert len(lines) == 1 + DAYS + 1
    assert lines[1].startswith("2026-01-01 00:00") and f"{PER_DAY}" in lines[1] and "DRIFT" not in lines[1]
    assert "DRIFT" in lines[DAYS] and "more" in lines[DAYS]
    assert lines[-1] == f"3 of {DAYS} windows drifted; the last one has."
    code, out, _ = run(capsys, path, uri, "--every", "1d", "--until", day(5).isoformat())
    assert code == 0 and out.splitlines()[-1] == "0 of 5 windows drifted; the last one has not."


def test_json_shape(logged, capsys):
    path, uri = logged
    code, out, _ = run(capsys, path, uri, "--since", day(DAYS - 3).isoformat(), "--format", "json")
    body = json.loads(out)
    assert code == 1 and body["drifted"] is True and body["model"] == uri
    assert {"share", "share_threshold", "columns_tested", "columns_drifted", "reference_rows", "current_rows",
            "missing_columns", "new_columns", "skipped", "columns"} <= set(body)
    assert body["columns_tested"] == 30 and body["current_rows"] == 3 * PER_DAY
    col = {c["column"]: c for c in body["columns"]}[SHIFTED[0]]
    assert set(col) == {"column", "type", "test", "score", "threshold", "drifted", "psi", "missing_ref",
                        "missing_cur", "note"}
    assert col["drifted"] is True and col["score"] < col["threshold"]
    code, out, _ = run(capsys, path, uri, "--every", "1d", "--format", "json")
    body = json.loads(out)
    assert code == 1 and body["drifted"] is True and len(body["windows"]) == DAYS
    w = body["windows"][0]
    assert set(w) == {"window_start", "window_end", "rows", "share", "drifted", "drifted_columns", "columns"}
    # machine format: ISO 8601 with the local offset, milliseconds (core.text.iso_time)
    assert w["window_start"] == iso_time(DAY0) and w["window_end"] == iso_time(DAY0 + 86400)
    assert w["rows"] == PER_DAY and w["drifted"] is False and len(w["columns"]) == 30
    assert body["windows"][-1]["drifted"] and SHIFTED[0] in body["windows"][-1]["drifted_columns"]


def test_a_csv_batch(logged, capsys, tmp_path):
    path, uri = logged
    X, _ = breast_cancer()
    csv = tmp_path / "batch.csv"
    X.to_csv(csv, index=False)
    code, out, err = run(capsys, path, uri, "--current", csv)
    assert code == 0, err
    assert f"from {csv}" in out.splitlines()[0]


@pytest.mark.parametrize("args, says", [
    (["--since", "last tuesday"], "is not a time"),
    (["--every", "fortnight"], "is not a window"),
    (["--current", "batch.csv", "--since", "2d"], "use one or the other"),
    (["--current", "MISSING"], "lacks 1 of the model's 30 input columns: 'mean radius'"),
])
def test_bad_usage_exits_2_with_one_line(logged, capsys, tmp_path, args, says):
    path, uri = logged
    if "MISSING" in args:
        X, _ = breast_cancer()
        csv = tmp_path / "batch.csv"
        X.drop(columns=["mean radius"]).to_csv(csv, index=False)
        args = ["--current", csv]
    code, out, err = run(capsys, path, uri, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("Error: ") and says in err


def test_unknown_model_exits_2(logged, capsys):
    path, _ = logged
    code, out, err = run(capsys, path, "models:/nope@production")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "nope" in err

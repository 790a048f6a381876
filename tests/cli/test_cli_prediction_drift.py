"""`modeldesk drift MODEL_URI --outputs`: prediction drift, exit 0 not drifted / 1 drifted / 2 bad usage."""

from __future__ import annotations

import json

import numpy as np
import pytest
from core.monitoring.logged_predictions import DAY0, DAYS, PER_DAY, SHIFTED, day, fill, register

from modeldesk.core.serving.prediction_log import LogEntry, write_predictions
from modeldesk.core.serving.served_model import load_served
from support.cli import run_cli
from support.data import breast_cancer


@pytest.fixture
def logged(md, project_path):
    """Ten days of single-row requests (no probabilities), the last three with inputs that read 1.5x larger."""
    uri = register(md)
    fill(md.get_project(), uri)
    return project_path, uri


def run(capsys, path, *args):
    return run_cli(capsys, "--project", path, "drift", *args)


def test_shifted_outputs_exit_1(logged, capsys):
    path, uri = logged
    code, out, err = run(capsys, path, uri, "--outputs", "--since", day(DAYS - 3).isoformat())
    assert code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith("Outputs DRIFTED: 1 of 1 tested outputs drifted")
    assert "predictions on 569 training rows" in lines[0] and f"current {3 * PER_DAY:,} rows answered" in lines[0]
    assert lines[1].split()[:4] == ["column", "drifted", "test", "score"]
    assert lines[2].split()[:3] == ["prediction", "DRIFT", "z"] and len(lines) == 3
    assert not any(c in out for c in SHIFTED)            # the inputs are not compared


def test_calm_outputs_exit_0(logged, capsys):
    path, uri = logged
    code, out, err = run(capsys, path, uri, "--outputs", "--until", day(5).isoformat())
    assert code == 0, err
    assert out.startswith("Outputs not drifted: 0 of 1 tested outputs drifted")
    assert f"current {5 * PER_DAY:,} rows answered" in out


def test_json_shape(logged, capsys):
    path, uri = logged
    code, out, _ = run(capsys, path, uri, "--outputs", "--since", day(DAYS - 3).isoformat(), "--format", "json")
    body = json.loads(out)
    assert code == 1 and body["drifted"] is True and body["model"] == uri and body["outputs"] is True
    assert body["since"] == day(DAYS - 3).isoformat() and body["until"] is None
    assert {"share", "share_threshold", "columns_tested", "columns_drifted", "reference_rows", "current_rows",
            "columns"} <= set(body)
    assert body["current_rows"] == 3 * PER_DAY and [c["column"] for c in body["columns"]] == ["prediction"]
    code, out, _ = run(capsys, path, uri, "--outputs", "--until", day(5).isoformat(), "--format", "json")
    assert code == 0 and json.loads(out)["drifted"] is False


def _log_with_probabilities(project, uri, d: int, *, shifted: bool, n: int = 200) -> None:
    served = load_served(project, uri)
    X, _ = breast_cancer()
    rng = np.random.default_rng(100 + d)
    frame = X.iloc[rng.integers(0, len(X), n)].reset_index(drop=True)
    if shifted:
        frame[SHIFTED] = frame[SHIFTED] * 1.5
    predictions, proba = served.model.predict(frame), served.model.predict_proba(frame)
    write_predictions(project, [
        LogEntry(f"p{d}-{k}", DAY0 + d * 86400 + 60 * k, served, frame.iloc[k:k + 1], [int(predictions[k])], 1.0,
                 [proba[k].tolist()]) for k in range(n)])


def test_logged_probabilities_are_compared_too(md, project_path, capsys):
    uri = register(md)
    project = md.get_project()
    _log_with_probabilities(project, uri, 0, shifted=False)
    _log_with_probabilities(project, uri, 1, shifted=True)
    code, out, err = run(capsys, project_path, uri, "--outputs", "--until", day(1).isoformat(), "--format", "json")
    body = json.loads(out)
    assert code == 0, err
    assert {c["column"]: c["type"] for c in body["columns"]} == {
        "prediction": "categorical", "proba_0": "numerical", "proba_1": "numerical"}
    assert body["columns_drifted"] == 0 and body["drifted"] is False
    code, out, err = run(capsys, project_path, uri, "--outputs", "--since", day(1).isoformat())
    assert code == 1, err
    assert out.startswith("Outputs DRIFTED: 3 of 3 tested outputs drifted")


@pytest.mark.parametrize("args, says", [
    (["--outputs", "--every", "1d"], "--outputs compares the model's logged answers over one period"),
    (["--outputs", "--current", "batch.csv"], "it takes no --current"),
    (["--outputs", "--since", "last tuesday"], "is not a time"),
    (["--outputs", "--since", day(3).isoformat(), "--until", day(2).isoformat()], "must be before until"),
    (["--outputs", "--since", day(DAYS + 5).isoformat()], "there is nothing to compare"),
])
def test_bad_usage_exits_2_with_one_line(logged, capsys, args, says):
    path, uri = logged
    code, out, err = run(capsys, path, uri, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err, err


def test_unknown_model_and_missing_training_data_exit_2(logged, md, capsys):
    path, _ = logged
    code, out, err = run(capsys, path, "models:/nope@production", "--outputs")
    assert code == 2 and out == "" and "nope" in err
    bare = register(md, "bare", dataset=False)
    code, out, err = run(capsys, path, bare, "--outputs")
    assert code == 2 and out == "" and "no reference data" in err and "Traceback" not in err

"""`modeldesk predictions prune` and `modeldesk predictions retention`."""

from __future__ import annotations

import time

from click.testing import CliRunner

from modeldesk.cli import cli
from modeldesk.core.serving.prediction_log import LogEntry, get_predictions, write_predictions
from modeldesk.core.serving.prediction_retention import get_retention
from modeldesk.core.serving.served_model import ServedModel
from modeldesk.core.storage.project import open_project


def _fill(path):
    import pandas as pd

    sig = {"inputs": [{"name": "x", "type": "double"}]}
    models = [ServedModel(f"models:/{n}/1", n, 1, f"run{n}", "model", "a" * 64, sig) for n in ("churn", "fraud")]
    now = time.time()
    with open_project(path) as p:
        write_predictions(p, [LogEntry(f"{m.name}{k}", now - k * 86400 - 1, m, pd.DataFrame({"x": [float(k)]}), [0],
                                       1.0) for m in models for k in range(10)])


def run(path, *args):
    result = CliRunner().invoke(cli, ["--project", str(path), "predictions", *args])
    return result.exit_code, result.output + (str(result.exception) if result.exception else "")


def test_retention_is_set_and_shown(project_path):
    _fill(project_path)
    assert run(project_path, "retention") == (0, "Retention for the project: keep everything (no limit).\n")
    code, out = run(project_path, "retention", "--days", "90")
    assert code == 0 and "keep 90 days" in out
    code, out = run(project_path, "retention", "--rows", "5", "--model", "churn")
    assert code == 0 and "model churn: keep the newest 5 rows" in out
    with open_project(project_path) as p:
        assert get_retention(p).days == 90 and get_retention(p, "churn").rows == 5
    code, out = run(project_path, "prune")                   # no options: apply the retention settings
    assert code == 0 and "Deleted 5 prediction(s)" in out
    with open_project(project_path) as p:
        assert len(get_predictions(p, "models:/churn/1")) == 5 and len(get_predictions(p, "models:/fraud/1")) == 10


def test_prune_by_age_model_and_vacuum(project_path):
    _fill(project_path)
    code, out = run(project_path, "prune", "--older-than", "5d", "--model", "fraud")
    assert code == 0 and "Deleted 5 prediction(s)" in out
    code, out = run(project_path, "prune", "--older-than", "2d", "--vacuum")
    assert code == 0 and "Deleted 11 prediction(s)" in out and "the log takes" in out
    code, out = run(project_path, "prune", "--older-than", "last tuesday")
    assert code != 0 and "not a time" in out

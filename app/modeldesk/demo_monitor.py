"""The demo's monitor: drift on the cancer classifier's production alias, with a retrain that works.

:func:`add_monitor` writes a small retraining script next to the demo
project and sets monitor ``cancer-classifier`` (owner ana) on
``cancer-classifier@production`` over the last day: it fires when two in
five input columns drift, as 16 of 30 do in the demo traffic's last two days
(``demo_traffic.DRIFT``), and when p99 latency passes 250 ms. Its retrain command runs the script, which fits
the classifier again on the original training split plus the labeled
predictions of the past week (what came back from follow-up, drifted days
included) and logs it; the monitor's retrain then registers it as the next
version and opens a promotion request to production in ana's name, which
waits for a reviewer. Nothing is checked here: the first ``modeldesk
monitor check`` (or the open app) fires it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from .core.errors import UsageError

MONITOR = "cancer-classifier"

SCRIPT = '''"""Retrain the demo's cancer classifier; run by the monitor `cancer-classifier` when it fires.

ModelDesk sets MODELDESK_PROJECT (this project), MODELDESK_RETRAIN (why) and
MODELDESK_RETRAIN_ID (the run below is tagged with it, so the monitor finds it,
registers it as the next version and asks a reviewer to promote it).
"""
import os

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import modeldesk as md

print("Retraining:", os.environ.get("MODELDESK_RETRAIN", "by hand"))
md.set_project(os.environ.get("MODELDESK_PROJECT", "{project}"))
bunch = load_breast_cancer(as_frame=True)
X, y = bunch.data, bunch.target.rename("benign")
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=42, stratify=y)

# What production answered last week and follow-up has labeled since: the new reality.
log = md.get_predictions("models:/cancer-classifier@production", since="7d")
log = log[log["label"].notna()]
columns = {{c: f"input.{{c}}" if f"input.{{c}}" in log.columns else c for c in X.columns}}
recent = pd.DataFrame({{c: log[src].to_numpy() for c, src in columns.items()}})
X_new = pd.concat([X_train, recent], ignore_index=True)
y_new = pd.concat([y_train, log["label"].astype(int).rename("benign")], ignore_index=True)
print(f"{{len(X_train)}} original training rows + {{len(recent)}} labeled served predictions")

md.set_experiment("breast-cancer")
with md.start_run(name="retrain-on-served-labels", tags={{"author": "ana", "model_family": "logistic_regression",
                                                          "dataset": "breast_cancer_wisconsin"}}):
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)).fit(X_new, y_new)
    md.log_params({{"C": 1.0, "extra_rows": len(recent), "random_state": 42}})
    md.log_dataset(X_new.assign(benign=y_new), name="breast-cancer-retrain", role="training", target="benign")
    md.log_dataset(X_val.assign(benign=y_val), name="breast-cancer-validation", role="validation", target="benign")
    proba = model.predict_proba(X_val)[:, 1]
    md.log_metrics({{"roc_auc": roc_auc_score(y_val, proba), "accuracy": accuracy_score(y_val, model.predict(X_val))}})
    md.log_model(model, name="model", input_example=X_val.head(5))
print("Logged the retrained classifier.")
'''


def script_path(project_path) -> Path:
    """Where the demo's retraining script goes: beside the project, named after it."""
    path = Path(os.fspath(project_path)).resolve()
    return path.with_name(f"{path.stem}-retrain.py")


def check_free(project_path) -> None:
    """The demo never overwrites a file: refuse before building when the script's name is taken."""
    script = script_path(project_path)
    if script.exists():
        raise UsageError(f"{script} already exists; the demo never overwrites a file. "
                         "Pick another project path, or delete that file first.")


def _command(script: Path) -> str:
    if sys.platform == "win32":
        return subprocess.list2cmdline([sys.executable, script.name])
    return f"{shlex.quote(sys.executable)} {shlex.quote(script.name)}"


def add_monitor(project, project_path) -> str:
    """Write the retraining script and set the demo's monitor; return a one-line summary."""
    from .core.monitoring.monitors import make_thresholds, set_monitor

    script = script_path(project_path)
    script.write_text(SCRIPT.format(project=str(Path(os.fspath(project_path)).resolve())), encoding="utf-8")
    m = set_monitor(project, MONITOR, "cancer-classifier", alias="production", window="1d",
                    thresholds=make_thresholds(drift_share=0.4, p99_ms=250), retrain=_command(script),
                    actor="ana")
    return f"monitor {m.name} on {m.model}@{m.alias} ({m.thresholds.describe()}; retrains with {script.name})"

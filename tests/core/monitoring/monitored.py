"""A breast-cancer model in production with ten days of logged predictions (the last three drifted),
and retrain scripts as a user would write them. Shared by the monitor, CLI and GUI tests."""

from __future__ import annotations

import sys
import textwrap

from core.monitoring.logged_predictions import DAY0, DAYS, fill, register

from modeldesk.core.registry import approvals

END = DAY0 + DAYS * 86400          # the end of the last (drifted) day
CALM = DAY0 + 5 * 86400            # the end of day 4: no drift in the last day


def production(md, name: str = "cancer") -> str:
    """Register ``name`` v1 and promote it to production (ana asks, ben approves); return its URI."""
    uri = register(md, name)
    project = md.get_project()
    approvals.request_promotion(project, name, 1, actor="ana", comment="baseline")
    approvals.approve(project, name, 1, actor="ben", comment="ok")
    return uri


def monitored_project(md):
    """``(project, uri)``: cancer v1 in production with ten logged days, the last three drifted."""
    uri = production(md)
    project = md.get_project()
    fill(project, uri)
    return project, uri


RETRAIN_SCRIPT = textwrap.dedent("""
    import os, sys, time
    import modeldesk as md
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.metrics import roc_auc_score

    gate = os.environ.get("RETRAIN_GATE")     # a test holds the retrain running until it creates this file
    deadline = time.time() + 120
    while gate and not os.path.exists(gate) and time.time() < deadline:
        time.sleep(0.05)
    print("retraining because:", os.environ["MODELDESK_RETRAIN"])
    md.set_project(os.environ["MODELDESK_PROJECT"])
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with md.start_run(name="retrain"):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000)).fit(X, y)
        md.log_dataset(X.assign(target=y), name="train", role="training", target="target")
        md.log_model(model, input_example=X.iloc[:5])
        md.log_metric("roc_auc", float(roc_auc_score(y, model.predict_proba(X)[:, 1])))
    print("logged the retrained model")
""")

FAILING_SCRIPT = textwrap.dedent("""
    import sys
    print("loading the new labels")
    print("the labels file is missing", file=sys.stderr)
    sys.exit(3)
""")


def write_script(folder, name: str, text: str) -> str:
    """Write a script next to the project; return the command that runs it with this Python."""
    (folder / name).write_text(text)
    return f'"{sys.executable}" {name}'


def log_yesterday(project, uri: str = "models:/cancer/1", *, shifted: bool) -> int:
    """Log a day of traffic yesterday (UTC), so checks at the real time see it in a ``2d`` window."""
    import time

    from core.monitoring.logged_predictions import log_day

    return log_day(project, uri, int((time.time() - DAY0) // 86400) - 1, shifted=shifted, seed=99)

"""A small project to look at the Experiments view without a real one
(``python -m modeldesk.gui.experiments.experiments_view`` with no project)."""

from __future__ import annotations


def sample_project(path) -> None:
    """A small project to look at the view without a real one."""
    import random

    import modeldesk as md

    md.set_project(path)
    rng = random.Random(1)
    for exp in ("churn", "fraud"):
        md.set_experiment(exp)
        for i in range(60):
            with md.start_run(name=f"{exp}-{i:02d}"):
                md.log_params({"max_depth": rng.randint(2, 12), "model": rng.choice(["rf", "gbm"])})
                md.set_tags({"owner": rng.choice(["ana", "bo"])})
                for step in range(5):
                    md.log_metrics({"val_auc": rng.uniform(0.7, 0.95), "loss": rng.uniform(0.1, 0.6)}, step=step)
    md.flush()

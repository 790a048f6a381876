"""Helpers shared by GUI test files. Qt and the views are imported by the
callers (or lazily here), so importing this module stays cheap."""

from __future__ import annotations

import random


def log_runs(md, experiment: str, n: int, seed: int = 0, prefix: str | None = None) -> list[str]:
    """Log ``n`` finished runs with params, tags and a short metric history."""
    rng = random.Random(seed)
    md.set_experiment(experiment)
    ids = []
    for i in range(n):
        with md.start_run(name=f"{prefix or experiment}-{i:02d}") as run:
            md.log_params({"max_depth": i % 7 + 2, "model": ("rf", "gbm", "lr")[i % 3]})
            md.set_tags({"owner": ("ana", "bo")[i % 2]})
            for step in range(3):
                md.log_metrics({"val_auc": round(0.7 + i / 200 + step / 1000, 6),
                                "loss": rng.uniform(0.1, 0.9)}, step=step)
            ids.append(run.id)
    md.flush()
    return ids


def wait_table(qtbot, view, timeout: int = 5000) -> None:
    """Until the experiments are listed and the runs table shows its first page."""
    qtbot.waitUntil(lambda: view.experiment_list.topLevelItemCount() > 0 and not view.model.loading
                    and view.model.loaded and view.model.project is not None, timeout=timeout)


def open_in_view(qtbot, view, path):
    """Open the project at ``path`` in an experiments view and wait for its table; returns the project."""
    from modeldesk.core.storage.project import open_project

    project = open_project(path, create=False)
    view.set_project(project)
    wait_table(qtbot, view)
    return project


def shown_project_view(qtbot, view_class, size):
    """A project view (Models, Audit) shown at ``size``; yields it, then lets go of
    its project and waits for its workers so no job outlives the test."""
    view = view_class()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    yield view
    project = view.project
    view.set_project(None)
    view.jobs.wait()
    if project is not None:
        project.close()

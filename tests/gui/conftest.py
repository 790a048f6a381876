"""GUI test fixtures: offscreen Qt, settings in a temporary INI file (never
the user's own), and small projects built with the fluent API."""

from __future__ import annotations

import os
import random
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["MODELDESK_THEME"] = "light"  # the same pixels whatever the desktop says
_SESSION_SETTINGS = tempfile.mkdtemp(prefix="modeldesk-test-settings-")
os.environ["XDG_CONFIG_HOME"] = _SESSION_SETTINGS

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from modeldesk.gui.kit import qt_compat  # noqa: E402

qt_compat.apply()  # PySide6 6.12.0's reference-count bugs would abort the test process

QSettings.setDefaultFormat(QSettings.IniFormat)
for _scope in (QSettings.UserScope, QSettings.SystemScope):
    QSettings.setPath(QSettings.IniFormat, _scope, _SESSION_SETTINGS)


@pytest.fixture(autouse=True)
def settings_dir(tmp_path):
    """Each test starts with empty settings in its own folder."""
    folder = tmp_path / "settings"
    folder.mkdir()
    for scope in (QSettings.UserScope, QSettings.SystemScope):
        QSettings.setPath(QSettings.IniFormat, scope, str(folder))
    yield folder
    for scope in (QSettings.UserScope, QSettings.SystemScope):
        QSettings.setPath(QSettings.IniFormat, scope, _SESSION_SETTINGS)


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


@pytest.fixture
def sample(md, project_path):
    """A project with experiments churn (30 runs) and fraud (12 runs)."""
    ids = {"churn": log_runs(md, "churn", 30), "fraud": log_runs(md, "fraud", 12, seed=1)}
    return project_path, ids


@pytest.fixture
def window(qtbot):
    from modeldesk.gui.main_window import MainWindow

    win = MainWindow(user="tester")
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def view(qtbot):
    from modeldesk.gui.experiments.experiments_view import ExperimentsView

    v = ExperimentsView()
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    yield v
    project = v.project
    v.set_project(None)
    v.jobs.wait()
    if project is not None:
        project.close()


def wait_table(qtbot, view, timeout: int = 5000) -> None:
    """Until the experiments are listed and the runs table shows its first page."""
    qtbot.waitUntil(lambda: view.experiment_list.topLevelItemCount() > 0 and not view.model.loading
                    and view.model.loaded and view.model.project is not None, timeout=timeout)


def open_in_view(qtbot, view, path):
    from modeldesk.core.storage.project import open_project

    project = open_project(path, create=False)
    view.set_project(project)
    wait_table(qtbot, view)
    return project


@pytest.fixture
def gui():
    """The helpers above, for test modules (conftest is not importable by name)."""
    import types

    return types.SimpleNamespace(log_runs=log_runs, wait_table=wait_table, open_in_view=open_in_view)

"""GUI test fixtures: offscreen Qt, settings in a temporary INI file (never
the user's own), and small projects built with the fluent API."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["MODELDESK_THEME"] = "light"  # the same pixels whatever the desktop says
_SESSION_SETTINGS = tempfile.mkdtemp(prefix="modeldesk-test-settings-")
os.environ["XDG_CONFIG_HOME"] = _SESSION_SETTINGS

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from modeldesk.gui.kit import qt_compat  # noqa: E402
from support.gui import log_runs, open_in_view, wait_table  # noqa: E402

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


@pytest.fixture
def gui():
    """The support.gui helpers as a fixture, for the test modules that use them that way."""
    import types

    return types.SimpleNamespace(log_runs=log_runs, wait_table=wait_table, open_in_view=open_in_view)

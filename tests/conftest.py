"""Shared fixtures: every test gets a fresh project and never touches the
user's real project, settings or identity."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["MODELDESK_USER"] = "tester"
os.environ.pop("MODELDESK_PROJECT", None)
# What ModelDesk remembers per machine (the audit heads it has seen) goes to a scratch folder.
os.environ["XDG_DATA_HOME"] = __import__("tempfile").mkdtemp(prefix="modeldesk-test-data-")

import pytest  # noqa: E402


@pytest.fixture
def project_path(tmp_path):
    return tmp_path / "test.mdesk"


@pytest.fixture
def project(project_path):
    """A fresh, open core Project (closed after the test)."""
    from modeldesk.core.storage.project import open_project

    proj = open_project(project_path)
    yield proj
    proj.close()


@pytest.fixture
def md(project_path):
    """The fluent API pointed at a fresh project; active runs ended afterwards."""
    import modeldesk

    modeldesk.set_project(project_path)
    yield modeldesk
    while modeldesk.active_run() is not None:
        modeldesk.end_run()
    modeldesk.flush()

"""The desktop app shows times exactly as the CLI does (issue 13 item 4): under TZ=America/New_York
the runs table, its tooltip, the run details, the Models view and the Audit view read the same
text, zone named, as `modeldesk runs show`, `models show` and `audit list` in a New York shell."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from modeldesk.core.storage.project import open_project
from modeldesk.core.tracking.browse import runs_tsv
from modeldesk.gui.audit.audit_view import ACTION, TIME, AuditView
from modeldesk.gui.registry.models_view import VERSION_COLUMNS, ModelsView
from modeldesk.gui.runs.run_details import RunDetailsWidget
from support import times
from support.gui import open_in_view, shown_project_view

NY = "America/New_York"


@pytest.fixture
def new_york(monkeypatch):
    times.set_zone(monkeypatch, NY)
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def timed(md, project_path):
    return times.build(md, project_path)


@pytest.fixture
def mview(qtbot):
    yield from shown_project_view(qtbot, ModelsView, (1200, 760))


@pytest.fixture
def aview(qtbot):
    yield from shown_project_view(qtbot, AuditView, (1100, 700))


def _cli_started(timed) -> str:
    line = next(x for x in times.cli_in_zone(NY, "--project", timed.path, "runs", "show", timed.run_id).splitlines()
                if x.strip().startswith("started "))
    return line.strip().removeprefix("started ").split("   ")[0]


def test_runs_table_and_details_match_runs_show(qtbot, view, timed, new_york):
    started = _cli_started(timed)
    assert started.endswith(" EDT") and started.startswith("2026-07-02 09:4")
    project = open_in_view(qtbot, view, timed.path)
    col = [c.spec for c in view.model.columns].index("attributes.start_time")
    index = view.model.index(0, col)
    assert index.data() == started[:16] + " EDT"              # minutes in the table, the zone named
    assert index.data(Qt.ToolTipRole) == started               # the full time in its tooltip
    run = view.model.run_at(0)
    assert started[:10] in runs_tsv([run], view.model.columns).splitlines()[1]   # the clipboard: ISO, offset
    assert "-04:00" in runs_tsv([run], view.model.columns)
    details = RunDetailsWidget(project, timed.run_id)
    qtbot.addWidget(details)
    with qtbot.waitSignal(details.loaded, timeout=8000):
        details.show()
    assert f"started {started} ·" in details.subtitle.text()


def test_models_and_audit_views_match_the_cli(qtbot, mview, aview, timed, new_york):
    shown = times.cli_in_zone(NY, "--project", timed.path, "models", "show", "churn", "1")
    registered = shown.split("registered by ana at ")[1].splitlines()[0].strip()
    assert registered.endswith(" EST")
    audit_cli = times.cli_in_zone(NY, "--project", timed.path, "audit", "list")
    assert audit_cli.count(registered) == 2

    models = mview
    models.set_project(open_project(timed.path, create=False, user="ben"), "ben")
    qtbot.waitUntil(lambda: models.table_data is not None and models.details_data is not None
                    and not models.runner.busy, timeout=8000)
    created = VERSION_COLUMNS.index("Created at")
    assert models.versions.item(0, created).text() == registered

    audit = aview
    audit.set_project(open_project(timed.path, create=False))
    qtbot.waitUntil(lambda: audit.loaded_once, timeout=8000)
    rows = {audit.proxy.index(r, ACTION).data(): audit.proxy.index(r, TIME).data()
            for r in range(audit.proxy.rowCount())}
    assert rows["version.register"] == rows["model.create"] == registered

"""The Models view's Report…: a file dialog, the export in a worker with progress, an audit entry."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtCore import Qt

from modeldesk.core.storage.project import open_project
from modeldesk.gui.registry.models_view import ModelsView
from support import governed
from support.gui import shown_project_view


@pytest.fixture
def mview(qtbot):
    yield from shown_project_view(qtbot, ModelsView, (1200, 760))


def shown(qtbot, view, path, select):
    view.set_project(open_project(path, create=False, user="auditor"), "auditor")
    view.select(*select)
    qtbot.waitUntil(lambda: view.details_data is not None and view.current_version == select[1]
                    and view.details_data.version.version == select[1], timeout=10000)


def test_report_button_exports_the_selected_version(qtbot, mview, md, project_path, tmp_path):
    governed.build(md, predictions_days=2)
    shown(qtbot, mview, project_path, ("cancer", 2))
    actions = mview.actions
    assert actions.report_action.isEnabled() and "cancer v2" in actions.report_action.toolTip()
    target = tmp_path / "cancer-v2.pdf"
    asked = []

    def choose(uri):
        asked.append(uri)
        return str(target), "A4"

    actions.report_exporter().choose_path = choose      # the save dialog, answered
    with qtbot.waitSignal(actions.report_export.finished, timeout=30000) as done:
        qtbot.mouseClick(actions.buttons["report"], Qt.LeftButton)
        assert actions.report_export.progress is not None      # progress shown while it works
        assert not actions.report_action.isEnabled()             # one export at a time
    exported = done.args[0]
    assert asked == ["models:/cancer/2"] and exported.path == target
    assert exported.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    assert "recorded in the audit log" in mview.status.text()
    row = mview.project.conn.execute("SELECT actor, action, model, version FROM audit_log WHERE seq = ?",
                                     (exported.entry_seq,)).fetchone()
    assert tuple(row) == ("auditor", "report.export", "cancer", 2)
    assert actions.report_action.isEnabled()


def test_cancelling_the_dialog_writes_nothing(qtbot, mview, md, project_path, tmp_path):
    governed.build(md, predictions_days=0)
    shown(qtbot, mview, project_path, ("cancer", 1))
    from modeldesk.gui.reports.report_action import ReportExport

    exporter = ReportExport(mview)
    exporter.choose_path = lambda uri: None
    assert exporter.start(mview.project, "models:/cancer/1", "auditor") is False
    assert exporter.progress is None and list(tmp_path.glob("*.pdf")) == []


def test_cancel_in_the_progress_dialog_writes_no_file(qtbot, mview, md, project_path, tmp_path):
    governed.build(md, predictions_days=2)
    shown(qtbot, mview, project_path, ("cancer", 2))
    exporter = mview.actions.report_exporter()
    out = tmp_path / "reports"
    out.mkdir()
    exporter.choose_path = lambda uri: (str(out / "r.pdf"), "A4")
    with qtbot.waitSignal(exporter.failed, timeout=30000) as failed:
        assert exporter.start(mview.project, "models:/cancer/2", "auditor")
        exporter.progress.cancel()                   # what the Cancel button does
    assert "cancelled" in failed.args[0] and exporter.progress is None
    exporter.jobs.wait()
    assert list(out.iterdir()) == []
    assert mview.project.conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'report.export'"
                                      ).fetchone()[0] == 0

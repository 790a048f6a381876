"""File ▸ Import from MLflow…: the dialog imports in a worker, shows progress and the summary, and can stop."""

from __future__ import annotations

import pytest

from support.mlflow_store import build_store

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("mlflow"))


def test_the_file_menu_imports_an_mlflow_store_and_the_views_show_it(qtbot, window, md, project_path, store):
    from modeldesk.gui.interop.mlflow_import_dialog import MlflowImportDialog

    md.set_experiment("local")
    with md.start_run(name="mine"):
        md.log_metric("x", 1.0)
    md.flush()
    assert not window.import_mlflow_action.isEnabled()   # no project open yet
    window.open(project_path)
    qtbot.waitUntil(lambda: window.project is not None, timeout=10000)
    assert window.import_mlflow_action.isEnabled()
    assert window.import_mlflow_action in window.menuBar().actions()[0].menu().actions()
    dialog = window.import_mlflow()
    assert isinstance(dialog, MlflowImportDialog) and dialog.isVisible()
    assert not dialog.import_button.isEnabled()          # nothing chosen yet
    dialog.source.setText(store.uri)
    seen = []
    dialog.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(dialog.imported, timeout=300_000) as got:
        dialog.import_button.click()
        assert dialog.cancel_button.isEnabled() and not dialog.close_button.isEnabled()
    summary = got.args[0]
    assert summary.counts["runs"] == 4 and not summary.cancelled
    assert "4 runs" in dialog.result.toPlainText() and "model 'constant'" in dialog.result.toPlainText()
    assert seen and max(seen) > 0
    assert dialog.close_button.isEnabled() and not dialog.cancel_button.isEnabled()
    listed = window.experiments.experiment_list

    def names():
        items = [listed.topLevelItem(i) for i in range(listed.topLevelItemCount())]
        return {item.text(0): item.text(1) for item in items}

    qtbot.waitUntil(lambda: names().get("iris") == "4", timeout=10000)   # the views refreshed by themselves
    assert names()["local"] == "1"
    dialog.close_button.click()


def test_cancel_stops_between_runs_and_keeps_what_was_imported(qtbot, project, store, monkeypatch):
    import time

    from modeldesk.core.interop import mlflow_import
    from modeldesk.gui.interop.mlflow_import_dialog import MlflowImportDialog

    real = mlflow_import.import_mlflow

    def held_after_the_first_run(*args, progress, should_stop, **kwargs):
        # the worker waits, after its first run, for the Cancel the GUI thread sends: no race with a fast import
        def gated(fraction, message=""):
            progress(fraction, message)
            deadline = time.monotonic() + 30
            while fraction > 0 and not should_stop() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real(*args, progress=gated, should_stop=should_stop, **kwargs)

    monkeypatch.setattr(mlflow_import, "import_mlflow", held_after_the_first_run)
    dialog = MlflowImportDialog(project)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.source.setText(store.uri)
    dialog.progress.valueChanged.connect(lambda v: dialog.cancel() if v > 0 else None)   # stop at the first run
    with qtbot.waitSignal(dialog.imported, timeout=300_000) as got:
        dialog.start()
    summary = got.args[0]
    assert summary.cancelled
    imported = project.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert 1 <= imported < 4
    assert "Stopped" in dialog.status.text() and dialog.result.toPlainText().startswith("Cancelled after")
    assert project.conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'import.mlflow'").fetchone()[0] == 1


def test_without_mlflow_the_dialog_says_so_and_cannot_start(qtbot, project, monkeypatch):
    from modeldesk.gui.interop import mlflow_import_dialog

    monkeypatch.setattr(mlflow_import_dialog, "mlflow_installed", lambda: False)
    dialog = mlflow_import_dialog.MlflowImportDialog(project)
    qtbot.addWidget(dialog)
    dialog.source.setText("/somewhere/mlruns")
    assert not dialog.import_button.isEnabled()
    assert "MLflow is not installed" in dialog.status.text() and "pip" not in dialog.status.text()

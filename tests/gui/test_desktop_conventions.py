"""Desktop conventions (issue 13 item 7): the Edit menu (Copy, Select All, Find) acting on the focused
widget, Help ▸ User Guide, the last view and model remembered across restarts, Cancel while a project
opens (an upgrade under way finishes safely), and the LICENSE file matching the declared licence."""

from __future__ import annotations

import sqlite3
import threading
import tomllib
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication

from modeldesk.core.registry import versions as registry
from modeldesk.gui.main_window import VIEWS, MainWindow
from support.gui import wait_table
from support.registry import log_run

ROOT = Path(__file__).resolve().parents[2]


def opened(qtbot, win, path):
    win.open(path)
    qtbot.waitUntil(lambda: win.project is not None and not win.experiments.model.loading
                    and win.experiments.experiment_list.topLevelItemCount() > 0, timeout=10000)
    wait_table(qtbot, win.experiments, timeout=10000)


def focus(qtbot, win, widget):
    win.activateWindow()
    widget.setFocus()
    qtbot.waitUntil(lambda: win.focusWidget() is widget)


def test_edit_copy_copies_the_focused_tables_selection(qtbot, window, sample):
    path, _ = sample
    opened(qtbot, window, path)
    table = window.experiments.table
    focus(qtbot, window, table)
    table.selectRow(0)
    QGuiApplication.clipboard().clear()
    window.copy_action.trigger()
    qtbot.waitUntil(lambda: QGuiApplication.clipboard().text() != "")
    lines = QGuiApplication.clipboard().text().splitlines()
    run_name = window.experiments.model.run_at(0).name
    assert len(lines) == 2 and run_name in lines[1]     # header and the selected run, as Ctrl+C copies them


def test_edit_copy_in_a_text_field_copies_its_selected_text(qtbot, window, sample):
    path, _ = sample
    opened(qtbot, window, path)
    edit = window.experiments.filter_bar.edit
    focus(qtbot, window, edit)
    edit.setText("metrics.acc > 0.5")
    edit.setSelection(0, 11)
    window.copy_action.trigger()
    assert QGuiApplication.clipboard().text() == "metrics.acc"


def test_edit_copy_with_nothing_to_copy_says_so(qtbot, window, sample):
    path, _ = sample
    opened(qtbot, window, path)
    window.nav.setCurrentRow(VIEWS.index("Models"))
    focus(qtbot, window, window.models.table)       # a table with nothing selected
    window.copy_action.trigger()
    assert "Nothing selected to copy" in window.statusBar().currentMessage()


def test_select_all_selects_every_row_of_the_focused_table(qtbot, window, sample):
    path, _ = sample
    opened(qtbot, window, path)
    table = window.experiments.table
    focus(qtbot, window, table)
    window.select_all_action.trigger()
    assert len(window.experiments.selected_rows()) == window.experiments.model.rowCount() == 30


def test_ctrl_f_focuses_the_current_views_filter(qtbot, window, sample):
    path, _ = sample
    opened(qtbot, window, path)
    focus(qtbot, window, window.experiments.table)
    window.experiments.filter_bar.edit.setText("metrics.acc > 0")
    assert "Ctrl+F" in [k.toString() for k in window.find_action.shortcuts()]
    qtbot.keyClick(window.experiments.table, "f", modifier=Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.focusWidget() is window.experiments.filter_bar.edit)
    assert window.experiments.filter_bar.edit.selectedText() == "metrics.acc > 0"   # typing replaces it
    window.nav.setCurrentRow(VIEWS.index("Audit"))
    focus(qtbot, window, window.audit.table)
    window.find_action.trigger()
    qtbot.waitUntil(lambda: window.focusWidget() is window.audit.model_filter)
    window.nav.setCurrentRow(VIEWS.index("Models"))
    window.find_action.trigger()                 # no model registered: its filter is not in sight yet
    assert "Models lists nothing to search yet" in window.statusBar().currentMessage()


def test_find_without_a_project_says_to_open_one(qtbot, window):
    window.find_action.trigger()
    assert "Open a project first" in window.statusBar().currentMessage()


def test_help_user_guide_opens_the_local_guide(qtbot, window, monkeypatch):
    urls = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: urls.append(url) or True))
    window.guide_action.trigger()
    assert len(urls) == 1 and urls[0].isLocalFile()
    guide = Path(urls[0].toLocalFile())
    assert guide == ROOT / "docs" / "user-guide.md" and guide.is_file()
    assert "Ctrl+F" in guide.read_text()          # the guide lists the Edit menu's keys


def test_help_user_guide_without_a_copy_explains(qtbot, window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from modeldesk.gui import menus

    urls = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: urls.append(url) or True))
    monkeypatch.setattr(menus, "GUIDE", tmp_path / "installed" / "user-guide.md")   # an installed wheel
    window.guide_action.trigger()
    assert urls == []
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "not installed" in boxes[-1].text() and "docs/user-guide.md" in boxes[-1].informativeText()


def test_last_view_and_model_are_remembered_across_restarts(qtbot, md, project_path, settings_dir):
    md.set_experiment("churn")
    project = md.get_project()
    for name in ("alpha", "beta"):
        registry.register_model(project, f"runs:/{log_run(md, roc_auc=0.9, name=name)}/model", name, actor="ana")
    first = MainWindow(user="ana")
    qtbot.addWidget(first)
    first.show()
    opened(qtbot, first, project_path)
    first.nav.setCurrentRow(VIEWS.index("Models"))
    first.models.select("beta")
    qtbot.waitUntil(lambda: first.models.current_model == "beta", timeout=10000)
    first.close()
    assert list(settings_dir.rglob("*.ini"))             # written to this test's settings folder

    second = MainWindow(user="ana")
    qtbot.addWidget(second)
    second.show()
    assert second.nav.currentRow() == VIEWS.index("Models")      # before any project opens
    assert second.views.currentWidget() is second.models
    second.start()                                               # the most recent project, as launch does
    qtbot.waitUntil(lambda: second.models.current_model == "beta", timeout=10000)
    second.nav.setCurrentRow(VIEWS.index("Audit"))
    second.close()

    third = MainWindow(user="ana")
    qtbot.addWidget(third)
    assert third.views.currentWidget() is third.audit
    third.close()


def test_cancel_while_opening_returns_to_welcome_and_the_upgrade_finishes(qtbot, window, project_path,
                                                                          monkeypatch):
    from modeldesk.core.storage import migrations as schema
    from modeldesk.core.storage import project as project_mod
    from modeldesk.gui import main_window

    project_mod.open_project(project_path).close()
    started, release = threading.Event(), threading.Event()

    def m_test_slow(db):   # a long migration: it waits for the test
        started.set()
        assert release.wait(20)
        db.execute("CREATE TABLE slow_upgrade (id INTEGER PRIMARY KEY)")

    migrations = schema.MIGRATIONS + [("m_test_slow", m_test_slow)]
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    monkeypatch.setattr(project_mod, "MIGRATIONS", migrations)
    monkeypatch.setattr(project_mod, "SCHEMA_VERSION", len(migrations))
    opened_projects = []

    def recording_open(*args, **kwargs):
        opened_projects.append(project_mod.open_project(*args, **kwargs))
        return opened_projects[-1]

    monkeypatch.setattr(main_window, "open_project", recording_open)
    window.open(project_path)
    assert window.pages.currentWidget() is window.opening
    assert window.opening.bar.maximum() == 100 and window.opening.bar.isVisible()    # a percentage
    assert window.opening.cancel_button.isVisible()
    assert started.wait(10)                               # the upgrade is under way, and the page says which step
    qtbot.waitUntil(lambda: "step 1 of 1 (m_test_slow)" in window.opening.step.text())
    assert 45 <= window.opening.bar.value() < 90       # the file is 90 % of opening, the upgrade its 2nd half
    window.opening.cancel_button.click()
    assert window.pages.currentWidget() is window.welcome
    assert window.project is None
    release.set()
    qtbot.waitUntil(lambda: not window.open_jobs.busy() and opened_projects and opened_projects[0]._closed,
                    timeout=20000)
    QApplication.processEvents()
    assert window.project is None and window.pages.currentWidget() is window.welcome
    conn = sqlite3.connect(project_path)                 # upgraded whole, not half
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations)
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'slow_upgrade'").fetchone()
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    backup = opened_projects[0].backup_path              # and the file as it was is kept beside it
    assert backup is not None and sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] \
        == len(migrations) - 1


def test_a_failure_after_cancel_shows_no_dialog(qtbot, window, tmp_path, monkeypatch):
    from modeldesk.gui import main_window

    release = threading.Event()

    def slow_refusal(*args, **kwargs):
        release.wait(20)
        raise RuntimeError("refused late")

    monkeypatch.setattr(main_window, "open_project", slow_refusal)
    failures = []
    window.openFailed.connect(failures.append)
    window.open(tmp_path / "x.mdesk")
    window.cancel_open()
    release.set()
    qtbot.waitUntil(lambda: not window.open_jobs.busy(), timeout=10000)
    QApplication.processEvents()
    assert failures == [] and window.pages.currentWidget() is window.welcome


def test_license_file_matches_the_declared_licence():
    from modeldesk.gui.main_window import LICENSE

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    text = (ROOT / "LICENSE").read_text()
    assert declared == LICENSE == "MIT"
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_opening_an_older_file_shows_its_progress_up_to_100(qtbot, window, project_path, monkeypatch):
    from modeldesk.core.storage import migrations as schema
    from modeldesk.core.storage import project as project_mod

    project_mod.open_project(project_path).close()
    migrations = schema.MIGRATIONS + [("m_test_extra", lambda db: db.execute("CREATE TABLE extra (id INTEGER)"))]
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    monkeypatch.setattr(project_mod, "MIGRATIONS", migrations)
    monkeypatch.setattr(project_mod, "SCHEMA_VERSION", len(migrations))
    seen = []
    shown = window.opening.set_progress

    def recording(fraction, words):
        shown(fraction, words)
        seen.append((window.opening.bar.value(), window.opening.step.text()))

    monkeypatch.setattr(window.opening, "set_progress", recording)
    window.open(project_path)
    qtbot.waitUntil(lambda: window.project is not None, timeout=10000)
    values = [v for v, _ in seen]
    assert values == sorted(values) and values[0] == 0 and values[-1] == 100
    assert window.opening.bar.value() == 100 and window.opening.step.text() == "Opened"
    words = [w for _, w in seen]
    assert words[0] == "Starting…"
    assert any(w.startswith("Keeping a backup of the older file") for w in words)
    assert "Upgrading the file: step 1 of 1 (m_test_extra)…" in words
    assert any(w.startswith("Checking the audit log") for w in words)
    assert len(set(words)) >= 5                           # the label follows the steps

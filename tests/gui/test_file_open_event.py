"""A project the system hands the running app (macOS: a FileOpen event from Finder
or the Dock, packaging/modeldesk.spec claims .mdesk for the bundle) opens in it."""

from __future__ import annotations

from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from modeldesk.gui.launch import open_files_from_the_system


def test_a_file_open_event_opens_the_project(qtbot, window, sample):
    path, _ = sample
    app = QApplication.instance()
    event_filter = open_files_from_the_system(app, window)
    try:
        QApplication.sendEvent(app, QFileOpenEvent(str(path)))
        qtbot.waitUntil(lambda: window.project is not None, timeout=10000)
        assert window.windowTitle() == f"{path.name} — ModelDesk"
    finally:
        app.removeEventFilter(event_filter)


def test_a_file_open_event_for_a_missing_file_says_why_and_keeps_the_window(qtbot, window, tmp_path):
    app = QApplication.instance()
    event_filter = open_files_from_the_system(app, window)
    try:
        QApplication.sendEvent(app, QFileOpenEvent(str(tmp_path / "gone.mdesk")))
        qtbot.waitUntil(lambda: any(b.isVisible() and "gone.mdesk" in b.text() + b.informativeText()
                                    for b in window.findChildren(QMessageBox)), timeout=10000)
        assert window.project is None and not (tmp_path / "gone.mdesk").exists()
    finally:
        app.removeEventFilter(event_filter)

"""The main window: opening projects (and refusing bad ones with a reason),
recent projects, navigation, status bar, remembered geometry, About,
drag and drop, live refresh, File > Close/Quit, and launch() without a display
(or with a DISPLAY no X server answers at)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from modeldesk.gui.launch import NO_DISPLAY, display_problem, has_display, launch, x_server_reachable
from modeldesk.gui.settings import Settings


def opened(qtbot, win, path=None, timeout=5000):
    if path is not None:
        win.open(path)
    qtbot.waitUntil(lambda: win.project is not None and not win.experiments.model.loading
                    and win.experiments.experiment_list.topLevelItemCount() > 0, timeout=timeout)


def message_text(win) -> str:
    boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
    return f"{boxes[-1].text()}\n{boxes[-1].informativeText()}" if boxes else ""


def test_opens_a_project_and_fills_the_status_bar(qtbot, window, sample):
    path, _ = sample
    opened(qtbot, window, path)
    assert window.windowTitle() == "test.mdesk — ModelDesk"
    assert window.pages.currentWidget() is window.workspace
    assert window.path_label.text() == str(path)
    assert window.user_label.text() == "User: tester"
    qtbot.waitUntil(lambda: window.runs_label.text() == "42 runs · 2 experiments")
    assert window.experiments.model.rowCount() == 30


def test_missing_project_says_why_and_stays_usable(qtbot, window, tmp_path):
    missing = tmp_path / "nope.mdesk"
    with qtbot.waitSignal(window.openFailed) as failed:
        window.start(str(missing))
    assert "No project at" in failed.args[0]
    qtbot.waitUntil(lambda: "No project at" in message_text(window))
    assert "Could not open nope.mdesk" in message_text(window)
    assert window.pages.currentWidget() is window.welcome
    assert not missing.exists()          # opening never creates a file


@pytest.mark.parametrize("content, reason", [
    (b"just some text, not a database" * 10, "not an SQLite file"),
    (b"", "empty file (0 bytes)"),      # only `modeldesk init` makes an empty file a project
])
def test_refused_file_gets_a_dialog(qtbot, window, tmp_path, content, reason):
    bad = tmp_path / "bad.mdesk"
    bad.write_bytes(content)
    with qtbot.waitSignal(window.openFailed) as failed:
        window.open(bad)
    assert reason in failed.args[0]
    assert reason in message_text(window)
    assert bad.read_bytes() == content


def test_newer_schema_is_refused(qtbot, window, tmp_path):
    import sqlite3

    newer = tmp_path / "newer.mdesk"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA application_id = 1296323403")   # a ModelDesk file ("MDSK")...
    conn.execute("PRAGMA user_version = 999")            # ...from a newer ModelDesk
    conn.execute("CREATE TABLE x (a)")
    conn.close()
    with qtbot.waitSignal(window.openFailed) as failed:
        window.open(newer)
    assert "newer ModelDesk" in failed.args[0]


def test_recent_projects_are_remembered(qtbot, window, sample, tmp_path):
    from modeldesk.gui.main_window import MainWindow

    path, _ = sample
    opened(qtbot, window, path)
    window.close_project()
    assert window.pages.currentWidget() is window.welcome
    assert window.windowTitle() == "ModelDesk"
    assert "test.mdesk" in window.welcome.body.text()
    recent = [a.data() for a in window.recent_menu.actions() if a.data()]
    assert recent == [str(path.resolve())]
    second = MainWindow(user="tester")   # a new session opens the most recent project
    qtbot.addWidget(second)
    second.start(None)
    opened(qtbot, second)
    assert second.project.path.resolve() == path.resolve()


def test_new_project_and_open_dialog(qtbot, window, tmp_path, sample, monkeypatch):
    target = tmp_path / "fresh"
    monkeypatch.setattr(window, "ask_new_path", lambda: str(target))
    window.new_action.trigger()
    opened(qtbot, window)
    assert window.project.path == tmp_path / "fresh.mdesk" and (tmp_path / "fresh.mdesk").exists()
    assert window.experiments.stack.currentWidget() is window.experiments.empty
    assert "md.start_run" in window.experiments.empty.body.text()
    path, _ = sample
    monkeypatch.setattr(window, "ask_open_path", lambda: str(path))
    qtbot.keyClick(window, Qt.Key_O, Qt.ControlModifier)
    qtbot.waitUntil(lambda: window.project is not None and window.project.path == path)


def show_menu(qtbot, menu) -> None:
    """Open ``menu`` as a click on it in the menu bar would (it fills itself on showing)."""
    menu.popup(menu.parentWidget().mapToGlobal(QPoint(0, 0)))
    qtbot.waitExposed(menu)


def test_open_recent_entry_opens_that_project(qtbot, window, sample, tmp_path):
    from modeldesk.core.storage.project import open_project

    path, _ = sample
    other = tmp_path / "other.mdesk"
    open_project(other, create=True).close()
    opened(qtbot, window, path)
    window.open(other)
    qtbot.waitUntil(lambda: window.project is not None and window.project.path == other)
    menu = window.recent_menu
    show_menu(qtbot, menu)
    entries = {a.data(): a for a in menu.actions() if a.data()}
    assert list(entries) == [str(other.resolve()), str(path.resolve())]   # most recent first
    entry = entries[str(path.resolve())]
    assert "test.mdesk" in entry.text()
    qtbot.mouseClick(menu, Qt.LeftButton, pos=menu.actionGeometry(entry).center())
    assert not menu.isVisible()
    qtbot.waitUntil(lambda: window.project is not None and window.project.path.resolve() == path.resolve())
    assert window.windowTitle() == "test.mdesk — ModelDesk"


def test_close_project_from_the_menu_and_with_ctrl_w(qtbot, window, sample):
    path, _ = sample
    for close in (window.close_action.trigger,
                  lambda: qtbot.keyClick(window, Qt.Key_W, Qt.ControlModifier)):
        opened(qtbot, window, path)
        assert window.close_action.isEnabled()
        with qtbot.waitSignal(window.projectClosed):
            close()
        assert window.project is None
        assert window.pages.currentWidget() is window.welcome
        assert window.windowTitle() == "ModelDesk"
        assert window.path_label.text() == "No project open" and window.runs_label.text() == ""
        assert not window.close_action.isEnabled()
        assert window.isVisible()                   # closing the project is not quitting


def test_quit_is_ctrl_q_and_close_is_ctrl_w_everywhere(window):
    for action, key in ((window.quit_action, "Ctrl+Q"), (window.close_action, "Ctrl+W"),
                        (window.open_action, "Ctrl+O"), (window.new_action, "Ctrl+N")):
        keys = action.shortcuts()
        assert QKeySequence(key) in keys, action.text()   # even where the platform's binding is empty
        assert len(keys) == len({k.toString() for k in keys})   # no key listed twice


@pytest.mark.parametrize("how", ["menu", "ctrl+q"])
def test_quit_closes_the_window(qtbot, window, sample, how):
    path, _ = sample
    opened(qtbot, window, path)
    if how == "menu":
        window.quit_action.trigger()
    else:
        qtbot.keyClick(window, Qt.Key_Q, Qt.ControlModifier)
    assert not window.isVisible()
    assert window.project is None                   # the project file was closed on the way out


def test_quit_asks_first_while_model_servers_run(qtbot, window, monkeypatch):
    running = object()                              # stands for a started model server
    asked, stopped = [], []
    answers = [False, True]                         # Cancel, then Stop and Quit
    serving = window.serving
    monkeypatch.setattr(serving, "active_servers", lambda: [] if stopped else [running])
    monkeypatch.setattr(serving, "ask_stop_on_quit", lambda count: asked.append(count) or answers.pop(0))
    monkeypatch.setattr(serving, "stop_all", lambda wait=False: stopped.append(wait))
    qtbot.keyClick(window, Qt.Key_Q, Qt.ControlModifier)
    assert asked == [1] and not stopped and window.isVisible()   # Cancel: still running, window stays
    window.quit_action.trigger()
    assert asked == [1, 1] and stopped == [True] and not window.isVisible()


def test_navigation_shows_the_views_and_their_empty_states(qtbot, window, sample):
    path, _ = sample
    opened(qtbot, window, path)
    items = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert items == ["Experiments", "Models", "Serving", "Monitoring", "Audit"]
    window.nav.setCurrentRow(1)
    assert window.views.currentWidget() is window.models
    qtbot.waitUntil(lambda: window.models.stack.currentWidget() is window.models.empty)   # no model registered
    qtbot.keyClick(window, Qt.Key_4, Qt.ControlModifier)
    assert window.views.currentWidget() is window.monitoring_page
    page = window.monitoring_page.currentWidget()
    assert page is window.monitoring                     # no model registered: it says what to do
    qtbot.waitUntil(lambda: page.pages.currentWidget() is page.empty
                    and "No registered model" in page.empty.title.text())
    qtbot.keyClick(window, Qt.Key_5, Qt.ControlModifier)
    assert window.views.currentWidget() is window.audit
    qtbot.waitUntil(lambda: window.audit.stack.currentWidget() is window.audit.empty)
    qtbot.keyClick(window, Qt.Key_1, Qt.ControlModifier)
    assert window.views.currentWidget() is window.experiments


def test_geometry_and_splitters_are_remembered(qtbot, window, settings_dir):
    from modeldesk.gui.main_window import MainWindow

    window.resize(760, 600)
    window.workspace.setSizes([180, 580])
    window.experiments.splitter.setSizes([190, 390])
    window.close()
    assert any(settings_dir.rglob("*.ini"))      # written to the test's own folder
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    assert (again.width(), again.height()) == (760, 600)
    assert again.workspace.sizes()[0] == 180 or again.workspace.sizes()[0] == again.nav.width()
    assert again.experiments.splitter.sizes()[0] == 190


def test_about_lists_versions(qtbot, window):
    import PySide6

    box = window.about()
    text = box.text()
    for needle in ("ModelDesk 0.1.0", "Python", "Qt", PySide6.__version__, "SQLite", "pyqtgraph"):
        assert needle in text
    box.close()


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")  # the only constructor
def test_dropping_a_project_opens_it(qtbot, window, sample):
    path, _ = sample
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, drop)
    opened(qtbot, window)
    assert window.project.path == path
    other = QMimeData()
    other.setUrls([QUrl.fromLocalFile("/tmp/notes.txt")])
    refused = QDragEnterEvent(QPoint(50, 50), Qt.CopyAction, other, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()


def test_runs_logged_by_a_script_appear(qtbot, window, sample, gui, md):
    path, _ = sample
    opened(qtbot, window, path)
    window.poll()
    gui.log_runs(md, "churn", 3, prefix="live")     # another connection commits...
    window.poll()                                   # ...which the 2 s poll notices
    view = window.experiments
    qtbot.waitUntil(lambda: view.model.rowCount() == 33)
    qtbot.waitUntil(lambda: window.runs_label.text().startswith("45 runs"))
    assert view.model.data(view.model.index(0, 0)) == "live-02"
    assert window._poll_timer.isActive() and window._poll_timer.interval() == 2000


def test_live_changes_reach_open_windows(qtbot, window, sample, gui, md):
    from PySide6.QtWidgets import QWidget

    class Details(QWidget):
        calls = 0

        def refresh_live(self):
            Details.calls += 1

    path, _ = sample
    opened(qtbot, window, path)
    details = Details(window, Qt.Window)
    details.show()
    window.poll()
    with qtbot.waitSignal(window.projectChanged):
        gui.log_runs(md, "churn", 1, prefix="grow")
        window.poll()
    assert Details.calls == 1
    details.close()


def test_runs_appear_by_polling_alone(qtbot, window, sample, gui, md):
    path, _ = sample
    opened(qtbot, window, path)
    qtbot.wait(50)
    window.poll()
    gui.log_runs(md, "fraud", 1, prefix="polled")
    qtbot.waitUntil(lambda: window.runs_label.text().startswith("43 runs"), timeout=6000)


def test_settings_never_touch_the_real_ones(settings_dir):
    settings = Settings()
    assert os.path.realpath(settings.qs.fileName()).startswith(os.path.realpath(str(settings_dir)))


def test_launch_without_a_display_explains(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert launch("whatever.mdesk") == 1
    assert NO_DISPLAY in capsys.readouterr().err
    assert has_display({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert has_display({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert has_display({}, "win32") and not has_display({}, "linux")


def test_launch_with_a_display_nobody_serves_explains(monkeypatch, capsys):
    """DISPLAY set but no X server there: ModelDesk's message and exit 1, not Qt's abort."""
    monkeypatch.setenv("DISPLAY", ":987")
    for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert launch("whatever.mdesk") == 1
    err = capsys.readouterr().err
    assert "DISPLAY=:987" in err and "xvfb-run" in err and "QT_QPA_PLATFORM=offscreen" in err
    assert not x_server_reachable(":987") and not x_server_reachable("unix:987.0")
    # Only when Qt would use X11: another platform chosen, or Wayland, is not checked.
    for env in ({"DISPLAY": ":987", "QT_QPA_PLATFORM": "offscreen"}, {"DISPLAY": ":987", "WAYLAND_DISPLAY": "w-0"},
                {"DISPLAY": ":987", "QT_QPA_PLATFORM": "xcb;offscreen"}):
        assert display_problem(env, "linux") is None, env
    assert "DISPLAY=:987" in display_problem({"DISPLAY": ":987", "QT_QPA_PLATFORM": "xcb"}, "linux")
    assert display_problem({}, "linux") == NO_DISPLAY
    assert display_problem({"DISPLAY": ":987"}, "win32") is None


@pytest.fixture
def socket_dir():
    """A short folder for unix sockets (their paths are limited to ~100 bytes)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mdx") as folder:
        yield folder


@pytest.mark.skipif(not hasattr(__import__("socket"), "AF_UNIX"), reason="no unix sockets")
def test_x_server_check_connects_to_the_display_socket(socket_dir):
    import socket
    import sys

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(os.path.join(socket_dir, "X986"))   # an "X server" on display 986
    server.listen(16)
    try:
        for display in (":986", ":986.0", "unix:986"):
            assert x_server_reachable(display, socket_dir=socket_dir), display
        assert display_problem({"DISPLAY": ":986"}, "linux", socket_dir=socket_dir) is None
        assert not x_server_reachable(":985", socket_dir=socket_dir)          # another display number
    finally:
        server.close()
    assert not x_server_reachable(":986", socket_dir=socket_dir)   # a stale socket file: refused
    problem = display_problem({"DISPLAY": ":986"}, "linux", socket_dir=socket_dir)
    assert problem and "DISPLAY=:986" in problem
    if sys.platform.startswith("linux"):   # servers that only listen on the abstract socket
        abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        abstract.bind("\0" + os.path.join(socket_dir, "X984"))
        abstract.listen(16)
        try:
            assert x_server_reachable(":984", socket_dir=socket_dir)
        finally:
            abstract.close()


def test_x_server_check_over_tcp():
    import socket

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    if port < 6000:
        server.close()
        pytest.skip("no free port above 6000")
    server.listen(1)
    display = f"127.0.0.1:{port - 6000}.0"
    try:
        assert x_server_reachable(display, timeout=2.0)
    finally:
        server.close()
    assert not x_server_reachable(display, timeout=2.0)


def test_dark_palette_follows_the_choice(qapp, monkeypatch):
    from modeldesk.gui.app import apply_palette
    from modeldesk.gui.kit.theme import is_dark

    original = qapp.palette()
    monkeypatch.setenv("MODELDESK_THEME", "dark")
    apply_palette(qapp)
    assert is_dark()
    monkeypatch.setenv("MODELDESK_THEME", "light")
    apply_palette(qapp)
    assert not is_dark()
    qapp.setPalette(original)


def test_without_a_choice_the_system_colour_scheme_decides(monkeypatch):
    from types import SimpleNamespace

    from modeldesk.gui.app import wants_dark

    def app_with(scheme):
        return SimpleNamespace(styleHints=lambda: SimpleNamespace(colorScheme=lambda: scheme))

    monkeypatch.delenv("MODELDESK_THEME", raising=False)
    assert wants_dark(app_with(Qt.ColorScheme.Dark))
    assert not wants_dark(app_with(Qt.ColorScheme.Light))
    assert not wants_dark(app_with(Qt.ColorScheme.Unknown))
    monkeypatch.setenv("MODELDESK_THEME", "light")          # the override wins over the system
    assert not wants_dark(app_with(Qt.ColorScheme.Dark))


def test_unexpected_error_in_the_app_shows_a_message(qtbot, window, monkeypatch):
    """launch() turns an exception escaping a slot into a message box, not a silent traceback."""
    import sys

    from PySide6.QtWidgets import QMessageBox

    from modeldesk.gui.launch import install_error_dialog

    monkeypatch.setattr(sys, "excepthook", lambda *args: None)
    install_error_dialog(window)
    try:
        raise ValueError("boom")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert boxes and "ValueError: boom" in boxes[-1].text() and "not changed" in boxes[-1].text()
    for box in boxes:
        box.close()


def test_a_cut_audit_log_shows_a_banner(qtbot, window, tmp_path):
    """A project whose audit log lost the entries this machine saw opens with a warning in sight."""
    import sqlite3

    from modeldesk.core import audit
    from modeldesk.core.storage.project import open_project

    path = tmp_path / "cut.mdesk"
    project = open_project(path)
    for i in range(3):
        audit.record(project, action="serving.start", details={"pid": i})
    assert audit.on_open(project) is None            # this machine has now seen entry #3
    project.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute("DELETE FROM audit_log WHERE seq = 3")
    conn.execute("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_log WHERE seq = 2)")
    conn.commit()
    conn.close()
    window.open(path)
    qtbot.waitUntil(lambda: window.project is not None, timeout=5000)
    assert window.chain_banner.isVisible() and "cut or replaced" in window.chain_banner.text()
    window.close_project()
    assert not window.chain_banner.isVisible()


def test_warm_up_imports_the_chart_library_off_the_gui_thread():
    """The first comparison must not import pyqtgraph on the GUI thread (a 100+ ms stall)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from modeldesk.gui.app import create_application\n"
            "from modeldesk.gui.main_window import MainWindow\n"
            "app = create_application(); w = MainWindow()\n"
            "assert 'pyqtgraph' not in sys.modules\n"
            "w.warm_up().join(60)\n"
            "print(all(m in sys.modules for m in ('pyqtgraph', 'modeldesk.gui.charts.curves',"
            " 'modeldesk.gui.compare.compare_view')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr


def test_waiting_for_all_pools_covers_the_named_ones():
    """Quitting waits for every pool's running work, not only Qt's global pool."""
    import threading

    from PySide6.QtCore import QRunnable

    from modeldesk.gui.kit.workers import pool, wait_for_all_pools

    release, finished = threading.Event(), threading.Event()

    class Work(QRunnable):
        def run(self):
            release.wait(5)
            finished.set()

    work = Work()
    work.setAutoDelete(False)
    pool("test-quit").start(work)
    threading.Timer(0.3, release.set).start()
    assert wait_for_all_pools(5000) and finished.is_set()


def test_the_open_app_checks_monitors_and_shows_new_alerts(qtbot, window, md, tmp_path):
    import time

    from core.monitoring.logged_predictions import DAY0, log_day
    from core.monitoring.monitored import production

    from modeldesk.core.monitoring import monitors as mon

    uri = production(md)
    project = md.get_project()
    log_day(project, uri, int((time.time() - DAY0) // 86400) - 1, shifted=False, n=30)   # yesterday, 1 ms each
    mon.set_monitor(project, "latency", "cancer", window="2d", thresholds=mon.Thresholds(p99_ms=0.5), actor="ana")
    path = project.path
    md.set_project(tmp_path / "elsewhere.mdesk")            # let go of the file: the window opens it
    window.open(path)
    qtbot.waitUntil(lambda: window.project is not None and window.alert_watcher.seen == 0, timeout=5000)
    assert window.nav.item(3).text() == "Monitoring"
    with qtbot.waitSignal(window.alert_watcher.new_alerts, timeout=20000) as fired:
        assert window.alert_watcher.check_now()
    (alert,) = fired.args[0]
    assert alert.monitor == "latency" and "p99" in alert.summary
    qtbot.waitUntil(lambda: window.nav.item(3).text() == "Monitoring  (1)")
    assert window.tray.last is not None and "latency" in " ".join(window.tray.last)   # shown where a tray exists
    assert "Monitor alert" in window.statusBar().currentMessage()
    window.show_monitors()
    assert window.views.currentWidget() is window.monitoring_page
    assert window.monitoring_page.currentWidget() is window.monitors
    qtbot.waitUntil(lambda: [a.id for a in window.monitors.alerts] == [alert.id], timeout=5000)
    with qtbot.waitSignal(window.alert_watcher.checked, timeout=20000):   # the same episode: no new alert
        window.alert_watcher.check_now()
    window.close_project()
    assert window.nav.item(3).text() == "Monitoring"

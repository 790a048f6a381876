"""The open app checks monitors every few minutes and tells the user about new alerts.

:class:`AlertWatcher` runs ``checks.check`` in a worker on a timer (every
``interval_ms``, five minutes by default, and once soon after a project
opens) and emits ``new_alerts`` with the alerts opened since it last looked
(those already there when the project opened are not news), and
``open_alerts`` with how many are open (for a badge on Monitoring). A check
that fires starts the monitor's retrain as ``modeldesk monitor check`` does:
detached, recording itself.

:class:`TrayNotifier` shows new alerts as a desktop notification through
the system tray, where there is one (``QSystemTrayIcon.isSystemTrayAvailable()``);
elsewhere ``notify`` does nothing and says so, and the app's own alert list
and badge remain.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon

from ..kit.workers import Jobs

CHECK_EVERY_MS = 5 * 60 * 1000
FIRST_CHECK_MS = 10 * 1000


def _latest_alert_id(project) -> int:
    row = project.read("SELECT COALESCE(MAX(id), 0) FROM monitor_alerts")
    return int(row[0][0])


def _check_and_collect(project, after: int):
    """Check every monitor; return (results, alerts opened after id ``after``, open alert count)."""
    from ...core.monitoring.alerts import list_alerts
    from ...core.monitoring.checks import check

    results = check(project)
    new = list_alerts(project, after=after)
    return results, new[::-1], len(list_alerts(project, open_only=True))


class AlertWatcher(QObject):
    """Runs the monitors' checks on a timer for the open project, off the GUI thread."""

    new_alerts = Signal(object)       # list[Alert], oldest first
    open_alerts = Signal(int)
    checked = Signal(object)          # list[CheckResult]
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = CHECK_EVERY_MS,
                 first_ms: int = FIRST_CHECK_MS):
        super().__init__(parent)
        self.project = None
        self.jobs = Jobs(self)
        self.seen = 0                 # the highest alert id already reported (or there when the project opened)
        self.running = False
        self.first_ms = first_ms
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check_now)
        self.first = QTimer(self)
        self.first.setSingleShot(True)
        self.first.timeout.connect(self.check_now)

    def set_project(self, project) -> None:
        """Watch ``project`` (None: stop). Alerts already recorded are not reported as new."""
        self.jobs.new_session()
        self.running = False
        self.project = project
        self.timer.stop()
        self.first.stop()
        if project is None:
            return
        self.jobs.start(_latest_alert_id, project, done=self._on_baseline, failed=self.failed.emit)

    def _on_baseline(self, seen: int) -> None:
        self.seen = seen
        self.timer.start()
        self.first.start(self.first_ms)

    def check_now(self) -> bool:
        """Start a check now unless one is running; returns whether it started."""
        if self.project is None or self.running:
            return False
        self.running = True
        self.jobs.start(_check_and_collect, self.project, self.seen, done=self._on_checked, failed=self._on_failed)
        return True

    def _on_failed(self, text: str) -> None:
        self.running = False
        self.failed.emit(text)

    def _on_checked(self, result) -> None:
        self.running = False
        results, new, open_count = result
        new = [a for a in new if a.id > self.seen]
        if new:
            self.seen = max(a.id for a in new)
        self.checked.emit(results)
        self.open_alerts.emit(open_count)
        if new:
            self.new_alerts.emit(new)

    def stop(self) -> None:
        self.timer.stop()
        self.first.stop()
        self.jobs.cancel_all()


def alert_text(alerts) -> tuple[str, str]:
    """A notification's title and body for new alerts."""
    if len(alerts) == 1:
        a = alerts[0]
        return f"Monitor {a.monitor} fired", f"{a.model}@{a.alias}: {a.summary}"
    names = ", ".join(sorted({a.monitor for a in alerts}))
    return f"{len(alerts)} monitors fired", f"{names}. See Monitoring for the figures."


class TrayNotifier(QObject):
    """Desktop notifications of new alerts through the system tray, where there is one."""

    clicked = Signal()                # the user clicked a notification (show Monitoring)

    def __init__(self, parent: QObject | None = None, icon: QIcon | None = None):
        super().__init__(parent)
        self.tray: QSystemTrayIcon | None = None
        self.last: tuple[str, str] | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            if icon is None or icon.isNull():
                app = QApplication.instance()
                icon = app.windowIcon() if app is not None else QIcon()
                if icon.isNull() and app is not None:
                    icon = app.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("ModelDesk monitors")
            self.tray.messageClicked.connect(self.clicked.emit)
            self.tray.show()

    @property
    def available(self) -> bool:
        return self.tray is not None

    def notify(self, alerts) -> bool:
        """Show a notification for ``alerts``; False where there is no system tray (nothing shown)."""
        if not alerts:
            return False
        self.last = alert_text(alerts)
        if self.tray is None:
            return False
        self.tray.showMessage(*self.last, QSystemTrayIcon.MessageIcon.Warning, 15000)
        return True

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()

"""The main window: File menu, navigation between views, status bar.

It owns the open project. Opening happens off the GUI thread (a migration of
an old file can take a while); a file that is missing or that core refuses
gets a message saying why, and the window stays usable. While a project is
open the window polls core every 2 s for commits by other processes (a
training script logging runs) and refreshes the views in place; windows of
other views that define ``refresh_live()`` (run details, compare) are asked
to update too. The views are kept in one list, :attr:`MainWindow.project_views`,
and each is driven through the same methods (:class:`~modeldesk.gui.kit.windows.ProjectView`).
"""

from __future__ import annotations

import html
import os
import threading
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core import audit
from ..core.storage.project import open_project
from ..core.tracking import browse
from .audit.audit_view import AuditView
from .experiments.experiments_view import ExperimentsView
from .kit.dialogs import message
from .kit.empty_state import COMING, EmptyState, coming_view
from .kit.icons import app_icon
from .kit.windows import ProjectView
from .kit.workers import Jobs
from .menus import LICENSE, EditAndHelp  # noqa: F401  (LICENSE: the About box's, tests read it here)
from .monitoring.alerts import AlertWatcher, TrayNotifier
from .monitoring.monitoring_view import MonitoringView
from .monitoring.monitors_panel import MonitorsPanel
from .opening import OpeningPage
from .registry.models_view import ModelsView
from .serving.serving_view import ServingView
from .settings import Settings

VIEWS = ("Experiments", "Models", "Serving", "Monitoring", "Audit")
POLL_MS = 2000
SUFFIX = ".mdesk"


def _close_when_idle(project, jobs: list[Jobs]) -> None:
    """Close ``project`` once the queries still running on it have ended."""
    for j in jobs:
        j.cancel_all()

    def finish() -> None:
        for j in jobs:
            j.wait(10.0)
        project.close()

    threading.Thread(target=finish, name="modeldesk-close", daemon=True).start()


def _shortcuts(standard: QKeySequence.StandardKey, promised: str) -> list[QKeySequence]:
    """All the platform's keys for ``standard`` plus ``promised`` (the key the
    user guide names), each once. Giving a StandardKey to addAction keeps only
    its first binding (Close: Ctrl+F4, not Ctrl+W), and some bindings are empty
    on some platforms (Quit on Windows and offscreen)."""
    keys = list(QKeySequence.keyBindings(standard))
    wanted = QKeySequence(promised)
    if wanted not in keys:
        keys.append(wanted)
    return keys


class MainWindow(QMainWindow):
    projectOpened = Signal(object)   # Project
    projectClosed = Signal()
    projectChanged = Signal()        # another process committed to the open project
    openFailed = Signal(str)
    serveRequested = Signal(str)     # a model URI to serve (the Models view's Serve buttons)

    def __init__(self, settings: Settings | None = None, user: str | None = None, parent=None):
        super().__init__(parent)
        self.settings = settings or Settings()
        self.user = user
        self.project = None
        self.jobs = Jobs(self)
        self.open_jobs = Jobs(self)   # opens: never cancelled (an upgrade must finish), dropped by _open_gen
        self._open_gen = 0
        self._opening = Path()
        self._data_version: int | None = None
        self.setWindowTitle("ModelDesk")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self._build_views()
        self._build_menus()
        self._build_status_bar()
        self._poll_timer = QTimer(self, interval=POLL_MS)
        self._poll_timer.timeout.connect(self.poll)
        self._restore_state()
        self._show_welcome()

    # -- construction -------------------------------------------------------------
    def _build_views(self) -> None:
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.addItems(VIEWS)
        self.nav.setMinimumWidth(110)
        self.nav.setStyleSheet("QListWidget#navigation { border: none; background: palette(window); }"
                               "QListWidget#navigation::item { padding: 7px 10px; }")
        self.views = QStackedWidget()
        self.experiments = ExperimentsView(self.settings)
        self.views.addWidget(self.experiments)
        self.serving = ServingView(self.settings)
        self.models = ModelsView()
        self.audit = AuditView()
        self.monitoring = MonitoringView(self.settings)
        # Monitoring: the chosen model's drift and health, and beside it the project's monitors and alerts
        # (every model's; reachable even while the first tab says there is nothing to chart)
        self.monitors = MonitorsPanel()
        self.monitoring_page = QTabWidget()
        self.monitoring_page.setObjectName("monitoringPage")
        self.monitoring_page.setDocumentMode(True)
        self.monitoring_page.addTab(self.monitoring, "Drift and health")
        self.monitors_tab = self.monitoring_page.addTab(self.monitors, "Monitors and alerts")
        built = {"Models": self.models, "Serving": self.serving, "Monitoring": self.monitoring_page,
                 "Audit": self.audit}
        self.coming = {name: coming_view(name) for name in COMING}
        for name in VIEWS[1:]:
            self.views.addWidget(built.get(name) or self.coming[name])
        # Every view that follows the project, in the navigation's order.
        self.project_views: list[ProjectView] = [self.experiments, self.models, self.serving, self.monitoring,
                                                 self.audit]
        self.project_views.append(self.monitors)
        self._build_alerts()
        self.models.changed.connect(self.audit.refresh)
        self.models.changed.connect(self.monitoring.refresh)
        self.serveRequested.connect(self.serve)
        self.models.serveRequested.connect(self.serveRequested)   # Serve on a version (or alias) row
        self.models.actions.enable_serving()
        self.nav.currentRowChanged.connect(self.views.setCurrentIndex)
        self.nav.setCurrentRow(0)
        self.workspace = QSplitter(Qt.Horizontal)
        self.workspace.setObjectName("mainSplitter")
        self.workspace.addWidget(self.nav)
        self.workspace.addWidget(self.views)
        self.workspace.setStretchFactor(1, 1)
        self.workspace.setCollapsible(0, False)
        self.workspace.setCollapsible(1, False)
        self.workspace.setSizes([136, 1140])
        self.welcome = EmptyState("Welcome to ModelDesk", "", actions=("New Project…", "Open Project…"))
        self.welcome.actionTriggered.connect(self._welcome_action)
        self.opening = OpeningPage()
        self.opening.cancelRequested.connect(self.cancel_open)
        self.pages = QStackedWidget()
        for page in (self.welcome, self.opening, self.workspace):
            self.pages.addWidget(page)
        # A warning that stays in sight while the project is open: its audit log is not the one
        # this machine saw before (cut, or an older copy of the file).
        self.chain_banner = QLabel()
        self.chain_banner.setObjectName("chainBanner")
        self.chain_banner.setWordWrap(True)
        self.chain_banner.setStyleSheet("QLabel#chainBanner { background: #fde8e8; color: #8a1c1c; "
                                        "padding: 6px 10px; border-bottom: 1px solid #f0b4b4; }")
        self.chain_banner.hide()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.chain_banner)
        column.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.experiments.experimentsLoaded.connect(self._on_experiments)

    def _build_alerts(self) -> None:
        """The open app checks the monitors every few minutes: new alerts become a desktop notification
        (where there is a tray), a badge on Monitoring and the Monitors panel's list."""
        self.alert_watcher = AlertWatcher(self)
        self.tray = TrayNotifier(self)
        self.alert_watcher.new_alerts.connect(self.tray.notify)
        self.alert_watcher.new_alerts.connect(lambda alerts: self.monitors.refresh())
        self.alert_watcher.new_alerts.connect(lambda alerts: self.statusBar().showMessage(
            f"Monitor alert: {alerts[-1].summary}", 15000))
        self.alert_watcher.open_alerts.connect(self.show_alert_badge)
        self.monitors.alerts_changed.connect(self.show_alert_badge)
        self.tray.clicked.connect(self.show_monitors)

    def show_alert_badge(self, open_alerts: int) -> None:
        """Monitoring's navigation entry carries the number of open alerts."""
        item = self.nav.item(VIEWS.index("Monitoring"))
        item.setText(f"Monitoring  ({open_alerts})" if open_alerts else "Monitoring")
        item.setForeground(Qt.red if open_alerts else self.nav.palette().text())
        item.setToolTip(f"{open_alerts} open monitor alert(s): see Monitoring ▸ Monitors and alerts"
                        if open_alerts else "")

    def show_monitors(self) -> None:
        self.nav.setCurrentRow(VIEWS.index("Monitoring"))
        self.monitoring_page.setCurrentIndex(self.monitors_tab)

    def _build_menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        self.new_action = file.addAction("&New Project…", self.new_project, QKeySequence.New)
        self.open_action = file.addAction("&Open…", self.open_dialog, QKeySequence.Open)
        self.recent_menu = file.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.edit_help = EditAndHelp(self)
        self._fill_recent()
        file.addSeparator()
        self.compare_csv_action = file.addAction("Compare a &CSV…", self.compare_csv)
        self.compare_csv_action.setStatusTip("Test a CSV file against a model version's training data (Monitoring)")
        file.addSeparator()
        self.close_action = file.addAction("&Close Project", self.close_project)
        self.close_action.setShortcuts(_shortcuts(QKeySequence.Close, "Ctrl+W"))
        file.addSeparator()
        self.import_mlflow_action = file.addAction("Import from &MLflow…", self.import_mlflow)
        self.import_mlflow_action.setEnabled(False)
        file.addSeparator()
        self.quit_action = file.addAction("&Quit", self.close)
        self.quit_action.setShortcuts(_shortcuts(QKeySequence.Quit, "Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.QuitRole)
        self.edit_help.build_edit(self.menuBar())
        view = self.menuBar().addMenu("&View")
        for i, name in enumerate(VIEWS):
            action = view.addAction(name, lambda i=i: self.nav.setCurrentRow(i))
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
        view.addSeparator()
        view.addAction(self.experiments.refresh_action)
        help_ = self.menuBar().addMenu("&Help")
        self.edit_help.add_guide(help_)
        self.about_action = help_.addAction("&About ModelDesk", self.about)
        self.about_action.setMenuRole(QAction.AboutRole)

    def _build_status_bar(self) -> None:
        self.path_label = QLabel()
        self.user_label = QLabel()
        self.runs_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        for label in (self.path_label, self.user_label, self.runs_label):
            label.setContentsMargins(6, 0, 6, 0)
        bar = self.statusBar()
        bar.addWidget(self.path_label, 1)
        bar.addPermanentWidget(self.user_label)
        bar.addPermanentWidget(self.runs_label)

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)

    # -- opening and closing -------------------------------------------------------
    def start(self, path: str | os.PathLike | None = None) -> None:
        """What launch does: open ``path``, else the most recent project, else welcome."""
        if path:
            self.open(path)
            return
        recent = self.settings.recent()
        if recent:
            self.open(recent[0])

    def open(self, path: str | os.PathLike, create: bool = False) -> None:
        """Open (or with ``create``, create) the project at ``path`` off-thread."""
        path = Path(path).expanduser()
        if self.project is not None and path.resolve() == self.project.path.resolve():
            self.raise_()
            return   # already open
        self._open_gen += 1
        self._opening = path
        self.opening.start(path.name, str(path))
        if self.project is None:
            self.pages.setCurrentWidget(self.opening)
        self.statusBar().showMessage(f"Opening {path}…")
        self.open_jobs.start(self._open_job, str(path), create, self.user, self._open_gen, wants_progress=True,
                             progress=lambda f, words, g=self._open_gen: g == self._open_gen and
                             self.opening.set_progress(f, words),
                             done=self._on_opened, failed=lambda text, g=self._open_gen: self._on_open_failed(text, g))

    def cancel_open(self) -> None:
        """Stop waiting for the project being opened (see gui/opening.py: an upgrade still finishes)."""
        self._open_gen += 1
        self.opening.stop()
        self.statusBar().showMessage(f"Stopped opening {self._opening.name}.", 5000)
        if self.project is None:
            self._show_welcome()

    @staticmethod
    def _open_job(path: str, create: bool, user: str | None, gen: int, progress=None, should_stop=None):
        # 90 %: the file (checks, backup and upgrade of an older one); the rest: the audit head seen before
        project = open_project(path, create=create, user=user, progress=lambda f, words: progress(0.9 * f, words))
        progress(0.9, "Checking the audit log against the one this computer saw last")
        warning = audit.on_open(project)   # remembers the audit head, or says it was cut
        progress(1.0, "Opened")
        return gen, project, warning

    def _on_opened(self, result) -> None:
        gen, project, chain_warning = result
        if gen != self._open_gen:
            project.close()
            return
        self.opening.stop()
        self._dispose_project()
        self.project = project
        self.settings.add_recent(project.path)
        self._fill_recent()
        name = project.path.name
        self.setWindowTitle(f"{name} — ModelDesk")
        self.setWindowFilePath(str(project.path))
        self.path_label.setText(str(project.path))
        self.path_label.setToolTip(str(project.path.resolve()))
        self.user_label.setText(f"User: {project.user}")
        self.runs_label.setText("")
        self.statusBar().clearMessage()
        self.chain_banner.setVisible(bool(chain_warning))
        self.chain_banner.setText(f"<b>Audit log warning.</b> {html.escape(chain_warning or '')} "
                                  "Open the Audit view and press Verify; restore the file from a backup if "
                                  "nobody meant to replace it.")
        if project.backup_path is not None:
            self.statusBar().showMessage(f"Upgraded the project file; the old one is kept as "
                                         f"{project.backup_path.name}", 10000)
        self.pages.setCurrentWidget(self.workspace)
        self.close_action.setEnabled(True)
        self.compare_csv_action.setEnabled(True)
        self.import_mlflow_action.setEnabled(True)
        for view in self.project_views:
            view.set_project(project)
        if self.settings.last_model(project.path):   # the model selected there last time
            self.models.select(self.settings.last_model(project.path))
        self.alert_watcher.set_project(project)
        self._data_version = None
        self.poll()
        self._poll_timer.start()
        self.projectOpened.emit(project)

    def _on_open_failed(self, text: str, gen: int) -> None:
        if gen != self._open_gen:
            return   # cancelled, or another open came after
        self.opening.stop()
        self.statusBar().clearMessage()
        if self.project is None:
            self._show_welcome()
        self.openFailed.emit(text)
        message(self, QMessageBox.Warning, "Could not open project",
                f"<b>Could not open {html.escape(self._opening.name)}</b>", text)

    def close_project(self) -> None:
        """Close the open project; the window shows the welcome page."""
        self._open_gen += 1
        self._dispose_project()
        self._show_welcome()
        self.projectClosed.emit()

    def _dispose_project(self) -> None:
        self._poll_timer.stop()
        self.chain_banner.hide()
        if self.project is None:
            return
        for widget in self.findChildren(QWidget):  # details/compare windows of this project
            if widget.isWindow() and widget.isVisible():
                widget.close()
        project, self.project = self.project, None
        self.settings.set_last_model(project.path, self.models.current_model)
        for view in self.project_views:
            view.set_project(None)
        self.alert_watcher.set_project(None)
        self.show_alert_badge(0)
        _close_when_idle(project, [self.jobs, self.alert_watcher.jobs] + [view.jobs for view in self.project_views])

    def _show_welcome(self) -> None:
        recent = self.settings.recent()
        links = "".join(f"<br><a href='recent:{html.escape(p)}'>{html.escape(Path(p).name)}</a>"
                        f" <span style='color:gray'>{html.escape(str(Path(p).parent))}</span>"
                        for p in recent[:6])
        text = ("Open a project file (.mdesk) or create a new one. You can also drop a .mdesk file "
                "on this window." + (f"<p><b>Recent projects</b>{links}</p>" if recent else ""))
        self.welcome.set_text("Welcome to ModelDesk", text)
        self.pages.setCurrentWidget(self.welcome)
        self.setWindowTitle("ModelDesk")
        self.setWindowIcon(app_icon())
        self.path_label.setText("No project open")
        self.user_label.setText("")
        self.runs_label.setText("")
        self.close_action.setEnabled(False)
        self.compare_csv_action.setEnabled(False)
        self.import_mlflow_action.setEnabled(False)

    def _welcome_action(self, name: str) -> None:
        if name.startswith("recent:"):
            self.open(name[len("recent:"):])
        elif name.startswith("New"):
            self.new_project()
        else:
            self.open_dialog()

    # -- dialogs (separate so tests can answer them) -----------------------------------
    def ask_open_path(self) -> str | None:
        start = str(self.project.path.parent) if self.project else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open Project", start,
                                              "ModelDesk projects (*.mdesk);;All files (*)")
        return path or None

    def ask_new_path(self) -> str | None:
        start = str(self.project.path.parent) if self.project else str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, "New Project", os.path.join(start, "project.mdesk"),
                                              "ModelDesk projects (*.mdesk)",
                                              options=QFileDialog.DontConfirmOverwrite)
        return path or None

    def open_dialog(self) -> None:
        path = self.ask_open_path()
        if path:
            self.open(path)

    def new_project(self) -> None:
        path = self.ask_new_path()
        if not path:
            return
        if not path.endswith(SUFFIX):
            path += SUFFIX
        if os.path.exists(path) and os.path.getsize(path) > 0:
            self.statusBar().showMessage(f"{path} already exists: opening it.", 5000)
            self.open(path)
        else:
            self.open(path, create=True)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent()
        for path in recent:
            action = self.recent_menu.addAction(f"{Path(path).name}   {Path(path).parent}")
            action.setData(path)
            action.triggered.connect(lambda _=False, p=path: self.open(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Menu", self._clear_recent)
        self.recent_menu.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self._fill_recent()

    def import_mlflow(self):
        """File ▸ Import from MLflow…: a dialog that imports in a worker; the views refresh when it is done."""
        from .interop.mlflow_import_dialog import MlflowImportDialog

        if self.project is None:
            return None
        dialog = MlflowImportDialog(self.project, self, actor=self.user)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.imported.connect(lambda _summary: [view.refresh() for view in self.project_views])
        dialog.open()
        return dialog

    def about(self) -> QMessageBox:
        return self.edit_help.about()

    @staticmethod
    def warm_up() -> threading.Thread:
        """Import the chart library in the background once the window is up, so
        the first comparison or run details window does not freeze the GUI for
        the ~1 s pyqtgraph takes to import."""
        def work() -> None:
            # The views import their charts (and so pyqtgraph) only when they draw: import them here.
            try:
                from .charts import base, curves, parallel  # noqa: F401  (pyqtgraph, numpy)
            except Exception:  # only a head start: the views import what they need themselves
                pass
            try:
                from .compare import compare_view  # noqa: F401
                from .runs import run_details  # noqa: F401
            except Exception:
                pass
            # The libraries above leave ~140k long-lived objects; a full garbage
            # collection over them stalls the GUI for 70-160 ms. Move them out of
            # the collector's reach once, so later collections stay short.
            import gc

            gc.collect()
            gc.freeze()

        thread = threading.Thread(target=work, name="modeldesk-warm-up", daemon=True)
        thread.start()
        return thread

    # -- live updates ---------------------------------------------------------------
    def poll(self) -> None:
        """Refresh the views when another process committed to the file."""
        if self.project is None:
            return
        try:
            version = browse.data_version(self.project)
        except Exception:  # file gone or locked: try again next tick
            return
        if self._data_version is not None and version != self._data_version:
            for view in self.project_views:
                view.refresh()
            self.projectChanged.emit()
            # Run details and compare windows grow their curves in place, if they can.
            for widget in self.findChildren(QWidget):
                if widget.isWindow() and widget.isVisible() and callable(getattr(widget, "refresh_live", None)):
                    widget.refresh_live()
        self._data_version = version

    def _on_experiments(self, experiments: list) -> None:
        total = sum(e.run_count for e in experiments)
        self.runs_label.setText(f"{total:,} run{'s' if total != 1 else ''} · "
                                f"{len(experiments)} experiment{'s' if len(experiments) != 1 else ''}")

    # -- drag and drop ----------------------------------------------------------------------
    @staticmethod
    def _dropped_project(mime) -> str | None:
        for url in mime.urls() if mime.hasUrls() else []:
            if url.isLocalFile() and url.toLocalFile().lower().endswith(SUFFIX):
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_project(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event) -> None:
        path = self._dropped_project(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.open(path)

    # -- window state -------------------------------------------------------------------------
    def _restore_state(self) -> None:
        geometry = self.settings.bytes("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            size = self.sizeHint()
            screen = self.screen().availableGeometry() if self.screen() else None
            if screen is not None and screen.width() > 400:  # fit small screens
                size = size.boundedTo(QSize(int(screen.width() * 0.92), int(screen.height() * 0.92)))
            self.resize(size)
        split = self.settings.bytes("main/splitter")
        if split is not None:
            self.workspace.restoreState(split)
        for view in self.project_views:
            view.restore_state(self.settings)
        last = self.settings.text("main/view")   # the view shown when the app was last closed
        if last in VIEWS:
            self.nav.setCurrentRow(VIEWS.index(last))

    def save_state(self) -> None:
        self.settings.set_bytes("geometry", self.saveGeometry())
        self.settings.set_bytes("main/splitter", self.workspace.saveState())
        self.settings.set_text("main/view", VIEWS[max(0, self.nav.currentRow())])
        if self.project is not None:
            self.settings.set_last_model(self.project.path, self.models.current_model)
        for view in self.project_views:
            view.save_state(self.settings)
        self.settings.sync()

    def compare_csv(self) -> None:
        """File ▸ Compare a CSV…: show the Monitoring view and ask for the file."""
        self.nav.setCurrentRow(VIEWS.index("Monitoring"))
        self.monitoring_page.setCurrentWidget(self.monitoring)
        self.monitoring.ask_csv()

    def serve(self, uri: str) -> None:
        """Serve ``uri`` (models:/NAME/3, models:/NAME@alias, runs:/ID/model) and show the Serving view."""
        self.nav.setCurrentRow(VIEWS.index("Serving"))
        self.serving.serve(uri)

    def closeEvent(self, event) -> None:
        if not self.serving.confirm_quit():   # model servers started here: ask, then stop them
            event.ignore()
            return
        self.save_state()
        self._poll_timer.stop()
        if self.project is not None:
            project, self.project = self.project, None
            for view in self.project_views:
                view.set_project(None)
            self.alert_watcher.stop()
            self.tray.close()
            for jobs in [self.jobs, self.alert_watcher.jobs] + [view.jobs for view in self.project_views]:
                jobs.cancel_all()
                jobs.wait(5.0)
            project.close()
        self._open_gen += 1        # an open still running (say, an upgrade) finishes, then its project is closed
        self.open_jobs.wait(5.0)
        super().closeEvent(event)

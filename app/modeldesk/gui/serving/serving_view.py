"""The Serving view: model servers started from the app, their live figures, and batch scoring.

:meth:`ServingView.serve` starts ``modeldesk serve URI`` as a child process
(:class:`~modeldesk.gui.serving.serving_process.ServerProcess`, the same code path
as the CLI); the Models view calls it through the main window. For the
selected server the view shows requests/s and latency p50/p99 read from its
``/metrics`` (off the GUI thread), the last errors, a copyable curl example
built from the signature, its serving events (``core.serving.served_model.list_events``,
read by a worker) and the server's own log. Servers keep running when the
project is switched; the main window asks :meth:`ServingView.confirm_quit`
before it quits, which stops them. The field above the servers (``find_field``,
Edit ▸ Find) hides the servers whose model URI or address does not contain its
text, ignoring case.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.text import fmt_duration, fmt_size
from ..kit.empty_state import EmptyState
from ..kit.find_field import FindField, matches, no_match_text
from ..kit.theme import status_role, theme
from .serving_details import ServerDetails
from .serving_process import STOPPED, STOPPING, ServerProcess

EMPTY_TITLE = "No model server running"
EMPTY_TEXT = ("Serve a model version from the Models view, or run "
              "<code>modeldesk serve models:/NAME@production</code>.")
COLUMNS = ("Model", "URL", "Version", "Uptime", "Status", "Requests", "Errors")


def _storage_job(project):
    """The file's size, the prediction log's share of it, and the project's retention (a worker)."""
    from ...core.serving.prediction_retention import get_retention, log_size

    size = sum(p.stat().st_size for p in (project.path, Path(f"{project.path}-wal")) if p.exists())
    return size, log_size(project), get_retention(project)


class ServingView(QWidget):
    """Running servers on top; the selected one's chart, request example, errors, events and log below."""

    serversChanged = Signal(int)     # number of active (starting/running/stopping) servers

    def __init__(self, settings=None, parent=None):
        super().__init__(parent)
        self.settings = settings
        self.project = None
        self.servers: list[ServerProcess] = []
        self.serve_dialog = None
        self.scoring_dialog = None
        self.colours = theme()
        self._items: dict[int, QTreeWidgetItem] = {}
        self._retired: list[ServerProcess] = []
        self._build()
        self.jobs = self.details.jobs   # its reads of serving events: the view's only queries on the project
        self._ticker = QTimer(self, interval=1000)
        self._ticker.timeout.connect(self._tick)
        self._update_page()

    # -- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.empty = EmptyState(EMPTY_TITLE, EMPTY_TEXT, actions=("Serve a model…", "Score a CSV…"))
        self.empty.setObjectName("servingEmpty")
        self.empty.actionTriggered.connect(self._empty_action)
        self.serve_button = QPushButton("Serve a model…")
        self.serve_button.setObjectName("serveButton")
        self.serve_button.clicked.connect(lambda: self.open_serve_dialog())
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.clicked.connect(self.stop_selected)
        self.stop_all_button = QPushButton("Stop all")
        self.stop_all_button.setObjectName("stopAllButton")
        self.stop_all_button.clicked.connect(lambda: self.stop_all())
        self.score_button = QPushButton("Score a CSV…")
        self.score_button.setObjectName("scoreButton")
        self.score_button.clicked.connect(lambda: self.open_scoring_dialog())
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for b in (self.serve_button, self.stop_button, self.stop_all_button):
            bar.addWidget(b)
        self.find_field = FindField("Filter servers", "Show only the servers whose model URI or address "
                                    "contains this, ignoring case (Ctrl+F; Esc clears)")
        self.find_field.setObjectName("serverFilter")
        self.find_field.setMinimumWidth(140)
        self.find_field.setMaximumWidth(220)
        self.find_field.textChanged.connect(lambda _t: self.apply_filter())
        bar.addSpacing(8)
        bar.addWidget(self.find_field, 1)
        bar.addStretch(1)
        self.storage_label = QLabel()
        self.storage_label.setObjectName("storageLabel")
        self.storage_label.setToolTip("The project file's size and what the prediction log takes in it. "
                                      "Keep it bounded with `predictions retention` (a running server applies it).")
        bar.addWidget(self.storage_label)
        bar.addWidget(self.score_button)

        self.table = QTreeWidget()
        self.table.setObjectName("serversTable")
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        header = self.table.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        for col, width in zip(range(1, len(COLUMNS)), (190, 64, 84, 220, 84, 64)):
            header.resizeSection(col, width)
        self.table.currentItemChanged.connect(lambda *_: self._show_selected())
        self.details = ServerDetails()
        self.details.copied.connect(self._copied)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setObjectName("servingSplitter")
        self.no_match = QLabel()
        self.no_match.setObjectName("serverNoMatch")
        self.no_match.setTextFormat(Qt.TextFormat.PlainText)
        self.no_match.hide()
        self.split.addWidget(self.table)
        self.split.addWidget(self.details)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([80, 600])
        self.split.setCollapsible(1, False)

        self.content = QWidget()
        cl = QVBoxLayout(self.content)
        cl.setContentsMargins(8, 8, 8, 6)
        cl.setSpacing(6)
        cl.addLayout(bar)
        cl.addWidget(self.no_match)
        cl.addWidget(self.split, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    # -- project ---------------------------------------------------------------------------------
    def set_project(self, project) -> None:
        """The open project (None: none). Servers already running keep running."""
        self.project = project
        self.details.set_project(project)
        self._update_buttons()
        self._storage_at = 0.0
        self.storage_label.setText("")
        self._read_storage()

    def refresh(self) -> None:
        """The project file changed: the servers report their own state and the details pane
        reads its events on a timer; only the file's size is read again (at most every 10 s)."""
        self._read_storage()

    def _read_storage(self) -> None:
        if self.project is None or time.monotonic() - getattr(self, "_storage_at", 0.0) < 10:
            return
        self._storage_at = time.monotonic()
        self.jobs.start(_storage_job, self.project, done=self._show_storage, failed=lambda _m: None)

    def _show_storage(self, result) -> None:
        file_bytes, log_bytes, retention = result
        if self.project is None:
            return
        keep = []
        if retention.days:
            keep.append(f"{retention.days:g} days")
        if retention.rows:
            keep.append(f"{retention.rows:,} rows")
        self.storage_label.setText(f"Project file {fmt_size(file_bytes)} · prediction log {fmt_size(log_bytes)}"
                                   f" · kept: {' or '.join(keep) if keep else 'everything'}")

    def save_state(self, settings) -> None:
        """Nothing of this view is kept between sessions."""

    def restore_state(self, settings) -> None:
        """Nothing of this view is kept between sessions."""

    # -- starting and stopping ----------------------------------------------------------------------
    def serve(self, uri: str) -> ServerProcess | None:
        """Start serving ``uri`` (any model URI form) from the open project; select it.

        A URI already served from this project is selected, not started twice.
        """
        from ...core.errors import ModelDeskError
        from ..kit.dialogs import message
        from .serve_dialog import check_uri

        if self.project is None:
            message(self, QMessageBox.Information, "Serve a model", "Open a project first.")
            return None
        try:
            uri = check_uri(uri)
        except ModelDeskError as exc:
            message(self, QMessageBox.Warning, "Serve a model", f"Cannot serve {html.escape(uri)}", str(exc))
            return None
        path = str(self.project.path)
        for server in self.servers:
            if server.active and server.uri == uri and server.project_path == path:
                self.select(server)
                return server
        server = ServerProcess(path, uri, user=self.project.user, parent=self)
        server.changed.connect(lambda s=server: self._server_changed(s))
        server.sampled.connect(lambda s=server: self.details.figures(s))
        server.logLine.connect(lambda line, s=server: self.details.log_line(s, line))
        self.servers.append(server)
        item = QTreeWidgetItem([uri, "", "", "", "", "", ""])
        for col in range(2, len(COLUMNS)):
            if col != 4:
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._items[id(server)] = item
        self.table.addTopLevelItem(item)
        server.start()
        self.select(server)
        self._update_page()
        return server

    def select(self, server: ServerProcess) -> None:
        item = self._items.get(id(server))
        if item is not None:
            self.table.setCurrentItem(item)

    def selected(self) -> ServerProcess | None:
        item = self.table.currentItem()
        for server in self.servers:
            if self._items.get(id(server)) is item and item is not None:
                return server
        return None

    def active_servers(self) -> list[ServerProcess]:
        return [s for s in self.servers if s.active]

    def stop(self, server: ServerProcess) -> None:
        """Stop a running server; a failed one is removed from the list."""
        if server.alive:
            server.stop()
        else:
            self._remove(server)

    def stop_selected(self) -> None:
        server = self.selected()
        if server is not None:
            self.stop(server)

    def stop_all(self, wait: bool = False) -> None:
        """Stop every server the app started; with ``wait``, block until they have exited."""
        for server in list(self.servers):
            self.stop(server)
        if wait:
            for server in list(self.servers):
                server.wait_stopped()

    def confirm_quit(self) -> bool:
        """The main window's close hook: ask, then stop running servers. False: do not quit."""
        active = self.active_servers()
        if not active:
            return True
        if not self.ask_stop_on_quit(len(active)):
            return False
        self.stop_all(wait=True)
        return True

    def ask_stop_on_quit(self, count: int) -> bool:
        """Separate so tests can answer it."""
        text = (f"{count} model servers are running. Stop them and quit?" if count != 1
                else "1 model server is running. Stop it and quit?")
        box = QMessageBox(QMessageBox.Icon.Question, "Quit ModelDesk", text, QMessageBox.StandardButton.Cancel,
                          self.window())
        box.setObjectName("stopServersBox")
        box.setInformativeText("They stop cleanly: requests in flight finish and the prediction log is written.")
        stop = box.addButton("Stop and Quit", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(stop)
        box.exec()
        return box.clickedButton() is stop

    def _remove(self, server: ServerProcess) -> None:
        if server in self.servers:
            self.servers.remove(server)
        item = self._items.pop(id(server), None)
        if item is not None:
            self.table.takeTopLevelItem(self.table.indexOfTopLevelItem(item))
        self._retired.append(server)   # deleted once no /metrics read of it is in flight
        for old in [s for s in self._retired if s._poll is None]:
            self._retired.remove(old)
            old.deleteLater()
        self._update_page()
        self._show_selected()

    # -- dialogs --------------------------------------------------------------------------------------
    def _empty_action(self, name: str) -> None:
        if name.startswith("Serve"):
            self.open_serve_dialog()
        else:
            self.open_scoring_dialog()

    def open_serve_dialog(self, initial: str = ""):
        from .serve_dialog import ServeDialog

        if self.project is None:
            return None
        dialog = ServeDialog(self.project, self, initial=initial)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda d=dialog: self.serve(d.uri))
        self.serve_dialog = dialog
        dialog.open()
        return dialog

    def open_scoring_dialog(self, uri: str | None = None):
        from .scoring_dialog import ScoringDialog

        if self.project is None:
            return None
        if self.scoring_dialog is not None and self.scoring_dialog.running:
            self.scoring_dialog.raise_()
            return self.scoring_dialog
        if uri is None:
            server = self.selected()
            uri = server.uri if server is not None else ""
        if self.scoring_dialog is not None:
            self.scoring_dialog.close()
            self.scoring_dialog.deleteLater()
        dialog = ScoringDialog(self.project, uri, self)
        self.scoring_dialog = dialog
        dialog.show()
        return dialog

    # -- updates --------------------------------------------------------------------------------------
    def _update_page(self) -> None:
        self.stack.setCurrentWidget(self.content if self.servers else self.empty)
        if self.active_servers():
            self._ticker.start()
        else:
            self._ticker.stop()
        self._update_buttons()
        self.apply_filter()
        self.serversChanged.emit(len(self.active_servers()))

    def apply_filter(self) -> None:
        """Hide the servers the find field leaves out (by model URI or address); say so when it hides all."""
        text = self.find_field.text()
        shown = 0
        for i in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(i)
            hide = not (matches(item.text(0), text) or matches(item.text(1), text))
            item.setHidden(hide)
            shown += not hide
        none = bool(text.strip()) and self.table.topLevelItemCount() > 0 and shown == 0
        self.no_match.setText(no_match_text("server", text) if none else "")
        self.no_match.setVisible(none)

    def _update_buttons(self) -> None:
        has_project = self.project is not None
        for b in (self.serve_button, self.score_button, *self.empty.buttons.values()):
            b.setEnabled(has_project)
        server = self.selected()
        self.stop_button.setEnabled(server is not None and server.status != STOPPING)
        self.stop_button.setText("Remove" if server is not None and not server.alive else "Stop")
        self.stop_all_button.setEnabled(bool(self.active_servers()))

    def _show_selected(self) -> None:
        self.details.show_server(self.selected())
        self._update_buttons()

    def _server_changed(self, server: ServerProcess) -> None:
        if server.status == STOPPED and not server.alive:
            self._remove(server)
            return
        self._fill_row(server)
        self.details.server_changed(server)
        self._update_page()

    def _fill_row(self, server: ServerProcess) -> None:
        item = self._items.get(id(server))
        if item is None:
            return
        last = server.history.last
        uptime = server.uptime()
        values = (server.uri, server.url or "—", "—" if server.version is None else str(server.version),
                  "—" if uptime is None else fmt_duration(uptime), server.status_text(),
                  "—" if last is None else f"{int(last.requests):,}", "—" if last is None else f"{int(last.errors):,}")
        for col, text in enumerate(values):
            if item.text(col) != text:
                item.setText(col, text)
        item.setToolTip(4, server.status_text())
        item.setToolTip(0, f"{server.uri}\nproject {server.project_path}\npid {server.pid or '—'}")
        item.setForeground(4, QColor(self.colours[status_role(server.status, "text")]))

    def _tick(self) -> None:
        for server in self.servers:
            self._fill_row(server)

    def _copied(self, _text: str) -> None:
        bar = getattr(self.window(), "statusBar", None)
        if callable(bar):
            bar().showMessage("Copied the curl command.", 3000)


def preview(argv: list[str] | None = None) -> int:
    """Open the Serving view alone: ``python -m modeldesk.gui.serving.serving_view PROJECT [MODEL_URI]``."""
    import sys

    from ...core.storage.project import open_project
    from ..app import create_application

    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m modeldesk.gui.serving.serving_view PROJECT.mdesk [MODEL_URI]", file=sys.stderr)
        return 2
    app = create_application()
    project = open_project(args[0], create=False)
    view = ServingView()
    view.set_project(project)
    view.resize(1140, 760)
    view.setWindowTitle("Serving — ModelDesk")
    view.show()
    if len(args) > 1:
        view.serve(args[1])
    app.aboutToQuit.connect(lambda: view.stop_all(wait=True))
    code = app.exec()
    project.close()
    return code


if __name__ == "__main__":
    raise SystemExit(preview())

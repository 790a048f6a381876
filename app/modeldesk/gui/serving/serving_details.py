"""What the Serving view shows for the selected server.

Title (URI, version, URL), the figures line, the live chart (requests/s,
errors/s, latency p50/p99), a copyable curl example built from the served
signature, the last errors (counts by code from ``/metrics`` and the
server's own error lines), its serving events (``core.serving.served_model.list_events``
read by a worker) and the server's log. Handed a
:class:`~modeldesk.gui.serving.serving_process.ServerProcess`; it never starts or
stops one.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.text import fmt_time
from ..kit.theme import monospace_font, status_role, theme
from ..kit.workers import Jobs
from .serving_process import FAILED, LOG_LINES, RUNNING, STARTING, STOPPING, ServerProcess

EVENTS_MS = 5000


def _events_job(project, uri: str, limit: int = 500):
    from ...core.serving.served_model import list_events
    from ...core.tracking.artifacts import parse_model_uri

    parts = parse_model_uri(uri)
    name = parts[1] if parts[0] == "models" else None
    run_id = parts[1] if parts[0] == "runs" else None
    events = [e for e in list_events(project, limit)
              if e.model_uri == uri or (name and e.model_name == name) or (run_id and e.run_id == run_id)]
    return uri, events


def _detail_text(detail: dict) -> str:
    skip = {"pid", "token_required", "prediction_log", "threads"}
    return ", ".join(f"{k}: {v}" for k, v in detail.items() if v is not None and k not in skip)


def _rows(tree: QTreeWidget, columns: int) -> list[tuple]:
    return [tuple(tree.topLevelItem(i).text(c) for c in range(columns)) for i in range(tree.topLevelItemCount())]


class ServerDetails(QWidget):
    """The selected server's figures, chart, request example, errors, events and log."""

    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self.server: ServerProcess | None = None
        self.chart = None                 # created on first use: pyqtgraph is a slow import
        self.colours = theme()
        self.jobs = Jobs(self)
        self._events_uri: str | None = None
        self._build()
        self._events_timer = QTimer(self, interval=EVENTS_MS)
        self._events_timer.timeout.connect(self.reload_events)

    def _build(self) -> None:
        self.title = QLabel()
        self.title.setObjectName("servingTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.title.setOpenExternalLinks(True)
        self.stats = QLabel()
        self.stats.setObjectName("servingStats")
        self.stats.setTextFormat(Qt.TextFormat.RichText)
        self.chart_holder = QWidget()
        self.chart_holder.setMinimumSize(300, 140)
        QVBoxLayout(self.chart_holder).setContentsMargins(0, 0, 0, 0)

        self.curl_text = QPlainTextEdit()
        self.curl_text.setObjectName("curlExample")
        self.curl_text.setReadOnly(True)
        self.curl_text.setFont(monospace_font())
        self.curl_text.setMaximumHeight(96)
        self.curl_text.setMinimumHeight(40)
        self.copy_curl_button = QPushButton("Copy")
        self.copy_curl_button.setObjectName("copyCurlButton")
        self.copy_curl_button.setToolTip("Copy the curl command to the clipboard")
        self.copy_curl_button.clicked.connect(self.copy_curl)
        curl_box = QGroupBox("Try it: one row with curl")
        cl = QVBoxLayout(curl_box)
        cl.addWidget(self.curl_text)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.copy_curl_button)
        cl.addLayout(row)

        self.errors = QTreeWidget()
        self.errors.setObjectName("servingErrors")
        self.errors.setHeaderLabels(["Error", "Endpoint", "Count"])
        self.errors.setRootIsDecorated(False)
        self.errors.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.errors.header().setStretchLastSection(False)
        self.error_lines = QPlainTextEdit()
        self.error_lines.setObjectName("servingErrorLines")
        self.error_lines.setReadOnly(True)
        self.error_lines.setFont(monospace_font())
        self.error_lines.setMaximumHeight(80)
        self.error_lines.setMinimumHeight(36)
        self.errors.setMinimumHeight(40)
        self.error_lines.setPlaceholderText("The server's last error lines appear here.")
        errors_box = QGroupBox("Last errors")
        el = QVBoxLayout(errors_box)
        el.addWidget(self.errors, 1)
        el.addWidget(self.error_lines)

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(curl_box)
        sl.addWidget(errors_box, 1)
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.setObjectName("servingMiddle")
        middle.addWidget(self.chart_holder)
        middle.addWidget(side)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 2)
        middle.setSizes([640, 420])
        middle.setCollapsible(0, False)

        self.events = QTreeWidget()
        self.events.setObjectName("servingEvents")
        self.events.setHeaderLabels(["Time", "Event", "Model URI", "Version", "User", "Details"])
        self.events.setRootIsDecorated(False)
        self.events.setUniformRowHeights(True)
        for col, width in enumerate((140, 90, 260, 60, 70)):
            self.events.header().resizeSection(col, width)
        self.log_text = QPlainTextEdit()
        self.log_text.setObjectName("serverLog")
        self.log_text.setReadOnly(True)
        self.log_text.setFont(monospace_font())
        self.log_text.setMaximumBlockCount(LOG_LINES)
        for w in (self.events, self.log_text):
            w.setMinimumHeight(40)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.events, "Serving events")
        self.tabs.addTab(self.log_text, "Server log")

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(4)
        tl.addWidget(self.title)
        tl.addWidget(self.stats)
        tl.addWidget(middle, 1)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.setObjectName("servingDetailsSplitter")
        self.split.addWidget(top)
        self.split.addWidget(self.tabs)
        self.split.setStretchFactor(0, 1)
        self.split.setSizes([470, 130])
        self.split.setCollapsible(0, False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.split)

    # -- inputs ---------------------------------------------------------------------------------
    def set_project(self, project) -> None:
        self.project = project
        self._events_uri = None
        self.reload_events()

    def show_server(self, server: ServerProcess | None) -> None:
        """Show ``server`` (None: nothing)."""
        self.server = server
        if server is None:
            for w in (self.title, self.stats):
                w.setText("")
            for w in (self.curl_text, self.errors, self.error_lines, self.log_text, self.events):
                w.clear()
            self._events_uri = None
            self._events_timer.stop()
            if self.chart is not None:
                self.chart.set_data([], [], [], [], [])
            self.copy_curl_button.setEnabled(False)
            return
        self._ensure_chart()
        self.server_changed(server)
        self.figures(server)
        self._show_error_lines(server)
        self.log_text.setPlainText("\n".join(server.log))
        self.log_text.moveCursor(self.log_text.textCursor().MoveOperation.End)
        if self._events_uri != server.uri:
            self.events.clear()
        self.reload_events()
        self._events_timer.start()

    def _ensure_chart(self) -> None:
        if self.chart is None:
            from ..charts.serving_chart import ServingChart

            self.chart = ServingChart()
            self.chart_holder.layout().addWidget(self.chart)

    def server_changed(self, server: ServerProcess) -> None:
        """Status, URL or version changed."""
        if server is not self.server:
            return
        version = "" if server.version is None else f" · version {server.version}"
        url = f" · <a href='{html.escape(server.url)}'>{html.escape(server.url)}</a>" if server.url else ""
        state = ""
        if server.status != RUNNING or server.message:
            colour = self.colours[status_role(server.status, "text")]
            state = f" · <span style='color:{colour}'>{html.escape(server.status_text())}</span>"
        self.title.setText(f"<span style='font-size:11pt'><b>{html.escape(server.uri)}</b></span>"
                           f"{version}{url}{state}")
        curl = server.curl() or ""
        if self.curl_text.toPlainText() != curl:
            self.curl_text.setPlainText(curl)
        self.curl_text.setPlaceholderText("The example appears once the server answers."
                                          if server.status in (STARTING, RUNNING) else "")
        self.copy_curl_button.setEnabled(bool(curl))
        if server.status in (FAILED, STOPPING) and self.chart is not None and not len(server.history):
            self.chart.show_message(f"The server is {server.status_text()}.")

    def log_line(self, server: ServerProcess, line: str) -> None:
        if server is not self.server:
            return
        self.log_text.appendPlainText(line)
        if server.error_lines and server.error_lines[-1][1] == line:
            self._show_error_lines(server)

    def figures(self, server: ServerProcess) -> None:
        """A new /metrics reading: chart, figures line and error counts."""
        if server is not self.server:
            return
        h = server.history
        if self.chart is not None:
            if not len(h):
                self.chart.show_message("Starting the server…" if server.status == STARTING
                                        else "Waiting for the first figures from the server…"
                                        if server.status == RUNNING else f"The server is {server.status_text()}.")
            else:
                self.chart.set_data(list(h.times), list(h.rps), list(h.eps), list(h.p50_ms), list(h.p99_ms))
        last = h.last
        if last is None:
            self.stats.setText("")
        else:
            rps, eps = h.recent_rate()
            parts = [f"<b>{rps:,.0f}</b> requests/s", f"<b>{eps:,.1f}</b> errors/s"]
            if last.p50 is not None:
                parts.append(f"p50 <b>{last.p50 * 1000:.1f} ms</b>")
            if last.p99 is not None:
                parts.append(f"p99 <b>{last.p99 * 1000:.1f} ms</b>")
            parts.append(f"{int(last.requests):,} requests, {int(last.errors):,} errors, "
                         f"{int(last.rows):,} rows predicted")
            if last.logged_rows is not None:
                parts.append(f"{int(last.logged_rows):,} logged")
            if last.dropped_rows:
                parts.append(f"<span style='color:{self.colours['warn']}'>{int(last.dropped_rows):,} "
                             "log rows dropped</span>")
            self.stats.setText(" · ".join(parts))
        counts = sorted((last.errors_by_code if last else {}).items(), key=lambda kv: -kv[1])
        wanted = [(code, endpoint, f"{int(n):,}") for (code, endpoint), n in counts]
        if wanted != _rows(self.errors, 3):
            self.errors.clear()
            for row in wanted:
                item = QTreeWidgetItem(list(row))
                item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.errors.addTopLevelItem(item)

    def _show_error_lines(self, server: ServerProcess) -> None:
        lines = [f"{fmt_time(t, 'clock')}  {line.removeprefix('modeldesk serve: ')}"
                 for t, line in list(server.error_lines)[-8:]]
        self.error_lines.setPlainText("\n".join(lines))
        self.error_lines.moveCursor(self.error_lines.textCursor().MoveOperation.End)

    def copy_curl(self) -> str:
        """Put the curl example on the clipboard; returns it."""
        text = self.curl_text.toPlainText()
        if text:
            QGuiApplication.clipboard().setText(text)
            self.copied.emit(text)
        return text

    # -- events ------------------------------------------------------------------------------------
    def reload_events(self) -> None:
        """Read the server's serving events (start, stop, switch) off the GUI thread."""
        server = self.server
        if server is None or self.project is None or server.project_path != str(self.project.path):
            return
        if self.jobs.busy():
            return
        self.jobs.start(_events_job, self.project, server.uri, done=self._show_events, failed=lambda _t: None)

    def _show_events(self, result) -> None:
        uri, events = result
        if self.server is None or self.server.uri != uri:
            return
        self._events_uri = uri
        rows = [(fmt_time(e.time), e.event, e.model_uri,
                 "" if e.version is None else str(e.version), e.user, _detail_text(e.detail)) for e in events]
        if rows == _rows(self.events, 6):
            return
        self.events.clear()
        for row in rows:
            item = QTreeWidgetItem(list(row))
            item.setToolTip(5, row[5])
            self.events.addTopLevelItem(item)

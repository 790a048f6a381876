"""The Monitors panel: monitors with their thresholds, last check and state; their alerts; Check Now.

A widget for the Monitoring view (or a window of its own): every query and
action runs through its ``Jobs`` (``set_monitor``, ``remove_monitor``,
``checks.check``, ``acknowledge``), never on the GUI thread. Add opens
:class:`MonitorDialog`; Remove and Acknowledge ask first. ``checked`` is
emitted with the results of a check the panel ran, ``alerts_changed`` with
the number of open alerts whenever they are read (for a badge).
"""

from __future__ import annotations

import html
import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.text import fmt_time
from ..kit.tables import CopyTableView, selection_of, set_table_model
from ..kit.theme import monospace_font, theme
from ..kit.windows import ReloadWhenShown
from ..kit.workers import ActionRunner, Jobs

MONITOR_COLUMNS = ("Name", "Watches", "Window", "Thresholds", "Retrain", "Last retrain", "Owner", "Last check",
                   "State")
ALERT_COLUMNS = ("Alert", "Monitor", "Version", "Fired", "Checks", "Acknowledged", "Figures")
STATE_COLOURS = {"firing": "error", "error": "warn", "ok": "ok"}


def _load(project):
    """What the panel shows: monitors, the latest alerts, the registered model names, each monitor's last retrain."""
    from ...core.monitoring.alerts import list_alerts
    from ...core.monitoring.monitors import list_monitors
    from ...core.monitoring.retrain import list_retrains
    from ...core.registry.versions import list_models

    last: dict = {}
    for r in list_retrains(project, limit=500):
        last.setdefault(r.monitor, r)
    return list_monitors(project), list_alerts(project, limit=200), [m.name for m in list_models(project)], last


def retrain_text(r) -> str:
    """A retrain in a few words: running, failed (exit 3), done: v5, request #6."""
    if r is None:
        return "—"
    if r.status == "running":
        return f"running since {fmt_time(r.started_at, 'min')}"
    if r.status == "failed":
        return "failed" + (f" (exit {r.exit_code})" if r.exit_code not in (None, 0) else "")
    return f"done: v{r.version}, request #{r.request_id}"


def _short(command: str, width: int = 32) -> str:
    return command if len(command) <= width else "…" + command[-(width - 1):]


def _set_monitor(project, values: dict):
    from ...core.monitoring.monitors import set_monitor

    values = dict(values)
    return set_monitor(project, values.pop("name"), actor=project.user, **values)


def _remove(project, name: str):
    from ...core.monitoring.monitors import remove_monitor

    return remove_monitor(project, name, actor=project.user)


def _acknowledge(project, alert_id: int):
    from ...core.monitoring.alerts import acknowledge

    return acknowledge(project, alert_id, actor=project.user)


def _check(project, name=None, *, progress=None, should_stop=None):
    from ...core.monitoring.checks import check

    return check(project, name, progress=progress, should_stop=should_stop)


def _item(value, tip: str = "") -> QStandardItem:
    item = QStandardItem()
    item.setData(value, Qt.DisplayRole)
    item.setEditable(False)
    if tip:
        item.setToolTip(tip)
    return item


def _figures_text(figures) -> str:
    parts = []
    for f in figures:
        if f.get("crossed"):
            value = ", ".join(f["value"]) if isinstance(f["value"], list) else f"{f['value']:g}"
            parts.append(f"{f['label']} {value}")
    return "; ".join(parts)


class MonitorsPanel(ReloadWhenShown, QWidget):
    """Monitors and alerts of the open project; constructible alone: ``MonitorsPanel(); set_project(p)``."""

    # Edit ▸ Find is disabled on this tab, with this as its tip (gui/menus.py).
    no_find_reason = ("Find has nothing to search on Monitors and alerts (a project has a few monitors, "
                      "each on one row); it filters the drift table's columns on Drift and health.")

    loaded = Signal(int)              # number of monitors
    checked = Signal(object)          # list[CheckResult] of a check run here
    alerts_changed = Signal(int)      # open alerts

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self.jobs = Jobs(self)
        self.runner = ActionRunner(self, self.jobs)
        self._stale = False
        self.monitors = []
        self.alerts = []
        self.models: list[str] = []
        self.retrains: dict = {}
        self.dialog = None
        self.output_dialog = None
        self.confirm = None
        self.check_task = None
        self._build()
        self.runner.succeeded.connect(lambda *_: self.reload())
        self.runner.failed.connect(lambda *_: self._update_buttons())

    def _build(self) -> None:
        self.check_button = QPushButton("Check Now")
        self.check_button.setToolTip("Evaluate every monitor on the traffic of its window")
        self.add_button = QPushButton("Add…")
        self.remove_button = QPushButton("Remove…")
        self.output_button = QPushButton("Retrain Output…")
        self.output_button.setToolTip("What the selected monitor's last retrain command printed")
        self.ack_button = QPushButton("Acknowledge")
        self.ack_button.setToolTip("Close the selected alert; the next firing check opens a new one")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(180)
        self.details = QLabel()
        self.details.setObjectName("monitorDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setObjectName("monitorsStatus")
        self.status.setWordWrap(True)
        self.monitor_items = QStandardItemModel(self)
        self.monitor_items.setHorizontalHeaderLabels(MONITOR_COLUMNS)
        self.monitor_table = CopyTableView()
        self.monitor_table.setObjectName("monitorsTable")
        set_table_model(self.monitor_table, self.monitor_items)
        self.monitor_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.monitor_table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.alert_items = QStandardItemModel(self)
        self.alert_items.setHorizontalHeaderLabels(ALERT_COLUMNS)
        self.alert_table = CopyTableView()
        self.alert_table.setObjectName("alertsTable")
        set_table_model(self.alert_table, self.alert_items)
        self.alert_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.alert_table.setSelectionMode(QAbstractItemView.SingleSelection)
        top = QHBoxLayout()
        title = QLabel("<b>Monitors</b>")
        top.addWidget(title)
        top.addStretch(1)
        for w in (self.progress, self.cancel_button, self.check_button, self.add_button, self.remove_button,
                  self.output_button):
            top.addWidget(w)
        alerts_bar = QHBoxLayout()
        self.alerts_title = QLabel("<b>Alerts</b>")
        alerts_bar.addWidget(self.alerts_title)
        alerts_bar.addStretch(1)
        alerts_bar.addWidget(self.ack_button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(alerts_bar)
        lower_layout.addWidget(self.alert_table)
        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(self.monitor_table, 1)
        upper_layout.addWidget(self.details)
        split = QSplitter(Qt.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setSizes([240, 220])
        self.split = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self.progress.hide()
        self.cancel_button.hide()
        self.check_button.clicked.connect(lambda: self.check_now())
        self.add_button.clicked.connect(self.add_monitor)
        self.remove_button.clicked.connect(self.remove_selected)
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.output_button.clicked.connect(self.show_output)
        self.cancel_button.clicked.connect(self.cancel_check)
        selection_of(self.monitor_table).selectionChanged.connect(lambda *_: self._update_buttons())
        selection_of(self.monitor_table).selectionChanged.connect(lambda *_: self._show_details())
        selection_of(self.alert_table).selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    # -- project and loading ----------------------------------------------------------------------
    def set_project(self, project) -> None:
        self.project = project
        self.jobs.new_session()
        self.monitors, self.alerts, self.models, self.retrains = [], [], [], {}
        self.monitor_items.removeRows(0, self.monitor_items.rowCount())
        self.alert_items.removeRows(0, self.alert_items.rowCount())
        self.status.clear()
        self.details.clear()
        self._end_check()
        if project is not None:
            self.reload()
        self._update_buttons()

    def save_state(self, settings) -> None:
        settings.set_bytes("monitors/split", self.split.saveState())

    def restore_state(self, settings) -> None:
        state = settings.bytes("monitors/split")
        if state is not None:
            self.split.restoreState(state)

    def reload(self) -> None:
        self._stale = False
        if self.project is not None:
            self.jobs.start(_load, self.project, done=self._on_loaded, failed=self._on_failed)

    def _on_failed(self, text: str) -> None:
        self._end_check()
        self.status.setText(f"<span style='color:{theme()['error']}'>⚠ {html.escape(text)}</span>")

    def _on_loaded(self, result) -> None:
        monitors, alerts, models, retrains = result
        self.monitors, self.alerts, self.models, self.retrains = monitors, alerts, models, retrains
        colours = theme()
        self.monitor_items.removeRows(0, self.monitor_items.rowCount())
        for m in monitors:
            retrain = (m.retrain_command or "") + (f" (every {m.retrain_every})" if m.retrain_every else "")
            state = _item(m.last_state or "not checked")
            if m.last_state in STATE_COLOURS:
                state.setForeground(QBrush(QColor(colours[STATE_COLOURS[m.last_state]])))
            self.monitor_items.appendRow([
                _item(m.name), _item(f"{m.model}@{m.alias}"), _item(m.window), _item(m.thresholds.describe()),
                _item(_short(retrain) if retrain else "—", retrain),
                _item(retrain_text(retrains.get(m.name)), (retrains[m.name].message if m.name in retrains else "")),
                _item(m.owner),
                _item(fmt_time(m.last_check) if m.last_check else "never"), state])
            state.setToolTip(m.last_summary or "")
        self.alert_items.removeRows(0, self.alert_items.rowCount())
        for a in alerts:
            row = [_item(a.id), _item(a.monitor), _item("" if a.version is None else a.version),
                   _item(fmt_time(a.at), f"last seen {fmt_time(a.last_seen)}"), _item(a.checks),
                   _item(a.acknowledged_by or "open"), _item(_figures_text(a.figures), a.summary)]
            if a.open:
                row[5].setForeground(QBrush(QColor(colours["error"])))
            self.alert_items.appendRow(row)
        self.monitor_table.fit_columns(max_width=320)
        self._show_details()
        self.alert_table.fit_columns(max_width=420)
        open_count = sum(a.open for a in alerts)
        self.alerts_title.setText(f"<b>Alerts</b> ({open_count} open)" if open_count else "<b>Alerts</b>")
        if not monitors and self.check_task is None:
            self.status.setText("No monitors yet. Add one to watch a served model's drift, metrics or latency.")
        self._update_buttons()
        self.loaded.emit(len(monitors))
        self.alerts_changed.emit(open_count)

    def _show_details(self) -> None:
        """The last check of the selected monitor (or the first firing one) in full."""
        m = self.selected_monitor() or next((x for x in self.monitors if x.last_state == "firing"), None)
        if m is None or not m.last_summary:
            self.details.setText("")
            return
        colour = theme()[STATE_COLOURS.get(m.last_state, "muted")]
        self.details.setText(f"<b>{html.escape(m.name)}</b>: <span style='color:{colour}'>"
                             f"{html.escape(m.last_summary)}</span>")

    def selected_monitor(self):
        rows = self.monitor_table.selectionModel().selectedRows() if self.monitor_table.selectionModel() else []
        return self.monitors[rows[0].row()] if rows and rows[0].row() < len(self.monitors) else None

    def selected_alert(self):
        rows = self.alert_table.selectionModel().selectedRows() if self.alert_table.selectionModel() else []
        return self.alerts[rows[0].row()] if rows and rows[0].row() < len(self.alerts) else None

    def _update_buttons(self) -> None:
        has = self.project is not None
        idle = not self.runner.busy and self.check_task is None
        self.check_button.setEnabled(has and idle and bool(self.monitors))
        self.add_button.setEnabled(has and not self.runner.busy)
        selected = self.selected_monitor()
        self.remove_button.setEnabled(has and idle and selected is not None)
        self.output_button.setEnabled(has and selected is not None and selected.name in self.retrains)
        alert = self.selected_alert()
        self.ack_button.setEnabled(has and not self.runner.busy and alert is not None and alert.open)

    # -- checking ---------------------------------------------------------------------------------
    def check_now(self, name: str | None = None) -> None:
        """Check every monitor (or ``name``) in a worker, with progress and Cancel."""
        if self.project is None or self.check_task is not None:
            return
        self.status.setText("Checking monitors…")
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.check_task = self.jobs.start(_check, self.project, name, wants_progress=True, done=self._on_checked,
                                          failed=self._on_failed, cancelled=self._on_cancelled,
                                          progress=self._on_progress)
        self._update_buttons()

    def cancel_check(self) -> None:
        if self.check_task is not None:
            self.check_task.cancel()

    def _on_progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.status.setText(text)

    def _on_cancelled(self) -> None:
        self._end_check()
        self.status.setText("Check cancelled.")

    def _end_check(self) -> None:
        self.check_task = None
        self.progress.hide()
        self.cancel_button.hide()
        self._update_buttons()

    def _on_checked(self, results) -> None:
        self._end_check()
        if results is None:
            self.status.setText("Check cancelled.")
            return
        firing = [r for r in results if r.firing]
        errors = [r for r in results if r.state == "error"]
        started = [r for r in results if r.retrain and r.retrain.get("started")]
        parts = [f"{len(results)} monitor(s) checked: {len(firing)} firing"]
        if errors:
            parts.append(f"{len(errors)} could not be checked")
        if started:
            parts.append(f"{len(started)} retrain(s) started; their candidates will wait for review in Models")
        colour = theme()["error" if firing else "ok"]
        self.status.setText(f"<span style='color:{colour}'>{html.escape('; '.join(parts))}.</span>")
        self.checked.emit(results)
        self.reload()

    # -- actions ------------------------------------------------------------------------------------
    def add_monitor(self) -> None:
        from .monitor_dialog import MonitorDialog

        if self.project is None:
            return
        self.dialog = MonitorDialog(self.models, self, taken=tuple(m.name for m in self.monitors))
        self.dialog.accepted.connect(lambda d=self.dialog: self.runner.run(
            "set", f"add monitor {d.name.text().strip()}", _set_monitor, self.project, d.values()))
        self.dialog.open()

    def remove_selected(self) -> None:
        m = self.selected_monitor()
        if m is None:
            return
        self.confirm = QMessageBox(QMessageBox.Question, "Remove Monitor",
                                   f"Remove monitor <b>{html.escape(m.name)}</b>? Its alerts and retrains are kept.",
                                   QMessageBox.Yes | QMessageBox.Cancel, self)
        self.confirm.setAttribute(Qt.WA_DeleteOnClose)
        self.confirm.accepted.connect(lambda name=m.name: self.runner.run(
            "remove", f"remove monitor {name}", _remove, self.project, name))
        self.confirm.open()

    def show_output(self) -> None:
        """The selected monitor's last retrain: its state and output, read in a worker."""
        m = self.selected_monitor()
        if m is None or m.name not in self.retrains:
            return
        from ...core.monitoring.retrain import get_retrain

        self.jobs.start(get_retrain, self.project, self.retrains[m.name].id, done=self._on_output,
                        failed=self._on_failed)

    def _on_output(self, r) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle(f"Retrain of {r.monitor}")
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        head = QLabel(f"<b>{html.escape(retrain_text(r))}</b> · started {fmt_time(r.started_at)}"
                      f"<br>{html.escape(r.message)}<br>Reason: {html.escape(r.reason)}")
        head.setWordWrap(True)
        text = QPlainTextEdit(r.output or "(no output)")
        text.setObjectName("retrainOutput")
        text.setReadOnly(True)
        text.setFont(monospace_font())
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(head)
        layout.addWidget(text, 1)
        layout.addWidget(buttons)
        dialog.resize(760, 480)
        self.output_dialog = dialog
        dialog.open()

    def acknowledge_selected(self) -> None:
        a = self.selected_alert()
        if a is None or not a.open:
            return
        self.runner.run("acknowledge", f"acknowledge alert #{a.id}", _acknowledge, self.project, a.id)


if __name__ == "__main__":   # open the panel alone on a project: python -m modeldesk.gui.monitoring.monitors_panel P
    from PySide6.QtWidgets import QApplication

    from ...core.storage.project import open_project

    app = QApplication(sys.argv)
    panel = MonitorsPanel()
    panel.set_project(open_project(sys.argv[1], create=False))
    panel.resize(1100, 600)
    panel.show()
    sys.exit(app.exec())

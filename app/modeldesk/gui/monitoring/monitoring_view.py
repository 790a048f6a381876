"""The Monitoring view: is a served model version still seeing the data it learned from, and
is it still right? Pick a model, an alias or version, a period and a window size. Drift per
window fills the drift-share chart, the chosen columns' scores and, for the current window
(click one on any chart), the drift table and a column's overlaid distributions; performance
and serving health are charted below. Kept windows show at once, the others are computed by a
worker (progress, Cancel) and fill in. A dropped CSV (or File ▸ Compare a CSV…) is tested
against the same reference. Every query runs through ``self.jobs``; the charts
(``monitoring_charts``) are imported off the GUI thread.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.monitoring.overview import compare_csv, model_choices, window_sample
from ..kit.empty_state import EmptyState
from ..kit.windows import ReloadWhenShown
from ..kit.workers import Jobs
from . import monitoring_data as data
from .drift_table import DriftTable
from .monitoring_charts import MonitoringCharts, import_charts
from .monitoring_toolbar import MonitoringToolbar

NO_TRAFFIC = "Serve this version and send traffic, or drop a CSV here to test it against the training data."


def csv_paths(mime) -> list[str]:
    return [u.toLocalFile() for u in (mime.urls() if mime.hasUrls() else [])
            if u.isLocalFile() and u.toLocalFile().lower().endswith((".csv", ".csv.gz", ".txt"))]


class MonitoringView(ReloadWhenShown, QWidget):
    """The view (a :class:`~modeldesk.gui.kit.windows.ProjectView`)."""

    windowsShown = Signal(int)          # drift windows on the charts (cached ones first, then all)
    csvCompared = Signal(str)           # a CSV's report is shown

    def __init__(self, settings=None, parent=None):
        super().__init__(parent)
        self.setObjectName("monitoringView")
        self.settings = settings
        self.project = None
        self.jobs = Jobs(self)
        self._chart_jobs = Jobs(self)              # not the project's: its result outlives a new choice
        self.choices: list = []
        self.uri: str | None = None
        self._load_token = 0
        self._cached_in = self._rest_started = False
        self._pending = 0
        self._load_waiting = False
        self.loaded: tuple = (None, None, None)    # the (uri, every, since) the figures are for
        self.windows: data.WindowsData | None = None
        self.windows_final = False
        self.performance: data.PerformanceData | None = None
        self.health: data.HealthData | None = None
        self.current: int | None = None            # the current drift window
        self.sample = None                         # overview.Sample of the current window (or the CSV)
        self.sample_window: int | None = None
        self.csv = None                            # overview.CsvComparison while a CSV is shown
        self.charts = MonitoringCharts(self)
        self.charts.built.connect(self._charts_built)
        self._charts_loading = False
        self.setAcceptDrops(True)
        self._build()
        self._busy_timer = QTimer(self, interval=100)
        self._busy_timer.timeout.connect(self._update_busy)
        self._show_empty("No project open", "Open a project to see how its served models are doing.")

    # -- layout -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.toolbar = MonitoringToolbar()
        t = self.toolbar
        self.model_box, self.ref_box, self.period_box, self.every_box = t.model_box, t.ref_box, t.period_box, \
            t.every_box
        self.refresh_button, self.csv_button, self.cancel_button = t.refresh_button, t.csv_button, t.cancel_button
        self.progress, self.find_field = t.progress, t.column_filter     # find_field: Edit ▸ Find
        self.status = t.status
        self.model_box.currentIndexChanged.connect(self._fill_refs)
        for box in (self.ref_box, self.period_box, self.every_box):
            box.currentIndexChanged.connect(self.load)
        self.refresh_button.clicked.connect(self.load)
        self.csv_button.clicked.connect(self.ask_csv)
        self.cancel_button.clicked.connect(self.cancel)

        self.banner = QWidget()
        self.banner.setObjectName("csvBanner")
        self.banner.setStyleSheet("QWidget#csvBanner { background: #fff4d6; border: 1px solid #f0d58c; }")
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(8, 4, 8, 4)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.back_button = QPushButton("Back to the prediction log")
        self.back_button.clicked.connect(self.leave_csv)
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.back_button)
        self.banner.hide()

        self.empty = EmptyState("", "", actions=("Compare a CSV…",))
        self.empty.setObjectName("monitoringEmpty")
        self.empty.actionTriggered.connect(lambda _name: self.ask_csv())
        self.table = DriftTable()
        t.column_filter.textChanged.connect(self.table.set_name_filter)
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.middle = QSplitter(Qt.Orientation.Horizontal)
        self.middle.addWidget(self.table)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("monitoringTabs")
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.setObjectName("monitoringSplitter")
        for part in (self.top, self.middle, self.tabs):
            self.body.addWidget(part)
        self.body.setSizes([230, 330, 240])
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.body)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 6)
        column.addWidget(self.toolbar)
        column.addWidget(self.banner)
        column.addWidget(self.pages, 1)

    def _charts_built(self) -> None:
        self.charts.windowClicked.connect(self._clicked)
        self.table.columnsChanged.connect(self._columns_changed)
        self._restore_splitters()
        self._redraw()
        QTimer.singleShot(0, self, self._reselect)     # the table and overlay on the next turn: short turns
        if self._load_waiting:
            self._load_waiting = False
            QTimer.singleShot(0, self, self.load)
        self._start_rest_soon()

    def _reselect(self) -> None:
        if self.windows is not None and self.current is not None:
            self.select_window(self.current)

    @property
    def charts_ready(self) -> bool:
        return self.charts.ready

    def time_charts(self) -> list:
        return self.charts.time_charts()

    share_chart = property(lambda self: self.charts.share)
    scores_chart = property(lambda self: self.charts.scores)
    overlay_chart = property(lambda self: self.charts.overlay)
    perf_chart = property(lambda self: self.charts.perf)
    health_chart = property(lambda self: self.charts.health)

    # -- the ProjectView protocol ---------------------------------------------------------------------
    def set_project(self, project) -> None:
        self.jobs.new_session()
        self.jobs.cancel_all()
        self.project = project
        self._clear()
        self.choices = []
        self.model_box.blockSignals(True)
        self.model_box.clear()
        self.model_box.blockSignals(False)
        self.ref_box.clear()
        if project is None:
            self._show_empty("No project open", "Open a project to see how its served models are doing.")
            return
        self._show_empty("Loading…", "")
        self.reload()

    def reload(self) -> None:
        """Re-read the models (a registration, an alias move) and the current choice's figures."""
        self._stale = False
        if self.project is None:
            return
        if not self.charts_ready and not self._charts_loading:
            self._charts_loading = True     # stays True: the charts are built once
            self._chart_jobs.start(import_charts, done=lambda _: self._charts_imported(),
                            failed=self._charts_failed)
        self.jobs.start(model_choices, self.project, done=self._on_choices, failed=self._failed)

    def save_state(self, settings) -> None:
        for name, splitter in self._splitters():
            settings.set_bytes(f"monitoring/{name}", splitter.saveState())

    def restore_state(self, settings) -> None:
        self.settings = settings
        self._restore_splitters()

    def _splitters(self):
        return (("body", self.body), ("top", self.top), ("middle", self.middle))

    def _restore_splitters(self) -> None:
        if self.settings is None or not self.charts_ready:
            return
        for name, splitter in self._splitters():
            state = self.settings.bytes(f"monitoring/{name}")
            if state is not None:
                splitter.restoreState(state)

    # -- choosing what to look at -----------------------------------------------------------------
    def _charts_imported(self) -> None:
        if not self.charts_ready:
            self.charts.build(self.top, self.middle, self.tabs)

    def _charts_failed(self, text: str) -> None:
        self._charts_loading = False
        if self._load_waiting:
            self._load_waiting = False
            self.load()
        self.status.setText(f"The charts could not be loaded: {text}")

    def _on_choices(self, choices: list) -> None:
        self.choices = choices
        keep = self.model_box.currentText()
        self.model_box.blockSignals(True)
        self.model_box.clear()
        for choice in choices:
            self.model_box.addItem(choice.name)
        self.model_box.blockSignals(False)
        if not choices:
            self._clear()
            self._show_empty("No registered model yet",
                             "Register a model version in the Models view and serve it; its drift, performance "
                             "and serving health will show here.")
            return
        found = self.model_box.findText(keep)
        self.model_box.setCurrentIndex(found if found >= 0 else 0)
        self._fill_refs(follow=True)

    def _fill_refs(self, _index: int = 0, follow: bool = False) -> None:
        index = self.model_box.currentIndex()
        keep = self.ref_box.currentData()
        self.ref_box.blockSignals(True)
        self.ref_box.clear()
        if 0 <= index < len(self.choices):
            c = self.choices[index]
            for alias, version in sorted(c.aliases.items(), key=lambda kv: (kv[0] != "production", kv[0])):
                self.ref_box.addItem(f"@{alias} (version {version})", f"models:/{c.name}@{alias}")
            for version in c.versions:
                self.ref_box.addItem(f"version {version}", f"models:/{c.name}/{version}")
        found = self.ref_box.findData(keep)
        self.ref_box.setCurrentIndex(found if found >= 0 else 0)
        self.ref_box.blockSignals(False)
        if follow and self.query() == self.loaded and self.windows is not None:
            self.update_figures()       # the project changed under the same choice: add, do not start over
        else:
            self.load()

    def choose(self, uri: str) -> bool:
        """Show ``uri`` (``models:/NAME@alias`` or ``models:/NAME/3``) if the picker offers it."""
        name = uri.split(":/", 1)[-1].split("@")[0].split("/")[0]
        found = self.model_box.findText(name)
        if found < 0:
            return False
        self.model_box.setCurrentIndex(found)
        ref = self.ref_box.findData(uri)
        if ref < 0:
            return False
        self.ref_box.setCurrentIndex(ref)
        return True

    def query(self) -> tuple[str | None, str, float | None]:
        every = self.every_box.currentData()
        return self.ref_box.currentData(), every, data.period_start(self.period_box.currentData(), every)

    def load(self) -> None:
        """Start the figures of the current choice: kept drift windows at once, then the rest."""
        if self.project is None:
            return
        uri, every, since = self.query()
        if uri is None:
            return
        if self._charts_loading and not self.charts_ready:
            self._load_waiting = True     # the charts first: building them beside a worker takes 3x as long
            return
        self.jobs.new_session()
        self.jobs.cancel_all()
        self._clear(keep_csv=False)
        self.uri, self.loaded = uri, (uri, every, since)
        self.status.setText(f"Reading {html.escape(uri)}…")
        self._load_token += 1
        self._cached_in, self._rest_started, self._pending = False, False, 0
        self.jobs.start(data.windows_data, self.project, uri, every, since, cached_only=True,
                        done=self._on_cached, failed=self._cached_failed)
        self._watch_busy()

    def _start_rest_soon(self) -> None:
        """Once the kept windows are drawn (and the charts built), start the rest: the pending windows,
        performance and serving health. Their workers compete with the GUI thread for Python's GIL,
        so they wait until what can be shown at once is on screen."""
        if self._rest_started or not (self.charts_ready and self._cached_in):
            return
        self._rest_started = True
        token = self._load_token
        QTimer.singleShot(30, self, lambda: self._start_rest(token))

    def _start_rest(self, token: int) -> None:
        if token != self._load_token or self.project is None:
            return
        uri, every, since = self.loaded
        if self._pending:
            self.jobs.start(data.windows_data, self.project, uri, every, since, wants_progress=True,
                            done=lambda d: self._show_windows(d, final=True), failed=self._drift_failed,
                            progress=self._progress, cancelled=self._cancelled)
        self._start_figures(uri, every, since)

    def update_figures(self) -> None:
        """New predictions (another process logged them): compute the new windows, keep what is shown.
        Skipped while work is running (the next change brings them in)."""
        if self.project is None or self.jobs.busy() or self.loaded[0] is None:
            return
        uri, every, since = self.loaded
        self.sample_window = None          # the current window may have grown: read its sample again
        self.jobs.start(data.windows_data, self.project, uri, every, since, wants_progress=True,
                        done=lambda d: self._show_windows(d, final=True), failed=self._drift_failed,
                        progress=self._progress, cancelled=self._cancelled)
        self._start_figures(uri, every, since)

    def _start_figures(self, uri: str, every: str, since) -> None:
        self.jobs.start(data.performance_data, self.project, uri, every, since, wants_progress=True,
                        done=self._on_performance, failed=self._performance_failed)
        self.jobs.start(data.health_data, self.project, uri, every, since, wants_progress=True,
                        done=self._on_health, failed=self._health_failed)
        self._watch_busy()

    def _clear(self, keep_csv: bool = False) -> None:
        self.windows, self.windows_final = None, False
        self.performance = self.health = None
        self.current = None
        self.sample, self.sample_window = None, None
        self.drift_error = ""
        if not keep_csv:
            self.csv = None
            self.banner.hide()
        self.table.set_records([])
        self._redraw()

    # -- results ----------------------------------------------------------------------------------------
    def _on_cached(self, got: data.WindowsData) -> None:
        self._show_windows(got, final=not got.pending)
        self._cached_in, self._pending = True, got.pending
        if got.pending:
            self.status.setText(f"{got.count} kept window{'s' if got.count != 1 else ''} shown; computing "
                                f"{got.pending} more…")
        self._start_rest_soon()

    def _cached_failed(self, text: str) -> None:
        self._drift_failed(text)
        self._cached_in = True
        self._start_rest_soon()

    def _show_windows(self, got: data.WindowsData, final: bool) -> None:
        self.windows, self.windows_final = got, final
        if got.count and (self.current is None or self.current >= got.count):
            self.current = got.count - 1                       # the latest window
        self._redraw()
        self.windowsShown.emit(got.count)
        if final or got.count:
            drifted = int(got.drifted.sum())
            self.status.setText(f"{got.count} window{'s' if got.count != 1 else ''}, {drifted} drifted"
                                + ("" if final else " (computing the rest…)"))
        if got.count:
            self.select_window(self.current)

    def _drift_failed(self, text: str) -> None:
        self.drift_error = text
        self.windows_final = True
        self.status.setText(text)
        self._redraw()

    def _on_performance(self, got) -> None:
        self.performance = got
        self._update_page()
        self.charts.draw(None, "", got, None)       # only this chart: a full redraw is ~100 ms
        self._select_in_charts()

    def _performance_failed(self, text: str) -> None:
        self._on_performance(data.PerformanceData(np.zeros(0), np.zeros(0), "accuracy", None, None, float("nan"),
                                                  0, text))

    def _on_health(self, got) -> None:
        self.health = got
        self._update_page()
        self.charts.draw(None, "", None, got)
        self._select_in_charts()

    def _health_failed(self, text: str) -> None:
        self.status.setText(text)

    def _failed(self, text: str) -> None:
        self._show_empty("Could not read the project", text)

    # -- drawing ------------------------------------------------------------------------------------
    def has_traffic(self) -> bool:
        return bool((self.windows is not None and self.windows.count)
                    or (self.health is not None and self.health.starts.size))

    def _redraw(self) -> None:
        self._update_page()
        self.charts.draw(self.windows, self.drift_error, self.performance, self.health, drift=True)
        self._draw_scores()
        self._select_in_charts()
        self._draw_overlay()

    def _update_page(self) -> None:
        """The empty state when the period holds nothing (and no CSV is shown), else the charts."""
        nothing_yet = self.windows_final and self.health is not None and not self.has_traffic() \
            and not self.drift_error
        if self.csv is None and nothing_yet:
            name = self.ref_box.currentText() or "this version"
            self._show_empty(f"No predictions of {self.model_box.currentText()} {name} in this period", NO_TRAFFIC)
        elif self.project is not None and (self.windows is not None or self.csv is not None or self.drift_error
                                           or self.health is not None):
            self.pages.setCurrentWidget(self.body)

    def _draw_scores(self) -> None:
        self.charts.draw_scores(self.windows, self.table.selected_columns())

    def _select_in_charts(self) -> None:
        start = None if self.csv is not None or self.current is None or self.windows is None \
            else float(self.windows.starts[self.current])
        self.charts.select(start)

    def _draw_overlay(self) -> None:
        self.charts.draw_overlay(self.sample, self.table.selected_columns(), self.table.records,
                                 "CSV" if self.csv is not None else "this window")

    # -- the current window and columns -----------------------------------------------------------
    def _clicked(self, start: float) -> None:
        if self.windows is None:
            return
        hits = np.nonzero(self.windows.starts == start)[0]
        if len(hits):
            if self.csv is not None:
                self.leave_csv()
            self.select_window(int(hits[0]))
        else:
            self._select_in_charts()       # a window with requests but no drift (all failed): keep the current

    def select_window(self, index: int) -> None:
        """Make drift window ``index`` the current one: the table, overlay and charts follow."""
        w = self.windows
        if w is None or not 0 <= index < w.count:
            return
        self.current = index
        if self.csv is None:
            self.table.set_records(list(w.records[index]), keep=self.table.selected_columns())
            self._draw_scores()
        self._select_in_charts()
        if self.sample_window != index and self.csv is None:
            self.sample = None
            self._draw_overlay()
            self.jobs.start(self._sample_job, self.project, self.uri, index, w.starts[index], w.ends[index],
                            done=self._on_sample, failed=self.charts.clear_overlay)
            self._watch_busy()

    @staticmethod
    def _sample_job(project, uri, index, start, end):
        return index, window_sample(project, uri, start, end)

    def _on_sample(self, got) -> None:
        index, sample = got
        if self.csv is not None or index != self.current:
            return
        self.sample, self.sample_window = sample, index
        self._draw_overlay()

    def _columns_changed(self, *_args) -> None:
        self._draw_scores()
        self._draw_overlay()

    # -- a CSV against the reference ----------------------------------------------------------------
    def ask_csv(self) -> None:
        start = str(self.project.path.parent) if self.project is not None else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Compare a CSV with the training data", start,
                                              "CSV files (*.csv *.csv.gz *.txt);;All files (*)")
        if path:
            self.compare_file(path)

    def compare_file(self, path: str) -> bool:
        """Test the CSV at ``path`` against the current model's reference (in a worker)."""
        if self.project is None or self.ref_box.currentData() is None:
            self.status.setText("Choose a model version first: a CSV is compared with that version's training data.")
            return False
        uri = self.ref_box.currentData()
        self.status.setText(f"Comparing {Path(path).name} with the training data of {uri}…")
        self.jobs.start(compare_csv, self.project, uri, path, wants_progress=True, done=self._on_csv,
                        failed=self._csv_failed, progress=self._progress, cancelled=self._cancelled)
        self._watch_busy()
        return True

    def _on_csv(self, got) -> None:
        if got is None:
            return
        self.csv = got
        report = got.report
        self.sample, self.sample_window = got.sample, None
        verdict = "DRIFTED" if report.drifted else "not drifted"
        self.banner_text.setText(f"<b>{html.escape(Path(got.path).name)}</b> against the training data of "
                                 f"{html.escape(self.uri or '')}: {verdict}, {len(report.drifted_columns)} of "
                                 f"{report.tested} columns drifted ({report.current_rows:,} rows).")
        self.banner.show()
        self.pages.setCurrentWidget(self.body)
        self.table.set_records(report.to_dict()["columns"], keep=self.table.selected_columns())
        self.status.setText(f"Showing {Path(got.path).name}; the charts above still show the prediction log.")
        self._select_in_charts()
        self._draw_overlay()
        self.csvCompared.emit(got.path)

    def _csv_failed(self, text: str) -> None:
        self.status.setText(f"Could not compare the file: {text}")

    def leave_csv(self) -> None:
        self.csv = None
        self.banner.hide()
        self.sample, self.sample_window = None, None
        self.table.set_records([])
        self._redraw()
        if self.windows is not None and self.current is not None:
            self.select_window(self.current)

    def dragEnterEvent(self, event) -> None:
        if csv_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    dragMoveEvent = dragEnterEvent

    def dropEvent(self, event) -> None:
        paths = csv_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.compare_file(paths[0])

    # -- progress and cancel --------------------------------------------------------------------------
    def _progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if text:
            self.status.setText(text)

    def _watch_busy(self) -> None:
        self.progress.setValue(0)
        self._update_busy()
        self._busy_timer.start()

    def _update_busy(self) -> None:
        busy = self.jobs.busy()
        self.toolbar.set_busy(busy)
        if not busy:
            self._busy_timer.stop()

    def cancel(self) -> None:
        """Stop the running work; windows computed so far are kept and show next time."""
        self.jobs.cancel_all()
        self.status.setText("Cancelled. Windows already stored are kept; Refresh computes the rest.")

    def _cancelled(self) -> None:
        self.status.setText("Cancelled. Windows already stored are kept; Refresh computes the rest.")
        self.windows_final = True
        self._redraw()

    def _show_empty(self, title: str, text: str) -> None:
        self.empty.set_text(title, html.escape(text) if "<" not in text else text)
        self.empty.buttons["Compare a CSV…"].setVisible(self.project is not None and bool(self.choices))
        self.pages.setCurrentWidget(self.empty)


if __name__ == "__main__":   # open the view alone on a project: python -m modeldesk.gui.monitoring.monitoring_view FILE
    import sys

    from PySide6.QtWidgets import QApplication

    from ...core.storage.project import open_project
    from ..settings import Settings

    app = QApplication(sys.argv)
    view = MonitoringView(Settings())
    view.resize(1280, 860)
    view.show()
    view.set_project(open_project(sys.argv[1], create=False))
    sys.exit(app.exec())

"""Compare 2–N runs: what differed (table), how the curves compare, and
where each run sits (scatter, parallel coordinates).

Everything is read off the GUI thread: the comparison first, then each
(run, metric) history in a worker (``compare_panels``); curves are added as
they arrive and ``curvesLoaded`` fires when the last one is in. Clicking a run in the
scatter (or a line in parallel coordinates) emits ``runSelected(run_id)``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Sequence

# Heavy imports the view's workers need: pandas (histories are read through
# core.tracking.runs.get_metric_history) and scipy.signal (smoothing, history.ema). Made
# here, so by the start-up warm-up thread (MainWindow.warm_up), not by a
# worker while a comparison opens or the smoothing slider moves: importing
# holds the GIL for long stretches and stalls the GUI thread 0.1 s or more.
import pandas  # noqa: F401
import scipy.signal  # noqa: F401
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.tracking import compare as cmp
from ..kit.tables import CopyTableView, set_table_model
from ..kit.theme import run_colour, theme
from ..kit.windows import forget_window, show_as_window
from ..kit.workers import Jobs
from .compare_table import CompareTableModel

TABS = ("table", "curves", "scatter", "parallel")
STRETCH_RUNS = 8      # up to this many run columns share the table's width
NB_HYPHEN = "\u2011"  # run names wrap between chips, never inside a name


def _chip(flag: bool | None, label: str, detail: str) -> str:
    t = theme()
    colour = {True: t["ok"], False: t["warn"], None: t["muted"]}[flag]
    return (f"<span style='color:{colour}'>●</span> {label}: <b style='color:{colour}'>"
            f"{cmp.yes_no(flag)}</b>{detail}")


class CompareView(QWidget):
    """The comparison of ``run_ids``; constructible alone, shown by :func:`open_compare`."""

    runSelected = Signal(str)
    comparisonLoaded = Signal()
    refreshed = Signal()
    curvesLoaded = Signal()
    failed = Signal(str)

    def __init__(self, project, run_ids: Sequence[str], parent: QWidget | None = None):
        super().__init__(parent)
        from .compare_panels import CurvesPanel, ParallelPanel, ScatterPanel  # pyqtgraph only when opened

        self.project = project
        self.run_ids = list(dict.fromkeys(run_ids))
        self.comparison: cmp.Comparison | None = None
        self.jobs = Jobs(self)
        self._colours = {rid: run_colour(i) for i, rid in enumerate(self.run_ids)}
        self._refreshing = False

        self.title = QLabel(f"Comparing {len(self.run_ids)} runs")
        self.title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        self.run_chips = QLabel("Loading…")
        self.run_chips.setTextFormat(Qt.TextFormat.RichText)
        self.run_chips.setWordWrap(True)
        self.export_csv_button = QPushButton("Export table (CSV)…")
        self.export_csv_button.setToolTip("Save the comparison table as CSV (Ctrl+Shift+E)")
        self.export_csv_button.setShortcut("Ctrl+Shift+E")
        self.export_csv_button.clicked.connect(lambda: self.export_csv())
        self.export_png_button = QPushButton("Export chart (PNG)…")
        self.export_png_button.setToolTip("Save the chart on the current tab as a PNG image (Ctrl+Shift+P)")
        self.export_png_button.setShortcut("Ctrl+Shift+P")
        self.export_png_button.clicked.connect(lambda: self.export_png())
        self.error_label = QLabel()
        self.error_label.setStyleSheet(f"color: {theme()['error']};")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addSpacing(12)
        top.addWidget(self.run_chips, 1)
        top.addWidget(self.export_csv_button)
        top.addWidget(self.export_png_button)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_table_tab(), "Table")
        self.curves_panel = CurvesPanel(project)
        self.curves_panel.curvesLoaded.connect(self.curvesLoaded)
        self.tabs.addTab(self.curves_panel, "Curves")
        self.scatter_panel = ScatterPanel()
        self.scatter_panel.runClicked.connect(self._on_run_clicked)
        self.tabs.addTab(self.scatter_panel, "Scatter")
        self.parallel_panel = ParallelPanel()
        self.parallel_panel.runClicked.connect(self._on_run_clicked)
        self.tabs.addTab(self.parallel_panel, "Parallel coordinates")
        self.tabs.currentChanged.connect(self._sync_buttons)
        # the charts and their controls, for scripts and tests
        self.curves = self.curves_panel.chart
        self.metric_list, self.x_mode = self.curves_panel.metric_list, self.curves_panel.x_mode
        self.smoothing, self.smoothing_value = self.curves_panel.smoothing, self.curves_panel.smoothing_value
        self.scatter_x, self.scatter_y = self.scatter_panel.x_combo, self.scatter_panel.y_combo
        self.axis_list, self.colour_metric = self.parallel_panel.axis_list, self.parallel_panel.colour_metric

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addWidget(self.tabs, 1)
        self._sync_buttons()
        self.jobs.start(cmp.load_comparison, project, self.run_ids, done=self._on_comparison,
                        failed=self._on_failed)

    # -- building ------------------------------------------------------------------
    def _build_table_tab(self) -> QWidget:
        self.only_differences = QCheckBox("Only differences")
        self.only_differences.setToolTip("Hide rows where every run has the same value")
        self.only_differences.toggled.connect(self.set_only_differences)
        self.same_data_label = QLabel()
        self.same_packages_label = QLabel()
        for label in (self.same_data_label, self.same_packages_label):
            label.setTextFormat(Qt.TextFormat.RichText)
        bar = QHBoxLayout()
        bar.addWidget(self.only_differences)
        bar.addSpacing(24)
        bar.addWidget(self.same_data_label)
        bar.addSpacing(24)
        bar.addWidget(self.same_packages_label)
        bar.addStretch(1)
        hint = QLabel("Highlighted rows differ between runs · Ctrl+C copies cells")
        hint.setStyleSheet(f"color: {theme()['muted']};")
        bar.addWidget(hint)
        self.table_model = CompareTableModel(self)
        self.table = CopyTableView()
        set_table_model(self.table, self.table_model)
        self.table.setAlternatingRowColors(False)
        self.table_model.modelReset.connect(self._after_table_reset)
        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 6, 0, 0)
        v.addLayout(bar)
        v.addWidget(self.table, 1)
        return page

    # -- comparison arrives --------------------------------------------------------------
    @Slot(object)
    def _on_comparison(self, comparison: cmp.Comparison) -> None:
        self.comparison = comparison
        runs = comparison.runs
        self.title.setText(f"Comparing {len(runs)} runs")
        self.run_chips.setText(" &nbsp; ".join(
            f"<span style='color:{self._colours[r.id].name()}; font-size:13pt'>●</span>&nbsp;"
            f"{html.escape(r.name).replace('-', NB_HYPHEN).replace(' ', '&nbsp;')}" for r in runs))
        self.run_chips.setToolTip("\n".join(f"{r.name}: {r.id} ({r.status})" for r in runs))
        self.table_model.set_comparison(comparison)
        self._set_summary(comparison)
        widest = cmp.preferred_metric(runs)   # one point per run: a metric most runs logged
        self.scatter_panel.set_comparison(comparison, self._colours, widest)
        self.parallel_panel.set_comparison(comparison, self._colours, widest)
        self.comparisonLoaded.emit()
        self.curves_panel.set_comparison(comparison, self._colours)

    def refresh_live(self) -> None:
        """Re-read the comparison when the project file changed, if a run is still RUNNING.

        The table, charts and the curves of running runs update in place;
        choices (metrics, axes, only differences) are kept. ``refreshed`` follows.
        """
        if self.comparison is None or self._refreshing:
            return
        if not any(r.status == "RUNNING" for r in self.comparison.runs):
            return
        self._refreshing = True
        self.jobs.start(cmp.load_comparison, self.project, self.run_ids, done=self._on_refreshed,
                        failed=self._on_refresh_failed)

    @Slot(object)
    def _on_refreshed(self, comparison: cmp.Comparison) -> None:
        self._refreshing = False
        running = [r.id for r in self.comparison.runs if r.status == "RUNNING"]
        self.comparison = comparison
        self.table_model.set_comparison(comparison)
        self._set_summary(comparison)
        self.run_chips.setToolTip("\n".join(f"{r.name}: {r.id} ({r.status})" for r in comparison.runs))
        self.scatter_panel.update_comparison(comparison)
        self.parallel_panel.update_comparison(comparison)
        self.curves_panel.reload(comparison, running)
        self.refreshed.emit()

    @Slot(str)
    def _on_refresh_failed(self, message: str) -> None:
        self._refreshing = False
        self._on_failed(message)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.failed.emit(message)

    def _set_summary(self, comparison: cmp.Comparison) -> None:
        diff_data = [r.key for r in comparison.rows if r.section == cmp.DATASETS and r.differs]
        data_detail = f" ({', '.join(diff_data)} differ)" if diff_data else ""
        packages = cmp.differing_packages(comparison.environments)
        pkg_detail = f" ({len(packages)} differ)" if packages else ""
        self.same_data_label.setText(_chip(comparison.same_data, "Same data", html.escape(data_detail)))
        self.same_packages_label.setText(_chip(comparison.same_packages, "Same packages", pkg_detail))
        self.same_data_label.setToolTip("Whether every run logged the same datasets (name, role, fingerprint)"
                                        if comparison.same_data is not None else "No run logged a dataset")
        self.same_packages_label.setToolTip("\n".join(packages) if packages else
                                            "Whether every run recorded the same package versions")

    def _after_table_reset(self) -> None:
        self.table.clearSpans()
        cols = self.table_model.columnCount()
        for row in self.table_model.section_rows():
            if cols > 1:
                self.table.setSpan(row, 0, 1, cols)
        self.table.fit_columns(stretch_last=False, max_width=320)
        header = self.table.horizontalHeader()
        runs = cols - 1
        for col in range(1, cols):   # runs share the width while they fit; long values are elided
            if runs <= STRETCH_RUNS:
                header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
            else:
                header.resizeSection(col, min(header.sectionSize(col), 180))

    # -- table ---------------------------------------------------------------------------
    @Slot(bool)
    def set_only_differences(self, on: bool) -> None:
        if self.only_differences.isChecked() != on:
            self.only_differences.setChecked(on)   # comes back here through toggled
            return
        self.table_model.set_only_differences(on)

    def export_csv(self, path: str | None = None) -> str | None:
        """Write the table (as shown) to CSV; asks for a file when no path is given."""
        if self.comparison is None:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export comparison", "comparison.csv", "CSV files (*.csv)")
            if not path:
                return None
        text = cmp.comparison_csv(self.comparison, self.table_model.only_differences)
        Path(path).write_text(text, encoding="utf-8")
        return str(path)

    # -- charts ------------------------------------------------------------------------
    def checked_metrics(self) -> list[str]:
        return self.curves_panel.checked_metrics()

    def set_metrics(self, metrics: Sequence[str]) -> None:
        """Tick exactly these metrics (their curves load; ``curvesLoaded`` follows)."""
        self.curves_panel.set_metrics(metrics)

    def set_x_mode(self, mode: str) -> None:
        """'step', 'relative' or 'wall'."""
        self.curves_panel.set_x_mode(mode)

    def set_smoothing(self, weight: float) -> None:
        self.curves_panel.set_smoothing(weight)

    @property
    def loading_curves(self) -> bool:
        return self.curves_panel.loading

    def set_scatter_axes(self, x_key: str, y_key: str) -> None:
        """Choose axes by key: ``params.<k>`` or ``metrics.<k>`` for x, ``metrics.<k>`` for y."""
        self.scatter_panel.set_axes(x_key, y_key)

    def parallel_params(self) -> list[str]:
        return self.parallel_panel.params()

    def set_parallel(self, params: Sequence[str], metric: str | None) -> None:
        self.parallel_panel.choose(params, metric)

    @property
    def scatter(self):
        """The scatter chart (made when first shown or asked for)."""
        return self.scatter_panel.chart

    @property
    def parallel(self):
        """The parallel coordinates chart (made when first shown or asked for)."""
        return self.parallel_panel.chart

    @Slot(str)
    def _on_run_clicked(self, run_id: str) -> None:
        self.scatter_panel.highlight(run_id)
        self.parallel_panel.highlight(run_id)
        self.runSelected.emit(run_id)

    # -- export, lifetime ----------------------------------------------------------------
    def current_tab(self) -> str:
        return TABS[self.tabs.currentIndex()]

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def _sync_buttons(self, *_):
        self.export_png_button.setText("Export table (PNG)…" if self.current_tab() == "table"
                                       else "Export chart (PNG)…")

    def export_png(self, path: str | None = None, tab: str | None = None) -> str | None:
        """Save the chart of ``tab`` (default: the current tab) as PNG; asks for a file without a path."""
        tab = tab or self.current_tab()
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export chart", f"compare-{tab}.png", "PNG images (*.png)")
            if not path:
                return None
        if tab in ("scatter", "parallel"):   # drawn only when shown: bring a hidden chart up to date
            (self.scatter_panel if tab == "scatter" else self.parallel_panel).refresh(force=True)
        widget = {"table": self.table, "curves": self.curves, "scatter": self.scatter,
                  "parallel": self.parallel}[tab]
        ok = widget.export_png(path) if hasattr(widget, "export_png") else widget.grab().save(str(path), "PNG")
        if not ok:
            self._on_failed(f"Could not write {path}.")
            return None
        return str(path)

    def closeEvent(self, event) -> None:
        self.jobs.cancel_all()
        self.curves_panel.cancel()
        forget_window(self)
        super().closeEvent(event)


def open_compare(project, run_ids: list[str], parent: QWidget | None = None) -> QWidget:
    """Open a non-modal compare window for ``run_ids`` and return it."""
    view = CompareView(project, run_ids, parent)
    return show_as_window(view, f"Compare {len(view.run_ids)} runs — ModelDesk", (1200, 800))

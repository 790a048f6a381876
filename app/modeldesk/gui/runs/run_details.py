"""One run in full: params, latest metrics, tags, datasets with their
profiles, environment, artifacts (with image preview and save as), logged
models, and each metric's curve.

Everything is read in workers; the widget fills itself when the data
arrives (``loaded``), then counts each metric's points (cheap) and loads
only the histories of the ticked metrics, those with more than one point
first (``curvesLoaded`` once they are drawn). Unticking a metric frees its
history: a run with several million-point metrics holds only what is shown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.text import fmt_duration, fmt_size, fmt_time
from ...core.tracking import artifacts as art
from ...core.tracking import runs as runs_mod
from ...core.tracking.history import history_lengths, load_history
from ...core.tracking.run_entities import Artifact, DatasetRecord, LoggedModel, Run
from ..kit.tables import (
    CopyTableView,
    check_only,
    checkable_item,
    checked_keys,
    selection_of,
    set_table_model,
    table_model,
)
from ..kit.theme import theme
from ..kit.windows import bring_to_front, forget_window, open_windows, show_as_window
from ..kit.workers import Jobs
from .artifacts_pane import ArtifactsPane

STATUS_COLOURS = {"FINISHED": "#1d7a3a", "RUNNING": "#1d4ed8", "FAILED": "#b91c1c", "KILLED": "#6b7280"}
MAX_DEFAULT_CURVES = 4
DATASET_HEADERS = ("Name", "Role", "Target", "Rows", "Columns", "Fingerprint", "Sample rows")
DATASET_STRETCH = DATASET_HEADERS.index("Fingerprint")   # takes the spare width; numbers stay under their headers
PROFILE_HEADERS = ("Column", "Kind", "Dtype", "Count", "Missing", "Unique", "Mean", "Std", "Min", "P25",
                   "Median", "P75", "Max", "Top values")


@dataclass(frozen=True)
class RunDetails:
    run: Run
    datasets: list[DatasetRecord]
    environment: dict | None
    artifacts: list[Artifact]
    models: list[LoggedModel]


def load_run_details(project, run_id: str) -> RunDetails:
    """Everything the details window shows except metric histories (worker body)."""
    run = runs_mod.get_run(project, run_id)
    return RunDetails(run, art.list_datasets(project, run.id), art.run_environment(project, run.id),
                      art.list_artifacts(project, run.id), art.list_models(project, run.id))


def _histories(project, run_id: str, metrics, start_time: float | None, preview_buckets: int) -> dict:
    """Worker body: the histories of ``metrics`` (or the error text of each that failed)."""
    out: dict = {}
    for metric in metrics:
        try:
            out[metric] = load_history(project, run_id, metric, start_time, preview_buckets)
        except Exception as exc:
            out[metric] = str(exc)
    return out


def _refresh_body(project, run_id: str, shown, preview_buckets: int):
    """Worker body for live runs: the details, every metric's length, the shown metrics' histories."""
    details = load_run_details(project, run_id)
    run = details.run
    return (details, history_lengths(project, run.id),
            _histories(project, run.id, [m for m in shown if m in run.metrics], run.start_time, preview_buckets))


def _top_values(entry: dict) -> str:
    top = entry.get("top") or []
    text = ", ".join(f"{t['value']} ({t['count']:,})" for t in top[:5])
    return text + (", …" if len(top) > 5 or entry.get("other_count") else "")


class RunDetailsWidget(QWidget):
    """Details of one run; constructible alone: ``RunDetailsWidget(project, run_id)``."""

    loaded = Signal()
    refreshed = Signal()
    curvesLoaded = Signal()
    previewReady = Signal(str)
    artifactSaved = Signal(str)
    failed = Signal(str)

    def __init__(self, project, run_id: str, parent: QWidget | None = None):
        super().__init__(parent)
        from ..charts.curves import CurvesChart  # pyqtgraph only when a window opens

        self.project = project
        self.run_id = run_id
        self.details: RunDetails | None = None
        self.jobs = Jobs(self)
        self._lengths: dict[str, int] | None = None   # points per metric, once counted
        self._pending: set[str] = set()                 # metrics whose history is being read
        self._loaded: set[str] = set()                  # metrics whose history the chart holds
        self._round = False                             # curvesLoaded once the ticked curves are drawn
        self._refreshing = False

        self.title = QLabel("Loading…")
        self.title.setStyleSheet("font-size: 15pt; font-weight: 600;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.subtitle = QLabel()
        self.subtitle.setStyleSheet(f"color: {theme()['muted']};")
        self.subtitle.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(f"color: {theme()['error']};")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.status)
        head.addStretch(1)

        self.params_table, self.metrics_table, self.tags_table = CopyTableView(), CopyTableView(), CopyTableView()
        self.curves = CurvesChart()
        self.curves.drawn.connect(self._maybe_done)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_overview(), "Overview")
        self.tabs.addTab(self._build_metrics(), "Metric curves")
        self.tabs.addTab(self._build_datasets(), "Datasets")
        self.tabs.addTab(self._build_environment(), "Environment")
        self.artifacts = ArtifactsPane(project)
        self.artifacts.previewReady.connect(self.previewReady)
        self.artifacts.artifactSaved.connect(self.artifactSaved)
        self.artifacts.failed.connect(self._on_failed)
        self.artifacts_table, self.save_button = self.artifacts.table, self.artifacts.save_button
        self.preview, self.image_preview = self.artifacts.preview, self.artifacts.image_preview
        self.text_preview, self.preview_message = self.artifacts.text_preview, self.artifacts.message
        self.tabs.addTab(self.artifacts, "Artifacts")
        self.tabs.addTab(self._build_models(), "Models")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.addLayout(head)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.error_label)
        layout.addWidget(self.tabs, 1)
        self.jobs.start(load_run_details, project, run_id, done=self._on_loaded, failed=self._on_failed)

    # -- pages -----------------------------------------------------------------------------
    @staticmethod
    def _titled(title: str, widget: QWidget) -> QWidget:
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 4, 0, 0)
        v.addWidget(QLabel(f"<b>{title}</b>"))
        v.addWidget(widget, 1)
        return box

    def _build_overview(self) -> QWidget:
        split = QSplitter()
        split.addWidget(self._titled("Params", self.params_table))
        split.addWidget(self._titled("Metrics (latest)", self.metrics_table))
        split.addWidget(self._titled("Tags", self.tags_table))
        split.setSizes([400, 400, 300])
        return split

    def _build_metrics(self) -> QWidget:
        self.metric_list = QListWidget()
        self.metric_list.setToolTip("Tick the metrics to plot")
        self.metric_list.itemChanged.connect(self._on_metric_checked)
        side = self._titled("Metrics", self.metric_list)
        split = QSplitter()
        split.addWidget(side)
        split.addWidget(self.curves)
        split.setStretchFactor(1, 1)
        split.setSizes([200, 900])
        return split

    def _build_datasets(self) -> QWidget:
        self.datasets_table = CopyTableView()
        self.profile_table = CopyTableView()
        self.profile_title = QLabel("<b>Column profile</b>")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self._titled("Datasets logged with this run", self.datasets_table))
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 4, 0, 0)
        v.addWidget(self.profile_title)
        v.addWidget(self.profile_table, 1)
        split.addWidget(box)
        split.setSizes([180, 420])
        return split

    def _build_environment(self) -> QWidget:
        self.env_form = QFormLayout()
        self.env_labels: dict[str, QLabel] = {}
        for key in ("Python", "Platform", "Git commit", "Git branch", "Working tree"):
            label = QLabel("—")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.env_labels[key] = label
            self.env_form.addRow(f"{key}:", label)
        self.package_filter = QLineEdit()
        self.package_filter.setPlaceholderText("Filter packages…")
        self.package_filter.setClearButtonEnabled(True)
        self.packages_proxy = QSortFilterProxyModel(self)
        self.packages_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.package_filter.textChanged.connect(self.packages_proxy.setFilterFixedString)
        self.packages_table = CopyTableView()
        set_table_model(self.packages_table, self.packages_proxy)
        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 6, 0, 0)
        v.addLayout(self.env_form)
        v.addWidget(QLabel("<b>Packages</b>"))
        v.addWidget(self.package_filter)
        v.addWidget(self.packages_table, 1)
        return page

    def _build_models(self) -> QWidget:
        self.models_table = CopyTableView()
        self.models_table.setSelectionBehavior(CopyTableView.SelectionBehavior.SelectRows)
        self.signature_table = CopyTableView()
        self.signature_title = QLabel("<b>Signature</b>")
        self.signature_title.setWordWrap(True)
        box = QWidget()
        v = QVBoxLayout(box)
        v.setContentsMargins(0, 4, 0, 0)
        v.addWidget(self.signature_title)
        v.addWidget(self.signature_table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self._titled("Models logged with this run", self.models_table))
        split.addWidget(box)
        split.setSizes([160, 440])
        return split

    # -- data arrives ------------------------------------------------------------------------
    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.failed.emit(message)

    @Slot(object)
    def _on_loaded(self, details: RunDetails) -> None:
        self.details = details
        run = details.run
        self.run_id = run.id
        self.setWindowTitle(f"Run {run.name} — ModelDesk")
        self._fill_header(run)
        self._fill_overview(run)
        self._fill_datasets(details.datasets)
        self._fill_environment(details.environment)
        self.artifacts.set_artifacts(run.id, details.artifacts)
        self._fill_models(details.models)
        self.curves.set_runs([(run.id, run.name, "#1f77b4")])
        self.metric_list.blockSignals(True)
        for key in sorted(run.metrics):
            self.metric_list.addItem(checkable_item(key, False))
        self.metric_list.blockSignals(False)
        self.curves.show_message("Loading metric histories…" if run.metrics else "No metrics were logged.")
        self.loaded.emit()
        self.jobs.start(history_lengths, self.project, run.id, done=self._on_lengths, failed=self._on_failed)

    def _fill_header(self, run: Run) -> None:
        self.title.setText(html.escape(run.name))
        colour = STATUS_COLOURS.get(run.status, "#6b7280")
        self.status.setText(f"<span style='color:white; background:{colour}; padding:2px 8px;"
                            f" border-radius:6px'>&nbsp;{run.status}&nbsp;</span>")
        parent = f" · child of {run.parent_id[:8]}" if run.parent_id else ""
        self.subtitle.setText(f"id {run.id} · experiment {run.experiment} · by {run.user} · started "
                              f"{fmt_time(run.start_time)} · duration {fmt_duration(run.duration)}{parent}")

    def _fill_overview(self, run: Run) -> None:
        for view, headers, rows in (
            (self.params_table, ("Param", "Value"), sorted(run.params.items(), key=lambda kv: kv[0].lower())),
            (self.metrics_table, ("Metric", "Latest value"), sorted(run.metrics.items())),
            (self.tags_table, ("Tag", "Value"), sorted(run.tags.items())),
        ):
            set_table_model(view, table_model(headers, rows, [(k, v) for k, v in rows], parent=view))
            view.fit_columns()

    def _fill_datasets(self, datasets: list[DatasetRecord]) -> None:
        rows = [(d.name, d.role, d.target or "—", d.rows, d.columns, d.fingerprint[:16] + "…", d.sample_rows)
                for d in datasets]
        tips = [(None, None, None, None, None, d.fingerprint, "Rows kept as the drift reference") for d in datasets]
        set_table_model(self.datasets_table, table_model(DATASET_HEADERS, rows, tips, parent=self.datasets_table))
        self.datasets_table.setSelectionBehavior(CopyTableView.SelectionBehavior.SelectRows)
        # The last column is a short number: stretched, it would sit far from its
        # header at the right edge. The (text) fingerprint takes the spare width.
        self.datasets_table.fit_columns(stretch_last=False)
        self.datasets_table.horizontalHeader().setSectionResizeMode(DATASET_STRETCH, QHeaderView.ResizeMode.Stretch)
        selection_of(self.datasets_table).currentRowChanged.connect(
            lambda cur, _prev: self.select_dataset(cur.row()))
        if datasets:
            self.datasets_table.selectRow(0)
            self.select_dataset(0)
        else:
            self.profile_title.setText("<b>Column profile</b> — no dataset was logged with this run.")

    def select_dataset(self, index: int) -> None:
        if self.details is None or not 0 <= index < len(self.details.datasets):
            return
        d = self.details.datasets[index]
        self.profile_title.setText(f"<b>Column profile of {html.escape(d.name)}</b> ({d.role}; "
                                   f"{d.rows:,} rows × {d.columns} columns"
                                   f"{'; target ' + html.escape(d.target) if d.target else ''})")
        rows = []
        for c in d.profile.get("per_column", []):
            name = str(c.get("name")) + ("  (target)" if d.target is not None and c.get("name") == d.target else "")
            rows.append((name, c.get("kind"), c.get("dtype"), c.get("count"), c.get("missing"), c.get("unique"),
                         c.get("mean"), c.get("std"), c.get("min"), c.get("p25"), c.get("p50"), c.get("p75"),
                         c.get("max"), _top_values(c) or ""))
        set_table_model(self.profile_table, table_model(PROFILE_HEADERS, rows, parent=self.profile_table))
        self.profile_table.fit_columns()

    def _fill_environment(self, env: dict | None) -> None:
        if env is None:
            for label in self.env_labels.values():
                label.setText("not recorded")
            self.packages_proxy.setSourceModel(table_model(("Package", "Version"), [], parent=self))
            return
        git = env.get("git")
        self.env_labels["Python"].setText(f"{env.get('python', '—')} ({env.get('implementation', '')})")
        self.env_labels["Platform"].setText(str(env.get("platform", "—")))
        if git:
            self.env_labels["Git commit"].setText(git.get("commit") or "—")
            self.env_labels["Git branch"].setText(git.get("branch") or "detached")
            dirty = git.get("dirty")
            self.env_labels["Working tree"].setText(
                f"<span style='color:{theme()['warn']}'><b>dirty</b> — uncommitted changes to tracked files</span>"
                if dirty else "clean" if dirty is not None else "unknown")
        else:
            for key in ("Git commit", "Git branch", "Working tree"):
                self.env_labels[key].setText("not a git repository")
        packages = sorted((env.get("packages") or {}).items())
        self.packages_proxy.setSourceModel(table_model(("Package", "Version"), packages, parent=self))
        self.packages_table.fit_columns()

    def _fill_models(self, models: list[LoggedModel]) -> None:
        rows = []
        for m in models:
            inputs = m.signature.get("inputs") or []
            rows.append((m.name, m.signature.get("model_class", m.flavor), fmt_size(m.size), len(inputs),
                         m.sha256[:12] + "…"))
        set_table_model(self.models_table, table_model(("Name", "Class", "Size", "Inputs", "sha256"), rows,
                                               [(None, None, None, None, m.sha256) for m in models],
                                               parent=self.models_table))
        self.models_table.fit_columns()
        selection_of(self.models_table).currentRowChanged.connect(lambda cur, _p: self.select_model(cur.row()))
        if models:
            self.models_table.selectRow(0)
            self.select_model(0)
        else:
            self.signature_title.setText("<b>Signature</b> — no model was logged with this run.")

    def select_model(self, index: int) -> None:
        """Show the input columns and output of a logged model."""
        if self.details is None or not 0 <= index < len(self.details.models):
            return
        m = self.details.models[index]
        sig = m.signature
        outputs = sig.get("outputs") or {}
        facts = [f"class {sig.get('model_class', m.flavor)}"]
        if outputs:
            facts.append(f"output {outputs.get('type', '?')}")
        if sig.get("classes") is not None:
            facts.append(f"classes {', '.join(map(str, sig['classes']))}")
        facts.append("predict_proba" if sig.get("has_proba") else "no predict_proba")
        if sig.get("predict_error"):
            facts.append(f"predicting on the example failed: {sig['predict_error']}")
        self.signature_title.setText(f"<b>Signature of {html.escape(m.name)}</b> — "
                                     + html.escape(" · ".join(facts)))
        rows = [(c.get("name"), c.get("type"), "yes" if c.get("nullable") else "no",
                 ", ".join(map(str, c.get("categories") or [])) or "")
                for c in sig.get("inputs") or []]
        set_table_model(self.signature_table, table_model(("Input column", "Type", "Nullable", "Categories"), rows,
                                                  parent=self.signature_table))
        self.signature_table.fit_columns()

    # -- metric curves -------------------------------------------------------------------------
    def checked_metrics(self) -> list[str]:
        return checked_keys(self.metric_list)

    def show_metrics(self, metrics) -> None:
        check_only(self.metric_list, metrics)
        self._on_metric_checked()

    def _on_metric_checked(self, _item=None) -> None:
        if self._lengths is None:   # applied when the metrics are counted
            return
        checked = self.checked_metrics()
        self.curves.set_metrics(checked)
        if not checked:
            self.curves.show_message("Tick a metric to plot it." if self.metric_list.count()
                                     else "No metrics were logged with this run.")
        for metric in self._loaded - set(checked):   # unticked: free its arrays
            self._loaded.discard(metric)
            self.curves.drop_history(self.run_id, metric)
        wanted = [m for m in checked if m not in self._loaded and m not in self._pending]
        self._round = True
        if wanted:
            self._pending.update(wanted)
            run = self.details.run
            self.jobs.start(_histories, self.project, run.id, wanted, run.start_time, self.curves.preview_buckets,
                            done=self._on_histories, failed=self._on_failed)
        self._maybe_done()

    @Slot(object)
    def _on_lengths(self, lengths: dict) -> None:
        """The metrics are counted: label them, tick those worth a curve, load only those."""
        self._set_lengths(lengths)
        # Curves, not final scores: a metric logged once makes a poor chart.
        curves = [m for m in sorted(lengths) if lengths[m] > 1] or sorted(lengths)
        check_only(self.metric_list, curves[:MAX_DEFAULT_CURVES])
        self._on_metric_checked()

    def _set_lengths(self, lengths: dict[str, int]) -> None:
        """Label each metric with its number of points."""
        self._lengths = dict(lengths)
        self.metric_list.blockSignals(True)   # a new label is no change of what is ticked
        for i in range(self.metric_list.count()):
            item = self.metric_list.item(i)
            key = item.data(Qt.ItemDataRole.UserRole)
            n = lengths.get(key, 0)
            item.setText(f"{key}  ({n:,} point{'s' if n != 1 else ''})")
        self.metric_list.blockSignals(False)

    @Slot(object)
    def _on_histories(self, histories: dict) -> None:
        shown = set(self.checked_metrics())
        for metric, history in histories.items():
            self._pending.discard(metric)
            if isinstance(history, str):
                self._on_failed(history)
            elif metric in shown:   # else unticked while it was read: drop it
                self._loaded.add(metric)
                self.curves.set_history(self.run_id, metric, history)
        self._maybe_done()

    def _maybe_done(self) -> None:
        if self._round and not self._pending and self.curves.idle:
            self._round = False
            self.curvesLoaded.emit()

    # -- live runs ------------------------------------------------------------------------------
    def refresh_live(self) -> None:
        """Re-read a RUNNING run when the project file changed: curves grow in place (``refreshed``)."""
        if self.details is None or self._refreshing or self.details.run.status != "RUNNING":
            return
        self._refreshing = True
        self.jobs.start(_refresh_body, self.project, self.run_id, sorted(self._loaded), self.curves.preview_buckets,
                        done=self._on_refreshed, failed=self._on_refresh_failed)

    @Slot(str)
    def _on_refresh_failed(self, message: str) -> None:
        self._refreshing = False
        self._on_failed(message)

    @Slot(object)
    def _on_refreshed(self, result) -> None:
        details, lengths, histories = result
        self._refreshing = False
        old = self.details
        self.details = details
        run = details.run
        self._fill_header(run)
        self._fill_overview(run)
        if [a.path for a in details.artifacts] != [a.path for a in old.artifacts]:
            self.artifacts.set_artifacts(run.id, details.artifacts)
        if [m.name for m in details.models] != [m.name for m in old.models]:
            self._fill_models(details.models)
        known = {self.metric_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.metric_list.count())}
        self.metric_list.blockSignals(True)
        for key in sorted(set(lengths) - known):   # metrics logged since the window opened
            self.metric_list.addItem(checkable_item(key, False))
        self.metric_list.sortItems()
        self.metric_list.blockSignals(False)
        self._set_lengths(lengths)
        self._on_histories({m: h for m, h in histories.items() if m in self._loaded})
        self._on_metric_checked()
        self.refreshed.emit()

    # -- artifacts (the pane does the work) ---------------------------------------------------
    def select_artifact(self, path: str) -> None:
        """Preview an artifact (``previewReady`` follows)."""
        self.artifacts.select(path)

    def save_artifact(self, target: str | None = None, path: str | None = None) -> None:
        """Save an artifact's verified bytes (asks for a file without ``target``); ``artifactSaved`` follows."""
        self.artifacts.save(target, path)

    @property
    def selected_artifact(self) -> str | None:
        return self.artifacts.selected

    @property
    def preview_image(self) -> QImage | None:
        return self.artifacts.image

    def closeEvent(self, event) -> None:
        self.jobs.cancel_all()
        self.artifacts.cancel()
        forget_window(self)
        super().closeEvent(event)


def open_run_details(project, run_id: str, parent: QWidget | None = None) -> QWidget:
    """Open a non-modal window with the details of ``run_id`` and return it; a
    window already open on that run of that project is brought to the front instead."""
    for widget in open_windows(RunDetailsWidget):
        if widget.run_id == run_id and widget.project is project:
            return bring_to_front(widget)
    widget = RunDetailsWidget(project, run_id, parent)
    return show_as_window(widget, f"Run {run_id[:8]} — ModelDesk", (1200, 800))

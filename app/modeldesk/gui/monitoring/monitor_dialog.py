"""The Add Monitor dialog: a name, the model and alias to watch, thresholds, a retrain command.

It only collects and checks the answer in the app's own words; the panel
then makes the one core call (``set_monitor``) in a worker. Opened with
``open()`` (window-modal), so tests fill its fields and press OK.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import UsageError
from ...core.monitoring import monitors as mon
from ..kit.dialogs import FormDialog
from ..kit.theme import theme


def _float(text: str):
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return ValueError


class MonitorDialog(FormDialog):
    """Fields of a monitor; ``values()`` gives the keyword arguments of ``set_monitor``."""

    def __init__(self, models: list[str], parent: QWidget | None = None, *, model: str | None = None,
                 taken: tuple[str, ...] = ()):
        super().__init__(parent)
        self.taken = set(taken)
        self.setWindowTitle("Add Monitor")
        self.setObjectName("monitorDialog")
        self.setAttribute(Qt.WA_DeleteOnClose)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. cancer-drift")
        self.model = QComboBox()
        self.model.addItems(models)
        if model in models:
            self.model.setCurrentText(model)
        self.alias = QLineEdit("production")
        self.window_size = QLineEdit("1d")
        self.window_size.setToolTip("How far back each check looks: 30m, 1h, 1d, 7d…")
        self.drift_share = QLineEdit()
        self.drift_share.setPlaceholderText("e.g. 0.5: half of the input columns drift")
        self.columns = QLineEdit()
        self.columns.setPlaceholderText("input columns, separated by commas")
        self.metric_choice = QComboBox()
        self.metric_choice.addItem("(none)", None)
        for name in mon.METRICS:
            self.metric_choice.addItem(name, name)
        self.metric_min = QLineEdit()
        self.metric_min.setPlaceholderText("fire below this value")
        self.max_drop = QLineEdit()
        self.max_drop.setPlaceholderText("fire when it fell more than this from training")
        self.error_rate = QLineEdit()
        self.error_rate.setPlaceholderText("share of failed requests, e.g. 0.01")
        self.p99_ms = QLineEdit()
        self.p99_ms.setPlaceholderText("milliseconds, e.g. 250")
        self.retrain = QLineEdit()
        self.retrain.setPlaceholderText("a command run in the project's folder, e.g. python retrain.py")
        self.retrain_every = QLineEdit()
        self.retrain_every.setPlaceholderText("also retrain on a schedule, e.g. 7d")
        self.hint = QLabel()
        self.hint.setObjectName("monitorDialogHint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {theme()['muted']};")
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText("Add Monitor")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.ExpandingFieldsGrow)
        for label, widget in (("Name *", self.name), ("Model *", self.model), ("Alias", self.alias),
                              ("Window", self.window_size), ("Drift share", self.drift_share),
                              ("Drifting columns", self.columns), ("Metric", self.metric_choice),
                              ("Metric minimum", self.metric_min), ("Metric max drop", self.max_drop),
                              ("Error rate", self.error_rate), ("p99 latency (ms)", self.p99_ms),
                              ("Retrain command", self.retrain), ("Retrain every", self.retrain_every)):
            form.addRow(f"{label}:", widget)
        note = QLabel("Retraining registers the new model as the next version and asks for its promotion "
                      "in your name; a reviewer approves it. It never promotes by itself.")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        for edit in self.findChildren(QLineEdit):
            edit.textChanged.connect(self.validate)
        self.metric_choice.currentIndexChanged.connect(self.validate)
        self.setMinimumWidth(520)
        self.validate()

    def problem(self) -> str:
        """Why OK is disabled, in the app's words ("" when the answer is complete)."""
        if not self.name.text().strip():
            return "Give the monitor a name."
        try:
            mon.check_monitor_name(self.name.text())
        except UsageError:
            return "A name holds letters, digits, '.', '_' or '-', starting with a letter or digit."
        if self.name.text().strip() in self.taken:
            return f"A monitor named {self.name.text().strip()} exists already: pick another name, or remove it first."
        if self.model.count() == 0:
            return "Register a model first: a monitor watches a registered model."
        for edit, what in ((self.window_size, "The window"), (self.retrain_every, "Retrain every")):
            if edit.text().strip():
                try:
                    mon.parse_period(edit.text())
                except UsageError:
                    return f"{what} is a number and a unit, such as 30m, 1h, 1d or 7d."
        numbers = {}
        for edit, what in ((self.drift_share, "Drift share"), (self.metric_min, "Metric minimum"),
                           (self.max_drop, "Metric max drop"), (self.error_rate, "Error rate"),
                           (self.p99_ms, "p99 latency")):
            value = _float(edit.text())
            if value is ValueError:
                return f"{what} must be a number."
            numbers[what] = value
        for what in ("Drift share", "Error rate"):
            if numbers[what] is not None and not 0 <= numbers[what] <= 1:
                return f"{what} is a share between 0 and 1."
        has_metric = self.metric_choice.currentData() is not None
        if has_metric and numbers["Metric minimum"] is None and numbers["Metric max drop"] is None:
            return "A metric needs a minimum or a max drop."
        if not has_metric and (numbers["Metric minimum"] is not None or numbers["Metric max drop"] is not None):
            return "Choose the metric the minimum or max drop applies to."
        if self.retrain_every.text().strip() and not self.retrain.text().strip():
            return "Retrain every needs a retrain command."
        watched = [numbers["Drift share"], numbers["Error rate"], numbers["p99 latency"]]
        if all(v is None for v in watched) and not self.columns.text().strip() and not has_metric \
                and not self.retrain_every.text().strip():
            return "Give at least one threshold (drift share, columns, a metric, error rate or p99 latency)."
        return ""

    def values(self) -> dict:
        """Keyword arguments of ``core.monitoring.monitors.set_monitor`` (besides the project and actor)."""
        thresholds = mon.make_thresholds(
            drift_share=_float(self.drift_share.text()), columns=self.columns.text(),
            metric=self.metric_choice.currentData(), metric_min=_float(self.metric_min.text()),
            max_drop=_float(self.max_drop.text()), error_rate=_float(self.error_rate.text()),
            p99_ms=_float(self.p99_ms.text()))
        return {"name": self.name.text().strip(), "model": self.model.currentText(),
                "alias": self.alias.text().strip() or "production", "window": self.window_size.text().strip() or "1d",
                "thresholds": thresholds, "retrain": self.retrain.text().strip() or None,
                "retrain_every": self.retrain_every.text().strip() or None}

"""Batch scoring from the desktop app: a CSV in, predictions out, with progress and Cancel.

One call into core: ``core.serving.scoring.score_csv`` runs in a worker (the dialog's Jobs) that
hands it ``progress`` and ``should_stop``; the dialog shows the fraction
read, then rows scored and rejected with their reasons. A cancelled run
writes no output file (score_csv removes its ``.part`` file).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..kit.workers import Jobs, Task
from .serve_dialog import model_choices

CHUNK_ROWS = 10_000      # small enough that Cancel answers within a fraction of a second


def _score(project, uri: str, in_path: str, out_path: str, proba: bool, chunk_rows: int, *, progress,
           should_stop):
    from ...core.serving.scoring import score_csv

    return score_csv(project, uri, in_path, out_path, proba=proba, chunk_rows=chunk_rows, progress=progress,
                     should_stop=should_stop)


class ScoringDialog(QDialog):
    """Score a CSV file with a model. ``finishedRun`` carries the ScoreSummary."""

    finishedRun = Signal(object)

    def __init__(self, project, uri: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("scoringDialog")
        self.setWindowTitle("Score a CSV File")
        self.project = project
        self.chunk_rows = CHUNK_ROWS
        self.task: Task | None = None
        self.summary = None
        self._close_after_cancel = False
        self.jobs = Jobs(self)
        self._build(uri)
        if project is not None:
            self.jobs.start(model_choices, project, done=self._fill_models)

    # -- layout -----------------------------------------------------------------------------
    def _build(self, uri: str) -> None:
        self.model = QComboBox()
        self.model.setObjectName("scoringModel")
        self.model.setEditable(True)
        self.model.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.model.setEditText(uri)
        self.model.lineEdit().setPlaceholderText("models:/NAME@production, models:/NAME/3 or runs:/RUN_ID/model")
        self.input = QLineEdit()
        self.input.setObjectName("scoringInput")
        self.input.setPlaceholderText("CSV file with the model's input columns")
        self.output = QLineEdit()
        self.output.setObjectName("scoringOutput")
        self.output.setPlaceholderText("where to write the rows with their predictions")
        self.input.textChanged.connect(self._suggest_output)
        self.output.textEdited.connect(lambda _t: self.output.setProperty("suggested", False))
        in_button = QPushButton("Browse…")
        in_button.clicked.connect(self._browse_input)
        out_button = QPushButton("Browse…")
        out_button.clicked.connect(self._browse_output)
        self.proba = QCheckBox("Include probabilities (one proba_<class> column per class)")
        self.proba.setObjectName("scoringProba")
        form = QFormLayout()
        form.addRow("Model:", self.model)
        form.addRow("Input CSV:", self._row(self.input, in_button))
        form.addRow("Output CSV:", self._row(self.output, out_button))
        form.addRow("", self.proba)
        self.progress = QProgressBar()
        self.progress.setObjectName("scoringProgress")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status = QLabel("Choose a model and an input file, then Start.")
        self.status.setObjectName("scoringStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reasons = QTreeWidget()
        self.reasons.setObjectName("scoringReasons")
        self.reasons.setHeaderLabels(["Rows", "Rejected because"])
        self.reasons.setRootIsDecorated(False)
        self.reasons.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.reasons.hide()
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("scoringStart")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("scoringCancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addSpacing(4)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.reasons, 1)
        layout.addStretch(0)
        layout.addLayout(buttons)
        self.resize(680, 420)

    @staticmethod
    def _row(edit: QLineEdit, button: QPushButton) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        row.addWidget(button)
        return w

    def _fill_models(self, choices: list) -> None:
        text = self.model.currentText()
        self.model.blockSignals(True)
        for _name, uris in choices:
            for uri, what in uris:
                self.model.addItem(uri)
                self.model.setItemData(self.model.count() - 1, what, Qt.ItemDataRole.ToolTipRole)
        self.model.setEditText(text)
        self.model.blockSignals(False)

    # -- file pickers (separate so tests can answer them) --------------------------------------
    def ask_input_path(self) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, "Input CSV", os.path.dirname(self.input.text()) or str(Path.home()),
                                              "CSV files (*.csv);;All files (*)")
        return path or None

    def ask_output_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Output CSV", self.output.text() or str(Path.home()),
                                              "CSV files (*.csv)")
        return path or None

    def _browse_input(self) -> None:
        path = self.ask_input_path()
        if path:
            self.input.setText(path)

    def _browse_output(self) -> None:
        path = self.ask_output_path()
        if path:
            self.output.setText(path)

    def _suggest_output(self, text: str) -> None:
        if text and (not self.output.text() or self.output.property("suggested")):
            p = Path(text)
            self.output.setText(str(p.with_name(f"{p.stem}_scored.csv")))
            self.output.setProperty("suggested", True)

    # -- running --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self) -> None:
        uri, in_path, out_path = self.model.currentText().strip(), self.input.text().strip(), self.output.text().strip()
        missing = [what for what, value in (("a model", uri), ("an input CSV", in_path), ("an output CSV", out_path))
                   if not value]
        if missing:
            self._say(f"Choose {' and '.join(missing)} first.", error=True)
            return
        if self.running or self.project is None:
            return
        self.summary = None
        self.reasons.clear()
        self.reasons.hide()
        self.progress.setValue(0)
        self._say(f"Loading {uri}…")
        self.task = self.jobs.start(_score, self.project, uri, in_path, out_path, self.proba.isChecked(),
                                    self.chunk_rows, wants_progress=True, progress=self._progress, done=self._done,
                                    failed=self._failed, cancelled=self._cancelled)
        self._set_running(True)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self._say("Cancelling…")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.model, self.input, self.output, self.proba):
            w.setEnabled(not running)

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(fraction * 1000)))
        if message and not (self.task and self.task.is_cancelled):
            self._say(f"Scoring… {message}")

    def _finish(self) -> None:
        self.task = None
        self._set_running(False)
        if self._close_after_cancel:
            super().reject()

    def _done(self, summary) -> None:
        self.summary = summary
        self.progress.setValue(1000)
        head = (f"<b>Scored {summary.rows_scored:,} of {summary.rows_read:,} rows</b> in {summary.seconds:.1f} s "
                f"→ {html.escape(summary.out_path)}")
        if summary.rows_rejected:
            head += f"<br><b style='color:#b45309'>Rejected {summary.rows_rejected:,} rows:</b>"
        else:
            head += "<br>No row was rejected."
        notes = "".join(f"<br>Note: {html.escape(w)}" for w in summary.warnings)
        self._say(head + notes, rich=True)
        if summary.rows_rejected:
            for reason, n in sorted(summary.reasons.items(), key=lambda kv: -kv[1]):
                item = QTreeWidgetItem([f"{n:,}", reason])
                item.setToolTip(1, reason)
                item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.reasons.addTopLevelItem(item)
            for example in summary.examples[:5]:
                item = QTreeWidgetItem(["e.g.", example])
                item.setToolTip(1, example)
                item.setForeground(1, self.palette().placeholderText())
                self.reasons.addTopLevelItem(item)
            self.reasons.show()
        self._finish()
        self.finishedRun.emit(summary)

    def _failed(self, text: str) -> None:
        self.progress.setValue(0)
        self._say(text, error=True)
        self._finish()

    def _cancelled(self) -> None:
        self.progress.setValue(0)
        self._say("Cancelled; no output file was written.")
        self._finish()

    def _say(self, text: str, *, error: bool = False, rich: bool = False) -> None:
        self.status.setTextFormat(Qt.TextFormat.RichText if rich or error else Qt.TextFormat.PlainText)
        self.status.setText(f"<span style='color:#b91c1c'>{html.escape(text)}</span>" if error else text)

    # -- closing --------------------------------------------------------------------------------
    def reject(self) -> None:
        """Close; a run still going is cancelled first (the dialog closes once it has stopped)."""
        if self.running:
            self._close_after_cancel = True
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self.running:
            self._close_after_cancel = True
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)

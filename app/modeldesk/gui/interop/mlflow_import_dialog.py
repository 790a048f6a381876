"""File ▸ Import from MLflow…: pick an MLflow store, import it in a worker with progress and Cancel.

The import itself is core's (``core.interop.mlflow_import``); this dialog only
asks where the store is, shows progress, and shows the summary: what was
imported, what was skipped and why.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ..kit.workers import Jobs


def mlflow_installed() -> bool:
    return importlib.util.find_spec("mlflow") is not None


class MlflowImportDialog(QDialog):
    """Import an MLflow tracking database or ``mlruns/`` folder into the open project."""

    imported = Signal(object)   # the TransferSummary, when an import finished (also a cancelled one)

    def __init__(self, project, parent=None, *, actor: str | None = None):
        super().__init__(parent)
        self.project = project
        self.actor = actor
        self.jobs = Jobs(self)
        self.task = None
        self.summary = None
        self._partial = None
        self.setWindowTitle("Import from MLflow")
        self.setMinimumWidth(640)
        intro = QLabel("Bring an MLflow tracking store into this project: experiments, runs with their metric "
                       "histories, artifacts, scikit-learn models and registered models. Importing the same "
                       "store again adds only what is new. A production alias is not set: the import opens a "
                       "promotion request for a teammate to approve.")
        intro.setWordWrap(True)
        self.source = QLineEdit(placeholderText="sqlite:///path/to/mlflow.db  or  /path/to/mlruns")
        self.source.textChanged.connect(self._update_buttons)
        database = QPushButton("Database…", clicked=self.choose_database)
        folder = QPushButton("Folder…", clicked=self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(database)
        row.addWidget(folder)
        self.progress = QProgressBar(maximum=1000, textVisible=False)
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.result = QPlainTextEdit(readOnly=True)
        self.result.setPlaceholderText("The summary of the import appears here.")
        self.buttons = QDialogButtonBox()
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.AcceptRole)
        self.import_button.clicked.connect(self.start)
        self.cancel_button = self.buttons.addButton("Cancel", QDialogButtonBox.RejectRole)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = self.buttons.addButton("Close", QDialogButtonBox.DestructiveRole)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.result, 1)
        layout.addWidget(self.buttons)
        self.installed = mlflow_installed()
        if not self.installed:
            self.status.setText("MLflow is not installed in the Python that runs ModelDesk. Install ModelDesk "
                                "with its mlflow extra (modeldesk[mlflow]), then open this dialog again.")
        self._update_buttons()

    # -- choosing ----------------------------------------------------------------------
    def choose_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "MLflow tracking database", str(Path.home()),
                                              "MLflow database (*.db *.sqlite);;All files (*)")
        if path:
            self.source.setText(f"sqlite:///{Path(path).resolve()}")

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "MLflow tracking folder (mlruns)", str(Path.home()))
        if path:
            self.source.setText(path)

    def _update_buttons(self) -> None:
        running = self.task is not None
        self.import_button.setEnabled(self.installed and not running and bool(self.source.text().strip()))
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)
        self.source.setEnabled(not running)

    # -- running -------------------------------------------------------------------------
    def start(self) -> None:
        """Import the chosen store in a worker."""
        from ...core.interop.mlflow_import import import_mlflow

        source = self.source.text().strip()
        if not source or self.task is not None:
            return
        self.result.clear()
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText(f"Reading {source}…")
        self._partial = None

        def work(*args, **kwargs):   # keeps the summary of a stopped import (Jobs reports it as cancelled)
            self._partial = import_mlflow(*args, **kwargs)
            return self._partial

        self.task = self.jobs.start(work, self.project, source, actor=self.actor, wants_progress=True,
                                    done=self._done, failed=self._failed, cancelled=self._cancelled,
                                    progress=self._progress)
        self._update_buttons()

    def cancel(self) -> None:
        """Stop after the run being imported; what was imported stays."""
        if self.task is not None:
            self.task.cancel()
            self.status.setText("Stopping after the current run…")

    def _progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        if message:
            self.status.setText(message)

    def _finish(self) -> None:
        self.task = None
        self.progress.setVisible(False)
        self._update_buttons()

    def _done(self, summary) -> None:
        self._finish()
        self.summary = summary
        self.status.setText("Stopped: what was imported so far stays in the project." if summary.cancelled
                            else "Imported. Run the import again later to bring in what is new.")
        self.result.setPlainText("\n".join(summary.lines()))
        self.imported.emit(summary)

    def _cancelled(self) -> None:
        self._finish()
        self.status.setText("Stopped: what was imported so far stays in the project.")
        if self._partial is not None:
            self.summary = self._partial
            self.result.setPlainText("\n".join(self._partial.lines()))
            self.imported.emit(self._partial)

    def _failed(self, text: str) -> None:
        self._finish()
        self.status.setText(f"The import failed: {text}")

    def reject(self) -> None:
        if self.task is not None:   # Esc while importing means stop, not leave a worker behind
            self.cancel()
            return
        super().reject()

    def closeEvent(self, event) -> None:
        if self.task is not None:
            self.cancel()
            event.ignore()
            return
        super().closeEvent(event)


if __name__ == "__main__":   # open the dialog alone: python -m modeldesk.gui.interop.mlflow_import_dialog PROJECT
    import sys

    from PySide6.QtWidgets import QApplication

    from ...core.storage.project import open_project

    app = QApplication(sys.argv)
    dialog = MlflowImportDialog(open_project(sys.argv[1] if len(sys.argv) > 1 else "modeldesk.mdesk"))
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.show()
    sys.exit(app.exec())

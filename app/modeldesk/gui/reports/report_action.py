"""The Models view's Report…: a file dialog, then the export in the background with a progress dialog.

The content is gathered on a worker (core), the charts are drawn on the GUI thread (pyqtgraph
items belong to it; a few tens of milliseconds), and the file is written on a worker again
(QTextDocument and QPdfWriter may run there). Cancel stops the gathering; the file is only written
under its name once it is complete.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from ...core.errors import ModelDeskError
from ..kit.workers import Jobs
from .export import check_target, gather, write

PDF_A4, PDF_LETTER, HTML = "PDF document, A4 (*.pdf)", "PDF document, US Letter (*.pdf)", "HTML page (*.html)"
FILTERS = ";;".join((PDF_A4, PDF_LETTER, HTML))


class ReportExport(QObject):
    """Ask where, then export ``uri``'s report there; ``finished(Exported)`` or ``failed(message)``.

    ``choose_path`` is the dialog step (tests replace it); ``progress`` is the dialog shown while
    working (None when idle).
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.parent_widget = parent
        # Its own Jobs: a view that drops stale results when its project changes (Jobs.new_session) would
        # drop this export's answer too and leave the progress dialog open.
        self.jobs = Jobs(self)
        self.progress: QProgressDialog | None = None
        self._task = None
        self.last_dir = Path.home()

    @property
    def busy(self) -> bool:
        return self.progress is not None

    def suggested_name(self, uri: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", uri.removeprefix("models:/").removeprefix("runs:/")).strip("-")
        return f"{stem or 'report'}-report.pdf"

    def choose_path(self, uri: str) -> tuple[str, str] | None:
        """The file picked in a save dialog and the page size its filter chose (A4 or Letter), or None."""
        path, chosen = QFileDialog.getSaveFileName(self.parent_widget, "Export Audit Report",
                                                   str(self.last_dir / self.suggested_name(uri)), FILTERS)
        if not path:
            return None
        if not Path(path).suffix:
            path += ".html" if chosen == HTML else ".pdf"
        return path, "Letter" if chosen == PDF_LETTER else "A4"

    def start(self, project, uri: str, user: str) -> bool:
        """Ask for a file and export; False when the user cancelled the dialog or an export is running."""
        if self.busy or project is None:
            return False
        chosen = self.choose_path(uri)
        if not chosen:
            return False
        path, page = chosen
        try:
            check_target(path, page)
        except (ModelDeskError, OSError) as exc:   # a format we do not write, a folder that is gone
            self.failed.emit(str(exc))
            return False
        self.last_dir = Path(path).parent
        self.progress = QProgressDialog("Gathering the report…", "Cancel", 0, 100, self.parent_widget)
        self.progress.setWindowTitle("Export Audit Report")
        self.progress.setWindowModality(Qt.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.canceled.connect(self._cancel)
        self.progress.setValue(0)
        self.progress.show()
        self._task = self.jobs.start(gather, project, uri, user=user, wants_progress=True,
                                     done=lambda report: self._draw(project, report, path, page, user),
                                     failed=self._fail, cancelled=self._cancelled, progress=self._on_progress)
        return True

    def _on_progress(self, fraction: float, text: str) -> None:
        dialog = self.progress
        if dialog is None:
            return
        if text:
            dialog.setLabelText(text)
        # last: a window-modal dialog's setValue() processes events, which may finish or cancel the export
        dialog.setValue(int(fraction * 100))

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _draw(self, project, report, path: str, page: str, user: str) -> None:
        if report is None or self.progress is None or self.progress.wasCanceled():
            self._cancelled()
            return
        from .render import chart_images

        self._on_progress(0.92, "Drawing the charts…")
        try:
            charts = chart_images(report)
        except Exception as exc:   # a chart that cannot be drawn must not leave the dialog hanging
            self._fail(f"Could not draw the report's charts: {exc}")
            return
        self._on_progress(0.96, f"Writing {Path(path).name}…")
        if self.progress is None or self.progress.wasCanceled():
            self._cancelled()
            return
        self.progress.setCancelButton(None)    # the file is written whole or not at all
        self._task = self.jobs.start(write, project, report, charts, path, page_size=page, actor=user,
                                     done=self._done, failed=self._fail)

    def _close(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
        self.progress = None
        self._task = None

    def _done(self, exported) -> None:
        self._close()
        self.finished.emit(exported)

    def _fail(self, text: str) -> None:
        self._close()
        self.failed.emit(text)

    def _cancelled(self) -> None:
        self._close()
        self.failed.emit("The report export was cancelled; no file was written.")

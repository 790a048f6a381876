"""The artifacts of one run: a table, a preview (images drawn, text shown),
and Save as. Bytes are read in workers and verified against their sha256:
a changed artifact is refused, never shown or saved."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.text import fmt_size, fmt_time
from ...core.tracking import artifacts as art
from ...core.tracking.run_entities import Artifact
from ..kit.tables import CopyTableView, selection_of, set_table_model, table_model
from ..kit.theme import theme
from ..kit.workers import Jobs

TEXT_SUFFIXES = (".txt", ".json", ".csv", ".tsv", ".md", ".yaml", ".yml", ".log", ".py", ".html", ".xml", ".ini")
PREVIEW_LIMIT = 2_000_000
MAX_UPSCALE = 4


def _read_for_preview(project, run_id: str, path: str):
    """Worker body: verified bytes, decoded to a QImage when they are an image."""
    try:
        data = art.read_artifact(project, run_id, path)
    except Exception as exc:
        return path, None, None, str(exc)
    image = QImage()
    if not image.loadFromData(data):
        image = None
    return path, data, image, None


def _save_artifact(project, run_id: str, path: str, target: str) -> str:
    data = art.read_artifact(project, run_id, path)   # verified: a changed artifact is refused
    Path(target).write_bytes(data)
    return target


class ArtifactsPane(QWidget):
    previewReady = Signal(str)
    artifactSaved = Signal(str)
    failed = Signal(str)

    def __init__(self, project, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = project
        self.run_id: str | None = None
        self.artifacts: list[Artifact] = []
        self.selected: str | None = None
        self.jobs = Jobs(self)
        self._previews: dict[str, tuple[bytes, QImage | None]] = {}
        self.table = CopyTableView()
        self.table.setSelectionBehavior(CopyTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(CopyTableView.SelectionMode.SingleSelection)
        self.save_button = QPushButton("Save as…")
        self.save_button.setToolTip("Save the selected artifact to a file (its sha256 is checked first)")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save())
        self.image_preview = QLabel()
        self.image_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image_preview.setStyleSheet(f"background: {theme()['preview_bg']};")
        scroll = QScrollArea()
        scroll.setWidget(self.image_preview)
        scroll.setWidgetResizable(True)
        self.text_preview = QPlainTextEdit()
        self.text_preview.setReadOnly(True)
        self.message = QLabel("Select an artifact to preview it.")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme()['muted']};")
        self.preview = QStackedWidget()
        for w in (self.message, scroll, self.text_preview):
            self.preview.addWidget(w)
        left = QWidget()
        v = QVBoxLayout(left)
        v.setContentsMargins(0, 4, 0, 0)
        v.addWidget(QLabel("<b>Artifacts</b>"))
        v.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        v.addLayout(row)
        right = QWidget()
        v = QVBoxLayout(right)
        v.setContentsMargins(0, 4, 0, 0)
        v.addWidget(QLabel("<b>Preview</b>"))
        v.addWidget(self.preview, 1)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([420, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def set_artifacts(self, run_id: str, artifacts: list[Artifact]) -> None:
        self.run_id, self.artifacts = run_id, list(artifacts)
        rows = [(a.path, fmt_size(a.size), fmt_time(a.created_at), a.sha256[:12] + "…") for a in artifacts]
        tips = [(a.path, f"{a.size:,} bytes", None, a.sha256) for a in artifacts]
        set_table_model(self.table, table_model(("Path", "Size", "Logged", "sha256"), rows, tips, parent=self.table))
        self.table.fit_columns()
        selection_of(self.table).currentRowChanged.connect(
            lambda cur, _prev: self.select(self.artifacts[cur.row()].path) if cur.isValid() else None)
        if not artifacts:
            self.message.setText("No artifacts were logged with this run.")

    def select(self, path: str) -> None:
        """Preview an artifact: images shown, text shown, anything else described."""
        if self.run_id is None:
            return
        self.save_button.setEnabled(True)
        self.selected = path
        row = next((i for i, a in enumerate(self.artifacts) if a.path == path), -1)
        if row >= 0 and self.table.currentIndex().row() != row:
            self.table.selectRow(row)
        if path in self._previews:
            self._show(path)
            return
        self.message.setText(f"Loading {html.escape(path)}…")
        self.preview.setCurrentWidget(self.message)
        self.jobs.start(_read_for_preview, self.project, self.run_id, path, done=self._on_preview)

    @property
    def image(self) -> QImage | None:
        return self._previews.get(self.selected, (None, None))[1] if self.selected else None

    @Slot(object)
    def _on_preview(self, result) -> None:
        path, data, image, error = result
        if error is not None:
            if path == self.selected:
                self.message.setText(f"<span style='color:{theme()['error']}'>{html.escape(error)}</span>")
                self.preview.setCurrentWidget(self.message)
            self.failed.emit(error)
            return
        self._previews[path] = (data, image)
        if path == self.selected:
            self._show(path)

    def _show(self, path: str) -> None:
        data, image = self._previews[path]
        if image is not None:
            self.image_preview.setPixmap(self._fitted(QPixmap.fromImage(image)))
            self.image_preview.setToolTip(f"{path}: {image.width()}×{image.height()} px")
            self.preview.setCurrentIndex(1)
        elif path.lower().endswith(TEXT_SUFFIXES) and len(data) <= PREVIEW_LIMIT:
            self.text_preview.setPlainText(data.decode("utf-8", errors="replace"))
            self.preview.setCurrentWidget(self.text_preview)
        else:
            self.message.setText(f"No preview for {html.escape(path)} ({fmt_size(len(data))}). "
                                 "Use Save as… to open it elsewhere.")
            self.preview.setCurrentWidget(self.message)
        self.previewReady.emit(path)

    def _fitted(self, pixmap: QPixmap) -> QPixmap:
        box = self.preview.size()
        room_w, room_h = max(box.width() - 24, 64), max(box.height() - 24, 64)
        if pixmap.width() > room_w or pixmap.height() > room_h:
            return pixmap.scaled(room_w, room_h, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        # small plots (a confusion matrix) are enlarged by whole pixels, staying sharp
        factor = min(MAX_UPSCALE, room_w // max(pixmap.width(), 1), room_h // max(pixmap.height(), 1))
        if factor > 1:
            return pixmap.scaled(pixmap.width() * factor, pixmap.height() * factor,
                                 Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        return pixmap

    def save(self, target: str | None = None, path: str | None = None) -> None:
        """Write an artifact's verified bytes to ``target`` (asks when None); emits ``artifactSaved``."""
        path = path or self.selected
        if self.run_id is None or not path:
            return
        if target is None:
            target, _ = QFileDialog.getSaveFileName(self, "Save artifact", Path(path).name)
            if not target:
                return
        self.jobs.start(_save_artifact, self.project, self.run_id, path, str(target),
                        done=self._on_saved, failed=self.failed.emit)

    @Slot(object)
    def _on_saved(self, target: str) -> None:
        self.artifactSaved.emit(target)

    def cancel(self) -> None:
        self.jobs.cancel_all()

"""Export a report to a file, in one call: gather (core), draw charts, write HTML or PDF, record the export.

:func:`export_report` is what the CLI and ``md.report`` call, on one thread; the Models view runs
the same steps split over a worker and the GUI thread (report_action.py). Works headless: without a
display, Qt's offscreen platform is chosen before the QApplication exists.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import UsageError
from ...core.reports.content import Report
from ...core.reports.export import record_export, report_format


@dataclass(frozen=True)
class Exported:
    path: Path
    format: str
    sha256: str
    size: int
    pages: int | None
    report: Report
    entry_seq: int


def ensure_app():
    """The QApplication charts and fonts need; created offscreen when there is no display."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux") and \
            not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return QApplication([sys.argv[0] if sys.argv else "modeldesk"])


def check_target(path, page_size: str = "A4") -> str:
    """The format of ``path`` (pdf/html), refusing a folder that does not exist or a page size we lack."""
    fmt = report_format(path)
    parent = Path(path).expanduser().resolve().parent
    if not parent.is_dir():
        raise UsageError(f"Cannot write {str(path)!r}: the folder {str(parent)!r} does not exist.")
    if page_size not in ("A4", "Letter"):
        raise UsageError(f"Page size {page_size!r} is not one of A4, Letter.")
    return fmt


def gather(project, uri: str | None, *, user: str | None = None, progress=None, should_stop=None) -> Report | None:
    """The report's content: a version's (``uri``) or, with ``uri`` None, the project's."""
    from ...core.reports.project import project_report
    from ...core.reports.version import version_report

    if uri is None:
        return project_report(project, user=user, progress=progress, should_stop=should_stop)
    return version_report(project, uri, user=user, progress=progress, should_stop=should_stop)


def write(project, report: Report, charts: dict[str, str], path, *, page_size: str = "A4",
          actor: str | None = None) -> Exported:
    """Write the file (format from its name) and its ``report.export`` audit entry."""
    from .render import write_html, write_pdf

    path = Path(path).expanduser()
    fmt = report_format(path)
    tmp = path.with_name(f".{path.name}.part")
    pages = None
    try:
        if fmt == "pdf":
            pages = write_pdf(report, charts, tmp, page_size=page_size)
        else:
            write_html(report, charts, tmp)
        os.replace(tmp, path)      # never a half-written report under the asked name
    finally:
        if tmp.exists():
            tmp.unlink()
    entry = record_export(project, report, path, actor=actor, page_size=page_size if fmt == "pdf" else None)
    return Exported(path, fmt, entry.details["sha256"], entry.details["size"], pages, report, entry.seq)


def export_report(project, uri: str | None, path, *, page_size: str = "A4", user: str | None = None,
                  progress: Callable[[float, str], None] | None = None) -> Exported:
    """Gather, draw and write a report on this thread; see the module docstring."""
    check_target(path, page_size)
    report = gather(project, uri, user=user, progress=progress)
    ensure_app()
    from .render import chart_images

    if progress is not None:
        progress(0.92, "Drawing the charts")
    charts = chart_images(report)
    if progress is not None:
        progress(0.96, "Writing the file")
    return write(project, report, charts, path, page_size=page_size, actor=user)

"""Regenerate the audit-report pictures of the user guide and the sample report (a developer tool, not a test).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/reports.py

Builds the demo project (``modeldesk demo PATH --no-ui``) unless ``--demo`` names one that exists,
writes the audit report of cancer-classifier v1 (production, served, labeled, rolled back to) to
docs/samples/demo-report.pdf, turns its first page and its Monitoring page into
docs/images/report-page1.png and docs/images/report-monitoring.png with ``pdftoppm``, then opens the
Models view as ``ana``, presses Report… (the save dialog answered) and saves the window with the
progress dialog over it: docs/images/report-progress.png. Offscreen (QT_QPA_PLATFORM=offscreen) works too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]   # tools/screenshots/reports.py -> the repository


def wait_until(app, condition, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what or condition}")
        app.processEvents()
        time.sleep(0.01)


def page_of(pdf: Path, heading: str) -> int:
    """The first page whose text has ``heading`` on a line of its own."""
    pages = int(next(line.split()[-1] for line in subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                text=True, check=True).stdout.splitlines() if line.startswith("Pages:")))
    for page in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        if heading in (line.strip() for line in text.splitlines()):
            return page
    raise SystemExit(f"no page of {pdf} has the heading {heading!r}")


def page_png(pdf: Path, page: int, target: Path, dpi: int = 80) -> None:
    stem = target.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(stem)], check=True)
    print(f"wrote {target} (page {page})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="/tmp/shots-reports/demo.mdesk", help="demo project (built if missing)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNGs")
    parser.add_argument("--sample", default=str(ROOT / "docs" / "samples" / "demo-report.pdf"))
    parser.add_argument("--model", default="cancer-classifier")
    parser.add_argument("--version", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        raise SystemExit("pdftoppm is missing: apt-get install poppler-utils")

    demo = Path(args.demo)
    if not demo.exists():
        demo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "modeldesk", "demo", str(demo), "--no-ui"], check=True)
    os.environ["MODELDESK_THEME"] = "light"
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="modeldesk-shots-")   # never the user's settings
    os.environ["XDG_DATA_HOME"] = os.environ["XDG_CONFIG_HOME"]   # nor the audit heads this machine saw
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")

    from PySide6.QtCore import QPoint, QSettings
    from PySide6.QtGui import QPainter

    from modeldesk.core.storage.project import open_project
    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import VIEWS, MainWindow
    from modeldesk.gui.reports.export import export_report

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, os.environ["XDG_CONFIG_HOME"])
    app = create_application()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    uri = f"models:/{args.model}/{args.version}"

    sample = Path(args.sample)
    sample.parent.mkdir(parents=True, exist_ok=True)
    project = open_project(demo, create=False, user="auditor")
    done = export_report(project, uri, sample, user="auditor")
    project.close()
    print(f"wrote {sample}: {done.pages} pages, {done.size:,} bytes, sha256 {done.sha256}")
    page_png(sample, 1, out / "report-page1.png")
    page_png(sample, page_of(sample, "Monitoring"), out / "report-monitoring.png")

    win = MainWindow(user="ana")
    win.resize(1280, 800)
    win.show()
    win.open(demo)
    wait_until(app, lambda: win.project is not None, what="the project to open")
    win.nav.setCurrentRow(VIEWS.index("Models"))
    models = win.models
    models.select(args.model, args.version)
    wait_until(app, lambda: models.current_version == args.version and models.details_data is not None
               and models.actions.report_action.isEnabled(), what="the version details")
    target = Path(tempfile.mkdtemp(prefix="modeldesk-report-")) / f"{args.model}-v{args.version}.pdf"
    exporter = models.actions.report_exporter()
    exporter.choose_path = lambda _uri: (str(target), "A4")      # the save dialog, answered
    models.actions.report_action.trigger()
    dialog = exporter.progress
    wait_until(app, lambda: dialog.isVisible() and dialog.value() > 0, what="the progress dialog")
    picture = win.grab()
    painter = QPainter(picture)
    at = dialog.mapToGlobal(QPoint(0, 0)) - win.mapToGlobal(QPoint(0, 0))
    if not picture.rect().contains(at):        # no window manager placed it: centre it over the window
        at = QPoint((picture.width() - dialog.width()) // 2, (picture.height() - dialog.height()) // 2)
    painter.drawPixmap(at, dialog.grab())
    painter.end()
    shot = out / "report-progress.png"
    picture.save(str(shot))
    print(f"wrote {shot}")
    wait_until(app, lambda: exporter.progress is None, what="the export to finish")
    app.processEvents()
    print(f"status: {models.status.text()}")
    win.close_project()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

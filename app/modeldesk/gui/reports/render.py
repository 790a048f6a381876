"""A :class:`~modeldesk.core.reports.content.Report` as one self-contained HTML file or a PDF.

Both come from the same Jinja2 template (``resources/templates/report.html.j2``, found with
importlib.resources): the HTML file as it is, the PDF by laying the template's HTML out with
``QTextDocument`` on a ``QPdfWriter`` page by page, with a running header (model and version)
and page numbers drawn around each page. Table header rows (``<thead>``) repeat on every page a
table crosses: Qt's layout does that for paginated documents.
"""

from __future__ import annotations

import base64
import functools
from importlib import resources

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen, QTextDocument

from ...core.reports.content import Report, when
from ...core.version import __version__

TEMPLATE = "report.html.j2"
CHART_WIDTH = 680           # CSS pixels: the text width of an A4 page with our margins
PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
MARGINS_MM = (16, 22, 16, 18)     # left, top, right, bottom: header and footer sit in the top and bottom margins
DPI = 300


@functools.lru_cache(maxsize=1)
def _template():
    import jinja2

    text = resources.files("modeldesk.resources").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    return env.from_string(text)


def _print_font() -> QFont:
    """The PDF's body font, without ligatures: "verified" stays v-e-r-i-f-i-e-d for search and pdftotext."""
    font = QFont("DejaVu Sans", 9)
    font.setStyleHint(QFont.StyleHint.SansSerif)
    for tag in ("liga", "clig"):
        font.setFeature(QFont.Tag(tag), 0)
    return font


def chart_images(report: Report) -> dict[str, str]:
    """Every chart of ``report`` as base64 PNG, by key (call on the GUI/main thread)."""
    from ..charts.report_charts import chart_png

    return {c.key: base64.b64encode(chart_png(c)).decode("ascii") for c in report.charts()}


def render_html(report: Report, charts: dict[str, str], *, pdf: bool = False) -> str:
    """The report as HTML text; ``pdf`` leaves out what only a browser needs (Qt draws its own header)."""
    return _template().render(report=report, charts=charts, pdf=pdf, chart_width=CHART_WIDTH,
                              generated_at=when(report.generated_at), version=__version__)


def write_html(report: Report, charts: dict[str, str], path) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(render_html(report, charts))


def write_pdf(report: Report, charts: dict[str, str], path, *, page_size: str = "A4") -> int:
    """Lay the report out on ``page_size`` pages (A4 or Letter) into a PDF at ``path``; returns the page count.

    Uses only QTextDocument, QPdfWriter and QPainter, which may run on a worker thread.
    """
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(PAGE_SIZES[page_size]))
    writer.setResolution(DPI)
    left, top, right, bottom = MARGINS_MM
    writer.setPageMargins(QMarginsF(left, top, right, bottom), QPageLayout.Unit.Millimeter)
    writer.setTitle(report.title)
    writer.setCreator(f"ModelDesk {__version__}")
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    doc.setDefaultFont(_print_font())
    doc.setHtml(render_html(report, charts, pdf=True))
    width, height = writer.width(), writer.height()      # the printable area, in device pixels
    doc.setPageSize(QSizeF(width, height))
    mm = DPI / 25.4
    status = report.chain.status if len(report.chain.status) <= 40 else report.chain.status.split(":")[0]
    small = _print_font()
    small.setPointSizeF(7)
    painter = QPainter(writer)
    try:
        pages = doc.pageCount()
        for i in range(pages):
            if i:
                writer.newPage()
            painter.save()
            painter.translate(0, -i * height)
            doc.drawContents(painter, QRectF(0, i * height, width, height))
            painter.restore()
            painter.setFont(small)
            painter.setPen(QPen(QColor("#4b5563")))
            head = QRectF(0, -14 * mm, width, 8 * mm)
            painter.drawText(head, Qt.AlignLeft | Qt.AlignBottom, f"ModelDesk audit report — {report.subject}")
            painter.drawText(head, Qt.AlignRight | Qt.AlignBottom, when(report.generated_at))
            painter.drawLine(0, int(-5 * mm), int(width), int(-5 * mm))
            foot = QRectF(0, height + 4 * mm, width, 8 * mm)
            painter.drawText(foot, Qt.AlignLeft | Qt.AlignTop, f"Audit {status}; head "
                             f"{report.chain.head[:28]}{'…' if len(report.chain.head) > 28 else ''}")
            painter.drawText(foot, Qt.AlignRight | Qt.AlignTop, f"Page {i + 1} of {pages}")
    finally:
        painter.end()
    return pages

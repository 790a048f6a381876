"""Report files: the PDF's text (pdftotext) and the HTML's self-containment, through the real renderers."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess

import pytest

from modeldesk.gui.reports.export import export_report
from support import governed

PDFTOTEXT = shutil.which("pdftotext")
needs_pdftotext = pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (Debian package poppler-utils) "
                                                                   "is not installed")


def pdf_text(path, *pages: str) -> str:
    return subprocess.run([PDFTOTEXT, "-layout", *pages, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def story(md, qapp):
    return governed.build(md)


@needs_pdftotext
def test_the_pdf_of_a_version_says_who_what_and_whether_the_chain_holds(md, story, tmp_path):
    project = md.get_project()
    done = export_report(project, story.uri, tmp_path / "cancer-v2.pdf")
    v1 = export_report(project, "models:/cancer/1", tmp_path / "cancer-v1.pdf")
    text = squash(pdf_text(done.path))
    sha = project.conn.execute("SELECT sha256 FROM model_versions WHERE version = 2").fetchone()[0]
    for needle in ("Audit report: cancer v2", "cancer v2", sha, "ben", governed.REVIEW_V2,
                   governed.ROLLBACK_REASON, "chain verified", done.report.chain.head_hash):
        assert needle in text, needle
    assert "ana" in squash(pdf_text(v1.path)) and governed.REVIEW_V1 in squash(pdf_text(v1.path))
    first = pdf_text(done.path, "-f", "1", "-l", "1")
    assert f"Page 1 of {done.pages}" in first and "ModelDesk audit report — cancer v2" in first
    assert done.pages >= 3


@needs_pdftotext
def test_a_long_table_repeats_its_header_on_every_page_it_crosses(md, story, tmp_path):
    from dataclasses import replace

    from modeldesk.core.reports.content import Section, Table
    from modeldesk.core.reports.version import version_report
    from modeldesk.gui.reports.render import write_pdf

    report = version_report(md.get_project(), story.uri)
    long = Section("long", "A long table", (Table(("entry", "what happened"),
                                                  tuple((f"row-{i:03d}", f"event {i}") for i in range(300))),))
    pages = write_pdf(replace(report, sections=(long,)), {}, tmp_path / "long.pdf")
    texts = [pdf_text(tmp_path / "long.pdf", "-f", str(i), "-l", str(i)) for i in range(1, pages + 1)]
    crossed = [t for t in texts if "row-" in t]
    assert len(crossed) >= 3
    for t in crossed:
        assert re.search(r"^\s*entry\s+what happened\s*$", t, re.M), t[:300]
    assert all(f"row-{i:03d}" in "".join(crossed) for i in range(300))


@needs_pdftotext
def test_a4_by_default_and_letter_on_request(md, story, tmp_path):
    def size(path):
        return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout

    letter = export_report(md.get_project(), story.uri, tmp_path / "letter.pdf", page_size="Letter")
    a4 = export_report(md.get_project(), story.uri, tmp_path / "a4.pdf")
    assert "612 x 792" in size(letter.path)               # US Letter, in points
    assert "595.276 x 841.89" in size(a4.path) or "595 x 842" in size(a4.path)   # A4, the default


@needs_pdftotext
def test_a_tampered_log_shows_the_broken_entry_in_the_pdf(md, story, project_path, tmp_path):
    project = md.get_project()
    seq = project.conn.execute("SELECT MIN(seq) FROM audit_log WHERE action = 'alias.rollback'").fetchone()[0]
    with sqlite3.connect(project_path) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET details = json_set(details, '$.reason', 'nothing happened')"
                     " WHERE seq = ?", (seq,))
    done = export_report(project, story.uri, tmp_path / "r.pdf")
    assert f"chain broken at entry {seq}" in squash(pdf_text(done.path))


def test_the_html_is_one_self_contained_file(md, story, tmp_path):
    done = export_report(md.get_project(), story.uri, tmp_path / "r.html")
    html = done.path.read_text(encoding="utf-8")
    assert "cancer v2" in html and governed.REVIEW_V2 in html and "chain verified" in html
    outside_data = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert "http:" not in outside_data and "https:" not in outside_data and "//" not in outside_data
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, re.I)
    assert refs and all(r.startswith("data:image/png;base64,") for r in refs), refs
    assert "@import" not in html and "url(" not in html and "<script" not in html and "<link" not in html
    assert len(refs) == 3       # alias timeline, drift share, performance


def test_an_export_records_the_files_sha256(md, story, tmp_path):
    project = md.get_project()
    done = export_report(project, None, tmp_path / "project.html", user="auditor")
    entry = project.conn.execute("SELECT actor, action, details FROM audit_log WHERE seq = ?",
                                 (done.entry_seq,)).fetchone()
    assert entry[0:2] == ("auditor", "report.export")
    assert done.sha256 == hashlib.sha256(done.path.read_bytes()).hexdigest()
    assert f'"sha256":"{done.sha256}"' in entry[2]
    text = done.path.read_text(encoding="utf-8")
    assert "Model cancer" in text and "chain verified" in text


def test_md_report_writes_the_file_and_returns_its_path(md, story, tmp_path):
    path = md.report(story.uri, tmp_path / "v2.html")
    assert path == tmp_path / "v2.html" and "cancer v2" in path.read_text(encoding="utf-8")
    assert md.report(None, tmp_path / "all.pdf", letter=True).stat().st_size > 0

"""The audit entry every exported report leaves: ``report.export`` with the file's sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .. import audit
from ..errors import UsageError
from ..storage.project import Project
from .content import Report

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html"}


def report_format(path) -> str:
    """``pdf`` or ``html`` from the file name; anything else is a ``UsageError`` that says what to use."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"Cannot tell the report format from {str(path)!r}: name the file .pdf or .html.")
    return FORMATS[suffix]


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def record_export(project: Project, report: Report, path, *, actor: str | None = None,
                  page_size: str | None = None):
    """Append ``report.export`` for the file just written at ``path``: its sha256, size and format,
    what the report covers, and the chain head it printed. Returns the AuditEntry."""
    path = Path(path)
    details = {"path": str(path.resolve()), "format": report_format(path), "sha256": file_sha256(path),
               "size": path.stat().st_size, "kind": report.kind, "subject": report.subject,
               "chain": report.chain.status, "head": report.chain.head}
    if page_size:
        details["page_size"] = page_size
    if report.kind == "version" and report.meta.get("uri"):
        details["uri"] = report.meta["uri"]
    return audit.record(project, action="report.export", actor=actor or report.generated_by,
                        model=report.meta.get("model"), version=report.meta.get("version"), details=details)

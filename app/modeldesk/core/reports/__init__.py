"""Audit reports: what a model version is, where it came from, who approved it and how it behaves now.

Content is gathered here, Qt-free, into plain objects (``content``): ``version_report`` for one
version (or a run's unregistered model), ``project_report`` for every model. Renderers in
gui/reports turn a :class:`~modeldesk.core.reports.content.Report` into HTML or PDF, and
``export.record_export`` writes the ``report.export`` audit entry with the file's sha256.
"""

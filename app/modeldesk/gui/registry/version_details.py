"""One registered version in detail: its review trail and its lineage.

"Review" shows each promotion request, newest first: the gate results
(pass/fail, message, details, overrides) and the approval timeline with the
reviewers' comments. "Lineage" shows where the version came from: the run
(a link that opens run details), sha256, metrics, params, datasets with
fingerprints, environment and signature. The pane is handed a
:class:`~modeldesk.core.registry.summaries.VersionDetails`; it reads nothing itself.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from ...core.registry.entities import ApprovalRequest
from ...core.registry.gates import GATE_TITLES
from ...core.registry.summaries import VersionDetails
from ...core.text import fmt_number, fmt_size, fmt_time
from ..kit.theme import status_role, theme

KEY_PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "joblib", "xgboost", "lightgbm", "modeldesk")


def esc(value: Any) -> str:
    return html.escape(str(value))


def _detail_value(key: str, value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and key.endswith("sha256"):
        return f"{str(value)[:12]}…"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:8]) + (" …" if len(value) > 8 else "")
    return str(value)


def gate_details(details: dict) -> str:
    """A gate's details on one line, empty values left out."""
    parts = [f"{k} {_detail_value(k, v)}" for k, v in details.items() if v not in (None, "", [], {})]
    return " · ".join(parts)


class VersionDetailsPane(QWidget):
    """Tabs "Review" and "Lineage" of one version; ``runLinkClicked(run_id)`` from the run link."""

    runLinkClicked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.details: VersionDetails | None = None
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.review = self._browser("reviewBrowser")
        self.lineage = self._browser("lineageBrowser")
        self.tabs.addTab(self.review, "Review")
        self.tabs.addTab(self.lineage, "Lineage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.show_message("Select a version to see its review trail and lineage.")

    def _browser(self, name: str) -> QTextBrowser:
        browser = QTextBrowser()
        browser.setObjectName(name)
        browser.setOpenLinks(False)
        browser.anchorClicked.connect(self._on_link)
        browser.document().setDocumentMargin(8)
        return browser

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == "run":
            self.runLinkClicked.emit(url.path())

    def show_message(self, text: str) -> None:
        self.details = None
        muted = theme()["muted"]
        for browser in (self.review, self.lineage):
            browser.setHtml(f"<p style='color:{muted}'>{esc(text)}</p>")

    def set_details(self, details: VersionDetails) -> None:
        scroll = (self.review.verticalScrollBar().value(), self.lineage.verticalScrollBar().value())
        same = self.details is not None and (self.details.version.name, self.details.version.version) == (
            details.version.name, details.version.version)
        self.details = details
        self.review.setHtml(self.review_html(details))
        self.lineage.setHtml(self.lineage_html(details))
        if same:   # a live refresh keeps the reader's place
            self.review.verticalScrollBar().setValue(scroll[0])
            self.lineage.verticalScrollBar().setValue(scroll[1])

    # -- review -------------------------------------------------------------------------------
    def review_html(self, d: VersionDetails) -> str:
        c = theme()
        v = d.version
        status = f"<span style='color:{c[status_role(v.status)]}'><b>{esc(v.status)}</b></span>"
        aliases = f" · aliases <b>{esc(', '.join(v.aliases))}</b>" if v.aliases else ""
        parts = [f"<p style='margin:0 0 6px 0'><span style='font-size:large'><b>{esc(v.name)} v{v.version}</b></span>"
                 f" &nbsp;{status}{aliases}<br><span style='color:{c['muted']}'>registered by {esc(v.created_by)} "
                 f"at {fmt_time(v.created_at)}</span></p>"]
        if not d.requests:
            parts.append(f"<p style='color:{c['muted']}'>No promotion request yet. <b>Request Promotion…</b> runs "
                         f"the gates and asks a teammate to review.</p>")
        for req in d.requests:
            parts.append(self._request_html(req, d))
        return "".join(parts)

    def _request_html(self, req: ApprovalRequest, d: VersionDetails) -> str:
        c = theme()
        colour = c[status_role(req.status)]
        base = f"v{req.baseline_version}" if req.baseline_version is not None else "none"
        out = [f"<h4 style='margin:10px 0 2px 0'>Request #{req.id} → {esc(req.target_alias)} &nbsp;"
               f"<span style='color:{colour}'>{esc(req.status)}</span></h4>"
               f"<p style='margin:0; color:{c['muted']}'>by {esc(req.requested_by)} at {fmt_time(req.requested_at)}"
               f" · production was {base} when the gates ran</p>"]
        if req.is_open:
            need = d.settings.required_approvals
            blocked = (f" · <span style='color:{c['error']}'>blocked by gate "
                       f"{esc(', '.join(g.gate for g in req.blocking_gates))}</span>") if req.blocking_gates else ""
            out.append(f"<p style='margin:2px 0'><b>{len(req.approvals)} of {need} approval(s)</b>{blocked}</p>")
        out.append("<table cellspacing='0' cellpadding='3' style='margin-top:4px'>")
        for g in req.gates:
            if g.passed:
                mark = f"<span style='color:{c['ok']}'><b>✓ pass</b></span>"
            elif g.override is not None:
                mark = f"<span style='color:{c['warn']}'><b>⚠ overridden</b></span>"
            else:
                mark = f"<span style='color:{c['error']}'><b>✗ FAIL</b></span>"
            extra = gate_details(g.details)
            extra = f"<br><span style='color:{c['muted']}; font-size:small'>{esc(extra)}</span>" if extra else ""
            if g.override is not None:
                extra += (f"<br><span style='color:{c['warn']}'>overridden by {esc(g.override.approver)} at "
                          f"{fmt_time(g.override.at)}: “{esc(g.override.reason)}”</span>")
            out.append(f"<tr><td valign='top' style='white-space:nowrap'>{mark}</td>"
                       f"<td valign='top'><b>{esc(GATE_TITLES.get(g.gate, g.gate))}</b> — {esc(g.message)}{extra}"
                       f"</td></tr>")
        out.append("</table>")
        out.append(f"<p style='margin:6px 0 2px 0'><b>Approval timeline</b></p>{self._timeline_html(req)}")
        return "".join(out)

    @staticmethod
    def _timeline_html(req: ApprovalRequest) -> str:
        c = theme()
        events: list[tuple[float, str, str]] = []   # (time, colour, html)

        def said(text: str) -> str:
            return f": “{esc(text)}”" if text else ""

        events.append((req.requested_at, c["text"], f"requested by <b>{esc(req.requested_by)}</b>{said(req.comment)}"))
        failed = [g.gate for g in req.gates if not g.passed]
        if req.gates:
            ran = req.requested_at   # the gates run just before the request is stored
            text = (f"gates ran: {len(req.gates) - len(failed)} passed, failed: {esc(', '.join(failed))}" if failed
                    else f"gates ran: all {len(req.gates)} passed")
            events.append((ran + 1e-6, c["error"] if failed else c["ok"], text))
        for g in req.gates:
            if g.override is not None:
                events.append((g.override.at, c["warn"], f"gate {esc(g.gate)} overridden by "
                               f"<b>{esc(g.override.approver)}</b>{said(g.override.reason)}"))
        for r in req.reviews:
            if r.decision == "approve":
                events.append((r.at, c["ok"], f"✓ approved by <b>{esc(r.reviewer)}</b>{said(r.comment)}"))
            else:
                events.append((r.at, c["error"], f"✗ rejected by <b>{esc(r.reviewer)}</b>{said(r.comment)}"))
        if req.closed_at is not None and req.status != "rejected":
            closing = {"completed": f"completed: {esc(req.target_alias)} → v{req.version}",
                       "withdrawn": "withdrawn", "superseded": f"superseded by request #{req.superseded_by}"}
            who = f" by <b>{esc(req.closed_by)}</b>" if req.closed_by and req.status != "completed" else ""
            events.append((req.closed_at + 1e-6, c["ok"] if req.status == "completed" else c["muted"],
                           closing.get(req.status, esc(req.status)) + who))
        elif req.is_open:
            events.append((float("inf"), c["muted"], "<i>waiting for review</i>"))
        rows = "".join(
            f"<tr><td valign='top' style='color:{c['muted']}; white-space:nowrap'>"
            f"{'' if at == float('inf') else fmt_time(at)}</td>"
            f"<td valign='top' style='color:{colour}'>●</td><td valign='top'>{text}</td></tr>"
            for at, colour, text in sorted(events, key=lambda e: e[0]))
        return f"<table cellspacing='0' cellpadding='2'>{rows}</table>"

    # -- lineage -------------------------------------------------------------------------------
    def lineage_html(self, d: VersionDetails) -> str:
        c = theme()
        v, run, lineage = d.version, d.lineage.run, d.lineage
        mono = "font-family:monospace"
        out = ["<table cellspacing='0' cellpadding='2'>"]

        def row(label: str, value: str) -> None:
            out.append(f"<tr><td valign='top' style='color:{c['muted']}; white-space:nowrap'>{label}</td>"
                       f"<td valign='top'>{value}</td></tr>")

        row("Run", f"<a href='run:{esc(run.id)}'>{esc(run.name)}</a> <span style='{mono}'>{esc(run.id[:8])}</span>"
                   f" · experiment {esc(run.experiment)} · {esc(run.status)} · by {esc(run.user)} at "
                   f"{fmt_time(run.start_time)}")
        row("Source", f"<span style='{mono}'>{esc(v.source)}</span> → <span style='{mono}'>{esc(v.uri)}</span>")
        row("sha256", f"<span style='{mono}'>{esc(v.sha256)}</span>")
        row("Artifact", f"{esc(v.flavor)} · {fmt_size(v.size)} · registered by {esc(v.created_by)} at "
                        f"{fmt_time(v.created_at)}")
        out.append("</table>")
        out.append(self._pairs("Metrics", {k: fmt_number(val) for k, val in sorted(run.metrics.items())}))
        out.append(self._pairs("Params", dict(sorted(run.params.items()))))
        out.append("<h4 style='margin:10px 0 2px 0'>Datasets</h4>")
        if lineage.datasets:
            heads = ("Name", "Role", "Rows × cols", "Target", "Fingerprint")
            out.append("<table cellspacing='0' cellpadding='2'><tr>"
                       + "".join(f"<th align='left'>{h}</th>" for h in heads) + "</tr>")
            for ds in lineage.datasets:
                out.append(f"<tr><td>{esc(ds.name)}</td><td>{esc(ds.role)}</td><td>{ds.rows:,} × {ds.columns}</td>"
                           f"<td>{esc(ds.target or '—')}</td><td style='{mono}'>{esc(ds.fingerprint)}</td></tr>")
            out.append("</table>")
        else:
            out.append(f"<p style='color:{c['muted']}'>No dataset was logged with the run.</p>")
        out.append(self._environment_html(lineage.environment))
        out.append(self._signature_html(v.signature))
        return "".join(out)

    @staticmethod
    def _pairs(title: str, pairs: dict) -> str:
        c = theme()
        if not pairs:
            return f"<h4 style='margin:10px 0 2px 0'>{title}</h4><p style='color:{c['muted']}'>None.</p>"
        cells = "".join(f"<tr><td style='color:{c['muted']}'>{esc(k)}</td><td>{esc(val)}</td></tr>"
                        for k, val in pairs.items())
        return f"<h4 style='margin:10px 0 2px 0'>{title}</h4><table cellspacing='0' cellpadding='1'>{cells}</table>"

    @staticmethod
    def _environment_html(env: dict | None) -> str:
        c = theme()
        if not env:
            return (f"<h4 style='margin:10px 0 2px 0'>Environment</h4><p style='color:{c['muted']}'>"
                    "No environment was captured.</p>")
        git = env.get("git") or {}
        packages = env.get("packages") or {}
        key = [f"{p} {packages[p]}" for p in KEY_PACKAGES if p in packages]
        code = "not in a git repository"
        if git:
            code = (f"git {git.get('commit', '')[:12]} on {git.get('branch', '?')}"
                    + (" (uncommitted changes)" if git.get("dirty") else ""))
        lines = {"Python": f"{env.get('implementation', '')} {env.get('python', '')}",
                 "Platform": env.get("platform", ""),
                 "Code": code,
                 "Packages": (", ".join(key) + f" · {len(packages)} installed") if packages else "—"}
        return VersionDetailsPane._pairs("Environment", lines)

    @staticmethod
    def _signature_html(signature: dict) -> str:
        c = theme()
        inputs = signature.get("inputs") or []
        outputs = signature.get("outputs")
        head = f"<h4 style='margin:10px 0 2px 0'>Signature: {len(inputs)} input column(s)</h4>"
        if not inputs:
            return head + f"<p style='color:{c['muted']}'>No input signature was recorded.</p>"
        cells = "".join(f"<tr><td>{esc(f.get('name'))}</td><td style='color:{c['muted']}'>{esc(f.get('type'))}"
                        f"{'' if not f.get('nullable') else ', nullable'}</td></tr>" for f in inputs)
        facts = []
        if isinstance(outputs, dict) and outputs.get("type"):
            shape = outputs.get("shape")
            facts.append(f"outputs {outputs['type']}" + (f" {tuple(shape)}" if shape else ""))
        if signature.get("classes") is not None:
            facts.append("classes " + ", ".join(str(k) for k in signature["classes"]))
        if signature.get("has_proba"):
            facts.append("predict_proba")
        if signature.get("model_class"):
            facts.append(str(signature["model_class"]))
        outs = f"<p style='margin:4px 0; color:{c['muted']}'>{esc(' · '.join(facts))}</p>" if facts else ""
        return head + f"<table cellspacing='0' cellpadding='1'>{cells}</table>{outs}"

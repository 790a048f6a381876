"""The plain objects a report is made of, Qt-free: sections of facts, tables, chart data and
"not available" lines. Renderers (gui/reports) turn them into HTML and PDF; tests read them directly.

Values are already words here (times in UTC, numbers formatted), so every face and format says the
same thing; chart data keeps numbers (a renderer draws it).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any, Union

from ..text import fmt_number


@dataclass(frozen=True)
class NotAvailable:
    """A section or sub-section with nothing to show: why, and what would fill it."""

    reason: str
    fill: str = ""

    @property
    def line(self) -> str:
        return f"Not available: {self.reason.rstrip('.')}." + (f" {self.fill}" if self.fill else "")


@dataclass(frozen=True)
class Facts:
    """Label/value pairs (identity, lineage...)."""

    pairs: tuple[tuple[str, str], ...]
    title: str = ""


@dataclass(frozen=True)
class Table:
    """A table of text; ``header`` is repeated on every page it crosses in the PDF."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    title: str = ""
    note: str = ""       # a line under the table (e.g. "12 more entries not shown")


@dataclass(frozen=True)
class Text:
    text: str
    kind: str = "plain"   # plain | ok | warn | bad


@dataclass(frozen=True)
class Band:
    """One stretch of the alias timeline: ``lane`` (an alias) showed ``label`` from start to end."""

    lane: str
    label: str
    start: float
    end: float
    rollback: bool = False


@dataclass(frozen=True)
class Line:
    name: str
    x: tuple[float, ...]      # Unix seconds
    y: tuple[float, ...]      # NaN: a gap


@dataclass(frozen=True)
class Chart:
    """Data for one chart: ``kind`` ``timeline`` (bands) or ``lines`` (time series)."""

    key: str
    title: str
    kind: str
    y_label: str = ""
    lines: tuple[Line, ...] = ()
    bands: tuple[Band, ...] = ()
    threshold: float | None = None
    y_range: tuple[float, float] | None = None


Block = Union[NotAvailable, Facts, Table, Text, Chart]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    blocks: tuple[Block, ...]
    subsections: tuple["Section", ...] = ()

    def text(self) -> str:
        """Every word of the section (tests and search)."""
        out = [self.title]
        for b in self.blocks:
            if isinstance(b, NotAvailable):
                out.append(b.line)
            elif isinstance(b, Facts):
                out += [f"{k}: {v}" for k, v in b.pairs]
            elif isinstance(b, Table):
                out += [b.title, " | ".join(b.header)] + [" | ".join(r) for r in b.rows] + [b.note]
            elif isinstance(b, Text):
                out.append(b.text)
            elif isinstance(b, Chart):
                out.append(b.title)
        out += [s.text() for s in self.subsections]
        return "\n".join(x for x in out if x)


@dataclass(frozen=True)
class ChainStatus:
    """Whether the audit chain verifies, in the words a report prints."""

    ok: bool
    status: str                  # "chain verified" | "chain broken at entry N" | "chain not verified: ..."
    message: str                 # the verifier's sentence
    entries: int
    head_seq: int | None
    head_hash: str | None
    registry: str = ""           # the registry checked against the log ("" when not checked)
    warnings: tuple[str, ...] = ()

    @property
    def head(self) -> str:
        """``SEQ:HASH`` as ``audit verify --expect-head`` takes it ("none" for an empty log)."""
        return f"{self.head_seq}:{self.head_hash}" if self.head_hash else "none (the log is empty)"


@dataclass(frozen=True)
class Report:
    """One report: a model version's (``kind`` version) or the whole project's (``kind`` project)."""

    kind: str
    title: str
    subject: str                 # the running header: "churn v3" or "Project team.mdesk"
    generated_by: str
    generated_at: float
    project: str                 # the project file's path
    chain: ChainStatus
    sections: tuple[Section, ...]
    meta: dict[str, Any] = field(default_factory=dict)   # model, version, uri, sha256 (for names and tests)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
            for sub in s.subsections:
                if sub.key == key:
                    return sub
        raise KeyError(key)

    def text(self) -> str:
        return "\n".join([self.title, self.subject, self.chain.status, self.chain.head]
                         + [s.text() for s in self.sections])

    def charts(self) -> list[Chart]:
        """Every chart, in reading order (renderers draw them before laying the report out)."""
        out = []

        def walk(section: Section) -> None:
            out.extend(b for b in section.blocks if isinstance(b, Chart))
            for sub in section.subsections:
                walk(sub)

        for s in self.sections:
            walk(s)
        return out


# -- words -------------------------------------------------------------------------------------------
def when(ts: float | None) -> str:
    """A report's time: UTC, to the second ("2026-11-27 14:03:09 UTC"); missing as an em dash.

    Reports travel to people in other time zones, so they never print local time.
    """
    if ts is None or (isinstance(ts, float) and not math.isfinite(ts)):
        return "—"
    return _dt.datetime.fromtimestamp(float(ts), _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def num(value: Any) -> str:
    """A number as a report prints it ("—" for missing)."""
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "—"
    return fmt_number(value) if isinstance(value, (int, float)) else str(value)


def signed(delta: float | None) -> str:
    if delta is None or (isinstance(delta, float) and math.isnan(delta)):
        return "—"
    return ("+" if delta > 0 else "") + fmt_number(delta)


def version_label(version: int | None) -> str:
    return "unset" if version is None else f"v{version}"

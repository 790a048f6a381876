"""Browsing runs page by page: what the desktop app's runs table asks of core.

Qt-free. A search is resolved once into the ordered list of matching run row
ids (the sort happens in SQL, once); pages are then plain look-ups by id, so
scrolling to row 99,800 costs the same as row 0. Columns, value formatting and
the TSV export live here too, so the GUI, tests and scripts format a run the
same way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..storage.project import Project
from ..storage.rows import named
from ..text import fmt_duration, fmt_number_short, fmt_time, iso_time
from .run_entities import Run
from .runs import RunQuery, experiment_ids, run_rids, runs_by_rid

KINDS = ("attributes", "metrics", "params", "tags")
_ATTR_TITLES = {"run_name": "Name", "run_id": "Run ID", "status": "Status", "user": "User",
                "start_time": "Start", "duration": "Duration", "end_time": "End"}
_PLAIN_KEY = re.compile(r"[\w./:\-]+")


@dataclass(frozen=True)
class Column:
    """One column of the runs table: an attribute, or a param/metric/tag key."""

    kind: str
    key: str

    @classmethod
    def parse(cls, spec: str) -> "Column":
        """``"metrics.val_auc"`` -> Column("metrics", "val_auc")."""
        kind, dot, key = spec.partition(".")
        if not dot or kind not in KINDS or not key:
            raise ValueError(f"not a column: {spec!r}")
        return cls(kind, key)

    @property
    def spec(self) -> str:
        return f"{self.kind}.{self.key}"

    @property
    def title(self) -> str:
        return _ATTR_TITLES.get(self.key, self.key) if self.kind == "attributes" else self.key

    @property
    def numeric(self) -> bool:
        """Numbers are right-aligned (times read better left-aligned)."""
        return self.kind == "metrics" or (self.kind == "attributes" and self.key == "duration")

    def order_by(self, descending: bool = False) -> str:
        """The ``order_by`` term that sorts by this column (keys quoted as needed)."""
        key = self.key if _PLAIN_KEY.fullmatch(self.key) else "`" + self.key.replace("`", "``") + "`"
        return f"{self.kind}.{key} {'DESC' if descending else 'ASC'}"

    def value(self, run: Run):
        """The raw value (str, float or None when the run lacks it)."""
        if self.kind == "attributes":
            if self.key == "duration":
                return run.duration
            return {"run_name": run.name, "run_id": run.id, "status": run.status, "user": run.user,
                    "start_time": run.start_time, "end_time": run.end_time}.get(self.key)
        return getattr(run, self.kind).get(self.key)

    def text(self, run: Run) -> str:
        """The value as the table shows it."""
        value = self.value(run)
        if value is None:
            return "—" if self.key != "duration" or run.status != "RUNNING" else "running"
        if self.kind == "metrics":
            return fmt_number_short(value)
        if self.key in ("start_time", "end_time"):
            return fmt_time(value, "min")
        if self.key == "duration":
            return fmt_duration(value)
        if self.key == "run_id":
            return value[:8]
        if self.key == "status" and run.deleted_at is not None:
            return "deleted"   # the run's own status is in the tooltip
        return str(value)


BASE_COLUMNS = tuple(Column("attributes", k) for k in
                     ("run_name", "run_id", "status", "user", "start_time", "duration"))


def looks_numeric(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class KeyStat:
    """How many runs have a key, and how many different values it takes."""

    key: str
    runs: int
    distinct: int


def key_stats(project: Project, experiments=None) -> dict[str, list[KeyStat]]:
    """Param, metric and tag keys of the given experiments (None: all), by name,
    with how many runs carry each and its number of distinct values: what the
    filter bar completes and what default columns are chosen from."""
    ids = experiment_ids(project, experiments)
    where = "1" if ids is None else f"r.experiment_id IN ({','.join('?' * len(ids))})"
    out = {}
    for kind, table in (("params", "params"), ("metrics", "latest_metrics"), ("tags", "tags")):
        rows = named(project.conn, f"SELECT x.key AS key, COUNT(*) AS runs, COUNT(DISTINCT x.value) AS distinct_values"
                                   f" FROM {table} x JOIN runs r ON r.rid = x.run_rid WHERE {where}"
                                   " GROUP BY x.key ORDER BY x.key", ids or [])
        out[kind] = [KeyStat(key=r["key"], runs=r["runs"], distinct=r["distinct_values"]) for r in rows]
    return out


def key_names(stats: dict[str, list[KeyStat]]) -> dict[str, list[str]]:
    return {kind: [s.key for s in items] for kind, items in stats.items()}


def default_columns(stats: dict[str, list], limit: int = 4) -> list[Column]:
    """Columns for an experiment nobody has chosen columns for yet: the metrics
    most runs have (evaluation before ``train_`` ones), then the params that
    most runs have and that actually vary. Plain key lists work too (by name)."""
    def stat(item) -> KeyStat:
        return item if isinstance(item, KeyStat) else KeyStat(item, 1, 2)

    def common(items: list[KeyStat]) -> list[KeyStat]:  # on at least a quarter of the runs
        most = max((s.runs for s in items), default=0)
        return [s for s in items if 4 * s.runs >= most]

    metrics = sorted(common([stat(m) for m in stats.get("metrics", [])]),
                     key=lambda s: (s.key.startswith("train"), -s.runs, s.key))
    params = sorted(common([stat(p) for p in stats.get("params", [])]),
                    key=lambda s: (s.distinct < 2, -s.runs, s.key))
    return ([Column("metrics", s.key) for s in metrics[:limit]]
            + [Column("params", s.key) for s in params[:limit]])


@dataclass(frozen=True)
class Resolved:
    """A search resolved: every matching rid in order, and the first page's runs."""

    query: RunQuery
    rids: list[int]
    first: list[Run]

    @property
    def count(self) -> int:
        return len(self.rids)


def resolve(project: Project, query: RunQuery, first_page: int = 200) -> Resolved:
    """Run the search once (filter and sort in SQL) and load its first page."""
    rids = run_rids(project, query)
    return Resolved(query, rids, runs_by_rid(project, rids[:first_page]))


def load_pages(project: Project, rids: list[int], pages: list[int], page_size: int) -> dict[int, list[Run]]:
    """Runs for several pages of an already resolved search."""
    out = {}
    for page in pages:
        out[page] = runs_by_rid(project, rids[page * page_size:(page + 1) * page_size])
    return out


def data_version(project: Project) -> int:
    """A number that changes when another connection commits to the file.

    Cheap (no table is read): the GUI polls it to notice runs being logged by
    a training script. Only meaningful compared with earlier values from the
    same thread.
    """
    return project.conn.execute("PRAGMA data_version").fetchone()[0]


def _tsv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else repr(value)
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def runs_tsv(runs: list[Run], columns: list[Column]) -> str:
    """Tab-separated rows with a header (MLflow-style names), for the clipboard.

    Values are full precision; times are ISO 8601 with the local offset (text.iso_time); the run id is whole.
    """
    cols = [c for c in columns if c.spec != "attributes.run_id"]
    header = ["run_id"] + [c.key if c.kind == "attributes" else c.spec for c in cols]
    lines = ["\t".join(header)]
    for run in runs:
        cells = [run.id]
        for col in cols:
            value = col.value(run)
            if col.key in ("start_time", "end_time") and value is not None:
                value = iso_time(value)
            cells.append(_tsv_cell(value))
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"

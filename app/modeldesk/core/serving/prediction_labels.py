"""True labels joined onto the prediction log, by request id and row (``prediction_labels``)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field

from .. import clock
from ..errors import UsageError
from ..storage.project import Project
from .log_codec import _dumps


def set_labels(project: Project, labels, *, chunk: int = 5_000) -> int:
    """Set true labels from ``(request_id, row, value)`` triples; returns rows labeled."""
    now = clock.now()
    batch: list[tuple] = []
    done = 0

    def flush() -> int:
        with project.write() as w:
            return sum(_set_label(w, *args) for args in batch)

    for request_id, row, value in labels:
        batch.append((request_id, int(row), _dumps(value), now))
        if len(batch) >= chunk:
            done += flush()
            batch = []
    if batch:
        done += flush()
    return done


def _set_label(w, request_id: str, row: int, label: str, now: float) -> int:
    """Label row ``row`` of every logged request with this id (ids come from clients: may repeat)."""
    return w.execute("INSERT INTO prediction_labels (request, row, label, time) SELECT id, ?, ?, ? FROM"
                     " prediction_requests WHERE request_id = ? AND rows > ? AND ? >= 0 ON CONFLICT (request, row)"
                     " DO UPDATE SET label = excluded.label, time = excluded.time",
                     (row, label, now, request_id, row, row)).rowcount


@dataclass(frozen=True)
class LabelImport:
    """What :func:`import_labels` did."""

    lines: int
    labeled_rows: int
    unknown: int
    ambiguous: int
    invalid: int
    examples: list[str] = field(default_factory=list)   # a few problems, for the user

    def summary(self) -> str:
        text = f"{self.labeled_rows:,} prediction(s) labeled from {self.lines:,} line(s)"
        extra = [f"{n:,} {what}" for n, what in ((self.unknown, "with an unknown request id"),
                                                  (self.ambiguous, "ambiguous (multi-row request, no row column)"),
                                                  (self.invalid, "invalid")) if n]
        return text + (("; skipped " + ", ".join(extra)) if extra else "") + "."


def _label_json(text: str) -> str:
    try:
        value = json.loads(text)
        if isinstance(value, (int, float, bool)) and not (isinstance(value, float) and not math.isfinite(value)):
            return json.dumps(value)
    except ValueError:
        pass
    return json.dumps(text)


def import_labels(project: Project, csv_path, *, chunk: int = 5_000) -> LabelImport:
    """Join true labels onto logged predictions from a CSV with ``request_id,label[,row]``.

    Without a ``row`` column a label applies to a single-row request (the
    usual online case); a line naming a multi-row request then needs ``row``
    (0-based) and is otherwise skipped as ambiguous. Numbers stay numbers
    (``1`` matches a prediction of ``1``). Re-importing overwrites labels.
    """
    try:
        fh = open(csv_path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise UsageError(f"Cannot read labels from {csv_path}: {exc.strerror}.") from None
    lines = labeled = unknown = ambiguous = invalid = 0
    examples: list[str] = []
    now = clock.now()
    with fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        cols = [h.strip().lower() for h in header or []]
        if "request_id" not in cols or "label" not in cols:
            raise UsageError(f"{csv_path} needs a header with request_id and label (and optionally row); "
                             f"it has {', '.join(header or []) or 'no header'}.")
        i_req, i_lab = cols.index("request_id"), cols.index("label")
        i_row = cols.index("row") if "row" in cols else None
        pending: list[tuple] = []

        def apply(batch: list[tuple]) -> None:
            nonlocal labeled, unknown, ambiguous
            with project.write() as w:
                for line_no, req, row, label in batch:
                    if row is None:
                        n = w.execute("SELECT COALESCE(SUM(rows), 0) FROM prediction_requests WHERE request_id = ?",
                                      (req,)).fetchone()[0]
                        if n > 1:
                            ambiguous += 1
                            _note(examples, f"line {line_no}: request {req} has {n} rows; add a row column")
                            continue
                        row = 0
                    count = _set_label(w, req, row, label, now)
                    if count:
                        labeled += count
                    else:
                        unknown += 1
                        _note(examples, f"line {line_no}: no logged prediction {req}" + (f" row {row}" if row else ""))

        for line_no, rec in enumerate(reader, start=2):
            if not rec or not any(c.strip() for c in rec):
                continue
            lines += 1
            try:
                req, label = rec[i_req].strip(), rec[i_lab].strip()
                row = int(rec[i_row]) if i_row is not None and rec[i_row].strip() != "" else None
            except (IndexError, ValueError):
                req = label = ""
            if not req or label == "":
                invalid += 1
                _note(examples, f"line {line_no}: needs a request_id, a label" + (" and a whole-number row"
                                                                               if i_row is not None else ""))
                continue
            pending.append((line_no, req, row, _label_json(label)))
            if len(pending) >= chunk:
                apply(pending)
                pending = []
        if pending:
            apply(pending)
    return LabelImport(lines, labeled, unknown, ambiguous, invalid, examples)


def _note(examples: list[str], text: str) -> None:
    if len(examples) < 5:
        examples.append(text)

"""Batch scoring: a CSV file in, predictions out, streamed in chunks.

The input is read ``chunk_rows`` rows at a time (pandas ``read_csv`` with
``chunksize``), so a file larger than memory works. Each row is checked
exactly as the server checks a request (core.validation); a bad row is
left out of the output and reported with its reason, never fatal. Output:
the input's columns, ``prediction`` and, with ``proba``, one
``proba_<class>`` column per class. It is written to ``OUT.part`` and
renamed when complete, so a cancelled or failed run leaves no half file.
"""

from __future__ import annotations

import collections
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from ..storage.project import Project

DEFAULT_CHUNK_ROWS = 50_000
_BAD_LINE = re.compile(r"Skipping line (\d+): (.*)")


@dataclass(frozen=True)
class ScoreSummary:
    """What a scoring run did. ``examples`` holds a few rejected rows with reasons."""

    model_uri: str
    version: int | None
    run_id: str
    out_path: str
    rows_read: int
    rows_scored: int
    rows_rejected: int
    reasons: dict[str, int] = field(default_factory=dict)   # reason (without the value) -> rows
    examples: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cancelled: bool = False

    def text(self) -> str:
        """A few lines for a terminal or a dialog."""
        what = "Cancelled after" if self.cancelled else "Scored"
        lines = [f"{what} {self.rows_scored:,} of {self.rows_read:,} rows in {self.seconds:.1f} s"
                 + (f" → {self.out_path}" if not self.cancelled else " (no output written)")]
        if self.rows_rejected:
            lines.append(f"Rejected {self.rows_rejected:,} rows:")
            lines += [f"  {n:,} × {reason}" for reason, n in sorted(self.reasons.items(), key=lambda kv: -kv[1])[:10]]
            lines += [f"  e.g. {example}" for example in self.examples[:5]]
        lines += [f"Note: {w}" for w in self.warnings]
        return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    """Group reasons: "column 'x': 'abc' is not a number" -> "column 'x': not a number"."""
    col, _, why = reason.partition(": ")
    why = re.sub(r"^(?:'[^']*'|\"[^\"]*\"|[-+0-9.eE]+|true|false)\s+", "", why)
    return f"{col}: {why}" if why else reason


def score_csv(project: Project, model_uri: str, in_path, out_path, *, proba: bool = False,
              chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Callable[[float, str], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> ScoreSummary:
    """Score every row of the CSV ``in_path`` with ``model_uri`` into ``out_path``.

    ``progress(fraction, message)`` is called after each chunk (fraction of
    the input's bytes read); ``should_stop()`` before each, and a true
    answer stops with ``cancelled=True`` and no output file. A missing
    input column raises :class:`~modeldesk.core.serving.validation.ValidationError`
    before anything is written; bad rows are rejected one by one.
    """
    import pandas as pd

    from .served_model import full_uri, load_served
    from .validation import Table, validate

    started = time.perf_counter()
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise UsageError(f"No input file {in_path}.")
    if out_path.resolve() == in_path.resolve():
        raise UsageError("The output file must differ from the input file.")
    if chunk_rows < 1:
        raise UsageError("chunk_rows must be at least 1.")
    uri = full_uri(model_uri)
    served = load_served(project, uri)
    if proba and not served.has_proba:
        raise UsageError(f"{uri} ({type(served.model).__name__}) has no predict_proba; score without --proba.")
    signature = served.signature
    text_cols = {str(f["name"]): object for f in signature.get("inputs") or []
                 if f.get("type") in ("string", "category", "datetime")}
    total = max(in_path.stat().st_size, 1)
    part = out_path.with_name(out_path.name + ".part")
    rows_read = rows_scored = 0
    reasons: collections.Counter = collections.Counter()
    examples: list[str] = []
    notes: list[str] = []
    cancelled = False

    def reject(row: int | None, reason: str, kind: str | None = None) -> None:
        reasons[kind or _reason_kind(reason)] += 1
        if len(examples) < 10:
            examples.append(reason if row is None else f"row {row + 1}: {reason}")

    try:
        with open(in_path, "rb") as raw, open(part, "w", newline="", encoding="utf-8") as out:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    reader = pd.read_csv(raw, chunksize=chunk_rows, dtype=text_cols or None, on_bad_lines="warn",
                                         encoding="utf-8-sig")
                except pd.errors.EmptyDataError:
                    raise UsageError(f"{in_path} is empty: it needs a header row and data rows.") from None
                first = True
                for chunk in _chunks(reader, in_path):
                    _bad_lines(caught, reject)
                    if should_stop is not None and should_stop():
                        cancelled = True
                        break
                    offset = rows_read
                    rows_read += len(chunk)
                    batch = validate(Table.from_frame(chunk), signature, collect=True)
                    for pos, reason in batch.rejected:
                        reject(offset + pos, reason)
                    if first and batch.warnings:
                        notes += batch.warnings
                    if batch.n_rows:
                        scored = _predict(served, chunk, batch, proba, offset, reject)
                        scored.to_csv(out, header=first, index=False)
                        rows_scored += len(scored)
                        first = False
                    if progress is not None:
                        progress(min(raw.tell() / total, 1.0), f"{rows_scored:,} rows scored, "
                                 f"{sum(reasons.values()):,} rejected")
                _bad_lines(caught, reject)
            if first and not cancelled:   # nothing scored: still write the header
                pd.DataFrame(columns=_out_columns(pd.read_csv(in_path, nrows=0).columns, served, proba)).to_csv(
                    out, index=False)
        if cancelled:
            part.unlink(missing_ok=True)
        else:
            os.replace(part, out_path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    rejected = sum(reasons.values())
    return ScoreSummary(uri, served.version, served.run_id, str(out_path), rows_read + _bad_count(reasons),
                        rows_scored, rejected, dict(reasons), examples, notes, time.perf_counter() - started,
                        cancelled)


def _chunks(reader, in_path):
    import pandas as pd

    try:
        yield from reader
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{in_path} cannot be read as CSV: {str(exc).strip()}") from None


def _bad_count(reasons) -> int:
    return reasons.get("malformed line (wrong number of fields)", 0)


def _bad_lines(caught: list, reject) -> None:
    """Lines pandas skipped (wrong number of fields) become rejected rows."""
    while caught:
        message = str(caught.pop(0).message)
        for line in message.splitlines():
            m = _BAD_LINE.search(line)
            if m:
                reject(None, f"line {m.group(1)}: {m.group(2).strip()}", "malformed line (wrong number of fields)")


def _out_columns(columns, served, proba: bool) -> list:
    names = [str(c) for c in columns]
    out = names + [_free("prediction", names)]
    if proba:
        out += [_free(f"proba_{c}", names) for c in served.classes or []]
    return out


def _free(name: str, taken: list) -> str:
    while name in taken:
        name += "_"
    return name


def _predict(served, chunk, batch, proba: bool, offset: int, reject):
    """Predict the batch's rows; if the model fails on the batch, row by row."""
    import numpy as np

    from .validation import model_input

    X = model_input(served.signature, batch.frame)
    keep = batch.positions
    try:
        pred = np.asarray(served.model.predict(X))
        probs = np.asarray(served.model.predict_proba(X)) if proba else None
    except Exception:
        pred_rows, prob_rows, ok = [], [], []
        for i in range(batch.n_rows):
            Xi = X.iloc[[i]] if hasattr(X, "iloc") else X[i:i + 1]
            try:
                pred_rows.append(np.asarray(served.model.predict(Xi))[0])
                if proba:
                    prob_rows.append(np.asarray(served.model.predict_proba(Xi))[0])
                ok.append(i)
            except Exception as exc:
                reject(offset + int(keep[i]), f"model failed: {type(exc).__name__}: {str(exc)[:200]}")
        keep = keep[ok]
        pred = np.asarray(pred_rows)
        probs = np.asarray(prob_rows) if proba else None
    out = chunk.iloc[keep].reset_index(drop=True)
    names = [str(c) for c in out.columns]
    col = _free("prediction", names)
    if pred.ndim == 1:
        out[col] = pred
    else:
        for j in range(pred.shape[1]):
            out[f"{col}_{j}"] = pred[:, j]
    if probs is not None and len(out):
        for j, cls in enumerate(served.classes or range(probs.shape[1])):
            out[_free(f"proba_{cls}", names)] = probs[:, j]
    return out

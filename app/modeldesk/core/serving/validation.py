"""Parse request payloads and check them against a model's signature.

Used by the model server (every request) and by batch scoring (every CSV
chunk), so a row is accepted or refused the same way everywhere. The rules
(docs/serving.md "Validation"):

- every signature column must be present; column order does not matter;
  columns the model does not know are ignored and named in ``warnings``;
- numbers: JSON numbers or strings holding a number (CSV cells); booleans,
  lists and objects are refused; NaN/inf are refused except that NaN and the
  usual null spellings (``""``, ``NA``, ``NaN``, ``null``, ``None``) count as
  a missing value;
- integer (``long``) columns take integral floats (``3.0``) but not ``3.5``;
- a missing value is refused in a column that had none in training (the
  signature's ``nullable`` is false);
- ``boolean``: true/false, 0/1, or their spellings; ``category``: one of the
  categories seen in training; ``datetime``: an ISO 8601 string;
  ``string``: any string (numbers are turned into their text).

Formats: ``{"records": [...]}``, ``{"columns": [...], "data": [[...]]}``,
CSV text, NumPy ``.npy`` (core/serving/npy_payload.py), and MLflow's ``dataframe_split``, ``dataframe_records``,
``instances`` and ``inputs``. Problems raise :class:`ValidationError` with a
code, a message naming the column/row, and the HTTP status that fits.
No Flask here: the server maps the error to a response.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from .payloads import _MISSING, DEFAULT_MAX_ROWS, Table, ValidationError, _kind, media_type, parse_csv, parse_payload  # noqa: F401

NULL_TEXT = frozenset({"", "na", "nan", "null", "none", "n/a"})
TRUE_TEXT = frozenset({"true", "1", "yes", "t", "y"})
FALSE_TEXT = frozenset({"false", "0", "no", "f", "n"})


# -- checking against the signature ----------------------------------------------------
@dataclass
class Batch:
    """Rows that passed the checks, ready for the model.

    ``frame`` holds the signature's columns in order with their trained
    types; ``positions`` are the kept rows' positions in the input;
    ``rejected`` lists ``(position, reason)`` of refused rows (collect mode).
    """

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    positions: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return len(self.frame)


def validate(table: Table, signature: dict, *, collect: bool = False) -> Batch:
    """Check ``table`` against ``signature`` and convert it to the model's columns.

    Raises :class:`ValidationError` for the first problem, or with
    ``collect=True`` drops each bad row and lists it in ``Batch.rejected``
    (missing columns still raise: no row could be scored).
    """
    fields = signature.get("inputs") or []
    if not fields:
        raise ValidationError("no_signature", "This model was logged without an input example, so its "
                              "inputs are unknown; log it again with input_example=...", 400)
    warnings: list[str] = []
    if table.names is None:
        keys = _positional_keys(table, fields)
    else:
        by_str = {str(f["name"]): f for f in fields}
        present = set(table.names)
        missing = [n for n in by_str if n not in present]
        if missing:
            shown = ", ".join(map(repr, missing[:10])) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise ValidationError("missing_columns", f"Missing input column(s) {shown}; the model needs "
                                  f"{len(fields)} columns: {_names_hint(fields)}.", 400, column=missing[0])
        extra = [n for n in table.names if n not in by_str]
        if extra:
            shown = ", ".join(map(repr, extra[:10])) + (f" and {len(extra) - 10} more" if len(extra) > 10 else "")
            warnings.append(f"ignored unknown column(s) {shown}")
        keys = list(by_str)
    n = table.n_rows
    frame = _numeric_frame(table, keys, fields)
    if frame is not None:   # the common case, in a few numpy calls instead of a pass per column
        return Batch(frame, warnings, [], np.arange(n))
    arrays, bad = [], {}
    for f, key in zip(fields, keys):
        arr, problems = _convert(f, table.column(key), table.text)
        if problems:
            if not collect:
                row, code, why = problems[0]
                where = f" (row {row})" if n > 1 else ""
                raise ValidationError(code, f"Column {f['name']!r}{where}: {why}.", 400, column=f["name"], row=row)
            for row, _code, why in problems:
                bad.setdefault(row, f"column {f['name']!r}: {why}")
        arrays.append(arr)
    positions = None
    if bad:
        keep = np.ones(n, dtype=bool)
        keep[list(bad)] = False
        positions = np.flatnonzero(keep)
        arrays = [a[keep] for a in arrays]
    frame = _frame(fields, [_finish(f, a) for f, a in zip(fields, arrays)])
    rejected = sorted(bad.items())
    return Batch(frame, warnings, rejected, positions if positions is not None else np.arange(n))


def _numeric_frame(table: Table, keys: list, fields: list) -> pd.DataFrame | None:
    """The frame for an all-numeric signature when every value is clean, else None.

    Clean: a finite JSON number everywhere, integral and within the int64 range
    in ``long`` columns. Then the frame is the one the per-column path builds
    (float64 columns, int64 for ``long``); anything else returns None and that
    path finds the problem and words it.
    """
    kinds = [f.get("type") for f in fields]
    if table.text or not set(kinds) <= {"double", "long"}:
        return None
    if table.arrays:
        return _numeric_frame_from_arrays(table, keys, fields)
    matrix = _all_finite_numbers(table, keys)
    if matrix is None:
        return None
    names = [f["name"] for f in fields]
    if "long" not in kinds:
        return pd.DataFrame(matrix, columns=names)
    longs = [j for j, kind in enumerate(kinds) if kind == "long"]
    sub = matrix[:, longs]
    if not ((np.floor(sub) == sub).all() and (np.abs(sub) < 2.0 ** 53).all()):
        return None   # beyond 2**53 the float matrix has rounded an integer: the per-column path keeps it exact
    return _frame(fields, [matrix[:, j].astype(np.int64) if kind == "long" else matrix[:, j].copy()
                           for j, kind in enumerate(kinds)])


def _numeric_frame_from_arrays(table: Table, keys: list, fields: list) -> pd.DataFrame | None:
    """``_numeric_frame`` for a .npy body: its numeric columns checked and converted by numpy."""
    out = []
    for f, key in zip(fields, keys):
        a = table.array(key)
        if a.dtype.kind not in "fiu":
            return None   # booleans, text, datetimes: the per-column path decides and words it
        if f.get("type") != "long":
            with np.errstate(invalid="ignore"):   # a signalling NaN (any bits can arrive) says "invalid"
                col = a.astype(np.float64)
            if not np.isfinite(col).all():
                return None
        elif a.dtype.kind == "f":
            with np.errstate(invalid="ignore", over="ignore"):
                if not (np.isfinite(a).all() and (np.floor(a) == a).all() and (np.abs(a) < 2.0 ** 63).all()):
                    return None
            col = a.astype(np.int64)
        elif a.dtype.kind == "u" and a.dtype.itemsize == 8 and (a > np.iinfo(np.int64).max).any():
            return None
        else:
            col = a.astype(np.int64)
        out.append(col)
    return _frame(fields, out)


def _all_finite_numbers(table: Table, keys: list) -> np.ndarray | None:
    """The rows as a float matrix if every value is a finite JSON number, else None."""
    rows = table.matrix(keys)
    if rows is None or not set(map(type, itertools.chain.from_iterable(rows))) <= {float, int}:
        return None
    try:
        arr = np.array(rows, dtype=np.float64)
    except (OverflowError, ValueError):
        return None
    if arr.ndim != 2 or arr.shape != (table.n_rows, len(keys)) or not np.isfinite(arr).all():
        return None
    return arr


def _positional_keys(table: Table, fields: list) -> list:
    width = table.width
    if width != len(fields):
        raise ValidationError("wrong_width", f"Each row has {width} values but the model needs {len(fields)} "
                              f"columns, in this order: {_names_hint(fields)}. Name the columns to send "
                              "them in any order.", 400)
    return list(range(width))


def _names_hint(fields: list) -> str:
    names = [repr(str(f["name"])) for f in fields]
    return ", ".join(names[:12]) + (", …" if len(names) > 12 else "")


def _frame(fields: list, arrays: list) -> pd.DataFrame:
    names = [f["name"] for f in fields]
    if arrays and all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in arrays):
        return pd.DataFrame(np.column_stack(arrays) if len(arrays) > 1 else arrays[0].reshape(-1, 1),
                            columns=names)
    return pd.DataFrame(dict(zip(names, arrays)), columns=names)


# -- per-type conversion ------------------------------------------------------------------
_DECIMAL = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)", re.ASCII | re.IGNORECASE)
_ISO_START = re.compile(r"\d{4}-\d{2}-\d{2}(?:$|[T ]\d{2}:\d{2})", re.ASCII)


def _is_null(v: Any, text: bool = True) -> bool:
    """None, NaN, an absent key; and, where text may spell it, "", NA, null, ..."""
    if v is None or v is _MISSING:
        return True
    if isinstance(v, float):
        return math.isnan(v)
    if text and isinstance(v, str):
        return v.strip().lower() in NULL_TEXT
    return False


def _null_problem(f: dict, i: int, v: Any) -> tuple[int, str, str]:
    what = "no value" if v is _MISSING else "a missing value"
    return (i, "null_value", f"{what}, but it had none in training and the model needs one")


def _convert(f: dict, values: list, text: bool = False) -> tuple[np.ndarray, list]:
    kind = f.get("type")
    nullable = bool(f.get("nullable"))
    if kind in ("double", "long"):
        return _numeric(f, values, nullable, integer=(kind == "long"))
    problems: list = []
    out = np.empty(len(values), dtype=object)
    convert = {"boolean": _to_bool, "string": _to_str, "category": _category_converter(f),
               "datetime": _to_datetime}.get(kind, lambda v: v)
    blank_is_null = text or kind == "datetime"   # a blank or "nan" date is a missing value, in JSON too
    for i, v in enumerate(values):
        if _is_null(v, blank_is_null):
            out[i] = None
            if not nullable:
                problems.append(_null_problem(f, i, v))
            continue
        try:
            out[i] = convert(v)
        except _Bad as exc:
            out[i] = None
            problems.append((i, "wrong_type", str(exc)))
    return out, problems


class _Bad(Exception):
    pass


def _numeric(f: dict, values: list, nullable: bool, integer: bool) -> tuple[np.ndarray, list]:
    problems: list = []
    arr = None
    if set(map(type, values)) <= {float, int}:
        try:
            arr = np.asarray(values, dtype=np.float64)
        except OverflowError:
            arr = None
    if arr is None:
        arr = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            try:
                arr[i] = _to_float(v)
            except _Bad as exc:
                arr[i] = np.nan
                problems.append((i, "wrong_type", str(exc)))
    nan = np.isnan(arr)
    if not np.isfinite(arr[~nan]).all():
        for i in np.flatnonzero(np.isinf(arr)):
            problems.append((int(i), "wrong_type", f"{_show(values[i])} is not a finite number"))
        arr[np.isinf(arr)] = np.nan
        nan = np.isnan(arr)
    if nan.any() and not nullable:
        flagged = {p[0] for p in problems}
        problems += [_null_problem(f, int(i), values[i]) for i in np.flatnonzero(nan) if int(i) not in flagged]
    if integer:
        whole = nan | (np.floor(arr) == arr)
        for i in np.flatnonzero(~whole):
            problems.append((int(i), "wrong_type", f"{_show(values[i])} is not a whole number; "
                             "this column takes integers"))
        exact = _exact_integers(values, arr)
        big = ~nan & (np.abs(arr) >= 2.0 ** 63)
        for i in np.flatnonzero(big):
            if i not in exact or not -2 ** 63 <= exact[i] < 2 ** 63:
                problems.append((int(i), "wrong_type", f"{_show(values[i])} is out of the integer range"))
        if exact and not nan.any() and not problems:   # beyond 2**53 a float rounds: keep the integers exact
            ints = np.where(np.abs(arr) < 2.0 ** 63, arr, 0.0).astype(np.int64)   # 2**63-1 is 2.0**63 as a float
            for i, v in exact.items():
                ints[i] = v
            arr = ints
    if problems:
        problems.sort(key=lambda p: p[0])
    return arr, problems


_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)


def _exact_integers(values: list, arr: np.ndarray) -> dict[int, int]:
    """{position: int} for integers sent beyond 2**53, as numbers or as integer text, which a float rounds."""
    out = {}
    for i in np.flatnonzero(np.abs(arr) >= 2.0 ** 53):   # NaN compares False
        v = values[i]
        if type(v) is int:
            out[int(i)] = v
        elif isinstance(v, str) and _INTEGER.fullmatch(v.strip()):
            out[int(i)] = int(v.strip())
    return out


def _to_float(v: Any) -> float:
    if _is_null(v):
        return math.nan
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise _Bad(f"expected a number, got {_kind(v)}" + (f" ({_show(v)})" if isinstance(v, bool) else ""))
    if isinstance(v, str):
        text = v.strip()
        if not _DECIMAL.fullmatch(text):   # no "1_000", "１２", "0x1f" or "1,5": plain ASCII decimals only
            raise _Bad(f"{_show(v)} is not a number")
        return float(text)
    try:
        return float(v)
    except OverflowError:
        raise _Bad(f"{_show(v)} is too large for a number") from None


def _to_bool(v: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        t = v.strip().lower()
        if t in TRUE_TEXT:
            return True
        if t in FALSE_TEXT:
            return False
    raise _Bad(f"expected true or false, got {_show(v)}")


def _to_str(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _Bad(f"expected a string, got {_kind(v)}")
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _category_converter(f: dict):
    cats = list(f.get("categories") or [])
    by_text = {str(c): c for c in cats}

    def convert(v: Any):
        if isinstance(v, (list, Mapping)):
            raise _Bad(f"expected one of the categories, got {_kind(v)}")
        if not isinstance(v, bool) and str(v) in by_text:
            return by_text[str(v)]
        shown = ", ".join(map(repr, cats[:8])) + (", …" if len(cats) > 8 else "")
        raise _Bad(f"{_show(v)} is not a category seen in training ({shown})")

    return convert


def _to_datetime(v: Any):
    if not isinstance(v, str):
        raise _Bad(f"expected an ISO 8601 date/time string, got {_kind(v)}")
    text = v.strip()
    if not _ISO_START.match(text):   # "1,5" or "May 3" would otherwise parse as some date
        raise _Bad(f"{_show(v)} is not an ISO 8601 date/time (e.g. 2026-05-03 or 2026-05-03T14:30:00Z)")
    try:
        return pd.Timestamp(datetime.fromisoformat(text))
    except (ValueError, TypeError, OverflowError):
        raise _Bad(f"{_show(v)} is not an ISO 8601 date/time (e.g. 2026-05-03 or 2026-05-03T14:30:00Z)") from None


def _finish(f: dict, arr: np.ndarray):
    kind = f.get("type")
    if kind == "long":
        nan = np.isnan(arr)
        return arr if nan.any() else arr.astype(np.int64)
    if kind == "boolean" and not any(v is None for v in arr):
        return arr.astype(bool)
    if kind == "category":
        return pd.Categorical(arr, categories=list(f.get("categories") or []))
    if kind == "datetime":
        try:
            return pd.to_datetime(pd.Series(arr, dtype=object)).to_numpy()
        except (ValueError, TypeError, OverflowError):
            return arr   # mixed time zones: leave the Timestamps as they are
    return arr


def _show(v: Any) -> str:
    text = repr(v) if not isinstance(v, bool) else ("true" if v else "false")
    return text if len(text) <= 40 else text[:37] + "…"


def validate_payload(body: bytes, content_type: str | None, signature: dict, *, mlflow: bool = False,
                     max_rows: int = DEFAULT_MAX_ROWS) -> Batch:
    """Parse and check a request body in one step (the server's path)."""
    table, warnings = parse_payload(body, content_type, mlflow=mlflow, max_rows=max_rows)
    batch = validate(table, signature)
    batch.warnings[:0] = warnings
    return batch


def model_input(signature: dict, frame: pd.DataFrame):
    """What to hand ``model.predict``: the frame, or its array for models fit without names."""
    if signature.get("input_kind", "dataframe") == "dataframe":
        return frame
    return frame.to_numpy()

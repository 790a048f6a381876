"""Request payloads parsed into tables: the formats the server and MLflow speak.

``{"records": [...]}``, ``{"columns": [...], "data": [[...]]}``, CSV text,
NumPy ``.npy`` files (npy_payload.py), and MLflow's ``dataframe_split``,
``dataframe_records``, ``instances`` and ``inputs``. Parsing only finds rows
and columns (a :class:`Table`, tables.py); core.validation checks
them against the model's signature. Problems raise :class:`ValidationError`
(code, message, HTTP status).
"""

from __future__ import annotations

import csv
import io
import json
import operator
from collections.abc import Mapping
from typing import Any

import orjson

from .npy_payload import NPY_MEDIA_TYPE, parse_npy
from .tables import _MISSING, DEFAULT_MAX_ROWS, Table, ValidationError, _check_rows  # noqa: F401  (re-exported)

MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


# Every digit as "0", everything else as a space: a run of 19 zeros marks an integer that orjson
# would turn into a float (beyond int64/uint64) where the standard library keeps an int.
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= i <= 0x39 else 0x20 for i in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def loads_json(body: bytes | str) -> Any:
    """``json.loads(body)`` with the standard library's exact results, about 3x faster on big bodies.

    orjson parses first; it refuses what the standard library reads differently
    (``NaN``/``Infinity`` literals, numbers beyond a double, lone surrogate
    escapes, UTF-16/32 bodies, nesting over 1,024 levels, invalid UTF-8), and
    those bodies, like any orjson refusal, go to ``json.loads``, which decides
    and words the error. The one case orjson accepts but reads differently,
    an integer beyond 64 bits (a float for orjson, an exact int for Python),
    is caught before: a run of 19 or more digits anywhere sends the body to
    ``json.loads`` too. tests/core/serving/test_json_loads.py compares the two
    on generated documents.
    """
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if _LONG_DIGIT_RUN not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body)


def _bad_format(message: str) -> ValidationError:
    return ValidationError("bad_format", message, 400)


def _records_table(recs: Any, what: str) -> Table:
    if isinstance(recs, Mapping):
        recs = [recs]
    if not isinstance(recs, list):
        raise _bad_format(f"{what} must be a list of objects, one per row, e.g. [{{\"age\": 41}}].")
    table = _uniform_records(recs)
    if table is not None:
        return table
    names: dict = {}
    for i, rec in enumerate(recs):
        if not isinstance(rec, Mapping):
            raise _bad_format(f"{what}[{i}] is {_kind(rec)}, not an object of column: value.")
        for key in rec:
            names.setdefault(key, None)
    return Table(list(names), len(recs), records=recs)


def _uniform_records(recs: list) -> Table | None:
    """The common shape, checked at C speed: every record a dict holding the first one's keys.

    Then the union of the keys is the first record's keys in its order, and the
    rows come out as tuples in that order (one ``itemgetter`` call per record),
    which is what the slow path's ``Table`` would give for every column.
    None for anything else (fewer than two keys too): the general path decides,
    with its messages.
    """
    if not recs or set(map(type, recs)) != {dict}:
        return None
    names = list(recs[0])
    if len(names) < 2 or set(map(len, recs)) != {len(names)}:
        return None
    try:   # same number of keys and every one of the first record's keys: the same keys
        rows = list(map(operator.itemgetter(*names), recs))
    except KeyError:
        return None
    return Table(names, len(recs), rows=rows)


def _split_table(columns: Any, data: Any, what: str) -> Table:
    if not isinstance(data, list):
        raise _bad_format(f"{what}: \"data\" must be a list of rows, each a list of values.")
    if data and set(map(type, data)) == {list}:   # the common case, checked at C speed
        rows = list(data)
    else:
        rows = [r if isinstance(r, list) else None for r in data]
    for i, row in enumerate(rows):
        if row is None:
            raise _bad_format(f"{what}: data[{i}] is {_kind(data[i])}, not a list of values.")
    if columns is None:
        return _positional(rows, what)
    if not isinstance(columns, list) or not all(isinstance(c, (str, int)) and not isinstance(c, bool)
                                                for c in columns):
        raise _bad_format(f"{what}: \"columns\" must be a list of column names.")
    names = [str(c) for c in columns]
    seen = set()
    for name in names:
        if name in seen:
            raise _bad_format(f"{what}: column {name!r} appears twice in \"columns\".")
        seen.add(name)
    if set(map(len, rows)) != {len(names)}:
        for i, row in enumerate(rows):
            if len(row) != len(names):
                raise _bad_format(f"{what}: data[{i}] has {len(row)} values for {len(names)} columns.")
    return Table(names, len(rows), rows=rows)


def _positional(rows: list, what: str) -> Table:
    width = len(rows[0]) if rows else 0
    for i, row in enumerate(rows):
        if len(row) != width:
            raise _bad_format(f"{what}: row {i} has {len(row)} values; row 0 has {width}.")
    return Table(None, len(rows), rows=rows)


def _columnar_table(obj: Mapping, what: str) -> Table:
    values = list(obj.values())
    if values and all(isinstance(v, list) for v in values):
        lengths = {len(v) for v in values}
        if len(lengths) > 1:
            raise _bad_format(f"{what}: the columns have different lengths ({sorted(lengths)}).")
        return Table([str(k) for k in obj], lengths.pop(), columns={str(k): v for k, v in obj.items()})
    if any(isinstance(v, list) for v in values):
        raise _bad_format(f"{what}: give every column a list of values, or every column one value.")
    return Table([str(k) for k in obj], 1, columns={str(k): [v] for k, v in obj.items()})


def _tf_table(obj: Any, what: str) -> Table:
    """MLflow's TF-serving style ``instances`` / ``inputs``."""
    if isinstance(obj, Mapping):
        return _columnar_table(obj, what)
    if not isinstance(obj, list):
        raise _bad_format(f"{what} must be a list of rows or an object of columns.")
    if obj and all(isinstance(r, Mapping) for r in obj):
        return _records_table(obj, what)
    if obj and all(isinstance(r, list) for r in obj):
        return _positional(obj, what)
    if all(not isinstance(r, (list, Mapping)) for r in obj):
        return Table(None, len(obj), rows=[[v] for v in obj])   # one value per row
    raise _bad_format(f"{what} mixes rows of different kinds; send a list of objects or a list of lists.")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


# -- payloads --------------------------------------------------------------------------
def media_type(content_type: str | None) -> str | None:
    """``"json"``, ``"csv"``, ``"npy"`` or None for a Content-Type header."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json")):
        return "json"
    if mime in ("text/csv", "application/csv"):
        return "csv"
    if mime == NPY_MEDIA_TYPE:
        return "npy"
    return None


def parse_payload(body: bytes, content_type: str | None, *, mlflow: bool = False,
                  max_rows: int = DEFAULT_MAX_ROWS) -> tuple[Table, list[str]]:
    """Parse a request body into a :class:`Table` and warnings about ignored parts.

    ``mlflow=True`` speaks MLflow's scoring protocol (``/invocations``),
    otherwise the ``/predict`` formats. Raises :class:`ValidationError`.
    """
    if not body or not body.strip():
        raise ValidationError("empty_body", "The request body is empty; send JSON or CSV rows.", 400)
    kind = media_type(content_type)
    if kind is None:
        shown = (content_type or "none").split(";", 1)[0][:80]
        raise ValidationError("unsupported_media_type", f"Content-Type {shown!r} is not accepted; send "
                              "'Content-Type: application/json', 'text/csv' or 'application/x-npy'.", 415)
    if kind == "csv":
        table = parse_csv(body, max_rows=max_rows)
        return table, []
    if kind == "npy":
        return parse_npy(body, max_rows=max_rows), []
    try:
        obj = loads_json(body)
    except (ValueError, RecursionError) as exc:
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "it is not valid UTF-8 JSON"
        raise ValidationError("malformed_json", f"The body is not valid JSON{where}: {reason}.", 400) from None
    table, warnings = (_mlflow_table if mlflow else _predict_table)(obj)
    _check_rows(table.n_rows, max_rows)
    return table, warnings


def _predict_table(obj: Any) -> tuple[Table, list[str]]:
    expected = ('expected {"records": [{...}, ...]} or {"columns": [...], "data": [[...], ...]}, '
                "or a CSV body with Content-Type: text/csv")
    if isinstance(obj, list):
        return _records_table(obj, "the body"), []
    if not isinstance(obj, Mapping):
        raise _bad_format(f"The JSON body is {_kind(obj)}; {expected}.")
    if "records" in obj:
        table = _records_table(obj["records"], '"records"')
        used = {"records"}
    elif "data" in obj and "columns" in obj:
        table = _split_table(obj["columns"], obj["data"], "the body")
        used = {"columns", "data"}
    else:
        keys = ", ".join(map(repr, list(obj)[:5])) or "none"
        raise _bad_format(f"The JSON object has keys {keys}; {expected}.")
    extra = [k for k in obj if k not in used]
    return table, [f"ignored unknown field(s) {', '.join(map(repr, extra[:10]))} in the body"] if extra else []


def _mlflow_table(obj: Any) -> tuple[Table, list[str]]:
    if not isinstance(obj, Mapping):
        raise _bad_format(f"The JSON body is {_kind(obj)}; MLflow's scoring protocol expects an object with "
                          f"exactly one of the fields {', '.join(MLFLOW_KEYS)}.")
    keys = [k for k in MLFLOW_KEYS if k in obj]
    if len(keys) != 1:
        found = ", ".join(map(repr, list(obj)[:5])) or "none"
        raise _bad_format(f"MLflow's scoring protocol expects exactly one of the fields {', '.join(MLFLOW_KEYS)}; "
                          f"the body has {found}.")
    key = keys[0]
    value = obj[key]
    if key == "dataframe_split":
        if not isinstance(value, Mapping) or "data" not in value:
            raise _bad_format('"dataframe_split" must be an object with "columns" and "data" '
                              '(pandas\' to_dict(orient="split")).')
        table = _split_table(value.get("columns"), value["data"], '"dataframe_split"')
    elif key == "dataframe_records":
        table = _records_table(value, '"dataframe_records"')
    else:
        table = _tf_table(value, f'"{key}"')
    extra = [k for k in obj if k != key]
    warnings = [f"ignored field(s) {', '.join(map(repr, extra[:10]))}: this model takes no params"] if extra else []
    return table, warnings


def parse_csv(body: bytes | str, *, max_rows: int = DEFAULT_MAX_ROWS) -> Table:
    """CSV text with a header row: every cell a string (an empty cell is a missing value)."""
    try:
        text = body.decode("utf-8-sig") if isinstance(body, (bytes, bytearray)) else body.removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ValidationError("malformed_csv", f"The CSV body is not UTF-8 text (byte {exc.start}).", 400) from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except csv.Error as exc:
        raise ValidationError("malformed_csv", f"The CSV body cannot be read: {exc}.", 400) from None
    if not rows:
        raise ValidationError("empty_body", "The CSV body holds no header row.", 400)
    header, rows = rows[0], rows[1:]
    seen = set()
    for name in header:
        if name in seen:
            raise ValidationError("malformed_csv", f"The CSV header names column {name!r} twice.", 400)
        seen.add(name)
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValidationError("malformed_csv", f"CSV data row {i + 1} has {len(row)} cells; the header "
                                  f"has {len(header)}.", 400, row=i)
    _check_rows(len(rows), max_rows)
    return Table(header, len(rows), rows=rows, text=True)

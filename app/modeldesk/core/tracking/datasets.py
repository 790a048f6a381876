"""Tables logged with a run: coercion, fingerprint, profile, sample, encoding.

Pure functions over pandas objects; no storage, no Qt. ``profile`` returns::

    {"rows": int, "columns": int,
     "per_column": [{"name", "dtype", "kind", "count", "missing", "unique", ...}]}

``encode_frame`` writes gzip-compressed JSON (format ``modeldesk.frame/1``):
fixed-width numpy columns as base64 of their little-endian bytes (exact, NaN
and inf included), everything else as JSON lists. Decoding never unpickles.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from modeldesk.core.errors import UsageError

ACCEPTED = ("a pandas DataFrame, a 2-D numpy array, a list of dicts (records), "
            "a dict of lists (columns), or an (X, y) tuple")
_FORMAT = "modeldesk.frame/1"
_FIXED_KINDS = "iufbMm"  # numpy kinds stored as raw bytes


def to_frame(data: Any, columns: list | None = None, target: str | None = None) -> pd.DataFrame:
    """Return ``data`` as a DataFrame.

    Accepts a DataFrame (returned as is), a Series, a 2-D numpy array (columns
    ``f0..fN-1`` unless ``columns`` is given), a list of dicts or of row
    lists, a dict of lists, or an ``(X, y)`` tuple whose ``y`` becomes the
    column ``target`` (default name ``"target"``). Anything else is a
    :class:`UsageError` naming the accepted types.
    """
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], tuple):
        return _xy_frame(data[0], data[1], columns, target or "target")
    if isinstance(data, np.ndarray):
        if data.dtype.names:  # structured array: fields are the columns
            return pd.DataFrame(data)
        if data.ndim != 2:
            raise UsageError(f"a numpy array must be 2-D (rows x columns); got {data.ndim}-D "
                             f"with shape {data.shape}. Reshape it, e.g. X.reshape(1, -1).")
        return pd.DataFrame(data, columns=_names(columns, data.shape[1]))
    try:
        if isinstance(data, list):
            if all(isinstance(r, Mapping) for r in data):
                return pd.DataFrame.from_records(data, columns=columns) if data or columns \
                    else pd.DataFrame()
            if all(isinstance(r, (list, tuple)) for r in data):
                width = len(data[0]) if data else len(columns or [])
                return pd.DataFrame(data, columns=_names(columns, width))
        elif isinstance(data, Mapping):
            return pd.DataFrame(dict(data))
    except (ValueError, TypeError) as exc:
        raise UsageError(f"cannot make a table from this {type(data).__name__}: {exc}") from exc
    raise UsageError(f"cannot make a table from {type(data).__module__}.{type(data).__name__}; "
                     f"expected {ACCEPTED}.")


def _names(columns: list | None, width: int) -> list:
    if columns is None:
        return [f"f{i}" for i in range(width)]
    if len(columns) != width:
        raise UsageError(f"{len(columns)} column names given for {width} columns.")
    return list(columns)


def _xy_frame(X: Any, y: Any, columns: list | None, name: str) -> pd.DataFrame:
    frame = to_frame(X, columns=columns).copy()
    if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series):
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise UsageError(f"y in an (X, y) tuple must be 1-D; got shape {y.shape}.")
        y = pd.Series(y)
    if len(y) != len(frame):
        raise UsageError(f"X has {len(frame)} rows but y has {len(y)}.")
    if name in frame.columns:
        raise UsageError(f"X already has a column {name!r}; pass another target name.")
    frame[name] = y.set_axis(frame.index)
    return frame


def fingerprint(df: pd.DataFrame) -> str:
    """sha256 hex of the full data: column names, dtypes and every cell, in row order.

    The index is ignored. Stable across processes (pandas' fixed hash key);
    each column contributes one 64-bit hash per cell.
    """
    header = json.dumps({"format": "modeldesk.fingerprint/1", "rows": len(df),
                         "columns": [[_json_scalar(c), str(t)] for c, t in zip(df.columns, df.dtypes)]},
                        sort_keys=True, separators=(",", ":"))
    h = hashlib.sha256(header.encode())
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        try:
            hashed = pd.util.hash_pandas_object(col, index=False)
        except TypeError:  # unhashable cells (lists, dicts): hash their text
            hashed = pd.util.hash_pandas_object(col.astype(str), index=False)
        h.update(np.ascontiguousarray(hashed.to_numpy(dtype="<u8")).data)
    return h.hexdigest()


def column_kind(dtype: Any) -> str:
    """'boolean', 'numerical', 'datetime' or 'categorical' for a pandas dtype."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return "numerical"
    return "categorical"


def profile(df: pd.DataFrame, max_categories: int = 20) -> dict:
    """A JSON-serialisable per-column summary of ``df`` (no NaN/inf: ``None``).

    Every column: name, dtype, kind, count (non-missing), missing, unique
    (exact, non-missing). Numerical: mean, std (ddof=1), min, p25, p50, p75,
    max over the finite values, plus ``zeros`` and ``infinite`` (count of
    +-inf). Categorical and boolean: ``top`` (up to ``max_categories``
    ``{"value", "count"}`` by descending count) and ``other_count``.
    Datetime: min, max as ISO strings. Other dtypes (e.g. timedelta) are
    profiled as categorical over their text.
    """
    per_column = []
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        kind = column_kind(col.dtype)
        present = col.dropna()
        entry: dict[str, Any] = {"name": _json_scalar(df.columns[i]), "dtype": str(col.dtype),
                                 "kind": kind, "count": int(len(present)),
                                 "missing": int(len(col) - len(present))}
        if kind == "numerical":
            values = present.to_numpy(dtype="float64")
            finite = values[np.isfinite(values)]
            entry["unique"] = int(present.nunique())
            entry["infinite"] = int(len(values) - len(finite))
            n = len(finite)
            q = np.percentile(finite, [25, 50, 75]) if n else [None] * 3
            entry.update(mean=_num(finite.mean() if n else None),
                         std=_num(finite.std(ddof=1) if n > 1 else None),
                         min=_num(finite.min() if n else None),
                         p25=_num(q[0]), p50=_num(q[1]), p75=_num(q[2]),
                         max=_num(finite.max() if n else None),
                         zeros=int((values == 0).sum()))
        elif kind == "datetime":
            entry["unique"] = int(present.nunique())
            entry["min"] = present.min().isoformat() if len(present) else None
            entry["max"] = present.max().isoformat() if len(present) else None
        else:
            try:
                counts = present.value_counts(sort=True)
            except TypeError:  # unhashable cells
                counts = present.astype(str).value_counts(sort=True)
            counts = counts[counts > 0]
            top = counts.iloc[:max_categories]
            entry["unique"] = int(len(counts))
            entry["top"] = [{"value": _json_scalar(v), "count": int(c)} for v, c in top.items()]
            entry["other_count"] = int(counts.iloc[max_categories:].sum())
        per_column.append(entry)
    return {"rows": int(len(df)), "columns": int(df.shape[1]), "per_column": per_column}


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _json_scalar(v: Any) -> Any:
    """A plain JSON value for a label or cell: numpy scalars unwrapped, the rest str()."""
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return str(v)


def sample(df: pd.DataFrame, cap: int = 10_000, seed: int = 0) -> pd.DataFrame:
    """At most ``cap`` rows of ``df``, chosen at random with ``seed``, in original order.

    Deterministic for the same data, cap and seed; the whole frame (a copy)
    when it has ``cap`` rows or fewer. Index labels are kept.
    """
    if cap < 0:
        raise UsageError(f"sample cap must be >= 0, got {cap}.")
    if len(df) <= cap:
        return df.copy()
    positions = np.random.default_rng(seed).choice(len(df), size=cap, replace=False)
    return df.iloc[np.sort(positions)].copy()


# ---------------------------------------------------------------- encoding

def encode_frame(df: pd.DataFrame) -> bytes:
    """Serialise ``df`` (without its index) to gzip-compressed JSON; no pickle.

    Round-trips names, order and dtypes: numpy ints/floats/bools/datetime64/
    timedelta64 (bytes, exact), object (str, None, bool, int, float incl.
    NaN), pandas string, category, tz-aware datetimes and nullable extension
    dtypes. Cells of other types in object columns become their ``str``.
    """
    doc = {"format": _FORMAT, "rows": int(len(df)), "columns_dtype": str(df.columns.dtype),
           "columns": [dict(_encode_col(df.iloc[:, i]), name=_json_scalar(df.columns[i]))
                       for i in range(df.shape[1])]}
    raw = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    return gzip.compress(raw, compresslevel=6, mtime=0)


def _encode_col(col: pd.Series) -> dict:
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = pd.Series(dtype.categories)
        return {"enc": "category", "ordered": bool(dtype.ordered),
                "categories": _encode_col(cats), "codes": _encode_col(col.cat.codes)}
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = col.dt.tz_convert("UTC").dt.tz_localize(None)
        return {"enc": "datetimetz", "tz": str(dtype.tz), "utc": _encode_col(naive)}
    if isinstance(dtype, np.dtype) and dtype.kind in _FIXED_KINDS:
        arr = np.ascontiguousarray(col.to_numpy(), dtype=dtype.newbyteorder("<"))
        return {"enc": "raw", "dtype": arr.dtype.str, "b64": base64.b64encode(arr.tobytes()).decode()}
    if isinstance(dtype, np.dtype) and dtype == object:
        return {"enc": "object", "values": [_encode_cell(v) for v in col.tolist()]}
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        values = [None if pd.isna(v) else _encode_cell(v) for v in col.astype(object).tolist()]
        if isinstance(dtype, pd.StringDtype):
            return {"enc": "string", "storage": dtype.storage,
                    "na": "nan" if dtype.na_value is np.nan else "NA", "values": values}
        return {"enc": "ext", "dtype": str(dtype), "values": values}
    return {"enc": "object", "values": [_encode_cell(v) for v in col.astype(str).tolist()]}


def _encode_cell(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if v is None or isinstance(v, (str, bool, int)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$f": repr(v)}
    if v is pd.NA:
        return {"$": "NA"}
    if v is pd.NaT:
        return {"$": "NaT"}
    return str(v)


def _decode_cell(v: Any) -> Any:
    if isinstance(v, dict):
        if "$f" in v:
            return float(v["$f"])
        return {"NA": pd.NA, "NaT": pd.NaT}[v["$"]]
    return v


def decode_frame(b: bytes) -> pd.DataFrame:
    """Rebuild the DataFrame ``encode_frame`` wrote (RangeIndex).

    Malformed or foreign input raises :class:`UsageError`.
    """
    try:
        doc = json.loads(gzip.decompress(b))
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ValueError("not a modeldesk.frame/1 document")
        rows = int(doc["rows"])
        cols = [_decode_col(spec, rows) for spec in doc["columns"]]
        names = [spec["name"] for spec in doc["columns"]]
        frame = pd.concat(cols, axis=1, ignore_index=True) if cols else pd.DataFrame(index=range(rows))
        try:
            frame.columns = pd.Index(names, dtype=doc["columns_dtype"])
        except (TypeError, ValueError):
            frame.columns = pd.Index(names)
        return frame
    except UsageError:
        raise
    except Exception as exc:  # gzip, JSON, shape and dtype errors alike
        raise UsageError(f"cannot decode this table sample: {exc}") from exc


def _decode_col(spec: dict, rows: int | None) -> pd.Series:
    enc = spec["enc"]
    if enc == "raw":
        dtype = np.dtype(spec["dtype"])
        if dtype.kind not in _FIXED_KINDS:
            raise ValueError(f"dtype {dtype} is not allowed in a raw column")
        arr = np.frombuffer(base64.b64decode(spec["b64"], validate=True), dtype=dtype)
        out = pd.Series(arr.astype(dtype.newbyteorder("="), copy=True), copy=False)
    elif enc == "object":
        out = pd.Series(np.array([_decode_cell(v) for v in spec["values"]] + [None],
                                 dtype=object)[:-1], dtype=object)
    elif enc == "string":
        dtype = (pd.StringDtype(spec["storage"], na_value=np.nan) if spec["na"] == "nan"
                 else pd.StringDtype(spec["storage"]))  # the latter works on pandas < 2.3 too
        out = pd.Series(pd.array(spec["values"], dtype=dtype))
    elif enc == "ext":
        dtype = pd.api.types.pandas_dtype(spec["dtype"])
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            raise ValueError(f"unexpected dtype {dtype} in an extension column")
        out = pd.Series(pd.array([_decode_cell(v) for v in spec["values"]], dtype=dtype))
    elif enc == "category":
        cats = pd.Index(_decode_col(spec["categories"], None))
        codes = _decode_col(spec["codes"], rows).to_numpy()
        dtype = pd.CategoricalDtype(cats, ordered=bool(spec["ordered"]))
        out = pd.Series(pd.Categorical.from_codes(codes, dtype=dtype))
    elif enc == "datetimetz":
        out = _decode_col(spec["utc"], rows).dt.tz_localize("UTC").dt.tz_convert(spec["tz"])
    else:
        raise ValueError(f"unknown column encoding {enc!r}")
    if rows is not None and len(out) != rows:
        raise ValueError(f"column has {len(out)} values, expected {rows}")
    return out

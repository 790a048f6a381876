"""A model's input/output signature, inferred from a fitted model and an example.

A signature is plain JSON::

    {"inputs": [{"name": "age", "type": "long", "nullable": False}, ...],
     "input_kind": "dataframe" | "ndarray",
     "outputs": {"type": "long", "shape": [-1]} | None,
     "predict_error": None | "ValueError: ...",
     "classes": [0, 1] | None,
     "has_proba": bool}

Types: ``long``, ``double``, ``boolean``, ``string``, ``datetime``,
``category`` (category inputs also list their ``categories``). No sklearn
import here: only the model's own attributes are used.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from modeldesk.core.errors import UsageError
from modeldesk.core.tracking.datasets import to_frame

TYPES = ("long", "double", "boolean", "string", "datetime", "category")


def column_type(dtype: Any) -> str:
    """The signature type name for a pandas or numpy dtype."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "long"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    return "string"


def to_json(value: Any) -> Any:
    """``value`` (numpy scalars/arrays, lists, tuples) as plain JSON types."""
    if isinstance(value, (np.ndarray, pd.Index, pd.Series)):
        value = np.asarray(value).tolist()
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def infer_signature(model: Any, input_example: Any) -> dict[str, Any]:
    """Infer the signature of fitted ``model`` from ``input_example``.

    ``input_example``: a DataFrame, 2-D numpy array, list of dicts or dict of
    lists. Column names of a numpy example come from ``model.feature_names_in_``
    when present, else ``f0..fN-1``; a named example holding every name in
    ``feature_names_in_`` is narrowed and ordered to them. ``input_kind`` is ``"ndarray"`` for a
    numpy example, ``"dataframe"`` otherwise, except that a model that
    records it was fit with feature names (``feature_names_in_``) always gets
    a DataFrame and a model fit without them (``n_features_in_`` only) always
    gets an array. The model is asked to ``predict`` (and ``predict_proba``)
    on the example; a failure is recorded in ``predict_error``, never raised.
    """
    is_array = isinstance(input_example, np.ndarray) and not input_example.dtype.names
    names = getattr(model, "feature_names_in_", None)
    columns = None
    if is_array and names is not None and input_example.ndim == 2 \
            and len(names) == input_example.shape[1]:
        columns = [str(n) for n in names]
    frame = to_frame(input_example, columns=columns)
    if names is not None and set(map(str, names)) <= set(map(str, frame.columns)):
        frame = frame.loc[:, [str(n) for n in names]]  # the model's own order, extras dropped
    if names is not None:
        kind = "dataframe"
    elif hasattr(model, "n_features_in_"):
        kind = "ndarray"
    else:
        kind = "ndarray" if is_array else "dataframe"
    inputs = []
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        field: dict[str, Any] = {"name": to_json(frame.columns[i]),
                                 "type": column_type(col.dtype),
                                 "nullable": bool(col.isna().any())}
        if field["type"] == "category":
            field["categories"] = to_json(col.cat.categories)
        inputs.append(field)
    signature: dict[str, Any] = {"inputs": inputs, "input_kind": kind, "outputs": None,
                                 "predict_error": None, "classes": None, "has_proba": False}
    classes = getattr(model, "classes_", None)
    if classes is not None:
        signature["classes"] = to_json(classes)
    try:
        X = numpy_input(signature, frame)
        signature["outputs"] = _output_spec(model.predict(X))
    except Exception as exc:  # any model error is data, not a crash
        signature["predict_error"] = f"{type(exc).__name__}: {exc}"
        return signature
    if hasattr(model, "predict_proba"):
        try:
            proba = np.asarray(model.predict_proba(X))
            signature["has_proba"] = bool(proba.ndim == 2 and proba.shape[0] == len(frame))
        except Exception:
            signature["has_proba"] = False
    return signature


def _output_spec(pred: Any) -> dict[str, Any]:
    if isinstance(pred, pd.DataFrame):
        return {"type": column_type(pred.dtypes.iloc[0]) if pred.shape[1] else "double",
                "shape": [-1, int(pred.shape[1])], "names": to_json(list(pred.columns))}
    if isinstance(pred, pd.Series):
        return {"type": column_type(pred.dtype), "shape": [-1]}
    arr = np.asarray(pred)
    return {"type": column_type(arr.dtype), "shape": [-1, *map(int, arr.shape[1:])]}


def input_columns(signature: dict[str, Any]) -> list:
    """The input column names of ``signature``, in order."""
    return [field["name"] for field in signature["inputs"]]


def example_frame(signature: dict[str, Any], input_example: Any) -> pd.DataFrame:
    """``input_example`` as a DataFrame with the signature's columns, in order.

    A numpy example is named positionally; a named example must contain every
    signature column (extra columns are dropped), else :class:`UsageError`.
    """
    cols = input_columns(signature)
    if isinstance(input_example, np.ndarray) and not input_example.dtype.names:
        if input_example.ndim != 2 or input_example.shape[1] != len(cols):
            raise UsageError(f"the example has shape {input_example.shape}; the signature "
                             f"has {len(cols)} input columns.")
        return to_frame(input_example, columns=cols)
    return _select(to_frame(input_example), cols)


def numpy_input(signature: dict[str, Any], df: pd.DataFrame) -> Any:
    """What to pass to ``model.predict`` for ``df``.

    The signature's columns, in order: a DataFrame when ``input_kind`` is
    ``"dataframe"``, else ``df[cols].to_numpy()``. Missing columns raise
    :class:`UsageError` naming them.
    """
    selected = _select(df, input_columns(signature))
    if signature.get("input_kind", "dataframe") == "dataframe":
        return selected
    return selected.to_numpy()


def _select(df: pd.DataFrame, cols: list) -> pd.DataFrame:
    present = set(df.columns)
    missing = [c for c in cols if c not in present]
    if missing:
        raise UsageError(f"missing input column(s): {', '.join(map(str, missing))}; "
                         f"the model expects {', '.join(map(str, cols))}.")
    if list(df.columns) == cols:
        return df
    return df.loc[:, cols]

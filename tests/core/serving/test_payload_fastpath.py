"""The fast paths for big requests give exactly what the general path gives.

``payloads._uniform_records`` (records that all hold the same keys),
``_split_table``'s C-speed checks and ``validation._numeric_frame`` (all-numeric
signatures) only skip work: on random inputs the tables, frames, warnings and
errors (code, message, status, column, row) must be identical to the general
path's, which the tests get by switching the fast path off.
"""

from __future__ import annotations

import json
import math
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldesk.core.serving import payloads, validation
from modeldesk.core.serving.payloads import ValidationError, _bad_format, _kind, _positional, _split_table
from modeldesk.core.serving.validation import validate, validate_payload

NAMES = ["a", "b", "c", "d"]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6).map(float),
    st.integers(min_value=-10, max_value=10).map(float),   # integral floats: fine in long columns
    st.integers(min_value=-2**70, max_value=2**70),
    st.integers(min_value=10**300, max_value=10**310),      # too large for a float
    st.booleans(), st.none(),
    st.sampled_from(["3.5", "-2.5e3", "abc", "", "nan", "1_000", "x", "a", "2026-05-03", "true", "1"]),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from(["k"]), st.integers(), max_size=1),
)
clean = st.one_of(st.floats(min_value=-1e9, max_value=1e9), st.integers(min_value=-2**40, max_value=2**40))
key_sets = st.lists(st.sampled_from(NAMES + ["x", "y"]), min_size=0, max_size=6, unique=True)


@st.composite
def record_lists(draw):
    """Mostly uniform records (the fast path's shape, in shuffled key order), sometimes not."""
    n = draw(st.integers(min_value=0, max_value=8))
    keys = draw(key_sets)
    vals = clean if draw(st.booleans()) else values
    recs = []
    for _ in range(n):
        if draw(st.integers(0, 5)) == 0:   # an odd one out: other keys, or not an object
            recs.append(draw(st.one_of(st.dictionaries(st.sampled_from(NAMES + ["z"]), vals, max_size=5),
                                       values)))
        else:
            order = draw(st.permutations(keys))
            recs.append({k: draw(vals) for k in order})
    return recs


fields = st.fixed_dictionaries(
    {"name": st.sampled_from(NAMES), "type": st.sampled_from(["double", "long", "double", "long", "string",
                                                                "boolean", "category"])},
    optional={"nullable": st.booleans()})


@st.composite
def signatures(draw):
    fs = draw(st.lists(fields, min_size=1, max_size=4, unique_by=lambda f: f["name"]))
    for f in fs:
        if f["type"] == "category":
            f["categories"] = ["a", "x", 1]
    return {"inputs": fs}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return type(a) is type(b) and a == b


def _table_view(table) -> tuple:
    cols = {}
    for k in table.names if table.names is not None else range(len(table._rows[0]) if table._rows else 0):
        cols[k] = table.column(k)
    return table.names, table.n_rows, table.text, cols


def _assert_tables_equal(fast, slow) -> None:
    f_names, f_n, f_text, f_cols = _table_view(fast)
    s_names, s_n, s_text, s_cols = _table_view(slow)
    assert (f_names, f_n, f_text) == (s_names, s_n, s_text)
    assert list(f_cols) == list(s_cols)
    for k in f_cols:
        assert len(f_cols[k]) == len(s_cols[k])
        assert all(_same(a, b) for a, b in zip(f_cols[k], s_cols[k])), k


def _outcome(fn, *args, **kw) -> tuple:
    try:
        result = fn(*args, **kw)
    except ValidationError as exc:
        return ("error", exc.code, exc.message, exc.status, exc.column, exc.row)
    return ("ok", result)


def _assert_same_outcome(fast: tuple, slow: tuple) -> None:
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] == "error":
        assert fast == slow
        return
    f, s = fast[1], slow[1]
    if isinstance(f, validation.Batch):
        pd.testing.assert_frame_equal(f.frame, s.frame, check_exact=True)
        assert list(f.frame.dtypes) == list(s.frame.dtypes)
        assert (f.warnings, f.rejected) == (s.warnings, s.rejected)
        np.testing.assert_array_equal(f.positions, s.positions)
    else:
        _assert_tables_equal(f, s)


def _slow():
    """Both fast paths switched off: the general path, as before them."""
    return (mock.patch.object(payloads, "_uniform_records", lambda recs: None),
            mock.patch.object(validation, "_numeric_frame", lambda table, keys, fields: None))


def _run_both(fn, *args, **kw) -> tuple[tuple, tuple]:
    fast = _outcome(fn, *args, **kw)
    p1, p2 = _slow()
    with p1, p2:
        slow = _outcome(fn, *args, **kw)
    return fast, slow


@SETTINGS
@given(record_lists())
def test_records_table_fast_and_general_agree(recs):
    fast, slow = _run_both(payloads._records_table, recs, '"records"')
    _assert_same_outcome(fast, slow)


@SETTINGS
@given(record_lists(), signatures(), st.booleans())
def test_validate_records_fast_and_general_agree(recs, signature, collect):
    table = _outcome(payloads._records_table, recs, '"records"')
    if table[0] == "error":
        return
    fast, slow = _run_both(validate, table[1], signature, collect=collect)
    _assert_same_outcome(fast, slow)


@SETTINGS
@given(record_lists(), signatures(), st.sampled_from(["records", "dataframe_records", "instances", "bare"]))
def test_json_bodies_fast_and_general_agree(recs, signature, shape):
    """The server's whole path from body bytes: the same frame, or the same error."""
    obj = recs if shape == "bare" else {shape: recs}
    try:
        body = json.dumps(obj).encode()
    except ValueError:
        return
    mlflow = shape in ("dataframe_records", "instances")
    fast, slow = _run_both(validate_payload, body, "application/json", signature, mlflow=mlflow)
    _assert_same_outcome(fast, slow)


def _split_table_before(columns: Any, data: Any, what: str):
    """``payloads._split_table`` as it was before its fast checks (the reference)."""
    if not isinstance(data, list):
        raise _bad_format(f"{what}: \"data\" must be a list of rows, each a list of values.")
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
    for i, row in enumerate(rows):
        if len(row) != len(names):
            raise _bad_format(f"{what}: data[{i}] has {len(row)} values for {len(names)} columns.")
    return payloads.Table(names, len(rows), rows=rows)


@st.composite
def splits(draw):
    columns = draw(st.one_of(st.none(), key_sets, st.lists(st.sampled_from(NAMES), max_size=4)))
    width = len(columns) if columns else draw(st.integers(0, 4))
    vals = clean if draw(st.booleans()) else values
    n = draw(st.integers(0, 8))
    data = []
    for _ in range(n):
        if draw(st.integers(0, 6)) == 0:   # ragged, or not a list
            data.append(draw(st.one_of(st.lists(vals, max_size=6), values)))
        else:
            data.append([draw(vals) for _ in range(width)])
    return columns, data


@SETTINGS
@given(splits())
def test_split_table_matches_the_general_checks(split):
    columns, data = split
    fast = _outcome(_split_table, columns, data, "the body")
    slow = _outcome(_split_table_before, columns, data, "the body")
    _assert_same_outcome(fast, slow)


@SETTINGS
@given(splits(), signatures())
def test_split_bodies_fast_and_general_agree(split, signature):
    columns, data = split
    obj = {"columns": columns, "data": data} if columns is not None else {"data": data}
    fast, slow = _run_both(validate_payload, json.dumps({"dataframe_split": obj}).encode(), "application/json",
                           signature, mlflow=True)
    _assert_same_outcome(fast, slow)


@pytest.mark.parametrize("kinds", [("double", "double"), ("long", "double"), ("long", "long")])
def test_the_fast_paths_are_taken_for_the_common_shapes(kinds):
    """Clean numeric records take both fast paths (else the speed-up is silently gone)."""
    signature = {"inputs": [{"name": n, "type": k} for n, k in zip(("a", "b"), kinds)]}
    table = payloads._records_table([{"b": 2, "a": 1.0}, {"a": 3, "b": 4.0}], '"records"')
    assert table._records is None and table.names == ["b", "a"]
    frame = validation._numeric_frame(table, ["a", "b"], signature["inputs"])
    assert frame is not None
    assert frame.to_dict("list") == {"a": [1, 3], "b": [2, 4]}
    assert [str(t) for t in frame.dtypes] == ["int64" if k == "long" else "float64" for k in kinds]


@pytest.mark.parametrize("value, code", [(41.5, "wrong_type"), (2.0 ** 63, "wrong_type"), (True, "wrong_type"),
                                         ("abc", "wrong_type"), (None, "null_value"), (float("inf"), "wrong_type")])
def test_a_bad_value_in_a_long_column_falls_back_to_the_same_error(value, code):
    signature = {"inputs": [{"name": "a", "type": "long"}, {"name": "b", "type": "double"}]}
    recs = [{"a": 1, "b": 2.0}, {"a": value, "b": 3.0}]
    fast, slow = _run_both(validate_payload, json.dumps({"records": recs}).encode(), "application/json", signature)
    assert fast[0] == "error" and fast[1] == code
    assert fast == slow

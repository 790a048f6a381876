"""Request bodies in NumPy's .npy format (``application/x-npy``): the path for many rows.

The same rows must be accepted or refused exactly as their JSON spelling is
(same frame, or same error code, message, column and row), and a hostile body
must be refused with a 400 before anything is unpickled or allocated.
"""

from __future__ import annotations

import io
import json
import math
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldesk.core.serving.npy_payload import NPY_MEDIA_TYPE
from modeldesk.core.serving.validation import ValidationError, validate_payload

NUMERIC_SIG = {"inputs": [{"name": "a", "type": "double", "nullable": False},
                          {"name": "b", "type": "long", "nullable": False},
                          {"name": "c", "type": "double", "nullable": True}], "input_kind": "dataframe"}
MIXED_SIG = {"inputs": [{"name": "age", "type": "long", "nullable": False},
                        {"name": "income", "type": "double", "nullable": True},
                        {"name": "member", "type": "boolean", "nullable": False},
                        {"name": "plan", "type": "string", "nullable": False},
                        {"name": "tier", "type": "category", "nullable": False, "categories": ["gold", "silver"]},
                        {"name": "since", "type": "datetime", "nullable": True}], "input_kind": "dataframe"}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def outcome(body: bytes, ctype: str, sig: dict, *, mlflow: bool = False):
    """The frame, or the error's (code, message, status, column, row)."""
    try:
        return validate_payload(body, ctype, sig, mlflow=mlflow).frame
    except ValidationError as exc:
        return (exc.code, exc.message, exc.status, exc.column, exc.row)


def same(a, b) -> None:
    assert type(a) is type(b), (a, b)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    else:
        assert a == b


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                    st.floats(min_value=-1e6, max_value=1e6), st.integers(-10, 10).map(float),
                    st.sampled_from([0.5, 2.0 ** 63, -2.0 ** 63, 2.0 ** 64, 1e300]))
ints = st.integers(min_value=-2 ** 63, max_value=2 ** 63 - 1)


@SETTINGS
@given(st.lists(st.tuples(numbers, numbers, numbers), min_size=1, max_size=6),
       st.sampled_from(["<f8", ">f8", "<f4", "<f2"]), st.sampled_from(["<f8", "<i8", "<i4", "<u8", "|u1"]),
       st.booleans(), st.booleans())
def test_numeric_npy_is_read_like_the_same_rows_in_json(rows, float_type, b_type, structured, shuffle):
    """Floats of any width and byte order, integers, NaN, inf, huge values: the .npy answer is JSON's."""
    if b_type != "<f8":   # an integer field holds integers: clip what does not fit, as a client's cast would
        info = np.iinfo(np.dtype(b_type))
        rows = [(a, int(min(max(b, info.min), info.max)) if math.isfinite(b) else 0, c) for a, b, c in rows]
    names = ["a", "b", "c"] if not shuffle else ["c", "a", "b"]
    order = [["a", "b", "c"].index(n) for n in names]
    typed = [tuple(r[i] for i in order) for r in rows]
    if structured:
        dtype = [(n, b_type if n == "b" else float_type) for n in names]
        with np.errstate(over="ignore"):
            array = np.array(typed, dtype=dtype)
        body = npy(array)
        as_text = [[array[n][i].item() for n in names] for i in range(len(array))]
        expected = outcome(json.dumps({"columns": names, "data": as_text}).encode(), "application/json",
                           NUMERIC_SIG)
    else:   # one dtype for the whole 2-D array, columns in the signature's order: JSON's positional
        with np.errstate(over="ignore"):   # spelling is MLflow's list of lists
            array = np.array(rows, dtype=float_type)
        body = npy(array)
        expected = outcome(json.dumps({"instances": array.tolist()}).encode(), "application/json", NUMERIC_SIG,
                           mlflow=True)
    same(outcome(body, NPY_MEDIA_TYPE, NUMERIC_SIG), expected)


@SETTINGS
@given(st.lists(st.tuples(ints, st.booleans(), st.sampled_from(["pro", "", "basic", "nan", " x "]),
                          st.sampled_from(["gold", "silver", "bronze", ""]),
                          st.sampled_from(["2024-03-01T10:00:00", "NaT", "1999-12-31"])), min_size=1, max_size=5),
       st.sampled_from(["?", "<i8", "<U5"]))
def test_mixed_types_in_a_structured_npy_are_read_like_json_records(rows, member_type):
    """Booleans, text, categories and datetime64 fields, against the same records in JSON."""
    dtype = [("age", "<i8"), ("income", "<f8"), ("member", member_type), ("plan", "<U8"), ("tier", "<U8"),
             ("since", "<M8[s]")]
    values = [(age, 1.5, member if member_type == "?" else (int(member) if member_type == "<i8" else str(member)),
               plan, tier, np.datetime64(since) if since != "NaT" else np.datetime64("NaT"))
              for age, member, plan, tier, since in rows]
    array = np.array(values, dtype=dtype)
    records = [{"age": int(r["age"]), "income": 1.5,
                "member": r["member"].item(), "plan": str(r["plan"]), "tier": str(r["tier"]),
                "since": None if np.isnat(r["since"]) else str(np.datetime_as_string(r["since"]))}
               for r in array]
    expected = outcome(json.dumps({"records": records}).encode(), "application/json", MIXED_SIG)
    same(outcome(npy(array), NPY_MEDIA_TYPE, MIXED_SIG), expected)


def test_a_real_frame_round_trips_both_ways():
    frame = pd.DataFrame({"a": [0.1, 2.5, -3.0], "b": [1, 2, 3], "c": [np.nan, 1.0, 2.0]})
    for body in (npy(frame.to_records(index=False)), npy(frame[["c", "b", "a"]].to_records(index=False))):
        got = validate_payload(body, NPY_MEDIA_TYPE, NUMERIC_SIG).frame
        pd.testing.assert_frame_equal(got, frame)
    got = validate_payload(npy(np.asfortranarray(frame.to_numpy())), NPY_MEDIA_TYPE, NUMERIC_SIG).frame
    pd.testing.assert_frame_equal(got, frame)   # Fortran order is read in the right order


def refused(body: bytes, code: str, *words: str, status: int = 400, sig=NUMERIC_SIG, max_rows=20_000):
    with pytest.raises(ValidationError) as info:
        validate_payload(body, NPY_MEDIA_TYPE, sig, max_rows=max_rows)
    err = info.value
    assert (err.code, err.status) == (code, status), err.message
    for word in words:
        assert word in err.message, err.message
    return err


class Explodes:
    """Unpickling this runs code: it would write a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickled_object_array_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "ran"
    body = npy(np.array([Explodes(str(marker))], dtype=object))
    refused(body, "bad_format", "Python objects", "never unpickles")
    assert not marker.exists()


def test_a_header_claiming_a_huge_array_allocates_nothing():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10 ** 12, 30)})
    t = time.perf_counter()
    refused(header.getvalue() + b"\0" * 64, "bad_format", "declares shape (1000000000000, 30)", "64 bytes follow")
    assert time.perf_counter() - t < 5   # refused from the header, not by trying to read 240 TB


def test_cut_short_padded_and_foreign_bodies_are_refused():
    good = npy(np.zeros((4, 3)))
    refused(good[:-1], "bad_format", "cut short")
    refused(good + b"\0", "bad_format", "padded")
    refused(b"PK\x03\x04 a zip file", "bad_format", "not a .npy file")
    refused(good[:9], "bad_format")   # the magic string, then nothing readable
    refused(b"\x93NUMPY\x09\x00" + good[8:], "bad_format", "version 9.0")
    big_header = io.BytesIO()
    np.lib.format.write_array_header_2_0(big_header, {"descr": [(f"f{i}" * 50, "<f8") for i in range(2000)],
                                                      "fortran_order": False, "shape": (0,)})
    refused(big_header.getvalue(), "bad_format", "header cannot be read")


def test_shapes_and_types_no_column_takes_are_named():
    refused(npy(np.zeros((2, 3, 4))), "bad_format", "shape (2, 3, 4)")
    refused(npy(np.zeros((2, 2), dtype=[("a", "<f8")])), "bad_format", "shape (2, 2)")
    refused(npy(np.zeros(2, dtype=[("a", "<f8", (3,)), ("b", "<i8"), ("c", "<f8")])), "bad_format",
            "'a'", "sub-array")
    refused(npy(np.zeros((2, 3), dtype=complex)), "bad_format", "complex")
    refused(npy(np.array([[b"x", b"y", b"z"]])), "bad_format", "bytes", "'U'")
    refused(npy(np.zeros(2, dtype=[("a", "<m8[s]"), ("b", "<i8"), ("c", "<f8")])), "bad_format", "time spans")
    refused(npy(np.zeros(2, dtype=[("a", "<M8"), ("b", "<i8"), ("c", "<f8")])), "bad_format", "without a unit")
    for order in "<>":   # a code unit beyond U+10FFFF (random bytes in a 'U' column), either byte order
        text = np.frombuffer(np.array([[0x41, 0x110000, 0x42]], dtype=order + "u4").tobytes(), dtype=order + "U1")
        refused(npy(text.reshape(1, 3)), "bad_format", "beyond U+10FFFF")
    refused(npy(np.zeros(2, dtype=[("a", [("x", "<f8")]), ("b", "<i8"), ("c", "<f8")])), "bad_format",
            "nested fields")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<U0", "fortran_order": False, "shape": (2, 3)})
    refused(header.getvalue(), "bad_format", "size zero")
    wide = validate_payload(npy(np.ones((2, 3), dtype=np.longdouble)), NPY_MEDIA_TYPE, NUMERIC_SIG).frame
    assert wide["a"].dtype == np.float64 and wide["b"].tolist() == [1, 1]   # long double read as a double


def test_rows_and_columns_are_checked_like_any_body():
    refused(npy(np.zeros((0, 3))), "no_rows")
    refused(npy(np.zeros((5, 3))), "too_many_rows", status=413, max_rows=4)
    refused(npy(np.zeros((2, 4))), "wrong_width", "4 values", "3 columns")
    refused(npy(np.zeros(2, dtype=[("a", "<f8"), ("b", "<i8")])), "missing_columns", "'c'")
    err = refused(npy(np.array([[1.0, 2.5, 0.0]])), "wrong_type", "not a whole number")
    assert err.column == "b"
    err = refused(npy(np.array([[1.0, 2.0, 0.0], [np.nan, 1.0, 0.0]])), "null_value", "(row 1)")
    assert err.column == "a"


@pytest.mark.filterwarnings("ignore:Stored array in format 3.0")
def test_utf8_field_names_and_a_one_record_array():
    sig = {"inputs": [{"name": "年齢", "type": "double", "nullable": False}], "input_kind": "dataframe"}
    body = npy(np.array([(41.0,), (7.5,)], dtype=[("年齢", "<f8")]))
    assert body[6:8] == b"\x03\x00"   # numpy wrote format 3.0 for the non-latin-1 name
    assert validate_payload(body, NPY_MEDIA_TYPE, sig).frame["年齢"].tolist() == [41.0, 7.5]
    one = np.array((3.0, 4, 5.0), dtype=[("a", "<f8"), ("b", "<i8"), ("c", "<f8")])   # 0-d: one row
    assert validate_payload(npy(one), NPY_MEDIA_TYPE, NUMERIC_SIG).frame.shape == (1, 3)
    column = validate_payload(npy(np.array([1.0, 2.0])), NPY_MEDIA_TYPE, {"inputs": sig["inputs"]}).frame
    assert column["年齢"].tolist() == [1.0, 2.0]   # a 1-D array is one column
    head = body[:8] + (10).to_bytes(4, "little") + b"{'descr': "   # a 3.0 header cut off
    refused(head, "bad_format", "header cannot be read", sig=sig)
    nested = "{'descr': " + "[" * 5000 + "]" * 5000 + ", 'fortran_order': False, 'shape': (1,)}"
    refused(body[:8] + len(nested).to_bytes(4, "little") + nested.encode(), "bad_format", sig=sig)

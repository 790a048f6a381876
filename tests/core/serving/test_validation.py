"""core.validation: payload formats and the rules rows are checked by (server and batch scoring)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modeldesk.core.serving.validation import (
    Table,
    ValidationError,
    model_input,
    parse_csv,
    parse_payload,
    validate,
    validate_payload,
)

SIG = {"inputs": [{"name": "age", "type": "long", "nullable": False},
                  {"name": "income", "type": "double", "nullable": True},
                  {"name": "member", "type": "boolean", "nullable": False},
                  {"name": "plan", "type": "string", "nullable": False},
                  {"name": "tier", "type": "category", "nullable": False, "categories": ["gold", "silver"]},
                  {"name": "since", "type": "datetime", "nullable": True}],
       "input_kind": "dataframe"}
ROW = {"age": 41, "income": 52000.5, "member": True, "plan": "pro", "tier": "gold", "since": "2024-03-01"}


def check(body, ctype="application/json", mlflow=False, sig=SIG):
    data = json.dumps(body).encode() if not isinstance(body, (bytes, str)) else body
    return validate_payload(data if isinstance(data, bytes) else data.encode(), ctype, sig, mlflow=mlflow)


def fails(body, code, *words, status=None, **kw):
    with pytest.raises(ValidationError) as info:
        check(body, **kw)
    err = info.value
    assert err.code == code, err.message
    for word in words:
        assert word in err.message, err.message
    if status is not None:
        assert err.status == status
    return err


def test_records_convert_to_the_trained_types():
    batch = check({"records": [ROW, {**ROW, "age": 52.0, "income": None, "member": "no", "since": None}]})
    frame = batch.frame
    assert list(frame.columns) == [f["name"] for f in SIG["inputs"]]
    assert frame["age"].dtype == np.int64 and frame["age"].tolist() == [41, 52]
    assert frame["income"].dtype == np.float64 and math.isnan(frame["income"].iloc[1])
    assert frame["member"].tolist() == [True, False] and frame["member"].dtype == bool
    assert isinstance(frame["tier"].dtype, pd.CategoricalDtype)
    assert list(frame["tier"].cat.categories) == ["gold", "silver"]
    assert frame["since"].iloc[0] == pd.Timestamp("2024-03-01") and pd.isna(frame["since"].iloc[1])
    assert batch.warnings == [] and batch.n_rows == 2


def test_column_order_does_not_matter_and_extras_are_named():
    shuffled = dict(reversed(list(ROW.items())))
    batch = check({"records": [{**shuffled, "zip": "0101", "score": 3}]})
    assert list(batch.frame.columns)[0] == "age"
    assert batch.warnings == ["ignored unknown column(s) 'zip', 'score'"]


def test_columns_and_data():
    cols = list(ROW)[::-1]
    batch = check({"columns": cols, "data": [[ROW[c] for c in cols]]})
    assert batch.frame["plan"].tolist() == ["pro"]


def test_integer_rules():
    assert check({"records": [{**ROW, "age": "41"}]}).frame["age"].tolist() == [41]
    assert check({"records": [{**ROW, "age": " 41.0 "}]}).frame["age"].tolist() == [41]
    fails({"records": [{**ROW, "age": 41.5}]}, "wrong_type", "'age'", "whole number")
    fails({"records": [{**ROW, "age": 1e30}]}, "wrong_type", "integer range")


def test_big_integers_stay_exact():
    """Integers beyond 2**53 round as floats: a long column keeps them exact, in every format."""
    for value in (2 ** 63 - 1, -2 ** 63, 2 ** 60 + 1, -(2 ** 53) - 1):
        assert check({"records": [{**ROW, "age": value}]}).frame["age"].tolist() == [value]
        assert check({"records": [{**ROW, "age": value}, {**ROW, "age": 3}]}).frame["age"].tolist() == [value, 3]
        assert check({"records": [{**ROW, "age": str(value)}]}).frame["age"].tolist() == [value]
    sig = {"inputs": [{"name": "n", "type": "long", "nullable": False}, {"name": "x", "type": "double"}]}
    frame = check({"columns": ["n", "x"], "data": [[2 ** 60 + 1, 0.5], [7, 1.5]]}, sig=sig).frame   # fast path
    assert frame["n"].tolist() == [2 ** 60 + 1, 7] and frame["n"].dtype == np.int64
    assert check(b"n,x\n9223372036854775807,1\n", ctype="text/csv", sig=sig).frame["n"].tolist() == [2 ** 63 - 1]
    fails({"records": [{**ROW, "age": 2 ** 63}]}, "wrong_type", "integer range")
    fails({"records": [{**ROW, "age": -2 ** 63 - 1}]}, "wrong_type", "integer range")


def test_number_rules():
    fails({"records": [{**ROW, "income": "lots"}]}, "wrong_type", "'income'", "'lots' is not a number")
    fails({"records": [{**ROW, "income": True}]}, "wrong_type", "'income'", "boolean")
    fails({"records": [{**ROW, "income": [1]}]}, "wrong_type", "a list")
    fails({"records": [{**ROW, "income": {"a": 1}}]}, "wrong_type", "an object")
    fails(json.dumps({"records": [{**ROW, "income": 1.0}]}).replace("1.0", "Infinity"), "wrong_type", "finite")
    fails({"records": [{**ROW, "age": 10**400}]}, "wrong_type", "too large")
    # NaN and empty strings are a missing value: fine where training had some
    assert math.isnan(check({"records": [{**ROW, "income": "NaN"}]}).frame["income"].iloc[0])
    assert math.isnan(check({"records": [{**ROW, "income": ""}]}).frame["income"].iloc[0])


def test_nulls_only_where_training_had_some():
    fails({"records": [{**ROW, "age": None}]}, "null_value", "'age'", "had none in training")
    fails({"records": [{**ROW, "plan": None}]}, "null_value", "'plan'")
    fails({"records": [ROW, {k: v for k, v in ROW.items() if k != "plan"}]}, "null_value", "'plan'", "row 1",
          "no value")
    # in JSON an empty string is a string; in CSV an empty cell is missing
    assert check({"records": [{**ROW, "plan": ""}]}).frame["plan"].tolist() == [""]


def test_other_types():
    fails({"records": [{**ROW, "member": "perhaps"}]}, "wrong_type", "'member'", "true or false")
    fails({"records": [{**ROW, "tier": "bronze"}]}, "wrong_type", "'tier'", "not a category", "'gold'")
    fails({"records": [{**ROW, "since": "yesterday-ish"}]}, "wrong_type", "'since'", "ISO 8601")
    fails({"records": [{**ROW, "plan": ["a"]}]}, "wrong_type", "'plan'", "expected a string")
    assert check({"records": [{**ROW, "plan": 7}]}).frame["plan"].tolist() == ["7"]


def test_missing_columns_are_all_named():
    err = fails({"records": [{"age": 3}]}, "missing_columns", "'income'", "'tier'", status=400)
    assert err.column == "income"


def test_payload_errors():
    fails(b"", "empty_body", status=400)
    fails(b"{nope", "malformed_json", "line 1", status=400)
    fails({"records": []}, "no_rows", status=400)
    fails({"records": "x"}, "bad_format", status=400)
    fails({"records": [1, 2]}, "bad_format", "records\"[0]", status=400)
    fails({"columns": ["a", "a"], "data": [[1, 2]]}, "bad_format", "twice")
    fails({"whatever": 1}, "bad_format", "'whatever'")
    fails({"records": [ROW]}, "unsupported_media_type", status=415, ctype="text/html")
    fails({"records": [ROW]}, "unsupported_media_type", status=415, ctype=None)


def test_too_many_rows():
    with pytest.raises(ValidationError) as info:
        parse_payload(json.dumps({"records": [ROW] * 11}).encode(), "application/json", max_rows=10)
    assert info.value.code == "too_many_rows" and info.value.status == 413


def test_csv_rules():
    text = "plan,age,income,member,tier,since,extra\npro,41,,true,gold,2024-01-01,x\nbasic,7.0,NA,0,silver,,y\n"
    batch = check(text.encode(), ctype="text/csv")
    assert batch.frame["age"].tolist() == [41, 7] and batch.frame["member"].tolist() == [True, False]
    assert batch.frame["income"].isna().all() and "'extra'" in batch.warnings[0]
    fails(b"plan,age\npro,3", "missing_columns", "'income'", ctype="text/csv")
    fails("age,plan,income,member,tier,since\n,pro,1,true,gold,\n", "null_value", "'age'", ctype="text/csv")
    fails("age,plan,income,member,tier,since\n1,,1,true,gold,\n", "null_value", "'plan'", ctype="text/csv")
    with pytest.raises(ValidationError, match="twice"):
        parse_csv("a,a\n1,2\n")
    with pytest.raises(ValidationError) as info:
        parse_csv(b"a,b\n\xff\xfe,1\n")
    assert info.value.code == "malformed_csv"
    assert parse_csv("\ufeffa,b\n1,2\n\n").names == ["a", "b"]   # BOM and blank lines


def test_mlflow_formats():
    sig = {"inputs": [{"name": "x", "type": "double", "nullable": False},
                      {"name": "y", "type": "double", "nullable": False}]}
    want = [[1.0, 2.0], [3.0, 4.0]]
    bodies = [
        {"dataframe_split": {"columns": ["y", "x"], "data": [[2, 1], [4, 3]]}},
        {"dataframe_split": {"index": [5, 6], "columns": ["x", "y"], "data": want}},
        {"dataframe_split": {"data": want}},
        {"dataframe_records": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]},
        {"instances": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]},
        {"instances": want},
        {"inputs": {"x": [1, 3], "y": [2, 4]}},
        {"inputs": [[1, 2], [3, 4]]},
    ]
    for body in bodies:
        assert check(body, mlflow=True, sig=sig).frame.to_numpy().tolist() == want, body
    one = check({"inputs": {"x": 1, "y": 2}}, mlflow=True, sig=sig)
    assert one.frame.to_numpy().tolist() == [[1.0, 2.0]]
    assert check({"instances": [1, 2, 3]}, mlflow=True,
                 sig={"inputs": [{"name": "x", "type": "double"}]}).n_rows == 3
    assert "params" in check({"instances": want, "params": {"k": 1}}, mlflow=True, sig=sig).warnings[0]
    fails({"records": want}, "bad_format", "exactly one", mlflow=True, sig=sig)
    fails({"instances": [[1, 2, 3]]}, "wrong_width", "'x', 'y'", mlflow=True, sig=sig)
    fails({"instances": [[1, 2], [3]]}, "bad_format", "row 1", mlflow=True, sig=sig)
    fails({"inputs": {"x": [1, 2], "y": [1]}}, "bad_format", "different lengths", mlflow=True, sig=sig)
    fails([1, 2], "bad_format", mlflow=True, sig=sig)


def test_collect_mode_keeps_good_rows_and_lists_bad_ones():
    frame = pd.DataFrame({"age": [1, 2, 3, 4], "income": [1.0, np.nan, 3.0, 4.0], "member": [True] * 4,
                          "plan": ["a", "b", None, "d"], "tier": ["gold", "gold", "gold", "tin"],
                          "since": [None] * 4})
    batch = validate(Table.from_frame(frame), SIG, collect=True)
    assert batch.positions.tolist() == [0, 1]
    assert [pos for pos, _ in batch.rejected] == [2, 3]
    assert "'plan'" in batch.rejected[0][1] and "'tin'" in batch.rejected[1][1]
    assert batch.frame["age"].tolist() == [1, 2]


def test_model_input_follows_input_kind():
    frame = pd.DataFrame({"a": [1.0]})
    assert model_input({"input_kind": "dataframe"}, frame) is frame
    assert isinstance(model_input({"input_kind": "ndarray"}, frame), np.ndarray)


def test_no_signature_is_a_clear_error():
    with pytest.raises(ValidationError, match="input example"):
        validate(Table(["a"], 1, columns={"a": [1]}), {"inputs": []})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6),
                          st.lists(st.integers(), max_size=2)), min_size=1, max_size=5))
def test_any_cell_either_passes_or_is_a_named_400(values):
    sig = {"inputs": [{"name": "v", "type": t, "nullable": n}
                      for t, n in [("double", False)]]}
    for kind in ("double", "long", "boolean", "string"):
        for nullable in (False, True):
            sig = {"inputs": [{"name": "v", "type": kind, "nullable": nullable}]}
            try:
                batch = validate(Table(["v"], len(values), columns={"v": values}), sig)
            except ValidationError as err:
                assert err.status == 400 and "'v'" in err.message
            else:
                assert batch.n_rows == len(values)


# -- strict parsing (issue 9, item 6) ------------------------------------------------------------
STRICT = {"inputs": [{"name": "x", "type": "double", "nullable": False},
                     {"name": "when", "type": "datetime", "nullable": False}], "input_kind": "dataframe"}


@pytest.mark.parametrize("text", ["1_000", "\uff11\uff12", "0x1f", "1,5", "1.5.2", " ", "12abc"])
def test_numbers_are_json_numbers_or_plain_ascii_decimals(text):
    if not text.strip():
        fails({"records": [{"x": text, "when": "2026-01-01"}]}, "null_value", "x", sig=STRICT)
    else:
        fails({"records": [{"x": text, "when": "2026-01-01"}]}, "wrong_type", "x", "not a number", sig=STRICT)


@pytest.mark.parametrize("text", ["1000", "-2.5e3", "+.5", " 7 "])
def test_plain_decimal_strings_are_numbers(text):
    assert check({"records": [{"x": text, "when": "2026-01-01"}]}, sig=STRICT).frame["x"][0] == float(text)


@pytest.mark.parametrize("text", ["", "  ", "nan", "NaN", "null"])
def test_a_blank_or_nan_date_is_a_missing_value(text):
    fails({"records": [{"x": 1, "when": text}]}, "null_value", "when", sig=STRICT)


@pytest.mark.parametrize("text", ["1,5", "5", "May 3 2026", "03/05/2026", "2026", "tomorrow"])
def test_dates_are_iso_8601_only(text):
    fails({"records": [{"x": 1, "when": text}]}, "wrong_type", "when", "ISO 8601", sig=STRICT)


@pytest.mark.parametrize("text", ["2026-05-03", "2026-05-03T14:30:00", "2026-05-03T14:30:00Z", "2026-05-03 14:30"])
def test_iso_dates_pass(text):
    assert check({"records": [{"x": 1, "when": text}]}, sig=STRICT).frame["when"][0].year == 2026

"""modeldesk.core.tracking.datasets: coercion, fingerprint, profile, sample, encoding."""

from __future__ import annotations

import gzip
import json
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from modeldesk.core.errors import UsageError
from modeldesk.core.tracking.datasets import decode_frame, encode_frame, fingerprint, profile, sample, to_frame
from support.data import breast_cancer

APP = str(Path(__file__).resolve().parents[3] / "app")


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    X, y = breast_cancer()
    return X.assign(target=y)   # the bunch's .frame: features and target


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine
    return load_wine(as_frame=True).frame


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "i": np.array([1, -2, 3, 4], dtype="int64"),
        "f": [1.5, np.nan, -np.inf, 0.0],
        "b": [True, False, True, True],
        "o": pd.Series(["a", None, "c", "a"], dtype=object),
        "s": ["x", None, "z", "x"],
        "c": pd.Categorical(["u", "v", None, "u"]),
        "oc": pd.Categorical([3, 1, 3, 2], categories=[3, 2, 1], ordered=True),
        "d": pd.to_datetime(["2020-01-01 00:00", None, "2021-05-05 10:00", "1999-12-31 23:59"]),
        "tz": pd.to_datetime(["2020-01-01", None, "2021-05-05", "2021-11-01"]).tz_localize("Europe/Berlin"),
        "I": pd.array([1, None, 3, 4], dtype="Int64"),
        "mix": pd.Series([1, "a", np.nan, 2.5], dtype=object),
        "f32": np.array([1, 2, 3, 0.1], dtype="float32"),
    }).set_axis([10, 11, 12, 13])  # a non-default index, which encoding drops


# ---------------------------------------------------------------- to_frame

def test_to_frame_accepts_the_documented_shapes(wine):
    assert to_frame(wine) is wine
    arr = to_frame(np.arange(6).reshape(2, 3))
    assert list(arr.columns) == ["f0", "f1", "f2"] and arr.iloc[1, 2] == 5
    named = to_frame(np.zeros((1, 2)), columns=["a", "b"])
    assert list(named.columns) == ["a", "b"]
    records = to_frame([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    assert list(records.columns) == ["a", "b"] and records["a"].tolist() == [1, 2]
    cols = to_frame({"a": [1, 2], "b": [0.5, 1.5]})
    assert cols.shape == (2, 2)


def test_to_frame_xy_tuple(wine):
    X, y = wine.drop(columns="target"), wine["target"]
    df = to_frame((X, y))
    assert df.shape == wine.shape and df["target"].tolist() == y.tolist()
    df = to_frame((X.to_numpy(), y.to_numpy()), target="label")
    assert df.columns[-1] == "label" and df.columns[0] == "f0"
    # y is placed by position, not aligned on a different index
    shifted = to_frame((X.iloc[:5], pd.Series([9, 8, 7, 6, 5], index=range(100, 105))))
    assert shifted["target"].tolist() == [9, 8, 7, 6, 5]


@pytest.mark.parametrize("bad", [42, "a,b\n1,2", {1, 2}, np.arange(3), [1, 2, 3], None])
def test_to_frame_rejects_other_types_with_a_clear_message(bad):
    with pytest.raises(UsageError) as err:
        to_frame(bad)
    assert "DataFrame" in str(err.value) or "2-D" in str(err.value)


def test_to_frame_rejects_mismatches():
    with pytest.raises(UsageError, match="3 rows but y has 2"):
        to_frame((np.zeros((3, 2)), [1, 2]))
    with pytest.raises(UsageError, match="column names"):
        to_frame(np.zeros((3, 2)), columns=["only_one"])
    with pytest.raises(UsageError):
        to_frame({"a": [1, 2], "b": [1]})


# ---------------------------------------------------------------- fingerprint

def test_fingerprint_ignores_index_but_not_order_names_or_dtypes(cancer):
    fp = fingerprint(cancer)
    assert len(fp) == 64 and int(fp, 16) >= 0
    assert fingerprint(cancer.copy()) == fp
    assert fingerprint(cancer.set_axis(range(1000, 1000 + len(cancer)))) == fp
    assert fingerprint(cancer.iloc[::-1]) != fp
    assert fingerprint(cancer.rename(columns={"target": "y"})) != fp
    assert fingerprint(cancer.astype({"target": "float64"})) != fp
    assert fingerprint(cancer.iloc[:-1]) != fp
    changed = cancer.copy()
    changed.iloc[123, 4] += 1e-9
    assert fingerprint(changed) != fp


def test_fingerprint_is_stable_across_processes(wine):
    code = ("import sys; from sklearn.datasets import load_wine; "
            "from modeldesk.core.tracking.datasets import fingerprint; "
            "print(fingerprint(load_wine(as_frame=True).frame))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": APP, "PYTHONHASHSEED": "123"}, check=True)
    assert out.stdout.strip() == fingerprint(wine)


def test_fingerprint_handles_every_dtype():
    df = mixed_frame()
    assert fingerprint(df) == fingerprint(df.copy())
    assert fingerprint(pd.DataFrame({"l": [[1], [2]]})) != fingerprint(pd.DataFrame({"l": [[1], [3]]}))


def test_fingerprint_of_a_million_rows_sees_one_changed_cell():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(1_000_000, 10)),
                      columns=[f"c{i}" for i in range(10)])
    before = fingerprint(df)
    df.iloc[999_999, 9] += 1e-9
    assert fingerprint(df) != before


frames = hpd.data_frames(columns=[
    hpd.column("i", dtype="int64"),
    hpd.column("f", elements=st.floats(allow_nan=True, allow_infinity=True), dtype="float64"),
    hpd.column("s", elements=st.none() | st.text(max_size=5), dtype=object),
], index=hpd.range_indexes(min_size=1, max_size=30))


@given(frames, st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fingerprint_property_same_data_same_print_changed_cell_differs(df, data):
    assert fingerprint(df) == fingerprint(df.copy(deep=True))
    row = data.draw(st.integers(0, len(df) - 1))
    changed = df.copy()
    old = changed.at[row, "i"]
    changed.at[row, "i"] = old + 1 if old < np.iinfo("int64").max else old - 1
    assert fingerprint(changed) != fingerprint(df)


# ---------------------------------------------------------------- profile

def test_profile_of_real_data(cancer):
    prof = profile(cancer)
    json.dumps(prof, allow_nan=False)
    assert prof["rows"] == 569 and prof["columns"] == 31
    by_name = {c["name"]: c for c in prof["per_column"]}
    radius = by_name["mean radius"]
    assert radius["kind"] == "numerical" and radius["missing"] == 0
    assert radius["mean"] == pytest.approx(cancer["mean radius"].mean())
    assert radius["std"] == pytest.approx(cancer["mean radius"].std())
    assert radius["p50"] == pytest.approx(cancer["mean radius"].median())
    assert radius["min"] <= radius["p25"] <= radius["p75"] <= radius["max"]
    assert by_name["target"]["zeros"] == int((cancer["target"] == 0).sum())


def test_profile_kinds_missing_and_json_safety():
    prof = profile(mixed_frame(), max_categories=1)
    json.dumps(prof, allow_nan=False)
    by_name = {c["name"]: c for c in prof["per_column"]}
    assert {n: c["kind"] for n, c in by_name.items()} == {
        "i": "numerical", "f": "numerical", "b": "boolean", "o": "categorical",
        "s": "categorical", "c": "categorical", "oc": "categorical", "d": "datetime",
        "tz": "datetime", "I": "numerical", "mix": "categorical", "f32": "numerical"}
    f = by_name["f"]
    assert (f["count"], f["missing"], f["infinite"], f["zeros"]) == (3, 1, 1, 1)
    assert f["mean"] == pytest.approx(0.75) and f["min"] == 0.0
    s = by_name["s"]
    assert s["unique"] == 2 and s["top"] == [{"value": "x", "count": 2}] and s["other_count"] == 1
    assert by_name["d"]["min"].startswith("1999-12-31")
    assert by_name["oc"]["top"][0] == {"value": 3, "count": 2}


def test_profile_all_missing_and_empty_columns_give_none_not_nan():
    prof = profile(pd.DataFrame({"x": [np.nan, np.nan], "y": [None, None]}))
    text = json.dumps(prof, allow_nan=False)
    assert "NaN" not in text
    x = prof["per_column"][0]
    assert x["mean"] is None and x["std"] is None and x["count"] == 0
    assert profile(pd.DataFrame())["rows"] == 0


# ---------------------------------------------------------------- sample

def test_sample_is_capped_seeded_and_ordered(cancer):
    s1 = sample(cancer, cap=100, seed=7)
    assert len(s1) == 100 and s1.index.is_monotonic_increasing
    pd.testing.assert_frame_equal(s1, sample(cancer, cap=100, seed=7))
    assert not s1.index.equals(sample(cancer, cap=100, seed=8).index)
    pd.testing.assert_frame_equal(s1, cancer.loc[s1.index])
    whole = sample(cancer, cap=10_000)
    pd.testing.assert_frame_equal(whole, cancer)
    assert whole is not cancer


# ---------------------------------------------------------------- encode / decode

def test_encode_round_trips_every_supported_dtype():
    df = mixed_frame()
    out = decode_frame(encode_frame(df))
    pd.testing.assert_frame_equal(out, df.reset_index(drop=True))
    assert math.isinf(out["f"][2]) and out["o"][1] is None


def test_encode_round_trips_real_data_and_is_compact(cancer, wine):
    for df in (cancer, wine, wine.astype({"target": "category"})):
        blob = encode_frame(df)
        pd.testing.assert_frame_equal(decode_frame(blob), df.reset_index(drop=True))
    assert len(encode_frame(cancer)) < cancer.memory_usage().sum()
    assert encode_frame(cancer) == encode_frame(cancer.copy())  # deterministic bytes


def test_encode_edge_shapes():
    for df in (pd.DataFrame(), pd.DataFrame({"a": pd.Series([], dtype="int64")}),
               pd.DataFrame(np.zeros((2, 2))), pd.DataFrame({"a": [1, 2], "b": [3, 4]})[["b", "a"]]):
        pd.testing.assert_frame_equal(decode_frame(encode_frame(df)), df.reset_index(drop=True))


def test_decode_is_safe_and_rejects_foreign_bytes():
    for bad in (b"", b"not gzip", gzip.compress(b"{}"), gzip.compress(b"[1]"),
                pickle.dumps(pd.DataFrame({"a": [1]}))):
        with pytest.raises(UsageError):
            decode_frame(bad)
    doc = json.loads(gzip.decompress(encode_frame(pd.DataFrame({"a": [1, 2]}))))
    doc["columns"][0]["dtype"] = "|O"  # an object dtype must never be read from raw bytes
    with pytest.raises(UsageError):
        decode_frame(gzip.compress(json.dumps(doc).encode()))
    doc["columns"][0]["dtype"] = "<i8"
    doc["rows"] = 3
    with pytest.raises(UsageError, match="expected 3"):
        decode_frame(gzip.compress(json.dumps(doc).encode()))


round_trip_frames = hpd.data_frames(columns=[
    hpd.column("int", dtype="int64"),
    hpd.column("float", elements=st.floats(allow_nan=True, allow_infinity=True), dtype="float64"),
    hpd.column("bool", dtype=bool),
    hpd.column("text", elements=st.none() | st.text(max_size=8), dtype=object),
    hpd.column("when", elements=st.datetimes(min_value=pd.Timestamp("1700-01-01").to_pydatetime(),
                                             max_value=pd.Timestamp("2200-01-01").to_pydatetime()),
               dtype="datetime64[ns]"),
], index=hpd.range_indexes(max_size=25))


@given(round_trip_frames, st.booleans())
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_encode_decode_round_trip_property(df, as_category):
    if as_category:
        df = df.assign(cat=df["text"].astype("category"), s=df["text"].astype("str"))
    pd.testing.assert_frame_equal(decode_frame(encode_frame(df)), df.reset_index(drop=True))

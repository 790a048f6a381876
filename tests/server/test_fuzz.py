"""Generated bodies and content types thrown at /predict and /invocations: never a 5xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.timeout(300)

ENDPOINTS = st.sampled_from(["/predict", "/invocations", "/predict?proba=true", "/predict?proba=x"])
CONTENT_TYPES = st.one_of(
    st.sampled_from(["application/json", "text/csv", "application/json; charset=utf-8", "text/csv; charset=latin-1",
                     "application/vnd.api+json", "text/plain", "", "multipart/form-data; boundary=x",
                     "application/x-www-form-urlencoded"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30))   # what HTTP can carry
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-10**400, max_value=10**400),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                    st.sampled_from(["", "NaN", "null", "1e999", "-0", "3.5", " 4 ", "0x10", "1_000"]))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                           max_leaves=20)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    """One app for all examples (hypothesis reruns the test body many times)."""
    import modeldesk as md
    from modeldesk.server.app import create_app
    from support.data import breast_cancer
    from support.registry import fitted_logreg, log_run

    path = tmp_path_factory.mktemp("fuzz") / "fuzz.mdesk"
    md.set_project(path)
    run_id = log_run(md, fitted_logreg(), fit=False)
    app = create_app(path, f"runs:/{run_id}/model", reload_interval=0, max_body=64_000, max_rows=50)
    columns = list(breast_cancer()[0].columns)
    yield app.test_client(), columns
    app.extensions["modeldesk"].close()


def _check(resp) -> None:
    assert resp.status_code < 500, (resp.status_code, resp.data[:500])
    text = resp.get_data(as_text=True)
    assert "Traceback" not in text
    body = json.loads(text)
    if resp.status_code == 200:
        assert "predictions" in body
    else:
        assert resp.status_code in (400, 401, 404, 405, 413, 415)
        assert set(body["error"]) == {"code", "message"} and body["error"]["message"]


def near_valid(columns):
    """Records that mostly look right: real column names, some dropped or extra, odd values."""
    record = st.fixed_dictionaries({}, optional={c: st.one_of(st.floats(-1e3, 1e3), SCALARS) for c in columns[:30]})
    full = st.builds(lambda extra, vals: {**dict(zip(columns, vals)), **extra},
                     st.dictionaries(st.text(max_size=8), SCALARS, max_size=2),
                     st.lists(st.one_of(st.floats(0, 100), st.floats(0, 100), SCALARS), min_size=30, max_size=30))
    rows = st.lists(st.one_of(record, full), min_size=0, max_size=4)
    return st.one_of(
        rows.map(lambda r: {"records": r}),
        rows.map(lambda r: {"dataframe_records": r}),
        rows.map(lambda r: {"instances": r}),
        rows.map(lambda r: {"inputs": r}),
        st.lists(st.lists(SCALARS, min_size=30, max_size=30), max_size=3).map(
            lambda d: {"dataframe_split": {"columns": columns, "data": d}}),
        st.lists(st.lists(SCALARS, min_size=30, max_size=30), max_size=3).map(
            lambda d: {"columns": columns, "data": d}),
        st.dictionaries(st.sampled_from(columns), st.lists(SCALARS, max_size=3), max_size=30).map(
            lambda c: {"inputs": c}),
    )


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])


@FUZZ
@given(endpoint=ENDPOINTS, ctype=CONTENT_TYPES, body=st.binary(max_size=300))
def test_random_bytes(fuzz_client, endpoint, ctype, body):
    client, _ = fuzz_client
    _check(client.post(endpoint, data=body, headers={"Content-Type": ctype}))


@FUZZ
@given(endpoint=ENDPOINTS, value=JSON_VALUES)
def test_random_json(fuzz_client, endpoint, value):
    client, _ = fuzz_client
    _check(client.post(endpoint, data=json.dumps(value), headers={"Content-Type": "application/json"}))


@FUZZ
@given(endpoint=ENDPOINTS, data=st.data())
def test_near_valid_payloads(fuzz_client, endpoint, data):
    client, columns = fuzz_client
    value = data.draw(near_valid(columns))
    _check(client.post(endpoint, data=json.dumps(value), headers={"Content-Type": "application/json"}))


@FUZZ
@given(endpoint=ENDPOINTS, data=st.data())
def test_csv_text(fuzz_client, endpoint, data):
    client, columns = fuzz_client
    header = data.draw(st.one_of(st.just(columns), st.lists(st.sampled_from(columns + ["x", ""]), max_size=31)))
    cell = st.one_of(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
                     st.floats().map(repr), st.integers().map(str))
    rows = data.draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header) + 1), max_size=4))
    lines = [",".join(header)] + [",".join(r) for r in rows]
    sep = data.draw(st.sampled_from(["\n", "\r\n", "\r"]))
    _check(client.post(endpoint, data=sep.join(lines).encode("utf-8", "surrogatepass"),
                       headers={"Content-Type": "text/csv"}))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(100, 30_000))
def test_deep_nesting(fuzz_client, depth):
    client, _ = fuzz_client
    body = "[" * depth + "]" * depth
    _check(client.post("/predict", data=body, headers={"Content-Type": "application/json"}))
    _check(client.post("/invocations", data='{"instances": ' + body + "}",
                       headers={"Content-Type": "application/json"}))


NPY_DTYPES = st.sampled_from(["<f8", ">f8", "<f4", "<f2", "<i8", "<i2", "<u8", "|u1", "|b1", "<U6", "|S4", "<c16",
                              "<M8[s]", "<m8[s]", "|V8", "<f16"])


def _npy_bytes(array) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


@FUZZ
@given(endpoint=ENDPOINTS, data=st.data())
def test_npy_bodies(fuzz_client, endpoint, data):
    """Arrays of every dtype and shape, structured or not, then cut, padded or with bytes flipped."""
    import numpy as np

    client, columns = fuzz_client
    rows = data.draw(st.integers(0, 60))
    mode = data.draw(st.sampled_from(["valid", "structured", "plain"]))
    if mode == "valid":   # the right columns as doubles (a 200 unless a mutation below breaks it)
        values = data.draw(st.lists(st.floats(-1e3, 1e3), min_size=30, max_size=30))
        dtype = [(c, "<f8") for c in columns]
        shape = (rows,)
    elif mode == "structured":   # some real column names, some not, random types
        names = data.draw(st.lists(st.sampled_from(columns + ["x", "y"]), min_size=1, max_size=32, unique=True))
        dtype = [(n, data.draw(NPY_DTYPES)) for n in names]
        shape = (rows,) if data.draw(st.integers(0, 5)) else (rows, 2)
    else:
        dtype = data.draw(NPY_DTYPES)
        shape = data.draw(st.sampled_from([(rows, 30), (rows, 29), (rows,), (rows, 30, 2), ()]))
    count = int(np.prod(shape))
    seed = data.draw(st.integers(0, 2**32 - 1))
    raw = np.random.default_rng(seed).integers(0, 256, size=np.dtype(dtype).itemsize * count, dtype=np.uint8)
    array = np.frombuffer(raw.tobytes(), dtype=dtype, count=count).reshape(shape)   # any bit pattern: NaN, NaT...
    if mode == "valid":
        array = np.array([tuple(values)] * rows, dtype=dtype)
    body = bytearray(_npy_bytes(array))
    mutation = data.draw(st.sampled_from(["none", "cut", "pad", "flip"]))
    if mutation == "cut" and len(body) > 1:
        del body[data.draw(st.integers(1, len(body) - 1)):]
    elif mutation == "pad":
        body += b"\0" * data.draw(st.integers(1, 16))
    elif mutation == "flip":
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] ^= 1 << data.draw(st.integers(0, 7))
    _check(client.post(endpoint, data=bytes(body), headers={"Content-Type": "application/x-npy"}))

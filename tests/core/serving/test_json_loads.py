"""loads_json must read every body exactly as json.loads does (or fail where it fails).

orjson is only a faster road to the standard library's answer; these tests
compare the two on generated documents, odd spellings and raw bytes, value by
value and type by type (an int stays an int, -0.0 stays -0.0, key order holds).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldesk.core.serving.payloads import loads_json


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)          # nan == nan, -0.0 != 0.0
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


def _outcome(fn, body):
    try:
        return "ok", fn(body)
    except (ValueError, RecursionError) as exc:   # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return "error", type(exc)


def _check(body: bytes) -> None:
    ours, theirs = _outcome(loads_json, body), _outcome(json.loads, body)
    assert ours[0] == theirs[0], (body[:200], ours, theirs)
    if ours[0] == "ok":
        assert _same(ours[1], theirs[1]), (body[:200], ours[1], theirs[1])


_scalars = (st.none() | st.booleans()
            | st.integers(min_value=-(2 ** 70), max_value=2 ** 70)
            | st.integers(min_value=2 ** 63 - 3, max_value=2 ** 64 + 3)   # the int64/uint64 edges
            | st.integers(min_value=-(2 ** 63) - 3, max_value=-(2 ** 63) + 3)
            | st.floats(allow_nan=True, allow_infinity=True)
            | st.text())                                                 # lone surrogates included
_documents = st.recursive(_scalars, lambda kids: st.lists(kids, max_size=6)
                          | st.dictionaries(st.text(max_size=8), kids, max_size=6), max_leaves=40)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_documents, ascii_only=st.booleans(), compact=st.booleans(), encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_generated_documents_read_the_same(doc, ascii_only, compact, encoding):
    text = json.dumps(doc, ensure_ascii=ascii_only, separators=(",", ":") if compact else None)
    _check(text.encode(encoding, "surrogatepass"))


_alphabet = st.sampled_from([b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"u", b"d800", b"0", b"1", b"9",
                             b"-", b"+", b".", b"e", b"E", b" ", b"\n", b"\t", b"NaN", b"Infinity", b"true",
                             b"null", b"a", b"\xc3\xa9", b"\xff", b"\xef\xbb\xbf", b"\x00", b"12345678901234567890"])


@settings(max_examples=1500, deadline=None)
@given(parts=st.lists(_alphabet, max_size=30))
def test_raw_bytes_read_or_fail_the_same(parts):
    _check(b"".join(parts))


@pytest.mark.parametrize("body", [
    b"18446744073709551615", b"18446744073709551616", b"-9223372036854775808", b"-9223372036854775809",
    b'{"x": [123456789012345678901234567890]}', b"[1e400, -1e400]", b"NaN", b"[Infinity]", b'"\\ud800"',
    b'\xef\xbb\xbf{"a": 1}', b'{"a": 1, "a": 2}', b"[" * 2000 + b"]" * 2000, b"1.0", b"-0", b"-0.0",
    b"0.1e1", b"1E2", b'"\\u0000"', b"\"a\x01b\"", b"\xed\xa0\x80", b" \t\n[1] ", b"[1,]", b"01", b"",
    b'{"columns": ["a"], "data": [[1.5], [2]]}',
])
def test_known_differences_between_the_parsers_are_bridged(body):
    _check(body)


def test_str_bodies_are_read_too():
    assert _same(loads_json('{"a": [1, 2.5, "\\ud800"]}'), json.loads('{"a": [1, 2.5, "\\ud800"]}'))

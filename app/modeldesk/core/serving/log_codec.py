"""The prediction log's binary input block: numeric inputs, a few bytes each, decoded in bulk.

One block holds the numeric inputs of one request, row-major (row 0's
columns, then row 1's...)::

    byte 0           format (1)
    n * c bytes      one tag per value
    the rest         each value's payload, little-endian, as wide as its tag says

Tags (see :data:`WIDTH`, :data:`EXP`): ``0`` a float64 as its 8 raw bytes;
``1 + 4*e + w`` a float64 that is exactly ``k / 10**e`` for an integer ``k``
stored in 1, 2, 4 or 8 bytes (``w`` = 0..3) — what a number sent as short
decimal text becomes, so 17.99 takes 2 bytes, not 8; ``65 + w`` an int64
column's integer in 1..8 bytes; ``69`` a missing float (NaN, no payload).
The encoder checks every value decodes bit for bit (``-0.0``, NaN and inf
included), so the format is lossless.

Reading never walks a block value by value: :func:`decode_blocks` takes many
blocks at once and finds tags and payloads with numpy masks and cumulative
sums, so a million logged rows decode in a few numpy calls per column.
Format 1 is frozen: a change gets a new format byte and keeps decoding 1.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

FORMAT = 1
RAW, NAN = 0, 69
_INT_BASE = 65
_MAX_EXP = 15
_WIDTHS = (1, 2, 4, 8)

WIDTH = np.zeros(256, dtype=np.int64)
EXP = np.zeros(256, dtype=np.int64)
IS_INT = np.zeros(256, dtype=bool)
WIDTH[RAW] = 8
for _e in range(_MAX_EXP + 1):
    for _w, _bytes in enumerate(_WIDTHS):
        WIDTH[1 + 4 * _e + _w] = _bytes
        EXP[1 + 4 * _e + _w] = _e
for _w, _bytes in enumerate(_WIDTHS):
    WIDTH[_INT_BASE + _w] = _bytes
    IS_INT[_INT_BASE + _w] = True
POW10 = 10.0 ** np.arange(_MAX_EXP + 1)
_LIMITS = ((-(2 ** 7), 2 ** 7 - 1), (-(2 ** 15), 2 ** 15 - 1), (-(2 ** 31), 2 ** 31 - 1))


def _width_code(k: np.ndarray) -> np.ndarray:
    """0..3: the narrowest of int8/16/32/64 holding each integer."""
    code = np.full(k.shape, 3, dtype=np.uint8)
    for w in (2, 1, 0):
        lo, hi = _LIMITS[w]
        code[(k >= lo) & (k <= hi)] = w
    return code


def _encode_floats(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tags and int64 payloads for a float64 array (any shape)."""
    tags = np.zeros(v.shape, dtype=np.uint8)
    payload = v.view(np.int64).copy()                     # raw bits unless a decimal form is found
    nan = np.isnan(v)
    tags[nan] = NAN
    todo = np.flatnonzero(~nan & np.isfinite(v) & (np.abs(v) < 2.0 ** 52))
    flat_v, flat_tags, flat_payload = v.reshape(-1), tags.reshape(-1), payload.reshape(-1)
    bits = flat_v.view(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        for e in range(_MAX_EXP + 1):
            if not len(todo):
                break
            r = np.rint(flat_v[todo] * POW10[e]) + 0.0     # + 0.0: -0.0 has no integer form, keep it raw
            ok = (np.abs(r) < 2.0 ** 53) & (((r / POW10[e]).view(np.int64)) == bits[todo])
            hit = todo[ok]
            k = r[ok].astype(np.int64)
            flat_payload[hit] = k
            flat_tags[hit] = 1 + 4 * e + _width_code(k)
            todo = todo[~ok]
    return tags, payload


def _encode_ints(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = v.astype(np.int64, copy=False)
    return (_INT_BASE + _width_code(k)).astype(np.uint8), k


def encode_blocks(columns: list[np.ndarray], rows: list[int]) -> list[bytes]:
    """Blocks for consecutive requests whose numeric inputs are stacked in ``columns``.

    ``columns``: one 1-D array per numeric input (float64, or integers),
    ``sum(rows)`` long; request ``i`` owns the next ``rows[i]`` values of
    each. Returns one block per request.
    """
    total = int(sum(rows))
    c = len(columns)
    tags = np.empty((total, c), dtype=np.uint8)
    payload = np.empty((total, c), dtype=np.int64)
    floats = [j for j, col in enumerate(columns) if col.dtype.kind == "f"]
    ints = [j for j, col in enumerate(columns) if col.dtype.kind != "f"]
    if floats:
        block = np.column_stack([columns[j].astype(np.float64, copy=False) for j in floats]) \
            if len(floats) > 1 else columns[floats[0]].astype(np.float64).reshape(-1, 1)
        t, p = _encode_floats(np.ascontiguousarray(block))
        tags[:, floats], payload[:, floats] = t, p
    for j in ints:
        tags[:, j], payload[:, j] = _encode_ints(columns[j])
    flat_tags = tags.reshape(-1)
    widths = WIDTH[flat_tags]
    keep = np.arange(8) < widths[:, None]
    data = payload.reshape(-1).astype("<i8").view(np.uint8).reshape(-1, 8)[keep].tobytes()
    tag_bytes = flat_tags.tobytes()
    value_ends = np.cumsum(np.asarray(rows, dtype=np.int64) * c)
    byte_ends = np.cumsum(widths)[value_ends - 1] if total else np.zeros(len(rows), dtype=np.int64)
    head = bytes([FORMAT])
    out, v0, b0 = [], 0, 0
    for v1, b1 in zip(value_ends.tolist(), (byte_ends if c else np.zeros(len(rows), dtype=np.int64)).tolist()):
        out.append(head + tag_bytes[v0:v1] + data[b0:b1])
        v0, b0 = v1, b1
    return out


def decode_blocks(blocks: list[bytes], rows: np.ndarray, n_columns: int):
    """Decode many blocks of the same width at once.

    Returns ``(values, is_int, ints)``, each of shape ``(sum(rows), n_columns)``:
    the float64 values (integers as floats), a mask of the values that came
    from an integer column, and the exact int64 payloads (the caller gives
    integer columns back as int64 from these).
    """
    ints, tags = _decode_raw(blocks, rows, n_columns)
    values = ints.astype(np.float64) / POW10[EXP[tags]]
    raw = tags == RAW
    values[raw] = ints[raw].view(np.float64)
    values[tags == NAN] = np.nan
    shape = (int(rows.sum()), n_columns)
    return values.reshape(shape), IS_INT[tags].reshape(shape), ints.reshape(shape)


def _decode_raw(blocks: list[bytes], rows: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    buf = np.frombuffer(b"".join(blocks), dtype=np.uint8)
    lengths = np.fromiter(map(len, blocks), dtype=np.int64, count=len(blocks))
    starts = np.cumsum(lengths) - lengths
    if len(blocks) and (buf[starts] != FORMAT).any():
        raise ValueError(f"prediction log block of an unknown format {int(buf[starts][buf[starts] != FORMAT][0])}")
    n_values = rows.astype(np.int64) * c
    # Each block is a header (format byte + one tag per value) then its payload: one boolean per
    # byte from the segment lengths (np.repeat), not a running sum over every byte of the buffer.
    segments = np.empty(2 * len(blocks), dtype=np.int64)
    segments[0::2] = 1 + n_values
    segments[1::2] = lengths - 1 - n_values
    header = np.repeat(np.tile(np.array([True, False]), len(blocks)), segments)
    is_tag = header.copy()
    is_tag[starts] = False
    tags = buf[is_tag]
    data = buf[~header]
    widths = WIDTH[tags]
    keep = np.arange(8) < widths[:, None]
    wide = np.zeros((len(tags), 8), dtype=np.uint8)
    wide[keep] = data
    ints = wide.view("<i8").reshape(-1)
    shift = (64 - 8 * widths).astype(np.int64)       # sign-extend the narrow ones
    ints = (ints << shift) >> shift
    return ints, tags


# -- JSON for what is not numeric (text inputs, outputs, labels) ---------------------------------------
def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=False)
    except (ValueError, TypeError):
        return json.dumps(_clean(value), default=str)


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value

"""Many rows, cheaply: a request body in NumPy's ``.npy`` format (``application/x-npy``).

A JSON body of 1,000 rows of 30 numbers is ~800 KiB of text that must be
read, parsed into Python objects and turned back into numbers; the same rows
as ``.npy`` are 240 KiB of raw values and a short header, which this module
maps without copying (``numpy.frombuffer``) and checks with a few numpy calls.
That is the server's request path for big batches (issue 9: within 3x of the
model's own ``predict``).

Two shapes are accepted:

- a **structured array** (``np.save(f, df.to_records(index=False))``): one row
  per record, column names from the field names, so columns may come in any
  order, as with ``{"records": ...}``;
- a **2-D array** of one type (``np.save(f, df.to_numpy())``): columns in the
  signature's order, as with ``{"data": [[...]]}`` without ``columns``; a
  1-D array is one column.

Safety: the body is never unpickled. Object arrays (which ``np.load`` would
unpickle with ``allow_pickle=True``) are refused, the header is bounded in
size, and its declared shape must match the bytes that follow exactly, so a
header claiming a huge array allocates nothing. Values then go through the
same checks as every other format (core/serving/validation.py): a NaN is a
missing value, booleans are not numbers, text holding a number is read like
a CSV cell, datetimes arrive as ISO 8601 text.
"""

from __future__ import annotations

import ast
import io
import math
import struct

import numpy as np
import numpy.lib.format as npy_format

from .tables import Table, ValidationError, _check_rows

NPY_MEDIA_TYPE = "application/x-npy"
_MAX_HEADER = 64 * 1024   # numpy's own default is 10,000 bytes; a 2,000-column record header is ~60 KB


def _bad(message: str) -> ValidationError:
    return ValidationError("bad_format", message, 400)


def _header(body: bytes) -> tuple[tuple, bool, np.dtype, int]:
    """(shape, fortran_order, dtype, offset of the data) from a .npy header, checked."""
    fp = io.BytesIO(body)
    try:
        version = npy_format.read_magic(fp)
    except ValueError:
        raise _bad("The body is not a .npy file (it does not start with NumPy's magic string); write it "
                   "with numpy.save, or send JSON or CSV.") from None
    try:
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(fp, max_header_size=_MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(fp, max_header_size=_MAX_HEADER)
        elif version == (3, 0):   # numpy.save writes it for field names outside latin-1
            shape, fortran, dtype = _read_header_3_0(fp)
        else:
            raise _bad(f"The .npy body is format version {version[0]}.{version[1]}, which this server does "
                       "not read; write it with numpy.save.")
    except ValidationError:
        raise
    except Exception as exc:   # numpy's header reader on hostile bytes raises ValueError, SyntaxError,
        # tokenize.TokenError, RecursionError...: whichever it is, the client sent a header it cannot read
        raise _bad(f"The .npy header cannot be read: {str(exc)[:200]}") from None
    return shape, fortran, dtype, fp.tell()


def _read_header_3_0(fp) -> tuple[tuple, bool, np.dtype]:
    """Format 3.0's header: format 2.0's, in UTF-8 (numpy reads it with a private function)."""
    size = fp.read(4)
    if len(size) != 4:
        raise EOFError("the header's length is cut off")
    length = struct.unpack("<I", size)[0]
    if length > _MAX_HEADER:
        raise ValueError(f"the header is {length:,} bytes, over the {_MAX_HEADER:,} this server reads")
    text = fp.read(length)
    if len(text) != length:
        raise EOFError("the header is cut short")
    header = ast.literal_eval(text.decode("utf-8"))   # literals only, as numpy.load reads it
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError("the header is not a dict of descr, fortran_order and shape")
    shape, fortran = header["shape"], header["fortran_order"]
    if not (isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)):
        raise ValueError(f"shape is not a tuple of sizes: {shape!r}"[:200])
    if not isinstance(fortran, bool):
        raise ValueError(f"fortran_order is not a boolean: {fortran!r}"[:200])
    return shape, fortran, npy_format.descr_to_dtype(header["descr"])


def parse_npy(body: bytes, *, max_rows: int) -> Table:
    """The rows of a ``.npy`` body as a :class:`Table` of numpy columns. Raises ValidationError."""
    shape, fortran, dtype, offset = _header(body)
    if dtype.hasobject:
        raise _bad("The .npy body holds Python objects, which would have to be unpickled; this server "
                   "never unpickles a request. Send numbers, booleans and NumPy text: "
                   "df.to_records(index=False, column_dtypes={'city': 'U64'}) for a text column 'city'.")
    if dtype.itemsize == 0:
        raise _bad(f"The .npy body's type {dtype.str} holds values of size zero; send numbers, booleans or text.")
    count = math.prod(shape)
    expected = count * dtype.itemsize
    if len(body) - offset != expected:
        raise _bad(f"The .npy header declares shape {shape} of {dtype.str} ({expected:,} bytes of data) but "
                   f"{len(body) - offset:,} bytes follow it; the file is cut short or padded.")
    flat = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
    arr = flat.reshape(shape[::-1]).transpose() if fortran else flat.reshape(shape)
    if dtype.names is not None:
        return _records(arr, max_rows)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise _bad(f"The .npy body is an array of shape {shape}; send a structured array (one field per "
                   "column) or a 2-D array of rows.")
    _check_rows(arr.shape[0], max_rows)
    columns = {j: _column(arr[:, j], f"column {j}") for j in range(arr.shape[1])}
    return Table(None, arr.shape[0], columns=columns, arrays=True)


def _records(arr: np.ndarray, max_rows: int) -> Table:
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise _bad(f"The .npy body is a structured array of shape {arr.shape}; send one dimension, "
                   "one record per row.")
    _check_rows(arr.shape[0], max_rows)
    columns = {}
    for name in arr.dtype.names:
        if arr.dtype[name].shape:
            raise _bad(f"Field {name!r} of the .npy body holds a sub-array {arr.dtype[name].shape} per row; "
                       "send one value per column.")
        columns[str(name)] = _column(arr[name], f"field {name!r}")
    return Table(list(columns), arr.shape[0], columns=columns, arrays=True)


def _column(values: np.ndarray, what: str) -> np.ndarray:
    """One column in a form the checks read: numbers, booleans, str; datetimes as ISO 8601 text."""
    kind = values.dtype.kind
    if kind == "f" and values.dtype.itemsize > 8:   # long double: as a double (beyond one: inf, refused later)
        with np.errstate(over="ignore", invalid="ignore"):
            return values.astype(np.float64)
    if kind == "U":   # UCS-4 code units: one beyond U+10FFFF would make a broken Python str
        units = np.ascontiguousarray(values).view(values.dtype.str[0] + "u4")
        if units.size and int(units.max()) > 0x10FFFF:
            raise _bad(f"The .npy body's {what} holds text with a character beyond U+10FFFF, which is not Unicode.")
        return values
    if kind in "fiub":
        return values
    if kind == "M" and np.datetime_data(values.dtype)[0] != "generic":   # ISO text, NaT a missing value
        text = np.datetime_as_string(values).astype(object)
        text[np.isnat(values)] = None
        return text
    name = {"S": "bytes (send text as str, numpy dtype 'U')", "c": "complex numbers", "m": "time spans",
            "M": "datetimes without a unit (use e.g. datetime64[s])",
            "V": "nested fields" if values.dtype.names else "raw bytes"}.get(kind, f"values of type {values.dtype}")
    raise _bad(f"The .npy body's {what} holds {name}, which no model column takes.")

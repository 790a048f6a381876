"""What every request format is parsed into: a :class:`Table` of rows, or a :class:`ValidationError`.

core/serving/payloads.py (JSON, CSV, MLflow's shapes) and npy_payload.py (NumPy
files) both produce these; core/serving/validation.py checks a Table against
the model's signature.
"""

from __future__ import annotations

import operator
from typing import Any

import pandas as pd

from ..errors import Hint, UsageError

DEFAULT_MAX_ROWS = 20_000   # bigger batches: `score` streams a file; a server keeps its memory (issue 9)
_MISSING = object()   # a key absent from one record


class ValidationError(UsageError):
    """A payload the model cannot take. ``code`` is stable; ``status`` is the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400, *, column: Any = None,
                 row: int | None = None, hint: Hint | None = None):
        super().__init__(message, hint=hint)
        self.code, self.message, self.status = code, message, status
        self.column, self.row = column, row



class Table:
    """Rows as parsed from a payload, before checking: named or positional columns."""

    def __init__(self, names: list | None, n_rows: int, columns=None, records=None, rows=None,
                 text: bool = False, arrays: bool = False):
        self.names = names            # None: positional (values in signature order)
        self.n_rows = n_rows
        self.text = text              # CSV cells: null spellings mean "missing" in every column
        self.arrays = arrays          # `columns` holds numpy arrays (a .npy body), not lists
        self._columns = columns       # {name: list}, or {name or position: ndarray}
        self._records = records       # [dict]
        self._rows = rows             # [list] (positional, or named with `names`)
        self._pos = {n: i for i, n in enumerate(names)} if (rows is not None and names) else None

    def column(self, key) -> list:
        """Values of column ``key`` (a name, or a position when positional)."""
        if self._records is not None:
            return [r.get(key, _MISSING) for r in self._records]
        if self._columns is not None:
            values = self._columns[key]
            return values.tolist() if self.arrays else values
        i = key if self._pos is None else self._pos[key]
        return [r[i] for r in self._rows]

    @property
    def width(self) -> int:
        """How many columns: the names, or the values in a positional row."""
        if self.names is not None:
            return len(self.names)
        if self._columns is not None:
            return len(self._columns)
        return len(self._rows[0]) if self._rows else 0

    def array(self, key):
        """Column ``key`` as the numpy array it arrived as (a .npy body), else None."""
        return self._columns[key] if self.arrays else None

    def matrix(self, keys: list) -> list | None:
        """Row lists in ``keys`` order, or None where a key is absent from a record."""
        try:
            if self._records is not None:
                if len(keys) == 1:
                    return [[r[keys[0]]] for r in self._records]
                get = operator.itemgetter(*keys)
                return [list(get(r)) for r in self._records]
            if self._columns is not None:
                return [list(row) for row in zip(*(self.column(k) for k in keys))]
            idx = keys if self._pos is None else [self._pos[k] for k in keys]
            if idx == list(range(len(idx))) and set(map(len, self._rows)) <= {len(idx)}:
                return self._rows
            get = operator.itemgetter(*idx)
            return [list(get(r)) if len(idx) > 1 else [r[idx[0]]] for r in self._rows]
        except (KeyError, IndexError, TypeError):
            return None

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "Table":
        names = [str(c) for c in df.columns]
        return cls(names, len(df), columns={n: df.iloc[:, i].tolist() for i, n in enumerate(names)})


def _check_rows(n: int, max_rows: int) -> None:
    if n == 0:
        raise ValidationError("no_rows", "The request holds no rows; send at least one.", 400)
    if n > max_rows:
        raise ValidationError("too_many_rows", f"The request holds {n:,} rows; this server takes at most "
                              f"{max_rows:,} per request. Split it, or score the rows as a file.", 413,
                              hint=Hint("score_file"))



"""Which test and threshold a column gets when the preset's choice is not wanted.

Options are plain JSON-able dicts, the same shape in ``md.drift(options=...)``
and in the project setting ``drift.options``::

    {"columns": {"age": {"test": "psi", "threshold": 0.2}},
     "numerical": {"threshold": 0.15},
     "categorical": {"test": "jensenshannon"},
     "share": 0.5}

A column's own entry wins over its type's, field by field; a threshold set at
a less specific level than the test does not carry over to that test (a
p-value threshold means nothing to a distance), so the test's default is used.
``share`` is the share of drifted columns from which the data set drifts.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from ..errors import UsageError
from .stattests import TESTS

SETTING_KEY = "drift.options"
DEFAULT_SHARE = 0.5
KINDS = ("numerical", "categorical")


@dataclass(frozen=True)
class Override:
    test: str | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class DriftOptions:
    """Parsed, checked options."""

    columns: dict = field(default_factory=dict)        # column name -> Override
    numerical: Override = Override()
    categorical: Override = Override()
    share: float = DEFAULT_SHARE

    def choice(self, column: str, kind: str) -> tuple[str | None, float | None]:
        """(test, threshold) asked for ``column`` of type ``kind``; None where the preset decides."""
        levels = [self.columns.get(column, Override()), getattr(self, kind)]
        test, threshold = None, None
        for depth, level in enumerate(levels):
            if level.test is not None:
                test = level.test
                specific = levels[: depth + 1]
                threshold = next((lv.threshold for lv in specific if lv.threshold is not None), None)
                return test, threshold
        threshold = next((lv.threshold for lv in levels if lv.threshold is not None), None)
        return test, threshold


def _override(where: str, value) -> Override:
    if not isinstance(value, dict):
        raise UsageError(f"Drift options {where} must be a mapping with 'test' and/or 'threshold', not {value!r}.")
    unknown = set(value) - {"test", "threshold"}
    if unknown:
        raise UsageError(f"Unknown drift option {where}.{min(unknown)}; an entry takes 'test' and 'threshold'.")
    test = value.get("test")
    if test is not None and test not in TESTS:
        raise UsageError(f"Unknown drift test {test!r} in {where}; tests: {', '.join(TESTS)}.")
    threshold = value.get("threshold")
    if threshold is not None:
        threshold = _positive(f"{where}.threshold", threshold)
    return Override(test, threshold)


def _positive(where: str, value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise UsageError(f"Drift option {where} must be a number above 0, not {value!r}.")
    return number


def parse_options(options: dict | None) -> DriftOptions:
    """Check ``options`` and return them parsed; a typo is a ``UsageError`` that names it."""
    if options is None:
        return DriftOptions()
    if isinstance(options, DriftOptions):
        return options
    if not isinstance(options, dict):
        raise UsageError(f"Drift options must be a mapping, not {type(options).__name__}.")
    unknown = set(options) - {"columns", *KINDS, "share"}
    if unknown:
        raise UsageError(f"Unknown drift option {min(map(str, unknown))!r}; options: columns, "
                         "numerical, categorical, share.")
    columns = options.get("columns") or {}
    if not isinstance(columns, dict):
        raise UsageError("Drift option 'columns' must map column names to {'test': ..., 'threshold': ...}.")
    share = _positive("share", options["share"]) if options.get("share") is not None else DEFAULT_SHARE
    if share > 1:
        raise UsageError(f"Drift option share is a share of columns (0 to 1], not {share}.")
    return DriftOptions(
        columns={str(name): _override(f"columns.{name}", value) for name, value in columns.items()},
        numerical=_override("numerical", options.get("numerical") or {}),
        categorical=_override("categorical", options.get("categorical") or {}),
        share=share,
    )


def merge_options(base: dict | None, top: dict | None) -> dict:
    """``top`` over ``base`` (e.g. a call's options over the project's), one column or type entry at a time."""
    merged = {key: value for key, value in (base or {}).items()}
    for key, value in (top or {}).items():
        if key == "columns" and isinstance(value, dict) and isinstance(merged.get("columns"), dict):
            columns = dict(merged["columns"])
            for name, entry in value.items():
                old = columns.get(name)
                columns[name] = {**old, **entry} if isinstance(old, dict) and isinstance(entry, dict) else entry
            merged["columns"] = columns
        elif key in KINDS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def project_options(project) -> dict:
    """The project's drift options (setting ``drift.options``, JSON), checked; ``{}`` when unset."""
    row = project.conn.execute("SELECT value FROM project_settings WHERE key = ?", (SETTING_KEY,)).fetchone()
    if row is None or row[0] in (None, ""):
        return {}
    try:
        options = json.loads(row[0])
    except (TypeError, ValueError):
        raise UsageError(f"The project setting {SETTING_KEY} is not valid JSON: {row[0]!r}.") from None
    parse_options(options)
    return options

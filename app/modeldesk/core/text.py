"""Numbers, durations, sizes and times as people read them: one formatter per purpose,
for every face (the GUI, the CLI, reports), so a value reads the same everywhere."""

from __future__ import annotations

import datetime as _dt
import math
import time
from typing import Any


def fmt_number(value: Any, *, nan: str = "NaN") -> str:
    """Numbers with 6 significant digits, integers with thousands separators, booleans as
    yes/no, everything else as text; missing as an em dash (``nan``: the text for NaN)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return nan
        return f"{value:.6g}"
    return str(value)


def fmt_number_short(value: float | None) -> str:
    """Four significant digits, kept in a table column: 0.9120, 12.00, 1234, 1.235e5, NaN."""
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:#.4g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        return f"{mantissa.rstrip('.')}e{int(exp)}"
    return text.rstrip(".")


def fmt_duration(seconds: float | None) -> str:
    """120 ms, 3.2 s, 42 s, 4 min 12 s, 2 h 05 min, 3 d 04 h; "running" when there is no end yet."""
    if seconds is None:
        return "running"
    seconds = float(seconds)
    if seconds < 0 or math.isnan(seconds):
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24:02d} h"


def fmt_size(n: int) -> str:
    """Bytes as 512 B, 1.5 KB, 12.0 MB, 2.1 GB."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


TIME_ZONE_RULE = ("Times are shown in this computer's local time zone, named after every time "
                  "(2026-12-04 09:14:03 CET); machine formats (CSV, JSON) use ISO 8601 with the local "
                  "offset and milliseconds (2026-12-04T09:14:03.120+01:00).")


def to_unix(value: Any) -> float | None:
    """Unix seconds for what a record holds as a time: unix seconds, an ISO 8601 string
    (naive = UTC, as ModelDesk writes them), a datetime (naive = UTC) or a pandas Timestamp."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        value = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if hasattr(value, "to_pydatetime"):          # pandas Timestamp, or NaT
        if str(value) == "NaT":
            return None
        return float((value if value.tzinfo is not None else value.tz_localize("UTC")).timestamp())
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        return value.timestamp()
    raise TypeError(f"not a time: {value!r}")


def zone_name(at: _dt.datetime) -> str:
    """The zone's short name at that moment (CET, CEST, EST, UTC); "UTC+05:30" where the
    system has only a number for it."""
    name = at.strftime("%Z")
    if not name or name[0] in "+-" or name[0].isdigit():
        offset = at.strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return name


def local_zone(at: float | None = None) -> str:
    """This computer's zone name now (or at unix time ``at``), for a label: "CET"."""
    return zone_name(_dt.datetime.fromtimestamp(time.time() if at is None else at).astimezone())


_SHAPES = {"date": "%Y-%m-%d", "min": "%Y-%m-%d %H:%M", "s": "%Y-%m-%d %H:%M:%S",
           "ms": "%Y-%m-%d %H:%M:%S.%f", "clock": "%H:%M:%S", "short": "%m-%d %H:%M"}


def fmt_time(ts: Any, precision: str = "s", *, zone: bool = True) -> str:
    """THE formatter for times people read, on every face (CLI, GUI, reports, server text):
    local time with the zone named, "2026-11-27 14:03:09 CET".

    ``ts``: unix seconds, an ISO string, a datetime or a pandas Timestamp (see :func:`to_unix`).
    ``precision``: "date" (no zone: a day), "min", "s", "ms", "clock" (14:03:09 CET) or
    "short" (11-27 14:03 CET, for narrow columns with the full time in a tooltip).
    ``zone=False`` leaves the name out, for a column whose header names the zone.
    Missing as an em dash."""
    at = to_unix(ts)
    if at is None:
        return "—"
    local = _dt.datetime.fromtimestamp(at).astimezone()
    text = local.strftime(_SHAPES[precision])
    if precision == "ms":
        text = text[:-3]
    if precision == "date" or not zone:
        return text
    return f"{text} {zone_name(local)}"


def iso_time(ts: Any) -> str | None:
    """THE machine format (CSV, JSON): ISO 8601 in local time with its offset, milliseconds,
    e.g. "2026-11-27T14:03:09.120+01:00"; None when missing."""
    at = to_unix(ts)
    if at is None:
        return None
    return _dt.datetime.fromtimestamp(at).astimezone().isoformat(timespec="milliseconds")


def utc_iso(at: float) -> str:
    """Unix seconds as ISO 8601 UTC with microseconds, e.g. 2026-11-01T09:30:00.000000Z."""
    return _dt.datetime.fromtimestamp(at, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ago(at: float, now: float | None = None) -> str:
    """How long ago: "just now", "12 min ago", "3 h ago", "2 days ago"."""
    seconds = max(0.0, (time.time() if now is None else now) - at)
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 129600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"

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


def fmt_time(ts: float | None, precision: str = "s") -> str:
    """Local time: "2026-11-27 14:03:09" (``precision``: "min", "s" or "ms"); missing as an em dash."""
    if ts is None:
        return "—"
    text = _dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S.%f")
    return {"min": text[:16], "s": text[:19], "ms": text[:23]}[precision]


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

"""The time ModelDesk writes into its records.

Everything the core stamps (run start and end, metric timestamps, registry
moves, reviews, gate results, audit entries, serving events) takes its time
from :func:`now`: the wall clock, plus an offset that is zero unless the
calling thread set one with :func:`shifted`. The demo uses it to lay a
believable history over the past weeks (sweeps, then reviews, a rollback, a
pending request) instead of stamping everything with the same second. The
offset is per thread, so a demo built in a worker never shifts what the
person using the app does at the same time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

_local = threading.local()


def offset() -> float:
    """Seconds this thread's clock is shifted by (0.0 normally)."""
    return getattr(_local, "offset", 0.0)


def now() -> float:
    """Unix time for a new record, shifted for this thread if :func:`shifted` is active."""
    return time.time() + getattr(_local, "offset", 0.0)


def set_offset(seconds: float) -> None:
    """Shift this thread's clock (use inside :func:`shifted`, which restores it)."""
    _local.offset = float(seconds)


@contextlib.contextmanager
def shifted(seconds: float) -> Iterator[None]:
    """Stamp records made in this thread ``seconds`` away from now (negative: in the past)."""
    before = offset()
    _local.offset = float(seconds)
    try:
        yield
    finally:
        _local.offset = before

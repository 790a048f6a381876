"""Work around reference-counting bugs of PySide6 6.12.0 on Python < 3.12.

PySide6 6.12.0 returns ``None`` from every void C++ method (``setText``,
``update``, ``setPen``, ...) and ``True`` from ``SignalInstance.emit()``
without taking a reference to them. Each call whose result is discarded
therefore drops one reference to ``None`` or ``True``; after some tens of
thousands of calls (a few seconds of pyqtgraph drawing) Python frees the
singleton and aborts with "Fatal Python error: none_dealloc" (or
``bool_dealloc``). PySide6 6.11.3 does not have the bug; Python 3.12+ makes
these singletons immortal, so it is harmless there.

:func:`apply` measures whether the bug is present and only then gives
``None``, ``True`` and ``False`` a reference count no program can use up —
what Python 3.12 does for every interpreter. Call it once, as early as
possible (before the first window); it is cheap and idempotent.
"""

from __future__ import annotations

import sys

_applied = False
_BALLAST = 1 << 40
_PROBE_CALLS = 500


def _add_refs(obj, n: int) -> None:
    import ctypes

    ctypes.c_ssize_t.from_address(id(obj)).value += n


def _drops(singleton, call) -> bool:
    """Does ``call()`` drop a reference to ``singleton``? (gives back what it took)."""
    _add_refs(singleton, _PROBE_CALLS)   # so the probe itself cannot free it
    before = sys.getrefcount(singleton)
    for _ in range(_PROBE_CALLS):
        call()
    lost = before - sys.getrefcount(singleton)
    _add_refs(singleton, lost - _PROBE_CALLS)   # net zero, bug or not
    return lost > _PROBE_CALLS // 2   # other threads may add noise; the bug loses one per call


def refcount_bugs() -> list[str]:
    """Which singletons this PySide6 leaks: a subset of ['None', 'True']."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    found = []
    if _drops(None, lambda: probe.setObjectName("probe")):
        found.append("None")
    if _drops(True, probe.ping.emit):
        found.append("True")
    return found


def apply() -> bool:
    """Apply the workaround if needed; True when it was (or had been) applied."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not refcount_bugs():
        return False
    for singleton in (None, True, False):
        _add_refs(singleton, _BALLAST)
    _applied = True
    return True

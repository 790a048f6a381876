"""What the screenshot scripts share: turn the Qt event loop until something is true."""

from __future__ import annotations

import time


def pump(app, seconds: float, until=None, what: str = "") -> None:
    """Process events for ``seconds``, or until ``until()`` is true (else stop the script, naming ``what``)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return
        time.sleep(0.02)
    if until is not None:
        raise SystemExit(f"gave up waiting for {what}")

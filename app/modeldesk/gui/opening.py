"""The page shown while a project opens: what is opening, a busy bar, the time so far, and Cancel.

Opening reads the file off the GUI thread and, for a file an older ModelDesk
wrote, upgrades it (core/storage/project.py: a backup first, then every
migration in one write transaction). Core reports no fraction for that, so the
bar is a busy bar and the page counts the seconds. Cancel does not interrupt
the worker: an upgrade under way finishes (or rolls back) on its own and the
window closes the project as soon as it arrives (MainWindow._on_opened drops a
cancelled open), so the file is never left half-upgraded.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QProgressBar

from .kit.empty_state import EmptyState


class OpeningPage(EmptyState):
    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__("Opening project…", "", actions=("Cancel",), parent=parent)
        self.setObjectName("openingPage")
        self.bar = QProgressBar()
        self.bar.setObjectName("openingProgress")
        self.bar.setRange(0, 0)            # busy: opening reports no fraction
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(320)
        self.layout().insertWidget(self.layout().count() - 2, self.bar, 0, self.body.alignment())
        self.elapsed = self.body   # the body line carries the path and the time so far
        self._path = ""
        self._started = 0.0
        self._timer = QTimer(self, interval=1000)
        self._timer.timeout.connect(self._tick)
        self.cancel_button = self.buttons["Cancel"]
        self.cancel_button.setToolTip("Stop waiting and go back. An upgrade under way finishes safely first, "
                                      "then the file is closed.")
        self.actionTriggered.connect(lambda name: name == "Cancel" and self.cancelRequested.emit())

    def start(self, name: str, path: str) -> None:
        self._path = path
        self._started = time.monotonic()
        self.set_text(f"Opening {name}…", path)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        seconds = int(time.monotonic() - self._started)
        self.set_text(self.title.text(), f"{self._path}\n{seconds} s — an older file is upgraded on opening "
                                         "(a backup is kept beside it).")

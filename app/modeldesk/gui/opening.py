"""The page shown while a project opens: what is opening, how far it is (a percentage and
what is being done), the time so far, and Cancel.

Opening reads the file off the GUI thread and, for a file an older ModelDesk
wrote, upgrades it (core/storage/project.py: a backup first, then every
migration in one write transaction). Core reports the steps through the
worker's progress signal (MainWindow._open_job): checking the file, the backup
by pages copied, each migration of the upgrade, then the audit log check. A
single migration reports no fraction of its own, so while one runs the bar
stays at its step and the words say which step it is. Cancel does not
interrupt the worker: an upgrade under way finishes (or rolls back) on its own
and the window closes the project as soon as it arrives (MainWindow._on_opened
drops a cancelled open), so the file is never left half-upgraded.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar

from .kit.empty_state import EmptyState


class OpeningPage(EmptyState):
    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__("Opening project…", "", actions=("Cancel",), parent=parent)
        self.setObjectName("openingPage")
        self.bar = QProgressBar()
        self.bar.setObjectName("openingProgress")
        self.bar.setRange(0, 100)
        self.bar.setFormat("%p%")
        self.bar.setTextVisible(True)
        self.bar.setFixedWidth(320)
        self.step = QLabel()                 # what is being done now, in words
        self.step.setObjectName("openingStep")
        self.step.setTextFormat(Qt.TextFormat.PlainText)
        at = self.layout().count() - 2
        self.layout().insertWidget(at, self.bar, 0, self.body.alignment())
        self.layout().insertWidget(at + 1, self.step, 0, self.body.alignment())
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
        self.set_progress(0.0, "Starting")
        self._timer.start()

    def set_progress(self, fraction: float, words: str) -> None:
        """Show ``fraction`` (0..1) of the opening done and what is being done."""
        self.bar.setValue(max(0, min(100, round(100 * fraction))))
        self.step.setText(f"{words}…" if fraction < 1 and words else words)

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        seconds = int(time.monotonic() - self._started)
        self.set_text(self.title.text(), f"{self._path}\n{seconds} s — an older file is upgraded on opening "
                                         "(a backup is kept beside it).")

"""Starting the desktop app (`modeldesk ui [PATH]`, or plain `modeldesk`).

Importing this module is cheap: Qt is imported only inside :func:`launch`,
after checking there is a display to show a window on (without one, Qt would
abort the whole process).
"""

from __future__ import annotations

import os
import sys

NO_DISPLAY = ("No display found: ModelDesk's window needs a desktop session; run `modeldesk runs list` "
              "for the CLI, or set QT_QPA_PLATFORM=offscreen")


def has_display(environ=os.environ, platform: str = sys.platform) -> bool:
    """True where Qt can open a window: Windows and macOS always; elsewhere an
    X11 or Wayland session, or a platform plugin chosen explicitly."""
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    return any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def launch(path: str | os.PathLike | None = None, *, user: str | None = None) -> int:
    """Open the main window on ``path`` (else the most recent project, else a
    welcome page), run the event loop, and return the exit code."""
    if not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 1
    from .app import create_application
    from .main_window import MainWindow

    app = create_application()
    window = MainWindow(user=user)
    install_error_dialog(window)
    probe = os.environ.get("MODELDESK_STARTUP_PROBE")
    if probe:
        _install_probe(window, probe)
    window.show()
    window.start(path)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(500, window.warm_up)
    code = app.exec()
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(3000)  # let running queries end before Python does
    return code


def install_error_dialog(window) -> None:
    """Unexpected errors in the running app: a message, not a dead window.

    Qt keeps running after an exception in a slot; without this the user
    would only see a traceback in a terminal they may not have. The details
    still go to stderr for a bug report. (Not used under pytest-qt, which
    installs its own hook to fail the test.)
    """
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        previous(exc_type, exc, tb)
        if issubclass(exc_type, KeyboardInterrupt):
            return
        from PySide6.QtWidgets import QMessageBox

        from ..core.errors import ModelDeskError

        text = str(exc) if isinstance(exc, ModelDeskError) else (
            f"Something went wrong: {exc_type.__name__}: {exc}\n\nYour project file was not changed by this "
            "error. The details were printed to the terminal; please include them in a bug report.")
        box = QMessageBox(QMessageBox.Warning, "ModelDesk", text, QMessageBox.Ok, window)
        box.setModal(False)
        box.show()

    sys.excepthook = hook


def _install_probe(window, path: str) -> None:
    """For the start-up benchmark: note when the window first painted, then quit."""
    import time

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    def painted() -> None:  # runs once the paint event (and the flush) is done
        with open(path, "w") as fh:
            fh.write(repr(time.time()))
        QApplication.quit()

    class Probe(QObject):
        def eventFilter(self, obj, event):
            if obj is window and event.type() == QEvent.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(0, painted)
            return False

    window._probe = Probe(window)
    window.installEventFilter(window._probe)

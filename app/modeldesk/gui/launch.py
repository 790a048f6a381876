"""Starting the desktop app (`modeldesk ui [PATH]`, or plain `modeldesk`).

Importing this module is cheap: Qt is imported only inside :func:`launch`,
after checking there is a display to show a window on (without one, Qt would
abort the whole process): DISPLAY, WAYLAND_DISPLAY or QT_QPA_PLATFORM set and,
when Qt would use X11, an X server answering at DISPLAY.
"""

from __future__ import annotations

import os
import socket
import sys

NO_DISPLAY = ("No display found: ModelDesk's window needs a desktop session; run `modeldesk runs list` "
              "for the CLI, or set QT_QPA_PLATFORM=offscreen")
X11_SOCKET_DIR = "/tmp/.X11-unix"
X11_TCP_PORT = 6000


def has_display(environ=os.environ, platform: str = sys.platform) -> bool:
    """True where Qt can open a window: Windows and macOS always; elsewhere an
    X11 or Wayland session, or a platform plugin chosen explicitly."""
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    return any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _uses_xcb(environ) -> bool:
    """Whether Qt would pick (only) the X11 platform plugin: DISPLAY set, no
    Wayland session, QT_QPA_PLATFORM unset or just 'xcb' (a list such as
    'xcb;offscreen' has a fallback, so Qt does not abort)."""
    if not environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return False
    names = [p.split(":")[0].strip() for p in (environ.get("QT_QPA_PLATFORM") or "").split(";") if p.strip()]
    return not names or names == ["xcb"]


def _connects_unix(address: str, timeout: float) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
        return True
    except (OSError, ValueError):
        return False


def x_server_reachable(display: str, *, socket_dir: str | os.PathLike = X11_SOCKET_DIR, timeout: float = 0.5,
                       platform: str = sys.platform) -> bool:
    """Whether an X server answers at ``display`` (the DISPLAY syntax
    ``[host]:N[.screen]``), connecting the way libxcb does: for ``:N`` or
    ``unix:N`` the socket ``socket_dir/XN`` (and on Linux the abstract socket
    of that name), then TCP on localhost; for ``host:N`` TCP to host:6000+N.
    A DISPLAY this cannot read counts as reachable: Qt then decides."""
    host, sep, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not sep or not number.isdigit():
        return True
    if host.startswith("/"):   # a full socket path (XQuartz style): "/path/to/socket:N"
        return _connects_unix(host, timeout) if hasattr(socket, "AF_UNIX") else True
    port = X11_TCP_PORT + int(number)
    if host in ("", "unix") and hasattr(socket, "AF_UNIX"):
        path = os.path.join(os.fspath(socket_dir), f"X{number}")
        if _connects_unix(path, timeout):
            return True
        if platform.startswith("linux") and _connects_unix("\0" + path, timeout):
            return True
        if host == "unix":
            return False
    try:   # "host:N", or ":N" whose socket did not answer (libxcb then tries TCP on localhost)
        with socket.create_connection((host.strip("[]") or "localhost", port), timeout=timeout):
            return True
    except OSError:
        return False


def display_problem(environ=os.environ, platform: str = sys.platform, *,
                    socket_dir: str | os.PathLike = X11_SOCKET_DIR, timeout: float = 0.5) -> str | None:
    """Why Qt could not open a window here (a message for the user), or None.

    Without any display that is :data:`NO_DISPLAY`. With DISPLAY set and Qt
    about to use X11, the X server must also answer: otherwise Qt aborts the
    process (exit 134) with a message about plugins that does not say what to do.
    """
    if not has_display(environ, platform):
        return NO_DISPLAY
    if platform.startswith(("win", "darwin", "cygwin")) or not _uses_xcb(environ):
        return None
    display = environ["DISPLAY"]
    if x_server_reachable(display, socket_dir=socket_dir, timeout=timeout, platform=platform):
        return None
    return (f"No display found: no X server answers at DISPLAY={display}. Start a desktop (X) session or fix "
            f"DISPLAY; on a machine without a screen run `xvfb-run modeldesk ui`, or set "
            f"QT_QPA_PLATFORM=offscreen for a headless run. `modeldesk runs list` works without a display.")


def launch(path: str | os.PathLike | None = None, *, user: str | None = None) -> int:
    """Open the main window on ``path`` (else the most recent project, else a
    welcome page), run the event loop, and return the exit code."""
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from .app import create_application
    from .main_window import MainWindow

    app = create_application()
    window = MainWindow(user=user)
    install_error_dialog(window)
    open_files_from_the_system(app, window)
    probe = os.environ.get("MODELDESK_STARTUP_PROBE")
    if probe:
        _install_probe(window, probe)
    window.show()
    window.start(path)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(500, window.warm_up)
    code = app.exec()
    from .kit.workers import wait_for_all_pools

    wait_for_all_pools(3000)  # let running queries (every pool's) end before Python does
    return code


def open_files_from_the_system(app, window):
    """Open the project the system hands the running app: macOS sends a FileOpen event
    (a double-click in Finder on a .mdesk file, or a drop on the Dock icon) instead of
    putting the file on the command line. Returns the event filter (kept by the app)."""
    from PySide6.QtCore import QEvent, QObject

    class FileOpen(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.FileOpen and event.file():
                window.open(event.file())
                return True
            return False

    app._file_open_filter = FileOpen(app)
    app.installEventFilter(app._file_open_filter)
    return app._file_open_filter


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

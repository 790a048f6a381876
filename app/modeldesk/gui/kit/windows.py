"""What a view of the main window offers (:class:`ProjectView`), views that reload when shown,
and top-level windows: shown non-modal and kept alive, found again, brought to front."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from .dialogs import message
from .workers import Jobs


class ProjectView(Protocol):
    """A view of the main window. MainWindow keeps one list of them and, for each in turn:

    - ``set_project(project)`` when a project opens, and ``set_project(None)`` when it closes;
    - ``refresh()`` when another process (a training script, a server) committed to
      the open project: update in place, or (:class:`ReloadWhenShown`) when next shown;
    - ``jobs``: its queries on the project, cancelled and waited for before the
      project is closed;
    - ``save_state(settings)`` / ``restore_state(settings)``: its splitters and the like.

    Separate windows opened from a view (run details, compare) are not in the
    list; MainWindow asks each open one to ``refresh_live()`` instead.
    """

    jobs: Jobs

    def set_project(self, project) -> None: ...

    def refresh(self) -> None: ...

    def save_state(self, settings) -> None: ...

    def restore_state(self, settings) -> None: ...


class ReloadWhenShown:
    """Mixin for a view that follows a project (put it before QWidget): its :meth:`ProjectView.refresh`.

    ``refresh()`` (the project changed) reloads at once while the view is shown
    and otherwise only marks it stale; the next show reloads. The view defines
    ``project`` and ``reload()``, and ``reload()`` clears ``_stale``.
    """

    _stale = False

    def refresh(self) -> None:
        """The project changed (another process, another view): reload now if shown, else when next shown."""
        if self.project is None:
            return
        if not self.isVisible():
            self._stale = True
            return
        self.reload()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()


_OPEN_WINDOWS: set[QWidget] = set()


def show_as_window(widget: QWidget, title: str, size: tuple[int, int]) -> QWidget:
    """Show ``widget`` as its own non-modal top-level window and keep it alive until closed."""
    widget.setWindowFlag(Qt.WindowType.Window, True)
    widget.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    widget.setWindowTitle(title)
    widget.resize(*size)
    _OPEN_WINDOWS.add(widget)
    widget.show()
    widget.raise_()
    return widget


def open_windows(kind: type) -> list[QWidget]:
    """The windows of class ``kind`` opened with :func:`show_as_window` and not closed yet."""
    return [w for w in _OPEN_WINDOWS if isinstance(w, kind)]


def bring_to_front(widget: QWidget) -> QWidget:
    """Show an already open window again: restored if minimised, raised, focused."""
    if widget.isMinimized():
        widget.showNormal()
    widget.show()
    widget.raise_()
    widget.activateWindow()
    return widget


def forget_window(widget: QWidget) -> None:
    _OPEN_WINDOWS.discard(widget)


def open_view(parent, opener, label: str, *args) -> QWidget | None:
    """Open a window through ``opener`` and return it; a failure is a message, not a crash."""
    try:
        return opener(*args, parent)
    except Exception as exc:  # a view failing to open must not take the window with it
        message(parent, QMessageBox.Warning, label, f"Could not open the {label.lower()} view: {exc}")
        return None


def unavailable(parent, label: str, exc: ImportError) -> None:
    """Say that the ``label`` view cannot open in this build (its library failed to import)."""
    message(parent, QMessageBox.Information, label, f"The {label.lower()} view is not available in this build ({exc}).")

"""Running core calls off the GUI thread, with progress and cancel.

Core functions that take time accept ``progress(fraction, message)`` and
``should_stop()``; :class:`Task` adapts them to Qt signals. Results and
errors come back on the GUI thread through queued signals.

    task = Task(core_fn, project, arg, wants_progress=True)
    task.signals.done.connect(on_result)
    task.signals.failed.connect(on_error)
    start(task)
    task.cancel()
"""

from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class TaskSignals(QObject):
    done = Signal(object)          # the function's result
    failed = Signal(str)           # a one-line message for the user
    progress = Signal(float, str)  # fraction 0..1, message
    cancelled = Signal()


class Cancelled(Exception):
    """Raised inside a task whose cancel() was called."""


class Task(QRunnable):
    """One call of ``fn(*args, **kwargs)`` on the thread pool.

    With ``wants_progress=True`` the function also receives ``progress`` and
    ``should_stop`` keyword arguments.
    """

    def __init__(self, fn: Callable[..., Any], *args, wants_progress: bool = False, **kwargs):
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.wants_progress = wants_progress
        self.signals = TaskSignals()
        self._stop = threading.Event()
        self.finished = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def is_cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:  # runs on a pool thread
        try:
            kwargs = dict(self.kwargs)
            if self.wants_progress:
                kwargs["progress"] = lambda f, m="": self.signals.progress.emit(float(f), str(m))
                kwargs["should_stop"] = self._stop.is_set
            result = self.fn(*self.args, **kwargs)
            if self._stop.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.done.emit(result)
        except Cancelled:
            self.signals.cancelled.emit()
        except Exception as exc:  # shown to the user, never a crash
            from ...core.errors import ModelDeskError

            if isinstance(exc, ModelDeskError):
                from .hints import with_hint

                message = with_hint(str(exc), exc.hint)
            else:
                message = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            self.signals.failed.emit(message)
        finally:
            self.finished.set()


def start(task: Task, pool: QThreadPool | None = None) -> Task:
    """Queue ``task`` on the (global) thread pool and return it."""
    (pool or QThreadPool.globalInstance()).start(task)
    return task


def run_async(fn, *args, on_done=None, on_error=None, parent: QObject | None = None, **kwargs) -> Task:
    """Shorthand: run ``fn`` off the GUI thread and deliver the result to ``on_done``."""
    task = Task(fn, *args, **kwargs)
    if on_done is not None:
        task.signals.done.connect(on_done)
    if on_error is not None:
        task.signals.failed.connect(on_error)
    if parent is not None:
        task.signals.setParent(None)
    return start(task)


class TaskKeeper:
    """Keeps worker tasks alive until they finish; cancels the rest on close.

    ``pool`` defaults to Qt's global thread pool.
    """

    def __init__(self, pool=None):
        self._tasks: list[Task] = []
        self._pool = pool

    def run(self, fn: Callable, *args, on_done: Callable, on_error: Callable | None = None) -> Task:
        # Connect to bound methods of QObjects living in the GUI thread so the
        # results arrive there through queued connections.
        self._tasks = [t for t in self._tasks if not t.finished.is_set()]
        task = Task(fn, *args)
        task.signals.done.connect(on_done)
        if on_error is not None:
            task.signals.failed.connect(on_error)
        self._tasks.append(task)
        return start(task, self._pool)

    @property
    def busy(self) -> bool:
        return any(not t.finished.is_set() for t in self._tasks)

    def cancel_all(self) -> None:
        for task in self._tasks:
            task.cancel()

    def wait(self, msecs: int = 10_000) -> bool:
        """Block until every task has finished (tests, shutdown)."""
        import time

        deadline = time.monotonic() + msecs / 1000
        for task in self._tasks:
            if not task.finished.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

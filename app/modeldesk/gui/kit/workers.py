"""The one way to run core calls off the GUI thread, with progress and cancel.

Core functions that take time accept ``progress(fraction, message)`` and
``should_stop()``; a :class:`Task` adapts them to Qt signals. A view never
starts a Task itself: it owns a :class:`Jobs`, which starts tasks on a thread
pool (Qt's global one, or a named one from :func:`pool`), delivers results
and errors on the GUI thread, keeps every task alive until its thread has
left it, and drops results that went stale (see :meth:`Jobs.new_session`)::

    self.jobs = Jobs(self)                     # a child of the view: it goes with it
    task = self.jobs.start(core_fn, project, arg, done=self._on_result, failed=self._on_error,
                           progress=self._on_progress, wants_progress=True)
    task.cancel()
    self.jobs.new_session()                    # another project: late results are dropped
    self.jobs.busy(); self.jobs.cancel_all(); self.jobs.wait(5.0)

:class:`ActionRunner` is the same for a user's action: one core call at a
time, and a refusal from core shown in a message box.
"""

from __future__ import annotations

import html
import threading
import time
import traceback
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from .dialogs import message


class TaskSignals(QObject):
    done = Signal(object)          # the function's result
    failed = Signal(str)           # a one-line message for the user
    progress = Signal(float, str)  # fraction 0..1, message
    cancelled = Signal()


class Cancelled(Exception):
    """Raised inside a task whose cancel() was called."""


class Task(QRunnable):
    """One call of ``fn(*args, **kwargs)`` on a thread pool (started by :meth:`Jobs.start`).

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


_POOLS: dict[str, QThreadPool] = {}


def pool(name: str | None = None, *, max_threads: int | None = None, expiry_ms: int | None = None) -> QThreadPool:
    """Qt's global thread pool (``name`` None), or the pool called ``name``, made on first use.

    A named pool keeps one kind of work from queueing behind another (a long
    scoring run must not starve the servers' polls) or caps how many threads a
    kind may take; it lives as long as the application, so no window waits
    for it when it closes. ``max_threads`` and ``expiry_ms``, when given, set
    the pool's thread count and how long an idle thread waits for work.
    """
    if name is None:
        found = QThreadPool.globalInstance()
    else:
        found = _POOLS.get(name)
        if found is None:
            found = _POOLS[name] = QThreadPool()
    if max_threads is not None and found.maxThreadCount() != max_threads:
        found.setMaxThreadCount(max_threads)
    if expiry_ms is not None:
        found.setExpiryTimeout(expiry_ms)
    return found


def wait_for_all_pools(msecs: int = 3000) -> bool:
    """Wait (at most ``msecs`` in all) for Qt's global pool and every named pool to finish
    their running work: what the app does before Python exits. True when all are idle."""
    import time

    deadline = time.monotonic() + msecs / 1000
    done = True
    for each in (QThreadPool.globalInstance(), *_POOLS.values()):
        done &= each.waitForDone(max(0, int((deadline - time.monotonic()) * 1000)))
    return done


def _alive(callback: Callable) -> bool:
    """False when ``callback`` is a method of a QObject whose C++ side is gone
    (what Qt does for a connection to a deleted receiver: nothing)."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


class Jobs(QObject):
    """Starts tasks for its owner and delivers their results on the GUI thread.

    Each task is kept alive until its result was delivered and its thread has
    left it. :meth:`new_session` makes every task started before it stale: its
    ``done`` and ``failed`` are not called (views call it when the project, the
    user or the search changes, so a late answer to an old question is not
    painted over the new one).
    """

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | str | None = None):
        super().__init__(parent)
        self._pool = pool
        self._tasks: dict[int, Task] = {}     # started, not delivered yet
        self._spent: list[Task] = []          # delivered; kept until their thread has left run()
        self._session = 0

    @property
    def session(self) -> int:
        return self._session

    def new_session(self) -> int:
        """Drop the results of every task started so far; returns the new session number."""
        self._session += 1
        return self._session

    def start(self, fn: Callable, *args, done: Callable | None = None, failed: Callable | None = None,
              progress: Callable | None = None, cancelled: Callable | None = None,
              wants_progress: bool = False, **kwargs) -> Task:
        """Run ``fn(*args, **kwargs)`` on the pool; ``done(result)``, ``failed(message)``,
        ``cancelled()`` and ``progress(fraction, message)`` are called on the GUI thread.

        With ``wants_progress`` the function gets ``progress`` and ``should_stop``
        keyword arguments (core's long calls take them).
        """
        self._forget_spent()
        task = Task(fn, *args, wants_progress=wants_progress, **kwargs)
        key = id(task)  # not the task itself: a reference cycle through Qt would leak it
        session = self._session
        signals = task.signals
        signals.done.connect(lambda result: self._deliver(key, session, done, result))
        signals.failed.connect(lambda text: self._deliver(key, session, failed, text))
        signals.cancelled.connect(lambda: self._deliver(key, None, cancelled))
        if progress is not None:
            signals.progress.connect(progress)
        self._tasks[key] = task
        target = self._pool if isinstance(self._pool, QThreadPool) else pool(self._pool)
        target.start(task)
        return task

    def _deliver(self, key: int, session: int | None, callback: Callable | None, *value) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            self._spent.append(task)
        self._forget_spent()
        if callback is None or (session is not None and session != self._session):
            return
        if not shiboken6.isValid(self) or not _alive(callback):
            return   # the owner is gone: as Qt does for a deleted receiver, deliver nothing
        callback(*value)

    def _forget_spent(self) -> None:
        self._spent = [t for t in self._spent if not t.finished.is_set()]

    def busy(self) -> bool:
        """True while a task started here is still running."""
        return any(not t.finished.is_set() for t in list(self._tasks.values()))

    def cancel_all(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()

    def wait(self, timeout: float = 5.0) -> bool:
        """Block until running tasks end, at most ``timeout`` seconds in all (closing, tests)."""
        deadline = time.monotonic() + timeout
        for task in list(self._tasks.values()) + self._spent:
            if not task.finished.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True


def _call(fn, args, kwargs):
    return fn(*args, **kwargs)


class ActionRunner(QObject):
    """One core call per user action, off the GUI thread; one action at a time.

    ``started(action)`` when it starts, ``succeeded(action, result)`` on
    success; on a refusal a warning box over ``widget`` shows core's message
    (and ``failed(action, message)`` is emitted).
    """

    started = Signal(str)
    succeeded = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, widget: QWidget, jobs: Jobs | None = None):
        super().__init__(widget)
        self.widget = widget
        self.jobs = jobs if jobs is not None else Jobs(self)
        self.current: tuple[str, str] | None = None    # (action, what)
        self.last_box: QMessageBox | None = None

    @property
    def busy(self) -> bool:
        return self.current is not None

    def run(self, action: str, what: str, fn, *args, **kwargs) -> bool:
        """Call ``fn(*args, **kwargs)`` in a worker; ``what`` names it in a refusal ("approve churn v3")."""
        if self.current is not None:
            return False
        self.current = (action, what)
        self.started.emit(action)
        self.jobs.start(_call, fn, args, kwargs, done=self._done, failed=self._failed)
        return True

    def _done(self, result) -> None:
        action, _ = self.current or ("", "")
        self.current = None
        self.succeeded.emit(action, result)

    def _failed(self, text: str) -> None:
        action, what = self.current or ("", "")
        self.current = None
        self.last_box = message(self.widget, QMessageBox.Warning, "Not done",
                                f"<b>Could not {html.escape(what)}</b>", text)
        self.failed.emit(action, text)

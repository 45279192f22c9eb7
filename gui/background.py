"""Work off the GUI thread whose result comes back on it, without the worker touching Qt.

A plain Python thread computes; the GUI thread looks for its result on a timer and hands it on.
The worker never emits a signal or touches a Qt object, so a window that closes, or a process
that exits (a ``--screenshot`` run), while it is still working cannot make Qt abort.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

POLL_MS = 30


_RUNNING: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def wait_for_background_work(timeout: float = 10.0) -> None:
    """Before the process exits: let the threads still working finish (a data set loading).
    One killed inside torch's C++ code at exit can abort the process ("terminate called without
    an active exception") after the window closed cleanly."""
    for thread in list(_RUNNING):
        thread.join(timeout)


class BackgroundJob(QObject):
    """Runs ``work()`` in a daemon thread; calls ``done(result, error)`` on the GUI thread."""

    def __init__(self, work: Callable[[], Any], done: Callable[[Any, BaseException | None], None],
                 parent: QObject, name: str = "netloom-background") -> None:
        super().__init__(parent)
        self._work, self._done = work, done
        self._outcome: tuple[Any, BaseException | None] | None = None
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def start(self) -> BackgroundJob:
        _RUNNING.add(self._thread)
        self._thread.start()
        self._timer.start()
        return self

    def _run(self) -> None:
        try:
            result: tuple[Any, BaseException | None] = (self._work(), None)
        except BaseException as err:     # handed to ``done``, which says it in the window
            result = (None, err)
        self._outcome = result           # one assignment: the GUI thread sees all of it or none

    def _poll(self) -> None:
        if self._outcome is None:
            return
        self._timer.stop()
        result, error = self._outcome
        self._done(result, error)
        self.deleteLater()


class StreamingJob:
    """Runs a generator in a daemon thread; the GUI thread takes what it has yielded so far with
    ``take()`` (on its own timer) and may ask it to stop between items. No Qt object is touched
    off the GUI thread."""

    def __init__(self, items: Callable[[], Any], name: str = "netloom-stream") -> None:
        self._items = items
        self._found: list[Any] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.error: BaseException | None = None
        self.done = False
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)

    def start(self) -> StreamingJob:
        _RUNNING.add(self._thread)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        try:
            for item in self._items():
                with self._lock:
                    self._found.append(item)
                if self._stop.is_set():
                    break
        except BaseException as err:     # shown by the panel that started it
            self.error = err
        self.done = True

    def take(self) -> list[Any]:
        with self._lock:
            found, self._found = self._found, []
        return found

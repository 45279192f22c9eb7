"""Crash recovery in the window: unsaved work is copied to this window's own recovery file every
minute (``recovery.RecoveryFile``), the copy goes once the work is saved, and at start every copy
that windows which did not close normally left is offered back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QTimer

from graphs import Changes, GraphFileError

from .document import Document, PathChanged, Replaced
from .recovery import Leftover, RecoveryFile, leftovers
from .window_port import QtWindowPort

AUTOSAVE_MS = 60_000


class RecoveringWindow(Protocol):
    autosave: Autosave


class Autosave(QObject):
    """The autosave of ``window``; ``new_window`` makes another window like it, for the second and
    further copies restored."""

    def __init__(self, document: Document, port: QtWindowPort, window: RecoveringWindow,
                 new_window: Callable[[], RecoveringWindow], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document, self.port, self.window, self.new_window = document, port, window, new_window
        self.recovery = RecoveryFile()
        self.timer = QTimer(self, interval=AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        document.subscribe(self._saved, kinds=(PathChanged,))

    def _saved(self, changes: Changes) -> None:
        """Saved (a new path, the undo stack clean, no other graph opened): no copy is needed."""
        if not changes.has(Replaced) and not self.document.modified:
            self.recovery.discard()

    def autosave(self, force: bool = False) -> None:
        """Copy unsaved work to this window's own recovery file."""
        if not (self.document.modified or force):
            return
        try:
            self.recovery.write(self.document.graph, self.document.path)
        except (GraphFileError, OSError) as err:
            self.port.say(f"Autosave failed: {err}")

    def offer_recovery(self) -> list[RecoveringWindow]:
        """Offer every copy that windows which did not close normally left; the windows that show
        restored work. The first restored copy opens in this window, the others in their own."""
        found, problems = leftovers()
        for problem in problems:
            self.port.say(f"A recovery copy cannot be read: {problem}")
        restored: list[RecoveringWindow] = []
        for leftover in found:
            answer = self.port.ask_restore(leftover)
            if answer == "restore":
                window = self.window if not restored else self.new_window()
                if window.autosave.restore(leftover):
                    restored.append(window)
            elif answer == "discard":
                leftover.remove()
            else:
                leftover.release()            # asked again at the next start
        return restored

    def restore(self, leftover: Leftover) -> bool:
        try:
            graph = leftover.graph()
        except GraphFileError as err:
            self.port.show_error("The saved work cannot be restored", str(err))
            leftover.release()
            return False
        self.document.replace(graph, leftover.source)
        # Restored work is unsaved work: no state of the undo stack counts as saved.
        self.document.undo_stack.resetClean()
        self.port.fit_view()
        self.autosave(force=True)        # this window's own copy first, then the old one goes
        leftover.remove()
        return True

    def close(self) -> None:
        self.timer.stop()
        self.recovery.close()

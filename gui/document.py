"""The open document: its graph, undo stack, file path and the latest check report.

Views listen to the graph's events for structure and to ``checked`` for shapes and problems.
Checking runs after each change, coalesced by a zero-delay timer so that a burst of edits (a
paste, a drag) is checked once, and incremental so that it stays well under a frame.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine import Checker, Report
from graphs import Graph, GraphError
from graphs.edits import Edit

from .undo import EditCommand


class Document(QObject):
    checked = Signal(object)        # Report
    replaced = Signal()             # a new graph (New, Open): views rebuild
    message = Signal(str)           # something the status bar should say
    path_changed = Signal()

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.checker = Checker()
        self.graph = graph or Graph()
        self.path: Path | None = None
        self.report = Report()
        self._unsubscribe = self.graph.events.subscribe(self._on_change)
        self._check_timer = QTimer(self, singleShot=True, interval=0)
        self._check_timer.timeout.connect(self.check_now)
        self.check_now()

    # ------------------------------------------------------------------ editing
    def push(self, edit: Edit, text: str | None = None) -> bool:
        """Apply an edit as one undo step; a refused edit is reported, not raised."""
        try:
            self.undo_stack.push(EditCommand(self.graph, edit, text))
        except GraphError as err:
            self.message.emit(str(err))
            return False
        return True

    def try_edit(self, make_edit, text: str | None = None) -> bool:
        """Build an edit (which may be refused with a GraphError) and push it."""
        try:
            edit = make_edit()
        except GraphError as err:
            self.message.emit(str(err))
            return False
        return self.push(edit, text)

    # ------------------------------------------------------------------ replacing
    def replace(self, graph: Graph, path: Path | None) -> None:
        self._unsubscribe()
        self.graph = graph
        self._unsubscribe = graph.events.subscribe(self._on_change)
        self.path = path
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.replaced.emit()
        self.path_changed.emit()
        self.check_now()

    def set_path(self, path: Path) -> None:
        self.path = path
        self.undo_stack.setClean()
        self.path_changed.emit()

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    # ------------------------------------------------------------------ checking
    def _on_change(self, event) -> None:
        self._check_timer.start()

    def check_now(self) -> Report:
        self.report = self.checker.check(self.graph)
        self.checked.emit(self.report)
        return self.report

"""The open document: its graph, undo stack, file path and the latest check report.

Views learn of everything through one channel, ``subscribe(listener, kinds)``: each listener
receives ``graphs.Changes`` batches, one per edit, holding typed events: the graph's own
(``NodeAdded``, ``ParamsChanged`` ...) and the document's (``Replaced``, ``PathChanged``,
``Checked``). A listener names the kinds it draws and hears nothing else.

Every change of the graph goes through ``push`` (an undoable edit) or ``apply_quietly`` (an
edit that is no user action, such as the view being saved or a layout filled in on opening).
Checking runs after each change, coalesced by a zero-delay timer so that a burst of edits (a
paste, a drag) is checked once, and incremental so that it stays well under a frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine import Checker, Report
from graphs import Changes, Graph, GraphError
from graphs.edits import Edit, Move
from graphs.layout import layered_positions

from .undo import EditCommand


@dataclass(frozen=True)
class Replaced:
    """Another graph is open (New, Open, an example, an import): views rebuild."""


@dataclass(frozen=True)
class PathChanged:
    """The file the document belongs to changed (opened, saved as)."""


@dataclass(frozen=True)
class Checked:
    """A new check report: shapes, problems, totals."""
    report: Report


Listener = Callable[[Changes], None]


class Document(QObject):
    message = Signal(str)           # something the status bar should say

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.checker = Checker()
        self.graph = graph or Graph()
        self.path: Path | None = None
        self.report = Report()
        self._listeners: list[tuple[Listener, tuple[type, ...]]] = []
        self._unsubscribe = self.graph.events.subscribe(self._graph_changed)
        self._check_timer = QTimer(self, singleShot=True, interval=0)
        self._check_timer.timeout.connect(self.check_now)
        self.check_now()

    # ------------------------------------------------------------------ the one channel
    def subscribe(self, listener: Listener, kinds: tuple[type, ...] = ()) -> Callable[[], None]:
        entry = (listener, tuple(kinds))
        self._listeners.append(entry)

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)
        return unsubscribe

    def _announce(self, changes: Changes) -> None:
        for listener, kinds in list(self._listeners):
            if not kinds or changes.has(*kinds):
                listener(changes)

    def _graph_changed(self, changes: Changes) -> None:
        self._announce(changes)
        self._check_timer.start()

    # ------------------------------------------------------------------ editing
    def push(self, edit: Edit, text: str | None = None) -> bool:
        """Apply an edit as one undo step; a refused edit is reported, not raised."""
        try:
            self.graph.apply(edit)
        except GraphError as err:
            self.message.emit(str(err))
            return False
        self.undo_stack.push(EditCommand(self.graph, edit, text, applied=True))
        return True

    def try_edit(self, make_edit, text: str | None = None) -> bool:
        """Build an edit (which may be refused with a GraphError) and push it."""
        try:
            edit = make_edit()
        except GraphError as err:
            self.message.emit(str(err))
            return False
        return self.push(edit, text)

    def apply_quietly(self, edit: Edit) -> None:
        """An edit that is no user action (the view saved with the file): announced, not undoable,
        and it does not mark the document modified."""
        self.graph.apply(edit)

    # ------------------------------------------------------------------ replacing
    def replace(self, graph: Graph, path: Path | None) -> None:
        self._unsubscribe()
        self.graph = graph
        missing = {n: p for n, p in layered_positions(graph).items() if n not in graph.positions} \
            if len(graph.positions) < len(graph.nodes) else {}
        if missing:   # a file without layout (an import, a hand-written file): lay it out once
            graph.apply(Move(missing))
        self._unsubscribe = graph.events.subscribe(self._graph_changed)
        self.path = path
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._announce(Changes((Replaced(), PathChanged())))
        self.check_now()

    def set_path(self, path: Path) -> None:
        self.path = path
        self.undo_stack.setClean()
        self._announce(Changes((PathChanged(),)))

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    # ------------------------------------------------------------------ checking
    def check_now(self) -> Report:
        self.report = self.checker.check(self.graph)
        self._announce(Changes((Checked(self.report),)))
        return self.report

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

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine import Checker, Report
from engine.data_fit import fit_diagnostics
from graphs import Changes, Graph, GraphError
from graphs.edits import Edit, Move
from graphs.events import EventSource
from graphs.layout import layered_positions, layout_edit

from .background import BackgroundJob
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
        self._channel = EventSource()      # the graph's batches, and the document's own events
        self._unsubscribe = self.graph.events.subscribe(self._graph_changed)
        self._check_timer = QTimer(self, singleShot=True, interval=0)
        self._check_timer.timeout.connect(self.check_now)
        # The data set the training settings name, loaded in a thread, so that the checks as
        # you edit include what training would refuse ("fc3: gives 5 outputs but digits has
        # 10 classes"), with their fixes, as `python main.py check` does.
        self.data = None
        self.data_problem = ""
        self._data_key: tuple | None = None
        self.check_now()

    # ------------------------------------------------------------------ the one channel
    def subscribe(self, listener: Listener, kinds: tuple[type, ...] = ()) -> Callable[[], None]:
        """Hear the batches that hold a kind in ``kinds`` (every batch with none)."""
        return self._channel.subscribe(listener, kinds)

    def _announce(self, changes: Changes) -> None:
        self._channel.announce(changes)

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
        if not graph.positions and graph.nodes:    # a file without layout (hand-written): lay it out once
            graph.apply(layout_edit(graph))
        elif len(graph.positions) < len(graph.nodes):     # a few nodes without a place: give them one
            graph.apply(Move({n: p for n, p in layered_positions(graph).items() if n not in graph.positions}))
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
        report = self.checker.check(self.graph)
        self._follow_data_set()
        if report.ok and self.data is not None:
            fit = fit_diagnostics(self.graph, report.shapes, self.data, *self._loss())
            if fit:
                report = dataclasses.replace(report, diagnostics=report.diagnostics + fit)
        self.report = report
        self._announce(Changes((Checked(self.report),)))
        return self.report

    # ------------------------------------------------------------------ the data set, for the checks
    def _loss(self) -> tuple[str, bool]:
        loss, reconstruct = self.graph.training.get("loss", "cross_entropy"), self.graph.training.get("reconstruct")
        return (loss if isinstance(loss, str) else "cross_entropy"), reconstruct is True

    def _follow_data_set(self) -> None:
        """Load the data set the settings name when they name another one (in a thread). A graph
        whose settings name none is not checked against one, as `python main.py check` does."""
        training = self.graph.training
        name = training.get("dataset")
        options = training.get("dataset_options", {})
        if not isinstance(name, str) or not isinstance(options, dict):
            self._data_key, self.data, self.data_problem = None, None, ""
            return
        options = {k: v for k, v in options.items() if k != "download"}      # checking never downloads
        key = (name, repr(sorted(options.items())))
        if key == self._data_key:
            return
        self._data_key, self.data, self.data_problem = key, None, ""

        def load():
            from engine.data import load_dataset
            return load_dataset(name, **options)

        def loaded(data, error: BaseException | None) -> None:
            # A data set that cannot be read must not break the checks: it is said, not raised.
            self._take_data(key, data, "" if error is None else (str(error) or type(error).__name__))
        BackgroundJob(load, loaded, self, name="netloom-check-data").start()

    def _take_data(self, key, data, problem: str) -> None:
        if key != self._data_key:
            return                              # the settings changed again meanwhile
        self.data, self.data_problem = data, problem
        if problem:
            self.message.emit(f"Not checked against its data set: {problem}")
        self.check_now()

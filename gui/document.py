"""The open document: its graph, undo stack, file path, selection and the latest check report.

Views learn of everything through one channel, ``subscribe(listener, kinds)``: each listener
receives ``graphs.Changes`` batches, one per edit, holding typed events: the graph's own
(``NodeAdded``, ``ParamsChanged`` ...) and the document's (``Replaced``, ``PathChanged``,
``Checked``, ``SelectionChanged``). A listener names the kinds it draws and hears nothing else.

The selection (``selection``, plain data: node ids and wires of the shown level) is the
document's too, so that commands act on it without a window. It follows the graph: a batch
that removes or renames a selected node carries ``SelectionChanged`` as its last event; a new
graph or another level starts with nothing selected, except that going back up selects the
block just left.

Every change of the graph goes through ``push`` (an undoable edit) or ``apply_quietly`` (an
edit that is no user action, such as the view being saved or a layout filled in on opening).

The canvas shows one level of the document at a time: the model (``graph``), or the body of a
block opened by double-clicking one of its uses. ``levels`` leads down to it as (block, use)
pairs; ``shown`` is that graph and ``shown_report`` its check, bound to the use it was opened
through. Edits of the canvas go to ``shown``: editing a block's body changes every use of it.
Undoing or redoing an edit first opens the level it was made in, so that no change is unseen.

Checking runs after each change, coalesced by a zero-delay timer so that a burst of edits (a
paste, a drag) is checked once, and incremental so that it stays well under a frame.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine import Checker, Report
from engine.checking import fit_diagnostics, unloadable_data
from engine.data import DataSet, load_dataset
from graphs import Changes, Graph, GraphError
from graphs.block_edits import make_unique_edit
from graphs.blocks import block_uses
from graphs.edits import Edit, Move
from graphs.events import STRUCTURE_EVENTS, EventSource, NodeMoved, ParamsChanged, WireRouted
from graphs.layout import layered_positions, layout_edit

from .background import BackgroundJob
from .selection import Selection, SelectionChanged
from .start_weights_check import StartWeightsCheck
from .undo import EditCommand


@dataclass(frozen=True)
class Replaced:
    """Another graph is open (New, Open, an example, an import): views rebuild."""


@dataclass(frozen=True)
class Opened:
    """The canvas shows another level of the document: a block was opened, or closed to go back
    up; views that draw the shown graph rebuild."""


@dataclass(frozen=True)
class PathChanged:
    """The file the document belongs to changed (opened, saved as)."""


@dataclass(frozen=True)
class Checked:
    """A new check report: shapes, problems, totals."""
    report: Report


Listener = Callable[[Changes], None]
_CANVAS_EVENTS = (*STRUCTURE_EVENTS, NodeMoved, WireRouted, ParamsChanged)
Levels = tuple[tuple[str, str | None], ...]     # (block, use) pairs from the model down to a body


class Document(QObject):
    message = Signal(str)           # something the status bar should say

    def __init__(self, graph: Graph | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.checker = Checker()
        self.graph = graph or Graph()
        self.path: Path | None = None
        self.report = Report()              # the whole model's check
        self.levels: Levels = ()     # (block, use) pairs down to the shown body
        self.shown: Graph = self.graph      # what the canvas shows and edits
        self.shown_report = self.report
        self._bound: Graph = self.graph     # the shown graph with its block parameters bound
        self._channel = EventSource()      # the graph's batches, and the document's own events
        self.selection = Selection(lambda: self._announce(Changes((SelectionChanged(),))))
        self._unsubscribe = self.graph.events.subscribe(self._model_changed)
        self._unsubscribe_shown: Callable[[], None] = lambda: None
        self._check_timer = QTimer(self, singleShot=True, interval=0)
        self._check_timer.timeout.connect(self.check_now)
        # The data set the training settings name, loaded in a thread, so that the checks as
        # you edit include what training would refuse ("fc3: gives 5 outputs but digits has
        # 10 classes"), with their fixes, as `python main.py check` does.
        self.data = None
        self.data_problem = ""
        self._data_key: tuple | None = None
        # The weights the settings start from, read and matched with the graph in a thread too:
        # a tensor of the wrong shape is marked on its node, a changed or missing file said.
        self.start_weights = StartWeightsCheck(self, self._start_weights_checked)
        self.check_now()

    # ------------------------------------------------------------------ the one channel
    def subscribe(self, listener: Listener, kinds: tuple[type, ...] = ()) -> Callable[[], None]:
        """Hear the batches that hold a kind in ``kinds`` (every batch with none)."""
        return self._channel.subscribe(listener, kinds)

    def _announce(self, changes: Changes) -> None:
        self._channel.announce(changes)

    def _graph_changed(self, changes: Changes) -> None:
        """A batch of the shown graph: views draw it (and the selection it changed), and the model
        is checked again."""
        if self.selection.follow(changes):
            changes = Changes((*changes.events, SelectionChanged()))
        self._announce(changes)
        self._check_timer.start()

    def _model_changed(self, changes: Changes) -> None:
        """A batch of the model while a block is shown (Make Unique on the opened use): what
        concerns the document as a whole is announced; its nodes and wires are not drawn now."""
        if self.shown is self.graph:
            self._graph_changed(changes)
            return
        kept = tuple(e for e in changes.events if not isinstance(e, _CANVAS_EVENTS))
        if kept:
            self._announce(Changes(kept))
        self._check_timer.start()

    # ------------------------------------------------------------------ editing
    def push(self, edit: Edit, text: str | None = None, at: Levels | None = None) -> bool:
        """Apply an edit as one undo step to the shown graph, or to the level ``at`` leads to
        (``()``: the model itself, for its training settings); a refused edit is reported, not
        raised."""
        levels = self.levels if at is None else _existing(self.graph, at)
        target = self._graph_at(levels)
        try:
            target.apply(edit)
        except GraphError as err:
            self.message.emit(str(err))
            return False
        self.undo_stack.push(EditCommand(target, edit, text, applied=True,
                                         reveal=lambda: self._reveal(levels, target)))
        return True

    def try_edit(self, make_edit, text: str | None = None) -> bool:
        """Build an edit (which may be refused with a GraphError) and push it."""
        try:
            edit = make_edit()
        except GraphError as err:
            self.message.emit(str(err))
            return False
        return self.push(edit, text)

    # ------------------------------------------------------------------ opening blocks
    def open_block(self, use: str) -> bool:
        """Show the body of the block that node ``use`` of the shown graph uses."""
        node = self.shown.nodes.get(use)
        if node is None or node.type not in self.graph.blocks:
            return False
        self._show((*self.levels, (node.type, use)))
        return True

    def uses_of(self, block: str) -> int:
        """How many nodes, in the model and in every block, use ``block``."""
        return len(block_uses(self.graph, block))

    def _graph_at(self, levels: Levels) -> Graph:
        """The graph ``levels`` lead to (the model for none)."""
        return self.graph.blocks[levels[-1][0]] if levels else self.graph

    def make_unique(self, use: str, at: Levels | None = None) -> bool:
        """Give the use ``use`` (of the shown graph, or of the level ``at``) a copy of its block,
        in one undo step; an opened use stays open, now on its copy."""
        levels = self.levels if at is None else at
        above = self._graph_at(levels)
        try:
            edit = make_unique_edit(above, use)
        except GraphError as err:
            self.message.emit(str(err))
            return False
        opened = self.levels[len(levels)][1] == use if len(self.levels) > len(levels) else False
        if not self.push(edit, at=levels):
            return False
        if opened:
            self._show((*levels, (above.nodes[use].type, use)))
        self.message.emit(f"{use} now uses {above.nodes[use].type}, a copy of its block of its own")
        return True

    def close_to(self, depth: int) -> bool:
        """Go back up to ``depth`` levels below the model (0: the model itself), with the use
        just left selected; False when no level is open that deep."""
        if not 0 <= depth < len(self.levels):
            return False
        left = self.levels[depth][1]
        self._show(self.levels[:depth], selected=(left,) if left is not None else ())
        return True

    def _show(self, levels: Levels, selected: tuple[str, ...] = ()) -> None:
        levels = _existing(self.graph, levels)
        shown = self._graph_at(levels)
        if levels == self.levels and shown is self.shown:
            return
        self._unsubscribe_shown()
        self.levels, self.shown = levels, shown
        self._unsubscribe_shown = shown.events.subscribe(self._graph_changed) if shown is not self.graph \
            else (lambda: None)
        self.shown_report = self._check_shown()
        reselected = self.selection.replace([n for n in selected if n in shown.nodes])
        self._announce(Changes((Opened(), SelectionChanged()) if reselected else (Opened(),)))

    def _reveal(self, levels: Levels, target: Graph) -> None:
        """Before an undo or redo: show the graph it changes, through the levels it was made at
        when they still lead there, else through the block's name."""
        if target is self.shown:
            return
        if target is self.graph:
            self._show(())
        elif _existing(self.graph, levels) == levels and levels and self.graph.blocks.get(levels[-1][0]) is target:
            self._show(levels)
        else:
            name = next((n for n, body in self.graph.blocks.items() if body is target), None)
            if name is not None:
                self._show(((name, None),))

    def apply_quietly(self, edit: Edit) -> None:
        """An edit that is no user action (the view saved with the file): announced, not undoable,
        and it does not mark the document modified."""
        self.graph.apply(edit)

    # ------------------------------------------------------------------ replacing
    def replace(self, graph: Graph, path: Path | None) -> None:
        # Opening builds tens of thousands of objects (reports, items) that all live on: the
        # collector's passes over them meanwhile are pure cost (a third of opening 10,000 nodes).
        gc.disable()
        try:
            self._replace(graph, path)
        finally:
            gc.enable()

    def _replace(self, graph: Graph, path: Path | None) -> None:
        self._unsubscribe()
        self.graph = graph
        if not graph.positions and graph.nodes:    # a file without layout (hand-written): lay it out once
            graph.apply(layout_edit(graph))
        elif len(graph.positions) < len(graph.nodes):     # a few nodes without a place: give them one
            graph.apply(Move({n: p for n, p in layered_positions(graph).items() if n not in graph.positions}))
        self._unsubscribe = graph.events.subscribe(self._model_changed)
        self._unsubscribe_shown()
        self._unsubscribe_shown = lambda: None
        self.levels, self.shown = (), graph
        self.path = path
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._check()           # before the views rebuild, so that they draw the new graph's report once
        cleared = self.selection.replace()
        self._announce(Changes((Replaced(), PathChanged(), Checked(self.report), *((SelectionChanged(),) if cleared else ()))))

    def set_path(self, path: Path) -> None:
        self.path = path
        self.undo_stack.setClean()
        self._announce(Changes((PathChanged(),)))

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    # ------------------------------------------------------------------ checking
    def check_now(self) -> Report:
        self._check()
        self._announce(Changes((Checked(self.report),)))
        return self.report

    def _check(self) -> None:
        report = self.checker.check(self.graph)
        self._follow_data_set()
        found = []
        if report.ok and self.data is not None:
            found = fit_diagnostics(self.graph, report.shapes, self.data, *self._loss())
        elif self.data_problem and self._data_key is not None:     # training would fail: an error, with a picker
            name, options = self._data_key[0], self.graph.training.get("dataset_options", {})
            found = [unloadable_data(self.graph, name, options, self.data_problem)]
        found += self.start_weights.of(self.graph, report, self.folder)
        if found:
            report = dataclasses.replace(report, diagnostics=report.diagnostics + found)
        self.report = report
        self.shown_report = self._check_shown()

    def _check_shown(self) -> Report:
        if not self.levels:
            self._bound = self.graph
            return self.report
        self._bound, report = self.checker.inside(self.graph, self.report, self.levels)
        return report

    def bound_value(self, node_id: str, name: str):
        """A parameter of a node of the shown graph as the opened use binds it: inside a block,
        the number a ``{"param": ...}`` value stands for there; None when unknown."""
        node = self._bound.nodes.get(node_id)
        value = None if node is None else node.params.get(name)
        return None if isinstance(value, dict) else value

    @property
    def folder(self) -> Path | None:
        """The folder of the graph's file, which its start weights are named relative to."""
        return self.path.parent if self.path is not None else None

    def _start_weights_checked(self) -> None:
        if self.start_weights.summary:
            self.message.emit(self.start_weights.summary)
        self.check_now()

    # ------------------------------------------------------------------ the data set, for the checks
    def _loss(self) -> tuple[str, bool]:
        loss, reconstruct = self.graph.training.get("loss", "cross_entropy"), self.graph.training.get("reconstruct")
        return (loss if isinstance(loss, str) else "cross_entropy"), reconstruct is True

    def _follow_data_set(self) -> None:
        """Load the data set the settings name when they name another one (in a thread). A graph
        whose settings name none is not checked against one, as `python main.py check` does."""
        training = self.graph.training
        name = training.get("dataset")
        key = _data_key(training)
        if key is None:
            self._data_key, self.data, self.data_problem = None, None, ""
            return
        name, options = training["dataset"], {k: v for k, v in training["dataset_options"].items() if k != "download"}
        if key == self._data_key:
            return
        self._data_key, self.data, self.data_problem = key, None, ""

        def load():
            return load_dataset(name, **options)

        def loaded(data, error: BaseException | None) -> None:
            # A data set that cannot be read must not break the checks: it is said, not raised.
            self._take_data(key, data, "" if error is None else (str(error) or type(error).__name__))
        BackgroundJob(load, loaded, self, name="netloom-check-data").start()

    def data_set_for(self, training: dict):
        """The data set these training settings name, as the checks loaded it; None while it loads,
        when it cannot be read, or when the settings name another."""
        key = _data_key(training)
        return self.data if key is not None and key == self._data_key else None

    def _take_data(self, key, data, problem: str) -> None:
        if key != self._data_key:
            return                              # the settings changed again meanwhile
        self.data, self.data_problem = data, problem      # a problem is said in the checks, with its fix
        self.check_now()

    def data_for(self, config) -> DataSet | None:
        """The data set ``config`` (a TrainingConfig) names, as the checks loaded it, or loaded now
        if they have not (yet); None if it cannot be loaded (the checks say why)."""
        options = {k: v for k, v in config.dataset_options.items() if k != "download"}
        if self.data is not None and self._data_key == (config.dataset, repr(sorted(options.items()))):
            return self.data
        try:
            return load_dataset(config.dataset, **options)
        except ValueError:
            return None


def _data_key(training: dict) -> tuple | None:
    """What tells the data sets of two training sections apart (None: they name none); the
    option to download does not count, as checking never downloads."""
    name, options = training.get("dataset"), training.get("dataset_options", {})
    if not isinstance(name, str) or not isinstance(options, dict):
        return None
    return name, repr(sorted((k, v) for k, v in options.items() if k != "download"))


def _existing(graph: Graph, levels: Levels) -> Levels:
    """The part of ``levels`` that still leads somewhere (an undo may have taken a use or a block
    away): each block exists, and each use is a node of the level above that uses that block."""
    kept: list[tuple[str, str | None]] = []
    above = graph
    for block, use in levels:
        body = graph.blocks.get(block)
        if body is None:
            break
        if use is not None:
            node = above.nodes.get(use)
            if node is None or node.type != block:
                break
        kept.append((block, use))
        above = body
    return tuple(kept)

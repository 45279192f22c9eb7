"""What is selected on the canvas, as plain data the document owns: node ids and wires of the
level the canvas shows. It knows no Qt, so that commands and their tests read it without a
window; the scene draws it and the canvas's gestures set it.

The document keeps it true as the graph changes: a node or wire that goes (a delete, an undo)
leaves it, a renamed node stays selected under its new name, and opening another graph or
another level starts a new selection. Each change is announced on the document's one channel
as ``SelectionChanged``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from graphs import Changes, Edge
from graphs.events import EdgeRemoved, NodeRemoved, NodeRenamed


@dataclass(frozen=True)
class SelectionChanged:
    """The selection changed (what the inspector shows, what the editing commands act on)."""


class Selection:
    """Node ids and wires, in the order they were chosen; ``announce`` is called after each change."""

    def __init__(self, announce: Callable[[], None] = lambda: None) -> None:
        self._announce = announce
        self._nodes: dict[str, None] = {}           # dicts: ordered, and quick to ask
        self._wires: dict[Edge, None] = {}

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._nodes)

    @property
    def wires(self) -> tuple[Edge, ...]:
        return tuple(self._wires)

    @property
    def node(self) -> str | None:
        """The one selected node, or None when none or several are selected."""
        return next(iter(self._nodes)) if len(self._nodes) == 1 else None

    def __contains__(self, item: str | Edge) -> bool:
        return item in self._wires if isinstance(item, Edge) else item in self._nodes

    def __bool__(self) -> bool:
        return bool(self._nodes or self._wires)

    def __repr__(self) -> str:
        return f"Selection(nodes={self.nodes}, wires={self.wires})"

    # ------------------------------------------------------------------ changing it
    def set(self, nodes: Iterable[str] = (), wires: Iterable[Edge] = ()) -> bool:
        """Select exactly these; announced when that differs from what was selected."""
        changed = self.replace(nodes, wires)
        if changed:
            self._announce()
        return changed

    def clear(self) -> bool:
        return self.set()

    def replace(self, nodes: Iterable[str] = (), wires: Iterable[Edge] = ()) -> bool:
        """Select exactly these without announcing it (the document announces it with the batch
        that caused it); True when that changed anything."""
        new_nodes, new_wires = dict.fromkeys(nodes), dict.fromkeys(wires)
        if list(new_nodes) == list(self._nodes) and list(new_wires) == list(self._wires):
            return False
        self._nodes, self._wires = new_nodes, new_wires
        return True

    def follow(self, changes: Changes) -> bool:
        """Keep up with one batch of the shown graph: what it removed leaves the selection, what
        it renamed is renamed here. True when the selection changed (not announced here)."""
        nodes, wires = dict(self._nodes), dict(self._wires)
        for event in changes.events:
            if isinstance(event, NodeRemoved):
                nodes.pop(event.node, None)
                wires = {w: None for w in wires if event.node not in (w.src, w.dst)}
            elif isinstance(event, EdgeRemoved):
                wires.pop(event.edge, None)
            elif isinstance(event, NodeRenamed):
                nodes = {(event.new if n == event.old else n): None for n in nodes}
                wires = {_renamed(w, event.old, event.new): None for w in wires}
        return self.replace(nodes, wires)


def _renamed(wire: Edge, old: str, new: str) -> Edge:
    if old not in (wire.src, wire.dst):
        return wire
    return Edge(new if wire.src == old else wire.src, new if wire.dst == old else wire.dst, wire.src_port, wire.dst_port)

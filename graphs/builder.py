"""Filling a new graph in one go: the loader, binding a block use, grouping layers into a block,
merging alike blocks, copying a body, an import.

An open document changes only through edits (``graphs.edits``), which are undoable and announce
what they change. A graph that is being made has no undo history and nobody watching it yet, so
the builder writes it directly; it refuses a graph that anyone listens to, since writing that one
would change an open document behind its views' backs. With ``graphs/graph.py`` and
``graphs/edits.py`` this is the only module that writes a graph (``tests/graphs/test_one_writer.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .errors import GraphError

if TYPE_CHECKING:
    from .graph import Edge, Graph, Node

Point = tuple[float, float]


class GraphBuilder:
    def __init__(self, graph: Graph) -> None:
        if graph.events.has_listeners:
            raise GraphError(f"the builder fills only a new graph; {graph.name} is watched, so it changes through edits")
        self.graph = graph

    def add(self, node: Node, position: Iterable[float] | None = None) -> None:
        """A node at the end of the document order (the primitive keeps the wire indexes)."""
        self.graph._insert_node(node, None, None)
        if position is not None:
            self.place(node.id, position)

    def connect(self, edge: Edge) -> None:
        self.graph._insert_edge(edge, None)

    def place(self, node_id: str, position: Iterable[float]) -> None:
        x, y = position
        self.graph.positions[node_id] = (float(x), float(y))

    def route(self, edge: Edge, points: Iterable[Iterable[float]]) -> None:
        self.graph.routes[edge] = tuple((float(x), float(y)) for x, y in points)

    def metadata(self, values: dict[str, Any]) -> None:
        self.graph.metadata = dict(values)

    def training(self, settings: dict[str, Any]) -> None:
        self.graph.training = dict(settings)

    def view(self, view: dict[str, Any]) -> None:
        self.graph.view = dict(view)

    def define(self, name: str, body: Graph) -> None:
        """A block definition of the document (its body shares the document's library)."""
        self.graph.blocks[name] = body

    def copy_of(self, source: Graph, params: dict[str, dict[str, Any]] | None = None, layout: bool = True) -> Graph:
        """``source``'s nodes and wires (and positions and routes, with ``layout``) added to this
        graph; ``params`` gives some nodes other parameter values (node id -> values)."""
        changed = params or {}
        for node in source.nodes.values():
            copy = node.copy()
            if node.id in changed:
                copy.params.update(changed[node.id])
            self.add(copy, source.positions.get(node.id) if layout else None)
        for edge in source.edges:
            self.connect(edge)
        if layout:
            for edge, points in source.routes.items():
                self.route(edge, points)
        return self.graph

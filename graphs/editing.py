"""The editor's verbs as edits: what Add, Add After, Delete and Paste do to a document, built here
without Qt so that they are tested headless. The window only decides which nodes are meant (the
selection, the drop point) and pushes the edit these functions return.
"""

from __future__ import annotations

from typing import Any

from .catalog import FUNCTION
from .edits import Compound, Connect, Disconnect, Edit, Move, RemoveNode
from .graph import Edge, Graph, GraphError
from .layout import COLUMN_PITCH
from .operations import OPERATIONS, PALETTE_PREFIX, example_args

GRID = 20.0
COLUMN = COLUMN_PITCH      # from a node to the one added after it: the layout's column


def snapped(x: float, y: float) -> tuple[float, float]:
    return (round(x / GRID) * GRID, round(y / GRID) * GRID)


def palette_node(token: str) -> tuple[str, dict[str, Any]]:
    """(type, parameters) of what a palette entry places: a layer type, or ``Function:op``, a
    Function node calling that operation with typical arguments."""
    op = token[len(PALETTE_PREFIX):]
    if token.startswith(PALETTE_PREFIX) and op in OPERATIONS:
        return FUNCTION, {"op": op, "args": example_args(op)}
    return token, {}


def add_at_edit(graph: Graph, type_name: str, x: float, y: float) -> Edit:
    """A new layer at a point of the canvas (a drop), on the grid."""
    type_name, params = palette_node(type_name)
    return graph.add_node_edit(type_name, position=snapped(x, y), **params)


def add_after_edit(graph: Graph, source: str, type_name: str) -> Compound:
    """A new layer after ``source``: between it and the node it feeds when it feeds exactly one
    (the chain stays a chain, and what followed moves one column on), else at the end of a new
    branch right of it."""
    node = graph.node(source)
    x, y = graph.positions.get(source, (0.0, 0.0))
    type_name, params = palette_node(type_name)
    add = graph.add_node_edit(type_name, position=(x + COLUMN, y), **params)
    new = add.node
    if not node.spec.outputs or not new.spec.inputs:
        return Compound([add], label=f"Add {new.id}")
    out_port = node.spec.outputs[0].name
    following = graph.out_edges(source, out_port)
    wire_in = Edge(source, new.id, out_port, new.spec.inputs[0].name)
    if len(following) != 1 or not new.spec.outputs:     # an Output ends a new branch
        return Compound([add, Connect(wire_in)], label=f"Add {new.id} after {source}")
    old = following[0]
    at = graph.edges.index(old)          # the two new wires take the old one's place in the file
    moved = _shift_right(graph, old.dst)
    return Compound([Disconnect(old), add, Connect(wire_in, index=at),
                     Connect(Edge(new.id, old.dst, new.spec.outputs[0].name, old.dst_port), index=at + 1), *moved],
                    label=f"Insert {new.id} after {source}")


def _shift_right(graph: Graph, start: str) -> list[Edit]:
    """Make room for a node put into a chain: what follows moves one column to the right."""
    downstream, stack = {start}, [start]
    while stack:
        for edge in graph.out_edges(stack.pop()):
            if edge.dst not in downstream:
                downstream.add(edge.dst)
                stack.append(edge.dst)
    moves = {n: (graph.positions[n][0] + COLUMN, graph.positions[n][1]) for n in downstream if n in graph.positions}
    return [Move(moves)] if moves else []


def delete_edit(graph: Graph, nodes: list[str], edges: list[Edge]) -> Compound | None:
    """Delete nodes (with their wires) and wires; None when nothing is chosen."""
    wires = [e for e in edges if e.src not in nodes and e.dst not in nodes]
    if not nodes and not wires:
        return None
    for node in nodes:
        graph.node(node)                 # GraphError naming a node that is not there
    for edge in wires:
        if edge not in graph.edges:
            raise GraphError(f"there is no wire {edge}")
    count = len(nodes) + len(wires)
    return Compound([Disconnect(e) for e in wires] + [RemoveNode(n) for n in nodes],
                    label=f"Delete {count} item{'s' if count != 1 else ''}")

"""The editor's verbs as edits: what Add, Add After, Delete and Paste do to a document, built here
without Qt so that they are tested headless. The window only decides which nodes are meant (the
selection, the drop point) and pushes the edit these functions return.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from .catalog import FUNCTION
from .edits import Compound, Connect, Disconnect, Edit, Move, RemoveNode, SetLearning
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


# ---------------------------------------------------------------------- fine-tuning: how nodes learn
_ENDS = ("Input", "Output")
HEAD_SIZES = ("out_features", "out_channels")     # the parameter that sets a layer's number of outputs


def freeze_up_to_edit(graph: Graph, node_id: str) -> Compound:
    """Freeze ``node_id`` and every node that feeds it, directly or not (Freeze up to here):
    what comes after it, the head, keeps learning. One undo step."""
    graph.node(node_id)
    _model_only(graph)
    upstream = nx.ancestors(graph.topology(), node_id) | {node_id}
    chosen = tuple(n for n in graph.nodes if n in upstream and graph.nodes[n].type not in _ENDS)
    if not chosen:
        raise GraphError(f"{node_id} is an {graph.nodes[node_id].type}: nothing up to it learns")
    return Compound([SetLearning(chosen, lr_factor=0.0)], label=f"Freeze up to {node_id}")


def learning_rate_edit(graph: Graph, node_ids: list[str], factor: float) -> SetLearning:
    """Give nodes a learning-rate factor: 0 freezes them, 1 trains them at the run's rate."""
    _model_only(graph)
    for node_id in node_ids:
        graph.node(node_id)
    return SetLearning(tuple(node_ids), lr_factor=float(factor))


def unfreeze_all_edit(graph: Graph) -> SetLearning | None:
    """Every frozen node learns again at the run's rate; None when none is frozen."""
    frozen = tuple(n.id for n in graph.nodes.values() if n.frozen)
    return SetLearning(frozen, lr_factor=1.0) if frozen else None


def start_fresh_edit(graph: Graph, node_id: str, fresh: bool = True) -> SetLearning:
    """Leave a node out of the weights the graph starts from (it keeps its new random weights),
    or take it back in."""
    _model_only(graph)
    graph.node(node_id)
    return SetLearning((node_id,), fresh=fresh)


def head_layer(graph: Graph) -> tuple[str, str] | None:
    """(node, its size parameter) of the layer that makes the first Output's values, found back
    from the Output through layers of one input without a size of their own (a Softmax, a
    Dropout); None when there is no such layer."""
    outputs = graph.outputs()
    current = outputs[0] if outputs else None
    for _ in range(len(graph.nodes)):
        wires = graph.in_edges(current) if current is not None else []
        if len(wires) != 1:
            return None
        current = wires[0].src
        node = graph.nodes[current]
        size = next((name for name in HEAD_SIZES if name in node.params), None)
        if size is not None:
            return (current, size) if isinstance(node.params[size], int) else None
    return None


def adapt_head_edit(graph: Graph, node_id: str, size: int, name: str = "out_features") -> Compound:
    """Adapt to data set: the head gets the data set's number of outputs and starts from fresh
    weights (the start weights' tensors of that layer are left out), learning at the run's rate
    if it was frozen. One undo step."""
    _model_only(graph)
    node = graph.node(node_id)
    change = graph.set_params_edit(node_id, **{name: size})
    learning = SetLearning((node_id,), lr_factor=1.0 if node.frozen else None, fresh=True)
    return Compound([change, learning], label=f"Adapt {node_id} to the data set ({size} outputs)")


def _model_only(graph: Graph) -> None:
    if graph.declared() is not None:
        raise GraphError(f"layers inside the block {graph.name} learn as its uses do: freeze or adapt a use of it")

"""A design lint about linear layers: two Linear layers with no activation between them compute
one linear map (W2·W1 is a matrix too), so the second adds weights but no power to the model."""

from __future__ import annotations

from graphs import WARNING, Diagnostic, Graph, InsertLayer

# Layers that leave a linear map linear when they stand between two Linear layers.
PASS_THROUGH = ("Identity", "Dropout", "Flatten")


def linear_lints(graph: Graph) -> list[Diagnostic]:
    found = []
    for node in graph.nodes.values():
        if node.type != "Linear":
            continue
        wires = graph.in_edges(node.id)
        earlier = _linear_before(graph, wires[0].src) if wires else None
        if earlier is not None:
            found.append(Diagnostic(WARNING, node.id, (
                f"{node.id}: follows {earlier} with no activation between them, and two linear layers in a row "
                f"collapse to one (W2·W1 is one matrix): {node.id} adds weights but no power; insert a ReLU?"),
                InsertLayer(wires[0], "ReLU")))
    return found


def _linear_before(graph: Graph, node_id: str) -> str | None:
    """The Linear layer that ``node_id`` is, or that reaches it through pass-through layers only."""
    for _ in range(len(graph.nodes)):
        node = graph.nodes[node_id]
        if node.type == "Linear":
            return node_id
        wires = graph.in_edges(node_id)
        if node.type not in PASS_THROUGH or len(wires) != 1:
            return None
        node_id = wires[0].src
    return None

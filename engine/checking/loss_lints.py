"""Design lints about the last layers and the loss: graphs that train, but badly.

Each is a classic mistake of courses and of code ported from Keras, said on the node that
causes it, with a one-click fix where one is obvious. They read the loss from the graph's
training section, so the window and ``python main.py check`` give them alike.
"""

from __future__ import annotations

from graphs import WARNING, Diagnostic, Graph, RemoveLayer


def _last_layers(graph: Graph) -> list[str]:
    """The nodes that feed an Output directly."""
    return [e.src for out in graph.outputs() for e in graph.in_edges(out)]


def loss_lints(graph: Graph) -> list[Diagnostic]:
    loss = graph.training.get("loss", "cross_entropy")
    if graph.training.get("reconstruct") is True or not isinstance(loss, str):
        return []
    found = []
    for node_id in _last_layers(graph):
        kind = graph.nodes[node_id].type
        if kind == "Softmax" and loss == "cross_entropy":
            found.append(Diagnostic(WARNING, node_id, (
                f"{node_id}: the cross_entropy loss applies softmax itself, so it is applied twice here and "
                "training slows down or stalls; remove it (exported code can apply softmax for predictions)"),
                RemoveLayer(node_id)))
        elif kind == "Softmax" and loss == "nll":
            found.append(Diagnostic(WARNING, node_id, (
                f"{node_id}: the nll loss expects log-probabilities, and Softmax gives probabilities; use "
                "LogSoftmax here, or drop it and use the cross_entropy loss")))
        elif kind == "Sigmoid" and loss == "bce_with_logits":
            found.append(Diagnostic(WARNING, node_id, (
                f"{node_id}: the bce_with_logits loss applies the sigmoid itself, so it is applied twice here; "
                "remove it"), RemoveLayer(node_id)))
        elif kind in ("ReLU", "ReLU6") and loss in ("cross_entropy", "nll", "bce_with_logits"):
            found.append(Diagnostic(WARNING, node_id, (
                f"{node_id}: a {kind} right before the {loss} loss cuts off every negative score, so the "
                "network cannot say 'not this class' strongly; remove it"), RemoveLayer(node_id)))
    return found

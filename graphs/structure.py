"""Structural checks with networkx: what is wrong with the wiring, before any shapes."""

from __future__ import annotations

import networkx as nx

from .diagnostics import ERROR, WARNING, Diagnostic
from .graph import Graph


def structural_diagnostics(graph: Graph, g: nx.DiGraph | None = None) -> list[Diagnostic]:
    """Cycles, missing inputs/outputs, unconnected or over-full ports, dead ends (``g``: the
    graph's networkx form when the caller has it already)."""
    found: list[Diagnostic] = []
    if not graph.nodes:          # one plain word on where to start, not a list of what is missing
        return [Diagnostic(ERROR, None, "the graph is empty: add an Input (palette: Common layers) and the layers "
                                        "after it, or open an example")]
    if not graph.inputs():
        found.append(Diagnostic(ERROR, None, "the graph has no Input: add one to feed it data"))
    if not graph.outputs():
        found.append(Diagnostic(ERROR, None, "the graph has no Output: add one after the last layer"))

    wires_into = graph.wires_into()
    for node in graph.nodes.values():
        for port in node.spec.inputs:
            wires = wires_into.get((node.id, port.name), [])
            if not wires:
                found.append(Diagnostic(ERROR, node.id, f"{node.id}: input '{port.name}' is not connected"))
            elif not port.multiple and len(wires) > 1:
                sources = ", ".join(e.src for e in wires)
                found.append(Diagnostic(
                    ERROR, node.id, f"{node.id}: input '{port.name}' takes one wire but has "
                    f"{len(wires)} (from {sources}); merge them with Add or Concat"))
            elif len(wires) < port.min_wires:
                found.append(Diagnostic(
                    ERROR, node.id, f"{node.id}: {node.type} needs at least {port.min_wires} inputs, "
                    f"it has {len(wires)}"))

    g = graph.topology() if g is None else g
    for cycle in find_cycles(g, list(graph.nodes)):
        path = " -> ".join(cycle + [cycle[0]])
        found.append(Diagnostic(ERROR, cycle[0], f"{cycle[0]}: the graph loops back on itself: {path}"))

    outputs = set(graph.outputs())
    if outputs:
        feeding = set(outputs)
        for out in outputs:
            feeding |= nx.ancestors(g, out)
        unused = {n.id for n in graph.nodes.values() if n.id not in feeding and n.spec.outputs}
        # One warning per dead end, not one per layer before it: an unwired Output leaves the
        # whole chain unused, and the place to act is where the chain stops.
        for node in graph.nodes.values():
            if node.id in unused and not any(s in unused for s in g.successors(node.id)):
                before = len(nx.ancestors(g, node.id) & unused)
                also = f", nor are the {before} nodes before it" if before > 1 else (
                    ", nor is the node before it" if before == 1 else "")
                found.append(Diagnostic(WARNING, node.id, f"{node.id}: its result does not reach any Output and "
                                                          f"is unused{also}"))
    return found


def find_cycles(g: nx.DiGraph, order: list[str]) -> list[list[str]]:
    """One cycle per strongly connected knot, listed from its first node in document order."""
    rank = {n: i for i, n in enumerate(order)}
    cycles = []
    for component in nx.strongly_connected_components(g):
        if len(component) == 1 and not g.has_edge(next(iter(component)), next(iter(component))):
            continue
        start = min(component, key=rank.__getitem__)
        edges = nx.find_cycle(g.subgraph(component), source=start)
        cycle = [e[0] for e in edges]
        pivot = cycle.index(min(cycle, key=rank.__getitem__))
        cycles.append(cycle[pivot:] + cycle[:pivot])
    return sorted(cycles, key=lambda c: rank[c[0]])

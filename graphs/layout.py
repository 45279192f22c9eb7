"""Automatic layered layout, left to right along the wires (for imported or messy graphs)."""

from __future__ import annotations

import networkx as nx

from .edits import Move
from .graph import Graph

COLUMN_WIDTH = 220.0
ROW_HEIGHT = 120.0


def layered_positions(graph: Graph) -> dict[str, tuple[float, float]]:
    """Each node's column is its longest distance from an input; rows keep document order,
    centred on the row axis, so a chain is a straight line and branches fan out around it."""
    g = nx.DiGraph(graph.to_networkx())
    # Break cycles (they are reported as errors elsewhere) so every node still gets a place.
    while not nx.is_directed_acyclic_graph(g):
        g.remove_edge(*nx.find_cycle(g)[0][:2])
    column: dict[str, int] = {}
    for node in nx.topological_sort(g):
        column[node] = max((column[p] + 1 for p in g.predecessors(node)), default=0)
    rows: dict[int, list[str]] = {}
    for node in graph.nodes:
        rows.setdefault(column[node], []).append(node)
    positions = {}
    for col, members in rows.items():
        for i, node in enumerate(members):
            positions[node] = (col * COLUMN_WIDTH, (i - (len(members) - 1) / 2) * ROW_HEIGHT)
    return positions


def layout_edit(graph: Graph) -> Move:
    """The layout as one undoable step."""
    return Move(layered_positions(graph))

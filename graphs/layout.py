"""Automatic layered layout, left to right along the wires (for imported or messy graphs)."""

from __future__ import annotations

import networkx as nx

from .edits import Move
from .graph import Graph

COLUMN_WIDTH = 220.0
ROW_HEIGHT = 120.0


def layered_positions(graph: Graph, wrap: int | None = None) -> dict[str, tuple[float, float]]:
    """Each node's column is its longest distance from an input; rows keep document order,
    centred on the row axis, so a chain is a straight line and branches fan out around it.
    With ``wrap``, columns continue in a new band below every ``wrap`` columns (long chains)."""
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
    band = (max((len(m) for m in rows.values()), default=1) + 1) * ROW_HEIGHT
    positions = {}
    for col, members in rows.items():
        x, band_index = (col, 0) if not wrap else (col % wrap, col // wrap)
        for i, node in enumerate(members):
            positions[node] = (x * COLUMN_WIDTH, band_index * band + (i - (len(members) - 1) / 2) * ROW_HEIGHT)
    return positions


def layout_edit(graph: Graph) -> Move:
    """The layout as one undoable step."""
    return Move(layered_positions(graph))

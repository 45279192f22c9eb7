"""Automatic layered (Sugiyama) layout, left to right along the wires.

The main flow always runs left to right: each node's column is its layer, the longest path
from an input (a second input sits just before the layer that first uses it). Within a column
igraph's Sugiyama layout orders the nodes to keep crossings few (barycentre heuristic) and
reserves a slot in every column that a long wire passes, so a skip connection runs through
its own slots: straight across each column and bending only in the gaps between columns,
never behind a node. Those slots come back as the wire's route (its bend points).

Long wires are put above the main flow. A U-Net then reads as a U: each level of skips pushes
the encoder one step down, the decoder climbs back, and the skips run across the top.

A long chain (LeNet, VGG-16 of blocks) in one row would only fit the window at a size where no
text can be read. Given the window's size, such a layout is folded like lines of text: the
columns are cut into bands, one below the other, each still running left to right, and the
wire from the end of one band to the start of the next runs below the band and back along the
left margin, through space no node takes. It takes the fewest bands at which the whole graph
is drawn at a readable size, or those that draw it largest when none does. A band ends only at
a column after which every wire leaves from that column (a chain; a residual block's input with
its skip), so a skip wire never crosses a band: it goes down with the chain and along its slots in
the next band. A U-Net, whose skips span its middle, cannot be cut there and keeps its U.

Why igraph: its Sugiyama layout is maintained C code (10,000 nodes lay out in a fraction of a
second), installs as a wheel on every platform, and returns the long wires' slots, which the
router needs. grandalf is pure Python and about a hundred times slower on large graphs;
Graphviz is not on a fresh machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import igraph
import networkx as nx

from .edits import Arrange
from .graph import Edge, Graph

NODE_WIDTH = 180.0          # the canvas draws nodes this size; slots are cut to fit them
NODE_HEIGHT = 78.0
COLUMN_GAP = 60.0           # room for the wire's tensor shape ("1x16x10x10" at 7 pt); the pitch stays on the grid
ROW_GAP = 42.0
COLUMN_PITCH = NODE_WIDTH + COLUMN_GAP
ROW_PITCH = NODE_HEIGHT + ROW_GAP
TALLEST_NODE = 110.0        # a node whose parameters fill three lines
PORT_Y = 50.0               # where a node with one input (or output) has it, below its top
BAND_GAP = 60.0             # between folded bands: the return wire runs in the middle of it
WINDOW = (860.0, 600.0)     # the canvas of the default window, in pixels
READABLE_ZOOM = 0.75        # 8 pt node text is 8 px high on screen

Point = tuple[float, float]


@dataclass
class Layout:
    positions: dict[str, Point]             # each node's top-left corner
    routes: dict[Edge, tuple[Point, ...]]   # the bend points of wires that span several columns


def layers_of(graph: Graph) -> dict[str, int]:
    """Each node's column: its longest distance from a source, with sources pulled right up to
    the column before their first consumer (a label input feeding the loss sits by the loss,
    not at the far left with a wire across the whole graph). Cycles (reported as errors
    elsewhere) are broken so that every node still gets a column."""
    g = nx.DiGraph()
    g.add_nodes_from((n, {}) for n in graph.nodes)
    g.add_edges_from((e.src, e.dst) for e in graph.edges if e.src != e.dst)
    while not nx.is_directed_acyclic_graph(g):
        g.remove_edge(*nx.find_cycle(g)[0][:2])
    layer: dict[str, int] = {}
    for node in nx.topological_sort(g):
        layer[node] = max((layer[p] + 1 for p in g.predecessors(node)), default=0)
    for node in graph.nodes:
        if g.in_degree(node) == 0 and g.out_degree(node) > 0:
            layer[node] = min(layer[s] for s in g.successors(node)) - 1
    return layer


def layered_layout(graph: Graph, window: tuple[float, float] | None = None) -> Layout:
    """Every node's place and the routes of long wires; given the ``window`` it is shown in
    (width, height in pixels), a long layout is folded into bands to fit where it can be."""
    layout, layer = _layered(graph)
    if window is None or not layout.positions:
        return layout
    return _folded(layout, layer, graph, window) or layout


def _layered(graph: Graph) -> tuple[Layout, dict[str, int]]:
    ids = list(graph.nodes)
    if not ids:
        return Layout({}, {}), {}
    index = {n: i for i, n in enumerate(ids)}
    layer = layers_of(graph)
    wires = [e for e in graph.edges if e.src in index and e.dst in index]
    g = igraph.Graph(n=len(ids), edges=[(index[e.src], index[e.dst]) for e in wires], directed=True)
    result = g.layout_sugiyama(layers=[layer[n] for n in ids], maxiter=100)
    across = [c[0] for c in result.coords[:len(ids)]]
    bends = [[tuple(p) for p in route] for route in result.edge_routing]
    # Long wires above the main flow: flip when igraph put their slots on the other side.
    slots = [p[0] for route in bends for p in route]
    flip = bool(slots) and sum(slots) / len(slots) > sum(across) / len(across)
    top = max(across + slots) if flip else min(across + slots)

    def row(value: float) -> float:
        return ((top - value) if flip else (value - top)) * ROW_PITCH

    positions = {n: (layer[n] * COLUMN_PITCH, row(across[index[n]])) for n in ids}
    routes: dict[Edge, tuple[Point, ...]] = {}
    for edge, route in zip(wires, bends):
        if route:
            # Through each slot straight across its column, so bends fall in the gaps between
            # columns, where no node is. (igraph gives (across, layer) pairs.)
            points: list[Point] = []
            for across_at, column in route:
                y = row(across_at) + NODE_HEIGHT / 2
                x = column * COLUMN_PITCH
                points += [(x, y), (x + NODE_WIDTH, y)]
            routes[edge] = tuple(points)
    return Layout(positions, routes), layer


def _cuttable(layer: dict[str, int], graph: Graph) -> set[int]:
    """The columns a band may end with: those after which every wire that goes on leaves from
    that column (a chain, or a residual block's input with its skip), so that no wire crosses a
    band it neither starts nor ends in."""
    columns = max(layer.values()) + 1
    crossing_from: dict[int, set[int]] = {c: set() for c in range(columns)}
    for edge in graph.edges:
        if edge.src in layer and edge.dst in layer:
            for c in range(layer[edge.src], layer[edge.dst]):
                crossing_from[c].add(layer[edge.src])
    return {c for c in range(columns - 1) if crossing_from[c] <= {c}}


def _band_starts(columns: int, bands: int, cuttable: set[int]) -> list[int] | None:
    """The first column of each of ``bands`` bands of about equal width, each cut at a column
    that may end a band; None when no such cut is near where one should be."""
    per = -(-columns // bands)
    starts, leeway = [0], max(1, per // 4)
    for k in range(1, bands):
        ideal = k * per - 1
        near = [c for c in cuttable if abs(c - ideal) <= leeway and c + 1 > starts[-1]]
        if not near:
            return None
        starts.append(min(near, key=lambda c: (abs(c - ideal), c)) + 1)
    return starts


def _folded(layout: Layout, layer: dict[str, int], graph: Graph, window: tuple[float, float]) -> Layout | None:
    """The layout cut into bands of columns to fit ``window``, or None when one band does or
    no cut keeps every wire within the bands it joins."""
    columns = max(layer.values()) + 1
    ys = [y for _, y in layout.positions.values()] + [y - NODE_HEIGHT / 2 for r in layout.routes.values() for _, y in r]
    rows = round(max(ys) / ROW_PITCH) + 1
    band_height = rows * ROW_PITCH + BAND_GAP
    cuttable = _cuttable(layer, graph)

    def scale(starts: list[int]) -> float:      # the zoom at which the graph fits the window
        widest = max(b - a for a, b in zip(starts, [*starts[1:], columns]))
        width = widest * COLUMN_PITCH + COLUMN_GAP           # and the left margin the return wires take
        height = len(starts) * band_height - BAND_GAP
        return min(window[0] / width, window[1] / height)

    choices = [starts for b in range(1, columns + 1) if (starts := _band_starts(columns, b, cuttable)) is not None]
    starts = next((s for s in choices if scale(s) >= READABLE_ZOOM), None) or max(choices, key=scale)
    if len(starts) == 1:
        return None
    band_of = {c: max(i for i, start in enumerate(starts) if start <= c) for c in range(columns)}

    def moved(x: float, y: float) -> Point:
        """A point of the unfolded layout (a node's corner, a slot of a long wire) in its band."""
        band = band_of[min(columns - 1, max(0, int(x // COLUMN_PITCH)))]
        return x - starts[band] * COLUMN_PITCH, y + band * band_height

    positions = {n: moved(x, y) for n, (x, y) in layout.positions.items()}
    routes: dict[Edge, tuple[Point, ...]] = {}
    for edge in graph.edges:
        if edge.src not in layer or edge.dst not in layer:
            continue
        via = tuple(moved(x, y) for x, y in layout.routes.get(edge, ()))
        if band_of[layer[edge.src]] == band_of[layer[edge.dst]]:
            if via:
                routes[edge] = via
            continue
        (sx, sy), (_, ty) = positions[edge.src], positions[edge.dst]
        band_top = band_of[layer[edge.src]] * band_height
        # midway between the band's tallest possible node and the next band
        corridor = (band_top + (rows - 1) * ROW_PITCH + TALLEST_NODE + band_top + band_height) / 2
        right, left = sx + NODE_WIDTH + COLUMN_GAP / 2, -COLUMN_GAP / 2
        # down the left margin to the next band, then along its slots when it passes columns there
        routes[edge] = ((right, sy + PORT_Y), (right, corridor), (left, corridor),
                        *(((left, via[0][1]), *via) if via else ((left, ty + PORT_Y),)))
    return Layout(positions, routes)


def layered_positions(graph: Graph) -> dict[str, Point]:
    return layered_layout(graph).positions


def layout_edit(graph: Graph, window: tuple[float, float] | None = WINDOW) -> Arrange:
    """The layout as one undoable step: every node's place and the routes of long wires, and of
    the wires between bands when it is folded to fit ``window`` (None: never folded)."""
    layout = layered_layout(graph, window)
    return Arrange(layout.positions, layout.routes)


def _wire_points(graph: Graph):
    """Each placed wire with its points: output port, bends, input port (straight runs between)."""
    for edge in graph.edges:
        a, b = graph.positions.get(edge.src), graph.positions.get(edge.dst)
        if a is not None and b is not None:
            yield edge, [(a[0] + NODE_WIDTH, a[1] + NODE_HEIGHT / 2), *graph.routes.get(edge, ()),
                         (b[0], b[1] + NODE_HEIGHT / 2)]


def crossings(graph: Graph) -> int:
    """How many pairs of wires cross between adjacent columns of the current layout, counting
    a long wire by its route (the figure the layout is judged by; straight segments)."""
    segments: list[tuple[Point, Point]] = []
    for _, points in _wire_points(graph):
        segments += [(p, q) for p, q in zip(points, points[1:]) if p != q]
    count = 0
    by_x: dict[tuple[float, float], list[tuple[Point, Point]]] = {}
    for s in segments:     # only segments over the same stretch of x can cross (a sweep per gap)
        by_x.setdefault((min(s[0][0], s[1][0]), max(s[0][0], s[1][0])), []).append(s)
    spans = list(by_x.items())
    for i, ((x0, x1), group) in enumerate(spans):
        for (u0, u1), other in spans[i:]:
            if u0 >= x1 or x0 >= u1:
                continue
            pairs = ((s, t) for si, s in enumerate(group) for t in (group[si + 1:] if other is group else other))
            count += sum(1 for s, t in pairs if _cross(s, t))
    return count


def _cross(s: tuple[Point, Point], t: tuple[Point, Point]) -> bool:
    """Proper crossing of two segments (touching at an end, as wires from one port do, is not)."""
    def orient(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    if {s[0], s[1]} & {t[0], t[1]}:
        return False
    d1, d2 = orient(t[0], t[1], s[0]), orient(t[0], t[1], s[1])
    d3, d4 = orient(s[0], s[1], t[0]), orient(s[0], s[1], t[1])
    return d1 * d2 < 0 and d3 * d4 < 0


def wires_behind_nodes(graph: Graph) -> list[tuple[Edge, str]]:
    """Each (wire, node) where a wire of the current layout passes behind a node that is not
    one of its ends, wires taken as straight runs between their ports and bends."""
    boxes = {n: (x, y, x + NODE_WIDTH, y + NODE_HEIGHT) for n, (x, y) in graph.positions.items()}
    hidden = []
    for edge, points in _wire_points(graph):
        for node, box in boxes.items():
            if node not in (edge.src, edge.dst) and any(_through(p, q, box) for p, q in zip(points, points[1:])):
                hidden.append((edge, node))
    return hidden


def _through(p: Point, q: Point, box: tuple[float, float, float, float]) -> bool:
    """Whether the segment p-q passes through the inside of the box (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = box
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for step, room in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if step == 0:
            if room <= 0:
                return False
        else:
            t = room / step
            if step < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
    return t1 - t0 > 1e-9

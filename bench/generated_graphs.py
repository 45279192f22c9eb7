"""Large graphs for benchmarks: long stacks of residual blocks, with skip connections."""

from graphs import Graph
from graphs.layout import layered_positions


def residual_mlp(nodes: int = 1000, width: int = 64) -> Graph:
    """Input, then blocks of Linear -> ReLU -> Linear -> Add(skip) -> ReLU until ``nodes``.
    Hidden widths vary from block to block so that no two blocks check alike."""
    g = Graph(name=f"residual mlp {nodes}")
    prev = g.add_node("Input", shape=[width])
    while len(g.nodes) + 6 <= nodes:
        a = g.add_node("Linear", out_features=width + len(g.nodes) % 97)
        r = g.add_node("ReLU")
        b = g.add_node("Linear", out_features=width)
        add = g.add_node("Add")
        out = g.add_node("ReLU")
        for src, dst in ((prev, a), (a, r), (r, b), (b, add), (prev, add), (add, out)):
            g.connect(src, dst)
        prev = out
    while len(g.nodes) < nodes - 1:
        n = g.add_node("Identity")
        g.connect(prev, n)
        prev = n
    g.connect(prev, g.add_node("Output"))
    for node, pos in layered_positions(g).items():
        g.positions[node] = pos
    return g

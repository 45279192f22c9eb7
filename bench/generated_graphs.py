"""Large graphs for benchmarks: long stacks of residual blocks, with skip connections."""

from graphs import Graph
from graphs.edits import Move
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
    return _finish(g, prev, nodes)


def residual_conv(nodes: int = 1000, channels: int = 8, size: int = 8) -> Graph:
    """Input, then blocks of Conv -> BatchNorm -> ReLU -> Conv, joined to the block's input by an
    Add (a skip) or a Concat and a 1x1 Conv back to the width, until ``nodes``: convolutions,
    skips and concatenations as in real vision models. Kernel sizes vary so that blocks differ."""
    g = Graph(name=f"residual conv {nodes}")
    prev = g.add_node("Input", shape=[channels, size, size])
    block = 0
    while len(g.nodes) + 8 <= nodes:
        kernel = 3 if block % 3 else 1
        a = g.add_node("Conv2d", out_channels=channels, kernel_size=kernel, padding=kernel // 2)
        bn = g.add_node("BatchNorm2d")
        r = g.add_node("ReLU")
        b = g.add_node("Conv2d", out_channels=channels, kernel_size=3, padding=1)
        wires = [(prev, a), (a, bn), (bn, r), (r, b)]
        if block % 2:
            join = g.add_node("Add")
            wires += [(b, join), (prev, join)]
            out = g.add_node("ReLU")
            wires.append((join, out))
        else:
            join = g.add_node("Concat", dim=1)
            wires += [(b, join), (prev, join)]
            out = g.add_node("Conv2d", out_channels=channels, kernel_size=1)
            wires.append((join, out))
        for src, dst in wires:
            g.connect(src, dst)
        prev = out
        block += 1
    return _finish(g, prev, nodes)


def _finish(g: Graph, prev: str, nodes: int) -> Graph:
    """Pad with Identity layers to exactly ``nodes``, end in an Output, lay out."""
    while len(g.nodes) < nodes - 1:
        n = g.add_node("Identity")
        g.connect(prev, n)
        prev = n
    g.connect(prev, g.add_node("Output"))
    g.apply(Move(layered_positions(g)))
    return g

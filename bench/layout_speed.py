"""Auto Layout: time on large graphs, and how each bundled example reads before and after.

    python bench/layout_speed.py

Times are against the bare layering (a topological sort with longest paths) of the same
graph in the same process, so the ratio says what ordering and routing cost on top.
For each example: wire crossings, and wires that pass behind a node, as shipped and after
Auto Layout; and how high 8 pt node text is drawn when the whole graph is fitted to the default
window's canvas, laid out in one row and folded to fit (readable from about 8 px).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generated_graphs import residual_conv  # noqa: E402
from graphs import load_graph  # noqa: E402
from graphs.layout import (  # noqa: E402
    NODE_HEIGHT,
    NODE_WIDTH,
    WINDOW,
    crossings,
    layered_layout,
    layers_of,
    layout_edit,
    wires_behind_nodes,
)

PX_PER_PT = 96 / 72


def text_px_at_fit(positions) -> float:
    """The on-screen height of 8 pt text once every node is fitted in the window (30 px margins)."""
    xs, ys = [x for x, _ in positions.values()], [y for _, y in positions.values()]
    width, height = max(xs) - min(xs) + NODE_WIDTH + 60, max(ys) - min(ys) + NODE_HEIGHT + 60
    return 8 * PX_PER_PT * min(1.5, WINDOW[0] / width, WINDOW[1] / height)


def best_of(runs: int, work) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print("nodes   layout ms   layering ms   ratio")
    for nodes in (1000, 10000):
        graph = residual_conv(nodes)
        layout = best_of(3, lambda g=graph: layered_layout(g))
        layering = best_of(3, lambda g=graph: layers_of(g))
        print(f"{nodes:>6} {layout * 1000:>10.1f} {layering * 1000:>13.1f} {layout / layering:>7.1f}x")
    print()
    print(f"{'example':<24} {'nodes':>5}  crossings before/after  wires behind nodes before/after  "
          "text px at fit: one row / folded")
    for path in sorted(Path("resources/examples").glob("*.loom")):
        graph = load_graph(path)
        before = crossings(graph), len(wires_behind_nodes(graph))
        one_row = text_px_at_fit(layered_layout(graph).positions)
        graph.apply(layout_edit(graph))
        after = crossings(graph), len(wires_behind_nodes(graph))
        print(f"{path.stem:<24} {len(graph.nodes):>5}  {before[0]:>9} / {after[0]:<11} {before[1]:>13} / {after[1]:<14}"
              f"{one_row:>14.1f} / {text_px_at_fit(graph.positions):.1f}")


if __name__ == "__main__":
    main()

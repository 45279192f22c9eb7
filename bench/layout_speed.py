"""Auto Layout: time on large graphs, and how each bundled example reads before and after.

    python bench/layout_speed.py

Times are against the bare layering (a topological sort with longest paths) of the same
graph in the same process, so the ratio says what ordering and routing cost on top.
For each example: wire crossings, and wires that pass behind a node, as shipped and after
Auto Layout.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generated_graphs import residual_conv  # noqa: E402
from graphs import load_graph  # noqa: E402
from graphs.layout import crossings, layered_layout, layers_of, layout_edit, wires_behind_nodes  # noqa: E402


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
    print(f"{'example':<24} {'nodes':>5}  crossings before/after  wires behind nodes before/after")
    for path in sorted(Path("resources/examples").glob("*.loom")):
        graph = load_graph(path)
        before = crossings(graph), len(wires_behind_nodes(graph))
        graph.apply(layout_edit(graph))
        after = crossings(graph), len(wires_behind_nodes(graph))
        print(f"{path.stem:<24} {len(graph.nodes):>5}  {before[0]:>9} / {after[0]:<11} {before[1]:>13} / {after[1]}")


if __name__ == "__main__":
    main()

"""How long checking takes on a 1,000-node graph: a full check, and a re-check after one edit.

    python -m bench.check_speed [--nodes 1000]

The editor re-checks after every change, so the incremental figure is the one a person feels.
"""

import argparse
import time

from bench.generated_graphs import residual_mlp
from engine import Checker


def timed(fn, repeat=1):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    graph = residual_mlp(args.nodes)
    Checker().check(residual_mlp(20))   # warm torch up so the figures are about checking
    checker = Checker()
    full, report = timed(lambda: checker.check(graph))
    assert report.ok, report.diagnostics[:3]
    # Change parameters all over the graph, one at a time, as a person would in the inspector.
    hidden = [n for n in graph.nodes if n.startswith("fc")][::2]   # the first Linear of each block
    times = []
    for i in range(args.edits):
        node = hidden[(i * 37) % len(hidden)]
        graph.set_params(node, out_features=graph.nodes[node].params["out_features"] + 1)
        elapsed, report = timed(lambda: checker.check(graph))
        assert report.ok, report.diagnostics[:3]
        times.append(elapsed)
    times.sort()
    median = times[len(times) // 2]
    unchanged, _ = timed(lambda: checker.check(graph), repeat=5)
    print(f"graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {report.total_params:,} parameters")
    print(f"full check (empty cache):                  {full * 1000:8.1f} ms")
    print(f"re-check after one parameter change, median of {args.edits}: {median * 1000:8.1f} ms "
          f"(worst {times[-1] * 1000:.1f} ms)")
    print(f"re-check with nothing changed:             {unchanged * 1000:8.1f} ms")
    print(f"ratio incremental / full:                  {median / full:8.3f}")


if __name__ == "__main__":
    main()

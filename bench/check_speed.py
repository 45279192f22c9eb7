"""How long checking takes on a large graph: a full check, and a re-check after one edit.

    python -m bench.check_speed [--nodes 1000] [--kind mlp|conv]

The editor re-checks after every change, so the incremental figures are the ones a person feels
(goals at 10,000 nodes: under 20 ms after a parameter change, under 2 ms with nothing changed,
a full check of the convolutional graph under 1 s). The baseline is the full check in the same
process; the resident memory is the process's after the checks.
"""

import argparse
import resource
import time

from bench.generated_graphs import residual_conv, residual_mlp
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
    parser.add_argument("--kind", choices=("mlp", "conv"), default="mlp",
                        help="residual MLP blocks, or convolutions with skips and concatenations")
    args = parser.parse_args()
    make = residual_mlp if args.kind == "mlp" else residual_conv
    graph = make(args.nodes)
    Checker().check(make(40))   # warm torch up so the figures are about checking
    checker = Checker()
    full, report = timed(lambda: checker.check(graph))
    assert report.ok, report.diagnostics[:3]
    # Change parameters all over the graph, one at a time, as a person would in the inspector.
    prefix, width = ("fc", "out_features") if args.kind == "mlp" else ("conv", "out_channels")
    # The first layer of each block: its width changes inside the block only.
    hidden = [n for n in graph.nodes if n.startswith(prefix)][::2] if args.kind == "mlp" else \
        [n for n in graph.nodes if n.startswith(prefix) and any(graph.nodes[s].type == "BatchNorm2d"
                                                                for s in graph.successors(n))]
    times = []
    visits = []
    for i in range(args.edits):
        node = hidden[(i * 37) % len(hidden)]
        graph.set_params(node, **{width: graph.nodes[node].params[width] + 1})
        elapsed, report = timed(lambda: checker.check(graph))
        assert report.ok, report.diagnostics[:3]
        times.append(elapsed)
        visits.append(checker.visits)
    times.sort()
    median = times[len(times) // 2]
    unchanged, _ = timed(lambda: checker.check(graph), repeat=5)
    print(f"graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges, {report.total_params:,} parameters")
    print(f"full check (empty cache):                  {full * 1000:8.1f} ms")
    print(f"re-check after one parameter change, median of {args.edits}: {median * 1000:8.1f} ms "
          f"(worst {times[-1] * 1000:.1f} ms)")
    print(f"re-check with nothing changed:             {unchanged * 1000:8.1f} ms")
    print(f"ratio incremental / full:                  {median / full:8.3f}")
    print(f"nodes inferred per re-check, median:       {sorted(visits)[len(visits) // 2]:8d}")
    print(f"resident memory (peak):                    {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB")


if __name__ == "__main__":
    main()

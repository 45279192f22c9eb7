"""What checking a run's snapshot costs the document's next check.

    python -m bench.run_model_checks [--nodes 3000]

A run's model (``gui/training/run_model.py``) checks the run's graph, a snapshot of the
document. Handed the document's checker, that check made the checker follow the snapshot, and
the document's next check inferred every node again; with a checker of its own the document's
next check has nothing to do. Prints the nodes and the time of the document's next check in both
cases, the second as a ratio of the first, measured in the same process.
"""

import argparse
import time

from bench.generated_graphs import residual_mlp
from engine import Checker
from graphs import dumps_graph, loads_graph


def next_check_after(graph, snapshot, own_checker: bool) -> tuple[int, float]:
    document = Checker()
    document.check(graph)
    (Checker(follow=False) if own_checker else document).check(snapshot)
    start = time.perf_counter()
    document.check(graph)
    return document.visits, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=3000)
    graph = residual_mlp(parser.parse_args().nodes)
    snapshot = loads_graph(dumps_graph(graph), "<snapshot>")
    shared = next_check_after(graph, snapshot, own_checker=False)
    own = next_check_after(graph, snapshot, own_checker=True)
    print(f"{len(graph.nodes)} nodes; the document's next check after a run's snapshot was checked:")
    print(f"  with the document's checker (before): {shared[0]:6} nodes inferred, {shared[1] * 1000:8.1f} ms")
    print(f"  with a checker of its own (now):      {own[0]:6} nodes inferred, {own[1] * 1000:8.1f} ms"
          f"   ratio {own[1] / shared[1]:.4f}")


if __name__ == "__main__":
    main()

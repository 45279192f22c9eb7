"""How fast the editor shows and updates large graphs.

    QT_QPA_PLATFORM=offscreen python -m bench.editor_speed [--nodes 1000]

Prints: the time to open and show a generated graph (items built, checked, painted once), the
time of one repaint zoomed out to the whole graph (goal: under 2 s and 50 ms for 1,000 nodes),
and, on a 500-node graph, the time from a parameter change to updated marks (goal: 100 ms).
The baseline line is an empty canvas repainted the same way, in the same process.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.generated_graphs import residual_mlp  # noqa: E402
from graphs import Graph  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402


def repaint_ms(app, window, repeats=5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        window.view.viewport().repaint()
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    window = MainWindow(interactive=False)
    window.show()
    app.processEvents()
    window.document.replace(Graph(name="empty"), None)
    window.view.fit_all()
    empty = repaint_ms(app, window)

    graph = residual_mlp(args.nodes)
    start = time.perf_counter()
    window.document.replace(graph, None)
    window.view.fit_all()
    window.view.viewport().repaint()
    app.processEvents()
    shown = time.perf_counter() - start
    window.view.set_zoom(0.05)
    zoomed_out = repaint_ms(app, window)

    half = residual_mlp(500)
    window.document.replace(half, None)
    app.processEvents()
    node = [n for n in half.nodes if n.startswith("fc")][100]
    latencies = []
    for i in range(10):
        start = time.perf_counter()
        window.document.try_edit(lambda i=i: half.set_params_edit(node, out_features=100 + i))
        app.processEvents()      # the coalesced check runs, marks and labels update
        latencies.append((time.perf_counter() - start) * 1000)
    print(f"open and show {args.nodes} nodes:            {shown * 1000:8.0f} ms")
    print(f"repaint zoomed out ({args.nodes} nodes):     {zoomed_out:8.1f} ms  "
          f"(empty canvas {empty:.1f} ms, ratio {zoomed_out / max(empty, 1e-3):.1f})")
    print(f"500 nodes: parameter change to updated marks, median of 10: {statistics.median(latencies):6.1f} ms "
          f"(worst {max(latencies):.1f} ms)")
    window.close()


if __name__ == "__main__":
    main()

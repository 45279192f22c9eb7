"""How fast the editor shows and updates large graphs.

    QT_QPA_PLATFORM=offscreen python -m bench.editor_speed [--nodes 1000] [--kind mlp|conv]

Prints: the time to open a generated graph (items built, checked) and to paint it once fitted,
the time of one repaint zoomed out to the whole graph and one at 100% (goals at 10,000 nodes:
under 2 s to open and show, under 16 ms a repaint), the minimap's redraw after a change and
its repaint as the canvas scrolls, the process's peak resident memory (goal
under 1 GB), and, on a 500-node graph, the time from a parameter change to updated marks.
The baseline is an empty canvas repainted the same way, in the same process.
"""

import argparse
import os
import resource
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.generated_graphs import residual_conv, residual_mlp  # noqa: E402
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
    parser.add_argument("--kind", choices=("mlp", "conv"), default="mlp")
    args = parser.parse_args()
    make = residual_mlp if args.kind == "mlp" else residual_conv
    app = QApplication.instance() or QApplication([])
    window = MainWindow(interactive=False)
    window.show()
    app.processEvents()
    # torch loads its compiler stack (1.5 s) on the first layer it runs: the window pays that on
    # its example at start, so it is paid here before anything is timed.
    window.document.replace(residual_mlp(20), None)
    window.document.replace(Graph(name="empty"), None)
    window.view.fit_all()
    empty = repaint_ms(app, window)

    graph = make(args.nodes)
    start = time.perf_counter()
    window.document.replace(graph, None)
    opened = time.perf_counter() - start
    window.view.fit_all()
    window.view.viewport().repaint()
    app.processEvents()
    shown = time.perf_counter() - start
    window.view.set_zoom(0.05)
    zoomed_out = repaint_ms(app, window)
    window.view.set_zoom(1.0)
    window.view.centerOn(window.scene.nodes[list(graph.nodes)[len(graph.nodes) // 2]])
    repaint_ms(app, window, 1)                # the switch back from the overview, once
    near = repaint_ms(app, window)
    minimap = []
    for _ in range(3):                        # the minimap drawn again after a change of the graph
        start = time.perf_counter()
        window.minimap._invalidate()
        window.minimap.grab()
        minimap.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    for _ in range(10):                       # and only its outline, as the canvas scrolls
        window.minimap.grab()
    outline = (time.perf_counter() - start) * 100

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
    print(f"open {args.nodes} nodes ({args.kind}):            {opened * 1000:8.0f} ms")
    print(f"open and first paint:                  {shown * 1000:8.0f} ms")
    print(f"repaint zoomed out ({args.nodes} nodes):     {zoomed_out:8.1f} ms  "
          f"(empty canvas {empty:.1f} ms, ratio {zoomed_out / max(empty, 1e-3):.1f})")
    print(f"repaint at 100% in the middle:         {near:8.1f} ms")
    print(f"minimap redrawn after a change:        {statistics.median(minimap):8.1f} ms  "
          f"(its outline alone {outline:.1f} ms, ratio {statistics.median(minimap) / max(outline, 1e-3):.0f})")
    print(f"peak resident memory:                  {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MB")
    print(f"500 nodes: parameter change to updated marks, median of 10: {statistics.median(latencies):6.1f} ms "
          f"(worst {max(latencies):.1f} ms)")
    window.close()


if __name__ == "__main__":
    main()

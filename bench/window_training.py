"""Training throughput with the window open and every plot live, against the same run headless.

    QT_QPA_PLATFORM=offscreen python -m bench.window_training [--epochs 40] [--rounds 2]

Both runs go through the engine's worker process with the same settings (a checkpoint every
epoch, which the window uses for predictions); the windowed one has the dashboard drawing
(the tab in view changes every half second so that every panel redraws) and the canvas coloured
by gradients. Prints samples/s for each and window / headless (goal: at least 0.9).
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.training import TrainingConfig  # noqa: E402
from engine.training.messages import Finished, RunStarted  # noqa: E402
from engine.worker import TrainingWorker  # noqa: E402
from graphs import load_graph  # noqa: E402
from gui.main_window import EXAMPLES, MainWindow  # noqa: E402


def headless(graph, config) -> float:
    worker = TrainingWorker(graph, config).start()
    started = finished = None
    samples = 0
    while not worker.done:
        for m in worker.poll(timeout=0.05):
            if isinstance(m, RunStarted):
                started, per_epoch = time.perf_counter(), m.train_samples
            elif isinstance(m, Finished):
                finished, samples = time.perf_counter(), per_epoch * m.epoch
    return samples / (finished - started)


def windowed(app, window, config) -> float:
    ui = window.training
    window.document.graph.training = config.to_dict()
    marks = {}
    ui.controller.started.connect(lambda r: marks.setdefault("queued", time.perf_counter()))
    cycle = QTimer(interval=500)
    cycle.timeout.connect(lambda: ui.dashboard.tabs.setCurrentIndex((ui.dashboard.tabs.currentIndex() + 1) % 7))
    cycle.start()
    ui.train()
    record = ui.controller.current
    while ui.controller.running:
        app.processEvents()
        if record.started is not None and "start" not in marks:
            marks["start"] = time.perf_counter()
        time.sleep(0.002)
    cycle.stop()
    end = time.perf_counter()
    return record.started.train_samples * record.final.epoch / (end - marks["start"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    window = MainWindow(interactive=False)
    window.show()
    window.open_example(EXAMPLES / "lenet_digits.loom")
    graph = load_graph(EXAMPLES / "lenet_digits.loom")
    config = TrainingConfig.from_dict(graph.training).replace(epochs=args.epochs, probe_every=20)
    rates = {"window": [], "headless": []}
    for r in range(args.rounds):
        for name in (("window", "headless") if r % 2 == 0 else ("headless", "window")):
            # The window's runs write a checkpoint each epoch (for Predict); so does the baseline.
            rate = (windowed(app, window, config) if name == "window" else
                    headless(graph, config.replace(checkpoint_dir=tempfile.mkdtemp(prefix="netloom-bench-"))))
            rates[name].append(rate)
    win, head = statistics.median(rates["window"]), statistics.median(rates["headless"])
    print(f"lenet_digits, {args.epochs} epochs per run, probes every 20 steps, {args.rounds} rounds")
    print(f"headless worker:          {head:10,.0f} samples/s")
    print(f"window with live plots:   {win:10,.0f} samples/s")
    print(f"ratio window / headless:  {win / head:10.3f}")
    window.training.controller.shutdown()
    window.close()


if __name__ == "__main__":
    main()

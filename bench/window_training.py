"""Training throughput with the window open and every plot live, against the same run headless.

    QT_QPA_PLATFORM=offscreen python -m bench.window_training [--epochs 40] [--rounds 2]

Both runs go through the engine's worker process with the same settings (a checkpoint every
epoch, which the window uses for predictions; the worker's probes, the feature-space projection
each epoch included); the windowed one has the dashboard drawing and the canvas coloured by
gradients. The tab in view changes every half second, in two ways:

- "look-inside views hidden": among the tabs that are not Feature space, Embeddings, Attention
  or Style (the views that look inside stay out of view);
- "every view": among every tab shown.

Prints samples/s for each and window / headless (goal: at least 0.9), and how responsive the
window stays: the gaps between the ticks of a 10 ms timer while it trains, against the same timer
in the same window idle (goal: the 99th percentile under 100 ms; a stall in the window's own work
shows there).
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine.training import TrainingConfig  # noqa: E402
from engine.training.messages import Finished, RunStarted  # noqa: E402
from engine.training.worker import TrainingWorker  # noqa: E402
from graphs import load_graph  # noqa: E402
from gui.commands import files  # noqa: E402
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


class Ticks:
    """The gaps between the ticks of a 10 ms timer: how long the window's event loop was busy."""

    def __init__(self) -> None:
        self.gaps: list[int] = []
        self.clock, self.timer = QElapsedTimer(), QTimer(interval=10)
        self.timer.timeout.connect(lambda: self.gaps.append(self.clock.restart()))

    def __enter__(self) -> "Ticks":
        self.clock.start()
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.stop()

    def percentile(self, q: float) -> float:
        ordered = sorted(self.gaps[1:]) or [0]
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def idle(app, seconds: float) -> Ticks:
    with Ticks() as ticks:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)
    return ticks


def windowed(app, window, config, every_view: bool, ticks: Ticks) -> float:
    ui = window.training
    dashboard = ui.dashboard
    window.document.graph.set_training(config.to_dict())
    marks = {}
    inside = (dashboard.features, dashboard.embeddings, dashboard.attention, dashboard.style_transfer)
    shown = [dashboard.tabs.widget(i) for i in range(dashboard.tabs.count())
             if dashboard.tabs.isTabVisible(i) and (every_view or dashboard.tabs.widget(i) not in inside)]
    turn = iter(range(1_000_000))
    cycle = QTimer(interval=500)
    cycle.timeout.connect(lambda: dashboard.tabs.setCurrentWidget(shown[next(turn) % len(shown)]))
    cycle.start()
    ui.train()
    record = ui.controller.current
    with ticks:
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
    files.open_example(window.context, EXAMPLES / "lenet_digits.loom")
    graph = load_graph(EXAMPLES / "lenet_digits.loom")
    config = TrainingConfig.from_dict(graph.training).replace(epochs=args.epochs, probe_every=20)
    rates: dict[str, list[float]] = {"hidden": [], "every": [], "headless": []}
    training_ticks = Ticks()
    for r in range(args.rounds):
        order = ("hidden", "every", "headless")
        for name in (order if r % 2 == 0 else order[::-1]):
            # The window's runs write a checkpoint each epoch (for Predict); so does the baseline.
            rate = (windowed(app, window, config, name == "every", training_ticks) if name != "headless" else
                    headless(graph, config.replace(checkpoint_dir=tempfile.mkdtemp(prefix="netloom-bench-"))))
            rates[name].append(rate)
    hidden, every, head = (statistics.median(rates[k]) for k in ("hidden", "every", "headless"))
    print(f"lenet_digits, {args.epochs} epochs per run, probes every 20 steps, {args.rounds} rounds")
    print(f"headless worker:                          {head:10,.0f} samples/s")
    print(f"window, look-inside views hidden:         {hidden:10,.0f} samples/s   ratio {hidden / head:.3f}")
    print(f"window, every view in turn:               {every:10,.0f} samples/s   ratio {every / head:.3f}")
    still = idle(app, 5.0)
    print(f"10 ms timer, window idle:                 99th percentile {still.percentile(0.99):4.0f} ms, "
          f"worst {max(still.gaps[1:]):4.0f} ms")
    print(f"10 ms timer, window training:             99th percentile {training_ticks.percentile(0.99):4.0f} ms, "
          f"worst {max(training_ticks.gaps[1:]):4.0f} ms   (goal: 99th percentile under 100 ms)")
    window.training.controller.shutdown()
    window.close()


if __name__ == "__main__":
    main()

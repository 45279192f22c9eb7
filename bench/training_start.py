"""From Train to the first step: a training process started ahead of time against one started
when Train is pressed.

    python -m bench.training_start [--rounds 3]

Each run trains the bundled LeNet example on the digits through the engine's worker, as the
window does, and the time is taken from handing over the run to the first step report (and to
the end, for the whole run). "cold": the process is started when the run is; "warm": a
``WarmProcess`` was started earlier and is ready (the window keeps one). Goal: warm under 1.5 s.
"""

import argparse
import statistics
import time

import resources
from engine.training import TrainingConfig
from engine.training.messages import Finished, StepMetrics
from engine.training.worker import TrainingWorker, WarmProcess
from graphs import load_graph


def one_run(graph, config, warm: bool) -> tuple[float, float]:
    spare = None
    if warm:
        spare = WarmProcess()
        while not spare.ready:
            time.sleep(0.05)
    started = time.perf_counter()
    worker = TrainingWorker(graph, config, process=spare).start()
    first = end = None
    while not worker.done:
        for message in worker.poll(timeout=0.01):
            if isinstance(message, StepMetrics) and first is None:
                first = time.perf_counter() - started
            if isinstance(message, Finished):
                end = time.perf_counter() - started
    while not worker.exited():
        time.sleep(0.05)
    assert first is not None and end is not None, "the run did not train"
    return first, end


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    graph = load_graph(resources.example("lenet_digits.loom"))
    config = TrainingConfig.from_dict(graph.training).replace(epochs=args.epochs)
    times: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    for r in range(args.rounds):
        for kind in (("cold", "warm") if r % 2 == 0 else ("warm", "cold")):
            times[kind].append(one_run(graph, config, kind == "warm"))
    cold = statistics.median(t[0] for t in times["cold"])
    warm = statistics.median(t[0] for t in times["warm"])
    print(f"lenet_digits, {args.epochs} epochs, median of {args.rounds} runs each")
    print(f"cold process: first step after {cold:5.2f} s, whole run {statistics.median(t[1] for t in times['cold']):5.2f} s")
    print(f"warm process: first step after {warm:5.2f} s, whole run {statistics.median(t[1] for t in times['warm']):5.2f} s"
          f"   (warm / cold {warm / cold:.2f}; goal: warm under 1.5 s)")


if __name__ == "__main__":
    main()

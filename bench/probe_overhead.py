"""Training throughput with every probe on against probes off, in one process.

    python -m bench.probe_overhead [--epochs 5] [--rounds 5] [--device auto]

Probes (gradient flow, filters, activation maps, dead units, confusion matrix) run at their
default interval. Rounds alternate; prints samples/s of each and on / off (goal: >= 0.95).
"""

import argparse
import statistics
import time
from pathlib import Path

from engine.training import TrainingConfig, train
from engine.training.messages import Finished, GradientFlow, RunStarted
from graphs import load_graph

EXAMPLE = Path(__file__).resolve().parent.parent / "resources" / "examples" / "lenet_digits.loom"


def one_run(graph, config):
    start, samples, probes = time.perf_counter(), 0, 0
    device = "?"
    for m in train(graph, config):
        if isinstance(m, RunStarted):
            device, per_epoch = m.device, m.train_samples
        elif isinstance(m, GradientFlow):
            probes += 1
        elif isinstance(m, Finished):
            samples = per_epoch * m.epoch
    return samples / (time.perf_counter() - start), probes, device


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--probe-every", type=int, default=50)
    args = parser.parse_args()
    graph = load_graph(EXAMPLE)
    base = TrainingConfig.from_dict(graph.training).replace(epochs=args.epochs, device=args.device,
                                                            probe_every=args.probe_every)
    configs = {"on": base, "off": base.replace(probes=False)}
    rates = {"on": [], "off": []}
    one_run(graph, base)   # warm-up
    for r in range(args.rounds):
        for name in (("on", "off") if r % 2 else ("off", "on")):
            rate, probes, device = one_run(graph, configs[name])
            rates[name].append(rate)
            if name == "on":
                probe_count = probes
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"lenet_digits on {device}, {args.epochs} epochs per run, probes every {args.probe_every} steps "
          f"({probe_count} gradient-flow probes per run)")
    print(f"probes off: {off:10,.0f} samples/s")
    print(f"probes on:  {on:10,.0f} samples/s")
    print(f"ratio on / off: {on / off:.3f}")


if __name__ == "__main__":
    main()

"""What loss landscapes cost, in one process.

    python -m bench.landscape_speed [--rounds 3] [--epochs 5]

1. One 21x21 landscape of the optimizers experiment's network (2-8-8-2) on 512 training
   samples: the grid evaluated with vmap over the weights against point by point; prints both
   times and their ratio.
2. Training the Playground example with the landscape setting (its per-epoch landscapes and the
   path) against without, probes on in both; prints samples/s and the ratio on / off.
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

import engine.insight.landscape as landscape
from engine import compile_graph
from engine.data import load_dataset
from engine.training import TrainingConfig, train
from engine.training.loop import LANDSCAPE_SAMPLES, loss_value
from engine.training.messages import Finished, RunStarted
from graphs import load_graph

EXAMPLES = Path(__file__).resolve().parent.parent / "resources" / "examples"


def grid_seconds(model, plane, x, y, point_by_point: bool) -> float:
    original = landscape.vmap

    def refuse(*args, **kwargs):
        raise RuntimeError("point by point")
    if point_by_point:
        landscape.vmap = refuse
    try:
        start = time.perf_counter()
        landscape.loss_surface(model, plane, x, y, lambda out, t: loss_value("cross_entropy", out, t),
                               np.linspace(-1, 1, 21), np.linspace(-1, 1, 21))
        return time.perf_counter() - start
    finally:
        landscape.vmap = original


def training_rate(graph, config) -> float:
    start, samples = time.perf_counter(), 0
    for m in train(graph, config):
        if isinstance(m, RunStarted):
            per_epoch = m.train_samples
        elif isinstance(m, Finished):
            samples = per_epoch * m.epoch
    return samples / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    graph = load_graph(EXAMPLES / "optimizers" / "adam.loom")
    torch.manual_seed(0)
    model = compile_graph(graph)
    data = load_dataset("moons")
    x, y = data.x_train[:LANDSCAPE_SAMPLES], data.y_train[:LANDSCAPE_SAMPLES]
    plane = landscape.random_plane(model)
    grid_seconds(model, plane, x, y, False)                       # warm-up
    times = {"vmap": [], "point by point": []}
    for r in range(args.rounds):
        for name in (("vmap", "point by point") if r % 2 == 0 else ("point by point", "vmap")):
            times[name].append(grid_seconds(model, plane, x, y, name == "point by point"))
    fast, slow = statistics.median(times["vmap"]), statistics.median(times["point by point"])
    print(f"21x21 landscape of a 2-8-8-2 MLP on {len(x)} samples: vmap {fast:.3f} s, point by point {slow:.3f} s, "
          f"ratio {slow / fast:.1f}")

    play = load_graph(EXAMPLES / "playground_features.loom")
    base = TrainingConfig.from_dict(play.training).replace(epochs=args.epochs, device="cpu")
    configs = {"on": base.replace(landscape=True), "off": base}
    training_rate(play, base.replace(epochs=1))                   # warm-up
    rates = {"on": [], "off": []}
    for r in range(args.rounds):
        for name in (("off", "on") if r % 2 == 0 else ("on", "off")):
            rates[name].append(training_rate(play, configs[name]))
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    print(f"playground_features, {args.epochs} epochs: landscape off {off:,.0f} samples/s, on {on:,.0f} samples/s, "
          f"ratio on / off {on / off:.3f}")


if __name__ == "__main__":
    main()

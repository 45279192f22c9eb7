"""Fine-tuning throughput: a frozen backbone with a new head against training every layer, in one
process.

    python -m bench.finetune_throughput [--graph resnet18.loom] [--size 64] [--steps 20] [--rounds 3]
                                        [--batch-size 32] [--device auto]

The bundled ResNet-18 (or another example) gets an input of SIZE x SIZE and a head for 10
classes and trains on random pictures (no data set to download): once with every layer
learning, once frozen up to the layer before its head (the head alone learns: no gradients flow
through the backbone). Rounds alternate; prints the median samples/s of each and the ratio
frozen / everything (above 1: fine-tuning a frozen backbone is that much faster per step).
"""

import argparse
import statistics

import torch

import resources
from engine.data import DataSet
from engine.training import TrainingConfig, train
from engine.training.messages import Failed, RunStarted, StepMetrics
from graphs import load_graph
from graphs.editing import adapt_head_edit, freeze_up_to_edit, head_layer

CLASSES = 10


def prepared(name: str, size: int):
    graph = load_graph(resources.example(name))
    graph.set_params(graph.inputs()[0], shape=[3, size, size])
    head, param = head_layer(graph)
    graph.apply(adapt_head_edit(graph, head, CLASSES, param))
    return graph, head


def pictures(count: int, size: int) -> DataSet:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(count, 3, size, size, generator=generator)
    y = torch.randint(0, CLASSES, (count,), generator=generator)
    return DataSet("random pictures", x, y, x[:8], y[:8], class_names=[str(i) for i in range(CLASSES)], kind="image")


def samples_per_second(graph, config, data) -> tuple[float, str, int]:
    rates, device, frozen = [], "?", 0
    for m in train(graph, config, dataset=data):
        if isinstance(m, RunStarted):
            device, frozen = m.device, m.frozen_parameters
        elif isinstance(m, StepMetrics) and m.step > 2:      # the first steps warm caches up
            rates.append(m.samples_per_s)
        elif isinstance(m, Failed):
            raise SystemExit(f"training failed: {m.reason}")
    return statistics.median(rates), device, frozen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--graph", default="resnet18.loom", help="a bundled example with a Linear head")
    parser.add_argument("--size", type=int, default=64, help="input pictures are SIZE x SIZE")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    everything, head = prepared(args.graph, args.size)
    frozen, _ = prepared(args.graph, args.size)
    before_head = everything.in_edges(head)[0].src
    frozen.apply(freeze_up_to_edit(frozen, before_head))
    data = pictures(args.steps * args.batch_size, args.size)
    config = TrainingConfig(epochs=1, batch_size=args.batch_size, device=args.device, probes=False, log_every=1,
                            optimizer="sgd", lr=0.01)
    rates: dict[str, list[float]] = {"everything": [], "frozen": []}
    graphs = {"everything": everything, "frozen": frozen}
    for r in range(args.rounds):
        for name in (("everything", "frozen") if r % 2 == 0 else ("frozen", "everything")):
            rate, device, count = samples_per_second(graphs[name], config, data)
            rates[name].append(rate)
            if name == "frozen":
                frozen_count = count
    full, tuned = statistics.median(rates["everything"]), statistics.median(rates["frozen"])
    print(f"{args.graph} at {args.size}x{args.size} on {device}, batch {args.batch_size}, {args.steps} steps per run, "
          f"{args.rounds} rounds; frozen up to {before_head}: {frozen_count:,} parameters, the head {head} learns")
    print(f"every layer learning:  {full:10,.0f} samples/s")
    print(f"frozen backbone:       {tuned:10,.0f} samples/s")
    print(f"ratio frozen / everything: {tuned / full:.2f}")


if __name__ == "__main__":
    main()

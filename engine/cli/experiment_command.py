"""``python main.py experiment FILE``: train every variant of an experiment and print, per
variant, how it ended and the mean |gradient| each layer received (first layer to last)."""

from __future__ import annotations

import signal
from typing import TextIO

from graphs.experiment import Experiment

from ..training import Control
from ..training.experiment import average_gradients, variant_messages
from ..training.messages import Failed, Finished, GradientFlow


def run_experiment(experiment: Experiment, epochs: int | None, out: TextIO, err: TextIO) -> int:
    control = Control()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: control.stop())
    flows: dict[str, list[GradientFlow]] = {}
    failed = False
    print(experiment.title, file=out)
    try:
        for name, message in variant_messages(experiment, epochs, control):
            if isinstance(message, GradientFlow):
                flows.setdefault(name, []).append(message)
            elif isinstance(message, Finished):
                accuracy = f"{message.val_accuracy:.1%}" if message.val_accuracy is not None else "n/a"
                print(f"{name}: {message.reason} after {message.epoch} epochs, validation accuracy {accuracy}",
                      file=out, flush=True)
            elif isinstance(message, Failed):
                failed = True
                print(f"{name}: failed: {message.reason}", file=err, flush=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    if flows:
        print("\nmean |gradient| per layer with weights, first to last (averaged over the run's probes):", file=out)
        for name, found in flows.items():
            summary = average_gradients(name, found)
            values = "  ".join(f"{layer} {value:.1e}" for layer, value in zip(summary.layers, summary.mean_abs_grad))
            print(f"{name}: {values}", file=out)
    return 1 if failed else 0

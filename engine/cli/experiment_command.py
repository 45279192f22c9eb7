"""``python main.py experiment FILE``: train every variant of an experiment and print, per
variant, how it ended, the mean |gradient| each layer received (first layer to last), how often
clipping cut the gradient, and for recurrent layers the gradient each step's hidden state got."""

from __future__ import annotations

import signal
from typing import TextIO

from graphs.experiment import Experiment

from ..training import Control
from ..training.experiment import average_gradients, step_gradient_profiles, variant_messages
from ..training.messages import Failed, Finished, GradientClipping, GradientFlow, TimeGradients

STEPS_SHOWN = 6       # steps of a gradient-through-time profile printed, first to last


def run_experiment(experiment: Experiment, epochs: int | None, out: TextIO, err: TextIO) -> int:
    control = Control()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: control.stop())
    flows: dict[str, list[GradientFlow]] = {}
    through_time: dict[str, list[TimeGradients]] = {}
    clipping: dict[str, list[GradientClipping]] = {}
    failed = False
    print(experiment.title, file=out)
    try:
        for name, message in variant_messages(experiment, epochs, control):
            if isinstance(message, GradientFlow):
                flows.setdefault(name, []).append(message)
            elif isinstance(message, TimeGradients):
                through_time.setdefault(name, []).append(message)
            elif isinstance(message, GradientClipping):
                clipping.setdefault(name, []).append(message)
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
    if through_time:
        print("\ngradient through time, |dL/dh| at steps first to last (median over the run's probes):", file=out)
        for name, probes in through_time.items():
            for profile in step_gradient_profiles(name, probes):
                count = len(profile.norms)
                shown = sorted({round(i * (count - 1) / (STEPS_SHOWN - 1)) for i in range(STEPS_SHOWN)})
                values = "  ".join(f"{s + 1} {profile.norms[s]:.1e}" for s in shown)
                print(f"{name} ({profile.layer}): step {values}", file=out)
    for name, reports in clipping.items():
        cut, total = sum(m.clipped for m in reports), sum(m.steps for m in reports)
        print(f"{name}: clipping cut the gradient at {cut} of {total} steps (norms up to "
              f"{max(m.max_norm for m in reports):.2f}, threshold {reports[0].threshold:g})", file=out)
    return 1 if failed else 0

"""``python main.py experiment FILE``: train every variant of an experiment and print, per
variant, how it ended, the mean |gradient| each layer received (first layer to last), how often
clipping cut the gradient, and for recurrent layers the gradient each step's hidden state got;
when the variants recorded their paths (the ``landscape`` setting), where each went on one loss
landscape (``--landscape FILE.json`` also writes it, grid and paths)."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import TextIO

from graphs import GraphFileError, load_graph
from graphs.atomic import write_atomically
from graphs.experiment import Experiment

from ..insight import InsightError
from ..training import Control, SharedLandscape, TrainingConfig, shared_landscape
from ..training.experiment import average_gradients, step_gradient_profiles, variant_messages
from ..training.messages import Failed, Finished, GradientClipping, GradientFlow, TimeGradients, WeightPath

STEPS_SHOWN = 6       # steps of a gradient-through-time profile printed, first to last


def run_experiment(experiment: Experiment, epochs: int | None, out: TextIO, err: TextIO,
                   landscape_file: str | None = None) -> int:
    control = Control()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: control.stop())
    flows: dict[str, list[GradientFlow]] = {}
    paths: dict[str, WeightPath] = {}
    through_time: dict[str, list[TimeGradients]] = {}
    clipping: dict[str, list[GradientClipping]] = {}
    failed = False
    print(experiment.title, file=out)
    try:
        for name, message in variant_messages(experiment, epochs, control):
            if isinstance(message, GradientFlow):
                flows.setdefault(name, []).append(message)
            elif isinstance(message, WeightPath):
                paths[name] = message
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
    if paths and not _landscape(experiment, paths, out, err, landscape_file):
        failed |= landscape_file is not None          # a landscape asked for and not drawn is a failure
    return 1 if failed else 0


def _landscape(experiment: Experiment, paths: dict[str, WeightPath], out: TextIO, err: TextIO,
               landscape_file: str | None) -> bool:
    """The recorded paths on one landscape (the first variant's graph and data), printed and written."""
    first = next(v for v in experiment.variants if v.name in paths)
    try:
        graph = load_graph(first.graph)
        found = shared_landscape(graph, TrainingConfig.from_dict(graph.training), paths)
    except (GraphFileError, InsightError) as error:
        print(f"no shared loss landscape: {error}", file=err)
        return False
    land = found.landscape
    print(f"\nloss landscape around the weights the variants start from (loss {land.centre_loss:.4f}), along "
          f"{land.kind}:", file=out)
    for name, points in found.paths.items():
        a, b = points[-1]
        print(f"{name}: {len(points)} points, ends at ({a:.3g}, {b:.3g}) with loss {found.end_losses[name]:.4f}; "
              f"the plane holds {found.captured[name]:.0%} of its way", file=out)
    if landscape_file:
        write_atomically(Path(landscape_file), json.dumps(landscape_json(found)).encode("utf-8"))
        print(f"wrote {landscape_file}", file=out)
    return True


def landscape_json(found: SharedLandscape) -> dict:
    land = found.landscape
    return {"kind": land.kind, "alphas": land.alphas.tolist(), "betas": land.betas.tolist(),
            "losses": [[v if v == v else None for v in row] for row in land.losses.tolist()],
            "centre_loss": land.centre_loss,
            "paths": {name: {"steps": found.steps[name].tolist(), "points": points.tolist(),
                             "end_loss": found.end_losses[name], "captured": found.captured[name]}
                      for name, points in found.paths.items()}}

"""Training the variants of an experiment one after another, with each variant's own settings
(and, if asked, one number of epochs for all), and summing up the gradient each layer got and,
for recurrent layers, the gradient each step's hidden state got."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from graphs import GraphFileError, load_graph
from graphs.experiment import Experiment

from .config import ConfigError, TrainingConfig
from .control import Control
from .loop import train
from .messages import Failed, GradientFlow, TimeGradients


@dataclass(frozen=True)
class LayerGradients:
    """Mean |gradient| of each layer with weights, in forward order, averaged over a run's probes."""
    variant: str
    layers: tuple[str, ...]
    mean_abs_grad: tuple[float, ...]


def variant_messages(experiment: Experiment, epochs: int | None = None,
                     control: Control | None = None) -> Iterator[tuple[str, object]]:
    """``(variant name, message)`` for every message of every variant's run, in order."""
    for variant in experiment.variants:
        try:
            graph = load_graph(variant.graph)
        except GraphFileError as err:
            yield variant.name, Failed(str(err))
            continue
        try:
            config = TrainingConfig.from_file(graph.training, where=f"{variant.graph}: training")
        except ConfigError as err:
            yield variant.name, Failed(str(err))
            continue
        if epochs is not None:
            config = config.replace(epochs=epochs)
        for message in train(graph, config, control):
            yield variant.name, message
        if control is not None and control.stop_requested:
            return


def average_gradients(variant: str, flows: list[GradientFlow]) -> LayerGradients:
    layers = tuple(g.layer for g in flows[0].layers) if flows else ()
    sums = {layer: 0.0 for layer in layers}
    for flow in flows:
        for g in flow.layers:
            if g.layer in sums:
                sums[g.layer] += g.mean_abs_grad
    return LayerGradients(variant, layers, tuple(sums[layer] / len(flows) for layer in layers))


@dataclass(frozen=True)
class StepGradientProfile:
    """|dL/dh_t| at each step of a recurrent layer (its last stacked layer, forward direction),
    the median over a run's probes: a typical probe, which one spike (an exploding step) or one
    probe of a solved task (a loss near 0) does not decide."""
    variant: str
    layer: str
    norms: tuple[float, ...]


def step_gradient_profiles(variant: str, found: list[TimeGradients]) -> list[StepGradientProfile]:
    """One profile per recurrent layer of a run, in the order the probes first named them."""
    layers: dict[str, list[np.ndarray]] = {}
    for message in found:
        layers.setdefault(message.layer, []).append(message.norms[-1, 0])
    return [StepGradientProfile(variant, layer, tuple(float(v) for v in np.median(np.stack(rows), axis=0)))
            for layer, rows in layers.items()]

"""Where a graph's inputs are scaled, decided in one place (which statistics they are scaled
with is the training settings' ``normalize``: the data set's own, ImageNet's or the start
weights', see ``engine.training.input_statistics``).

A graph whose one Input feeds a ``Normalize`` node scales its inputs itself: that node holds the
statistics, the data set hands it raw values, and whatever the graph is exported to takes raw
values too. Training fills the statistics in before it starts, and the window does it as an edit
the person sees and can undo.

Any other graph takes values as its data set hands them, standardised for the data sets that
standardise; its exports then say in words what scaling their inputs need (``scaling_note``).
"""

from __future__ import annotations

import dataclasses

from graphs import Graph
from graphs.edits import SetParams

from .base import DataSet

NORMALIZE = "Normalize"
DIGITS = 6                     # significant digits the statistics keep in the graph file
Statistics = tuple[list[float], list[float]]        # (mean, std), one value per channel or feature


def input_normalizer(graph: Graph) -> str | None:
    """The Normalize node the graph's one Input feeds directly, if there is one."""
    inputs = graph.inputs()
    if len(inputs) != 1:
        return None
    fed = [n for n in graph.successors(inputs[0]) if graph.nodes[n].type == NORMALIZE]
    return fed[0] if len(fed) == 1 else None


def data_statistics(data: DataSet) -> Statistics | None:
    """The mean and standard deviation per channel (per feature) of the data set's training
    part, as it standardised with them (or would have, for raw values from ``raw_values``),
    rounded to what the graph file keeps; None for a data set that does not standardise."""
    given = data.extra.get("input_statistics")
    if given is not None:
        return given
    mean, std = data.extra.get("mean"), data.extra.get("std")
    if mean is None or std is None:
        return None
    return _rounded(mean.flatten().tolist()), _rounded(std.flatten().tolist())


def raw_values(data: DataSet) -> DataSet:
    """The data set with the values it had before standardising (the same data set if it did
    not), its statistics kept as ``extra["input_statistics"]``."""
    found = data_statistics(data)
    mean, std = data.extra.get("mean"), data.extra.get("std")
    if found is None or mean is None or std is None:
        return data
    extra = {k: v for k, v in data.extra.items() if k not in ("mean", "std")} | {"input_statistics": found}
    return dataclasses.replace(data, x_train=data.x_train * std + mean, x_val=data.x_val * std + mean, extra=extra)


def as_graph_takes(data: DataSet, graph: Graph) -> DataSet:
    """The data set as the graph's model takes it: raw values when the graph normalises its
    input itself, else as loaded."""
    return raw_values(data) if input_normalizer(graph) is not None else data


def statistics_edit(graph: Graph, found: Statistics | None) -> SetParams | None:
    """The edit that gives the graph's input Normalize node the statistics ``found`` (see
    ``engine.training.input_statistics``: which ones the training settings choose); None when the
    graph has no such node, there are none, or the node has them already."""
    node = input_normalizer(graph)
    if node is None or found is None:
        return None
    mean, std = found
    params = graph.nodes[node].params
    if params.get("mean") == mean and params.get("std") == std:
        return None
    return graph.set_params_edit(node, mean=mean, std=std)


def describe_statistics(node: str, found: Statistics, source: str) -> str:
    mean, std = found
    return f"{node} normalises the inputs with {source}: mean {_listed(mean)}, std {_listed(std)}"


def scaling_note(graph: Graph, found: Statistics | None, source: str, dataset: str) -> str:
    """What the inputs of the graph's exported model need, in words. ``found``: the statistics
    its inputs are normalised with (``source`` says whose), from its Normalize step's trained
    buffers for a graph that has one, else those training normalises its data set (``dataset``,
    by its loader's name) with; None: none, and nothing to say."""
    if found is None:
        return ""
    mean, std = found
    node = input_normalizer(graph)
    if node is not None:
        return (f"The model takes raw values ({raw_words(dataset)}): its {node} step normalises them with mean "
                f"{_listed(mean)} and std {_listed(std)}.")
    return (f"Inputs need scaling first: the model was trained on {dataset} normalised with {source}, so give it "
            f"(x - mean) / std per channel (feature) with mean {_listed(mean)} and std {_listed(std)}, x being "
            f"{raw_words(dataset)}. A Normalize step after the Input, trained again, makes the model do this itself.")


def raw_words(dataset: str) -> str:
    """What the values of a data set (by its loader's name) are before any normalisation."""
    if dataset == "digits":
        return "pixels from 0 to 1: scikit-learn's digits divided by 16"
    if dataset in ("mnist", "fashion_mnist", "cifar10", "cifar100", "image_folder"):
        return "pixels from 0 to 1"
    return "the table's numbers" if dataset == "csv" else f"values as {dataset} gives them"


def _rounded(values: list[float]) -> list[float]:
    return [float(f"{v:.{DIGITS}g}") for v in values]


def _listed(values: list[float]) -> str:
    return ", ".join(f"{v:.4g}" for v in values) if len(values) <= 8 else \
        f"{', '.join(f'{v:.4g}' for v in values[:8])} ... ({len(values)} values)"


__all__ = ["NORMALIZE", "Statistics", "as_graph_takes", "data_statistics", "describe_statistics", "input_normalizer",
           "raw_values", "scaling_note", "statistics_edit"]

"""The value of one node of a compiled graph, for any input: the model cut after that node, or a
run that keeps the values of the nodes asked for (with their autograd history, when wanted)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import fx

from graphs import Graph

from ..compiling import node_ids
from ..layers import OWN_MODULES, step_name

DENSE_TYPES = ("Linear",)


class InsightError(ValueError):
    """What was asked cannot be shown for this model; the message says why in plain words."""


def fx_node(model: fx.GraphModule, node_id: str) -> fx.Node:
    """The step of the compiled forward that computes ``node_id``'s value."""
    name = step_name(node_id)
    for n in model.graph.nodes:
        if n.name == name and n.op in ("call_module", "call_function", "call_method"):
            return n
    raise InsightError(f"{node_id} is not a layer of this model")


def truncated(model: fx.GraphModule, node_id: str) -> fx.GraphModule:
    """The model up to and including ``node_id``, returning its value: what it computes costs
    only the layers before it (maximising a channel of the first convolution runs one layer)."""
    end = fx_node(model, node_id)
    graph = fx.Graph()
    copied: dict[fx.Node, fx.Node] = {}
    for n in model.graph.nodes:
        copied[n] = graph.node_copy(n, copied.__getitem__)
        if n is end:
            break
    graph.output(copied[end])
    cut = fx.GraphModule(model, graph)
    cut.graph.eliminate_dead_code()
    cut.recompile()
    cut.train(model.training)
    return cut


class Recorder(fx.Interpreter):
    """Runs the compiled graph step by step, keeping the outputs of the steps asked for."""

    def __init__(self, module: fx.GraphModule, wanted: set[str]) -> None:
        super().__init__(module)
        self.wanted = wanted
        self.values: dict[str, torch.Tensor] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        if n.name in self.wanted and isinstance(result, torch.Tensor):
            self.values[n.name] = result
        return result


def run_keeping(model: fx.GraphModule, node_ids: list[str], *inputs: torch.Tensor) -> tuple[Any, dict[str, torch.Tensor]]:
    """The model's output and the values of ``node_ids`` (by node id) for ``inputs``; autograd
    follows them when grad is enabled, so a gradient can be taken with respect to any of them."""
    names = {step_name(n): n for n in node_ids}
    recorder = Recorder(model, set(names))
    output = recorder.run(*inputs)
    return output, {names[k]: v for k, v in recorder.values.items()}


def nodes_of_type(graph: Graph, types: tuple[str, ...]) -> list[str]:
    """The ids of the graph's nodes of these types, in the document's order (top level only:
    a block's inside is one step of the compiled forward)."""
    return [n.id for n in graph.nodes.values() if n.type in types]


def feature_layers(graph: Graph) -> list[str]:
    """Layers whose output can be projected: every node but inputs and outputs."""
    return [n.id for n in graph.nodes.values() if n.type not in ("Input", "Output")]


def classifier_features(graph: Graph) -> str | None:
    """The representation a classifier decides from: the node feeding the last dense layer
    (the penultimate features of LeNet, an MLP's last hidden layer); None without one."""
    dense = nodes_of_type(graph, DENSE_TYPES)
    if not dense:
        return None
    wires = graph.wires_into()
    into = wires.get((dense[-1], "in"), [])
    if not into or graph.nodes[into[0].src].type == "Input":
        return None
    return into[0].src


def module_of(model: fx.GraphModule, node_id: str) -> torch.nn.Module:
    """The module a layer node compiled to."""
    for attribute, found in node_ids(model).items():
        if found == node_id:
            return model.get_submodule(attribute)
    raise InsightError(f"{node_id} has no module in this model")


def layer_parameters(model: fx.GraphModule, node_id: str) -> dict[str, np.ndarray]:
    """A layer's learned tensors by name (``weight``, ``bias`` ...), as float32 arrays: what the
    inspector shows as numbers or a heat map. A layer without any gives an empty dict."""
    try:
        module = module_of(model, node_id)
    except InsightError:
        return {}
    return {name: p.detach().float().cpu().numpy() for name, p in module.named_parameters()}


def input_scaler(model: torch.nn.Module) -> torch.nn.Module | None:
    """The Normalize step the compiled graph's Input feeds, when it scales its input itself
    (then it takes raw values, and the data's mean is that step's ``mean``)."""
    graph = getattr(model, "graph", None)
    first = next((n for n in graph.nodes if n.op == "placeholder"), None) if graph is not None else None
    users = list(first.users) if first is not None else []
    if len(users) != 1 or users[0].op != "call_module":
        return None
    module = model.get_submodule(str(users[0].target))
    return module if isinstance(module, OWN_MODULES["Normalize"]) else None

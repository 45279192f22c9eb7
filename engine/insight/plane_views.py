"""What a network does over its input plane, for data of one or two numbers: each neuron of each
dense layer as a picture over the plane (as TensorFlow Playground draws them), the weights of
small layers for their wires, the curve a 1-D regression fits and the surface a 2-D one does."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import fx

from graphs import Graph, feature_labels

from .layer_values import InsightError, module_of, nodes_of_type, run_keeping

MAX_UNITS = 32            # neurons pictured per layer (Playground shows at most 8)
MAX_WIRES = 1024          # weights sent for a layer's wires (a 32x32 layer)
NEURON_RESOLUTION = 40
ACTIVATION_TYPES = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish",
                    "Hardsigmoid", "Mish")


@dataclass(frozen=True)
class InputPlane:
    """A grid over the data's range with a margin: ``points`` (R*R x 2) row by row, rows follow y."""
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    resolution: int
    points: torch.Tensor = field(repr=False)


def input_plane(data: torch.Tensor, resolution: int) -> InputPlane:
    """A ``resolution`` x ``resolution`` grid covering the 2-D ``data`` with a tenth of its spread around."""
    low, high = data.amin(dim=0), data.amax(dim=0)
    margin = (high - low) * 0.1 + 1e-3
    low, high = low - margin, high + margin
    xs = torch.linspace(float(low[0]), float(high[0]), resolution, device=data.device)
    ys = torch.linspace(float(low[1]), float(high[1]), resolution, device=data.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return InputPlane((float(low[0]), float(high[0])), (float(low[1]), float(high[1])), resolution,
                      torch.stack([gx.flatten(), gy.flatten()], dim=1))


def input_line(data: torch.Tensor, resolution: int) -> torch.Tensor:
    """``resolution`` points (R x 1) covering 1-D ``data`` with a tenth of its spread around."""
    low, high = float(data.min()), float(data.max())
    margin = (high - low) * 0.1 + 1e-3
    return torch.linspace(low - margin, high + margin, resolution, device=data.device)[:, None]


@dataclass(frozen=True)
class NeuronLayer:
    """One layer's neurons as pictures over the input plane."""
    layer: str                      # the Linear (or Features) node
    shown: str                      # the node whose values are pictured: the activation right after it, if any
    labels: tuple[str, ...]         # what each picture is: "x1²" for a feature, "unit 3" for a neuron
    pictures: np.ndarray = field(repr=False)          # units x R x R (rows follow y), at most MAX_UNITS units
    units: int = 0                                    # the layer's units in all (more than pictured if large)
    weights: np.ndarray | None = field(default=None, repr=False)   # out x in of a small Linear, for its wires
    bias: np.ndarray | None = field(default=None, repr=False)


def neuron_pictures(model: fx.GraphModule, graph: Graph, plane: InputPlane) -> list[NeuronLayer]:
    """Each Features node's features and each Linear layer's neurons (after its activation,
    when one follows it alone) over the plane, in one pass; the weights of small Linear layers."""
    inputs = graph.inputs()
    if len(inputs) != 1 or graph.nodes[inputs[0]].params.get("shape") != [2]:
        raise InsightError("neurons are pictured over the input plane of graphs with one input of two numbers")
    layers = nodes_of_type(graph, ("Features", "Linear"))
    if not layers:
        raise InsightError("the graph has no Linear or Features layer to picture")
    shown = {layer: _after_activation(graph, layer) for layer in layers}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            _, values = run_keeping(model, list(set(shown.values())), plane.points)
    finally:
        model.train(was_training)
    found = []
    for layer in layers:
        value = values.get(shown[layer])
        if value is None or value.dim() != 2:
            continue
        units = value.shape[1]
        pictures = value[:, :MAX_UNITS].T.reshape(-1, plane.resolution, plane.resolution).float().cpu().numpy()
        node = graph.nodes[layer]
        if node.type == "Features":
            labels = tuple(feature_labels(node.params, 2))
            weights = bias = None
        else:
            labels = tuple(f"unit {i + 1}" for i in range(min(units, MAX_UNITS)))
            weights, bias = _small_weights(model, layer)
        found.append(NeuronLayer(layer, shown[layer], labels, pictures, units, weights, bias))
    return found


def predictions_over(model: torch.nn.Module, points: torch.Tensor) -> np.ndarray:
    """The model's outputs (N x outputs) for ``points``, in evaluation mode."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(points)
    finally:
        model.train(was_training)
    out = out[0] if isinstance(out, tuple) else out
    return out.float().reshape(len(points), -1).cpu().numpy()


def _after_activation(graph: Graph, layer: str) -> str:
    """The activation a layer feeds, when it feeds that alone; else the layer itself."""
    after = graph.out_edges(layer)
    if len(after) == 1 and graph.nodes[after[0].dst].type in ACTIVATION_TYPES:
        return after[0].dst
    return layer


def _small_weights(model: fx.GraphModule, layer: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    linear = module_of(model, layer)
    weight = getattr(linear, "weight", None)
    if weight is None or weight.numel() > MAX_WIRES:
        return None, None
    bias = getattr(linear, "bias", None)
    return (weight.detach().float().cpu().numpy(),
            bias.detach().float().cpu().numpy() if bias is not None else None)

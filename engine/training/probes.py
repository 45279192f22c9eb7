"""Looking inside the network while it trains: gradient flow, filters, activation maps, dead
units, decision boundaries. Each probe works on device and copies back a few small arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import fx, nn

from ..compiler import node_ids
from ..layers import step_name
from .messages import (
    ActivationMaps,
    DeadUnits,
    DecisionBoundary,
    Filters,
    GradientFlow,
    Histograms,
    LayerGradient,
    LayerHistogram,
    SampleOutputs,
)

RELU_FAMILY = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU")
MAX_FILTERS = 64
MAX_MAP_CHANNELS = 32
HISTOGRAM_BINS = 32


def layers_with_weights(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Top-level submodules that hold parameters, by node id, in forward order."""
    ids = node_ids(model)
    return [(ids[name], m) for name, m in model.named_children() if any(True for _ in m.parameters())]


def gradient_flow(step: int, layers: list[tuple[str, nn.Module]]) -> GradientFlow | None:
    """Mean and max absolute gradient and weight norm per layer: one transfer for all layers."""
    rows, names = [], []
    for name, module in layers:
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        if not grads:
            continue
        flat = torch.cat([g.detach().abs().flatten() for g in grads])
        weights = torch.cat([p.detach().flatten() for p in module.parameters()])
        rows.append(torch.stack([flat.mean(), flat.max(), weights.float().norm()]).float())
        names.append(name)
    if not rows:
        return None
    values = torch.stack(rows).cpu().tolist()
    return GradientFlow(step, tuple(LayerGradient(n, *v) for n, v in zip(names, values)))


class NonFiniteWeights(ArithmeticError):
    """A layer's weights hold NaN or infinite values: the run has diverged."""

    def __init__(self, layer: str) -> None:
        super().__init__(layer)
        self.layer = layer


def histograms(step: int, layers: list[tuple[str, nn.Module]]) -> Histograms | None:
    """Distribution of each layer's weights and gradients (HISTOGRAM_BINS bins over their range).

    NonFiniteWeights if a layer's weights are no longer finite (histograms of NaN do not exist)."""
    found = []
    for name, module in layers:
        weights = torch.cat([p.detach().float().flatten() for p in module.parameters()])
        grads = [p.grad for p in module.parameters() if p.grad is not None]
        grad = torch.cat([g.detach().float().flatten() for g in grads]) if grads else None
        w_range = torch.stack([weights.min(), weights.max()])
        if not bool(torch.isfinite(w_range).all()):
            raise NonFiniteWeights(name)
        if grad is not None and not bool(torch.isfinite(grad).all()):
            grad = None                     # one step's overflow (AMP skips it); no histogram this time
        w_counts = torch.histc(weights, bins=HISTOGRAM_BINS, min=float(w_range[0]), max=float(w_range[1]))
        g_counts, g_range = None, (0.0, 0.0)
        if grad is not None:
            low, high = float(grad.min()), float(grad.max())
            g_counts = torch.histc(grad, bins=HISTOGRAM_BINS, min=low, max=high).cpu().numpy()
            g_range = (low, high)
        found.append(LayerHistogram(name, w_counts.cpu().numpy(), tuple(w_range.cpu().tolist()), g_counts, g_range))
    return Histograms(step, tuple(found)) if found else None


def filters(step: int, model: nn.Module) -> list[Filters]:
    ids = node_ids(model)
    return [Filters(step, ids[name], m.weight.detach()[:MAX_FILTERS].float().cpu().numpy())
            for name, m in model.named_children() if isinstance(m, (nn.Conv2d, nn.Conv1d))]


class _Recorder(fx.Interpreter):
    """Runs the compiled graph step by step, keeping the outputs of the nodes asked for."""

    def __init__(self, module: fx.GraphModule, wanted: set[str]) -> None:
        super().__init__(module)
        self.wanted = wanted
        self.values: dict[str, torch.Tensor] = {}

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        if n.name in self.wanted and isinstance(result, torch.Tensor):
            self.values[n.name] = result
        return result


def inside_look(step: int, model: fx.GraphModule, graph, batch: torch.Tensor, sample: int,
                layers: tuple[str, ...] | None) -> list[Any]:
    """Activation maps of one sample and dead-unit shares, from one pass over the probe batch."""
    node_types = {n.id: n.type for n in graph.nodes.values()}
    names = {n.name for n in model.graph.nodes if n.op in ("call_module", "call_function", "call_method")}
    shown = [n for n in graph.nodes if step_name(n) in names and node_types[n] not in ("Input", "Output")]
    if layers is not None:
        shown = [n for n in shown if n in layers]
    relus = [n for n in graph.nodes if step_name(n) in names and node_types[n] in RELU_FAMILY]
    recorder = _Recorder(model, {step_name(n) for n in shown + relus})
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            recorder.run(batch)
    finally:
        model.train(was_training)
    values = recorder.values
    messages: list[Any] = []
    sample = min(sample, len(batch) - 1)
    values = {n: values[step_name(n)] for n in shown + relus if step_name(n) in values}
    for name in shown:
        if name in values and values[name].is_floating_point():
            maps = values[name][sample]
            if maps.dim() >= 2:
                maps = maps[:MAX_MAP_CHANNELS]
            messages.append(ActivationMaps(step, name, sample, maps.float().cpu().numpy()))
    if relus:
        shares = torch.stack([(values[n].flatten(1).amax(dim=0) <= 0).float().mean() for n in relus if n in values])
        messages.append(DeadUnits(step, tuple(zip([n for n in relus if n in values], shares.cpu().tolist()))))
    return messages


def decision_boundary(epoch: int, model: nn.Module, points: torch.Tensor, resolution: int = 80) -> DecisionBoundary:
    """Predicted class and confidence over a grid covering the 2-D data, with a margin."""
    low, high = points.amin(dim=0), points.amax(dim=0)
    margin = (high - low) * 0.1 + 1e-3
    low, high = low - margin, high + margin
    xs = torch.linspace(float(low[0]), float(high[0]), resolution, device=points.device)
    ys = torch.linspace(float(low[1]), float(high[1]), resolution, device=points.device)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    grid = torch.stack([gx.flatten(), gy.flatten()], dim=1)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(grid).float()
    model.train(was_training)
    probs = torch.softmax(out, dim=1) if out.shape[1] > 1 else torch.cat([1 - torch.sigmoid(out), torch.sigmoid(out)], 1)
    confidence, classes = probs.max(dim=1)
    return DecisionBoundary(epoch, (float(low[0]), float(high[0])), (float(low[1]), float(high[1])),
                            classes.reshape(resolution, resolution).cpu().numpy().astype(np.int16),
                            confidence.reshape(resolution, resolution).cpu().numpy().astype(np.float32))


def sample_outputs(epoch: int, model: nn.Module, x: torch.Tensor, y: torch.Tensor, count: int) -> SampleOutputs:
    """The model's outputs for the first ``count`` validation samples, with their inputs and targets."""
    x, y = x[:count], y[:count]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(x)
    model.train(was_training)
    out = out[0] if isinstance(out, tuple) else out
    return SampleOutputs(epoch, x.float().cpu().numpy(), y.float().cpu().numpy(), out.float().cpu().numpy())

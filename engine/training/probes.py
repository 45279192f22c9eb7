"""Looking inside the network while it trains: gradient flow, filters, activation maps, dead
units, decision boundaries. Each probe works on device and copies back a few small arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import fx, nn

from ..compiling import node_ids
from ..insight import (
    MAX_POINTS,
    NEURON_RESOLUTION,
    RECURRENT_TYPES,
    InsightError,
    Recorder,
    attention_weights,
    classifier_features,
    embedding_vectors,
    feature_layers,
    grid_around,
    input_line,
    input_plane,
    layer_features,
    loss_surface,
    nodes_of_type,
    pca,
    predictions_over,
    project,
    random_plane,
    separation,
    step_gradients,
    thinned,
    unroll,
)
from ..insight import neuron_pictures as plane_neurons
from ..layers import step_name
from .losses import sample_objective
from .messages import (
    ActivationMaps,
    AttentionMaps,
    DeadUnits,
    DecisionBoundary,
    EmbeddingSpace,
    FeatureSpace,
    Filters,
    FittedCurve,
    GradientFlow,
    Histograms,
    LayerGradient,
    LayerHistogram,
    LossLandscape,
    NeuronPictures,
    PredictedSurface,
    RecurrentSteps,
    SampleOutputs,
    TimeGradients,
    WeightPath,
)

RELU_FAMILY = ("ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "GELU", "SiLU")
MAX_FILTERS = 64
MAX_MAP_CHANNELS = 32
HISTOGRAM_BINS = 32
MAX_ATTENTION_VALUES = 1_000_000   # attention weights sent per probe (4 MB)
MAX_CLASSES_SHOWN = 20      # a feature space coloured by more classes than this shows no clusters
LANDSCAPE_RESOLUTION = 21   # grid points per axis of a run's loss landscape (441 passes over the loss data)
MAX_PATH_VALUES = 4_000_000  # numbers a WeightPath may carry (16 MB)


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


def inside_look(step: int, model: fx.GraphModule, graph, batch: torch.Tensor, sample: int,
                layers: tuple[str, ...] | None) -> list[Any]:
    """Activation maps of one sample and dead-unit shares, from one pass over the probe batch."""
    node_types = {n.id: n.type for n in graph.nodes.values()}
    names = {n.name for n in model.graph.nodes if n.op in ("call_module", "call_function", "call_method")}
    shown = [n for n in graph.nodes if step_name(n) in names and node_types[n] not in ("Input", "Output")]
    if layers is not None:
        shown = [n for n in shown if n in layers]
    relus = [n for n in graph.nodes if step_name(n) in names and node_types[n] in RELU_FAMILY]
    recorder = Recorder(model, {step_name(n) for n in shown + relus})
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


def decision_boundary(epoch: int, model: nn.Module, points: torch.Tensor, resolution: int = 80,
                      val_points: torch.Tensor | None = None, val_labels: torch.Tensor | None = None
                      ) -> DecisionBoundary:
    """Predicted class and confidence over a grid covering the 2-D data, with a margin; the
    validation points ride along for an overlay."""
    plane = input_plane(points, resolution)
    out = torch.as_tensor(predictions_over(model, plane.points))
    probs = torch.softmax(out, dim=1) if out.shape[1] > 1 else torch.cat([1 - torch.sigmoid(out), torch.sigmoid(out)], 1)
    confidence, classes = probs.max(dim=1)
    extra = {}
    if val_points is not None and val_labels is not None:
        extra = {"val_points": val_points[:MAX_POINTS].float().cpu().numpy(),
                 "val_labels": val_labels[:MAX_POINTS].cpu().numpy()}
    return DecisionBoundary(epoch, plane.x_range, plane.y_range,
                            classes.reshape(resolution, resolution).numpy().astype(np.int16),
                            confidence.reshape(resolution, resolution).numpy().astype(np.float32), **extra)


def neuron_pictures(step: int, model: fx.GraphModule, graph, points: torch.Tensor) -> NeuronPictures | None:
    """Each dense layer's neurons over the plane of the 2-D data (None where there is nothing to picture)."""
    plane = input_plane(points, NEURON_RESOLUTION)
    try:
        layers = plane_neurons(model, graph, plane)
    except InsightError:
        return None
    return NeuronPictures(step, plane.x_range, plane.y_range, tuple(layers)) if layers else None


def fitted_curve(epoch: int, model: nn.Module, x: torch.Tensor, x_val: torch.Tensor, y_val: torch.Tensor,
                 resolution: int = 200) -> FittedCurve:
    """A 1-D regression's prediction over the range of its inputs ``x``."""
    line = input_line(x, resolution)
    return FittedCurve(epoch, line[:, 0].float().cpu().numpy(), predictions_over(model, line),
                       x_val[:MAX_POINTS, 0].float().cpu().numpy(),
                       y_val[:MAX_POINTS].float().reshape(min(len(y_val), MAX_POINTS), -1).cpu().numpy())


def predicted_surface(epoch: int, model: nn.Module, points: torch.Tensor, x_val: torch.Tensor, y_val: torch.Tensor,
                      resolution: int = 60) -> PredictedSurface:
    """A 2-D regression's first output over the plane of its inputs."""
    plane = input_plane(points, resolution)
    values = predictions_over(model, plane.points)[:, 0].reshape(resolution, resolution)
    targets = y_val[:MAX_POINTS].float().reshape(min(len(y_val), MAX_POINTS), -1)[:, 0]
    return PredictedSurface(epoch, plane.x_range, plane.y_range, values, x_val[:MAX_POINTS].float().cpu().numpy(),
                            targets.cpu().numpy())


def loss_landscape(epoch: int, model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn,
                   path: list[tuple[int, torch.Tensor]], seed: int, resolution: int = LANDSCAPE_RESOLUTION
                   ) -> LossLandscape:
    """The loss of ``model`` on (x, y) around its current weights along two filter-normalised
    random directions (the same random numbers every epoch), with the path recorded so far
    projected onto that plane."""
    plane = random_plane(model, seed)
    steps = np.array([step for step, _ in path], dtype=np.int64)
    coords = project(plane, torch.stack([w for _, w in path])) if path else np.zeros((0, 2), dtype=np.float32)
    alphas, betas = grid_around(coords, resolution)
    found = loss_surface(model, plane, x, y, loss_fn, alphas, betas)
    return LossLandscape(epoch, found.alphas, found.betas, found.losses, found.centre_loss, coords, steps, found.kind)


def weight_path(path: list[tuple[int, torch.Tensor]]) -> WeightPath:
    """The recorded weights, at most MAX_PATH_VALUES numbers in all (fewer points for larger models)."""
    keep = thinned(len(path), max(2, MAX_PATH_VALUES // max(1, path[0][1].numel())))
    return WeightPath(np.array([path[i][0] for i in keep], dtype=np.int64),
                      torch.stack([path[i][1] for i in keep]).float().cpu().numpy())


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


def feature_space(epoch: int, model: fx.GraphModule, graph, x: torch.Tensor, y: torch.Tensor,
                  layer: str | None) -> FeatureSpace | None:
    """The validation samples as ``layer`` (None or a layer this graph lacks: the features its
    classifier decides from) sees them, projected with PCA; None where no layer applies."""
    if layer not in feature_layers(graph):
        layer = classifier_features(graph)
    if layer is None or y.dim() != 1 or len(graph.inputs()) != 1 or len(np.unique(y.cpu().numpy())) > MAX_CLASSES_SHOWN:
        return None
    x, y = x[:MAX_POINTS], y[:MAX_POINTS]
    try:
        projection = pca(layer_features(model, layer, x))
    except InsightError:
        return None
    labels = y.cpu().numpy()
    return FeatureSpace(epoch, layer, projection.points, projection.components, labels, np.arange(len(labels)),
                        separation(projection.points, labels), projection.explained)


def embedding_spaces(epoch: int, model: fx.GraphModule, graph) -> list[EmbeddingSpace]:
    found = []
    for layer in nodes_of_type(graph, ("Embedding",)):
        vectors = embedding_vectors(model, layer)
        found.append(EmbeddingSpace(epoch, layer, vectors.vectors, vectors.points, vectors.total_tokens))
    return found


def attention_maps(step: int, model: fx.GraphModule, batch: torch.Tensor, sample: int) -> list[AttentionMaps]:
    """Every attention module's weights, per head, for one validation sample, in call order up
    to MAX_ATTENTION_VALUES in all (ViT-B's twelve layers would be 22 MB at every probe)."""
    sample = min(sample, len(batch) - 1)
    found, budget = [], MAX_ATTENTION_VALUES
    for a in attention_weights(model, batch[sample: sample + 1]):
        budget -= a.weights.size
        if budget < 0:
            break
        found.append(AttentionMaps(step, a.layer, sample, a.weights))
    return found


def recurrent_steps(step: int, model: fx.GraphModule, graph, batch: torch.Tensor, targets: torch.Tensor, sample: int,
                    loss: str, truncate: int) -> list[Any]:
    """Each recurrent layer unrolled over one validation sample, and the gradient of that
    sample's loss at each step's hidden state (cut as the run's truncated back-propagation
    through time cuts it)."""
    sample = min(sample, len(batch) - 1)
    x = batch[sample: sample + 1]
    objective = sample_objective(loss, targets[sample: sample + 1])
    found: list[Any] = []
    for layer in nodes_of_type(graph, RECURRENT_TYPES):
        try:
            steps = unroll(model, layer, x)
            gradients = step_gradients(model, layer, objective, x, truncate=truncate)
        except InsightError:          # an LSTM with projections, a layer the forward does not use
            continue
        found.append(RecurrentSteps(step, layer, steps.kind, sample, steps.step_inputs, steps.tokens, steps.hidden,
                                    steps.cell, steps.gate_names, steps.gates, steps.total_steps, steps.deviation))
        found.append(TimeGradients(step, layer, sample, gradients.norms, gradients.loss, truncate))
    return found

"""Several runs of one graph on one loss landscape: the optimizers' paths side by side.

Each run started with ``landscape`` on ends with a ``WeightPath``. Runs of the same graph with
the same seed and initialisation start from the same weights; that start is the landscape's
centre, and its directions are the first two principal directions of where the runs went from
there (``engine.insight.path_plane``), so every path starts at (0, 0) and the plane shows as
much of their movement as a plane can. The height is the training loss on the first
``LANDSCAPE_SAMPLES`` training samples, as in each run's own landscapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from graphs import Graph

from ..compiling import compile_graph
from ..data import DataSet, load_dataset
from ..insight import InsightError, Landscape, check_size, grid_around, loss_surface, path_plane, project
from .config import TrainingConfig
from .loop import LANDSCAPE_SAMPLES
from .losses import loss_value
from .messages import WeightPath

START_TOLERANCE = 1e-6


@dataclass(frozen=True)
class SharedLandscape:
    landscape: Landscape
    paths: dict[str, np.ndarray] = field(repr=False)     # run name -> N x 2, from (0, 0)
    steps: dict[str, np.ndarray] = field(repr=False)     # run name -> N steps
    end_losses: dict[str, float] = field(default_factory=dict)   # each run's loss at its last weights
    captured: dict[str, float] = field(default_factory=dict)     # share of each run's movement the plane holds


def shared_landscape(graph: Graph, config: TrainingConfig, paths: Mapping[str, WeightPath], resolution: int = 31,
                     dataset: DataSet | None = None) -> SharedLandscape:
    """The loss over the plane of the runs' paths, each path projected onto it. ``graph`` and
    ``config`` name the model, data set and loss (any one of the runs': they share them);
    InsightError when the runs cannot share a landscape (another graph, another start)."""
    if not paths:
        raise InsightError("no run recorded its path: train with the landscape setting on")
    model = compile_graph(graph)
    count = check_size(model)
    first = next(iter(paths))
    start = torch.as_tensor(paths[first].weights[0])
    for name, path in paths.items():
        if path.weights.ndim != 2 or path.weights.shape[1] != count:
            raise InsightError(f"{name} recorded {path.weights.shape[-1]:,} weights and this graph has {count:,}: "
                               "it is a run of another graph")
        if not torch.allclose(torch.as_tensor(path.weights[0]), start, atol=START_TOLERANCE):
            raise InsightError(f"{name} starts from other weights than {first}: give the runs the same graph, seed "
                               "and initialisation to draw them on one landscape")
    weights = {name: torch.as_tensor(path.weights) for name, path in paths.items()}
    plane = path_plane(start, list(weights.values()))
    coords = {name: project(plane, w) for name, w in weights.items()}
    alphas, betas = grid_around(np.concatenate(list(coords.values())), resolution, least=1e-3, margin=0.3)
    data = dataset if dataset is not None else load_dataset(config.dataset, **config.dataset_options)
    x = data.x_train[:LANDSCAPE_SAMPLES]
    y = x if config.reconstruct else data.y_train[:LANDSCAPE_SAMPLES]

    def loss_fn(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return loss_value(config.loss, out, target)

    found = loss_surface(model, plane, x, y, loss_fn, alphas, betas)
    end_losses = {}
    model.eval()
    for name, w in weights.items():
        torch.nn.utils.vector_to_parameters(w[-1].float(), model.parameters())
        with torch.no_grad():
            end_losses[name] = float(loss_fn(model(x), y))
    return SharedLandscape(found, coords, {name: np.asarray(p.steps) for name, p in paths.items()}, end_losses,
                           {name: _captured(plane, w, coords[name]) for name, w in weights.items()})


def _captured(plane, weights: torch.Tensor, coords: np.ndarray) -> float:
    """How much of a path's distance from the start lies in the plane (1: all of it)."""
    moved = (weights.double() - plane.centre.double()).norm(dim=1)
    on_plane = (torch.as_tensor(coords, dtype=torch.float64)[:, :1] * plane.u.double()
                + torch.as_tensor(coords, dtype=torch.float64)[:, 1:] * plane.v.double()).norm(dim=1)
    total = float(moved.sum())
    return float(on_plane.sum()) / total if total else 1.0

"""The loss over a plane of weight space, and optimizers' paths projected onto it.

A plane is a centre (all the weights of a model, as one vector) and two directions. Around one
run's current weights the directions are random and filter-normalised (Li et al., 2018,
"Visualizing the Loss Landscape of Neural Nets"): each filter (a row of a Linear's matrix, an
output channel of a convolution) of a direction is scaled to the norm of the same filter of the
weights, so that a step of 1 along it changes every filter by as much as its own size; biases
and normalisation parameters are left out of the directions (zero), as the paper does.

Random directions are almost orthogonal to where an optimizer goes, so several runs compared on
one landscape (an experiment) use another plane: its centre is the weights the runs share at
their start, and its directions are the first two principal directions of where the runs went
from there (Li et al., section 7, which centres on the end point of one run instead). Every
path then starts at (0, 0), and the plane holds as much of the paths' movement as any plane can.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap
from torch.nn.utils import parameters_to_vector

from .layer_values import InsightError

MAX_PARAMETERS = 200_000      # a landscape costs one forward pass per grid point: small models only
RANDOM, PATHS = "random filter-normalised directions", "the paths' principal directions"


@dataclass(frozen=True)
class Plane:
    centre: torch.Tensor = field(repr=False)   # P: every weight of the model, in parameters() order
    u: torch.Tensor = field(repr=False)        # P: the first direction (the x axis)
    v: torch.Tensor = field(repr=False)        # P: the second direction (the y axis)
    kind: str = RANDOM

    def at(self, a: float, b: float) -> torch.Tensor:
        return self.centre + a * self.u + b * self.v


@dataclass(frozen=True)
class Landscape:
    alphas: np.ndarray = field(repr=False)     # R coordinates along u
    betas: np.ndarray = field(repr=False)      # R coordinates along v
    losses: np.ndarray = field(repr=False)     # R x R; rows follow betas, columns alphas
    centre_loss: float = 0.0                   # the loss at (0, 0): the centre's own weights
    kind: str = RANDOM


def flat_weights(model: nn.Module) -> torch.Tensor:
    """All the model's parameters as one vector (a copy)."""
    return parameters_to_vector(model.parameters()).detach().clone()


def check_size(model: nn.Module) -> int:
    count = sum(p.numel() for p in model.parameters())
    if count > MAX_PARAMETERS:
        raise InsightError(f"the model has {count:,} parameters; a loss landscape is drawn for at most "
                           f"{MAX_PARAMETERS:,} (each of its points is a pass over the data)")
    if count == 0:
        raise InsightError("the model has no weights, so it has no loss landscape")
    return count


def filter_normalised_direction(model: nn.Module, generator: torch.Generator) -> torch.Tensor:
    """A random direction whose every filter has the norm of the model's filter (Li et al.)."""
    parts = []
    for p in model.parameters():
        weights = p.detach().float().cpu()
        if weights.dim() <= 1:               # biases, normalisation scales: not perturbed
            parts.append(torch.zeros(weights.numel()))
            continue
        d = torch.randn(weights.shape, generator=generator)
        rows, d_rows = weights.reshape(len(weights), -1), d.reshape(len(d), -1)
        d_rows *= rows.norm(dim=1, keepdim=True) / (d_rows.norm(dim=1, keepdim=True) + 1e-10)
        parts.append(d_rows.flatten())
    return torch.cat(parts).to(next(model.parameters()).device)


def random_plane(model: nn.Module, seed: int = 0) -> Plane:
    """A plane through the model's current weights along two filter-normalised random directions;
    the same seed gives the same random numbers, scaled to the weights of the moment."""
    check_size(model)
    generator = torch.Generator().manual_seed(seed)
    return Plane(flat_weights(model), filter_normalised_direction(model, generator),
                 filter_normalised_direction(model, generator), RANDOM)


def path_plane(start: torch.Tensor, paths: Sequence[torch.Tensor]) -> Plane:
    """The plane through ``start`` (the weights every path begins at) spanned by the two
    directions along which the paths (each N x P) move most from it: unit vectors, so that
    distances on the plane are distances in weight space."""
    moves = torch.cat([p.double() - start.double() for p in paths])
    if moves.numel() == 0 or float(moves.abs().max()) == 0.0:
        raise InsightError("the paths never leave their start: there is no plane to draw them on")
    _, _, directions = torch.linalg.svd(moves, full_matrices=False)
    u = directions[0]
    if len(directions) > 1 and float(torch.linalg.matrix_norm(moves - (moves @ u)[:, None] * u[None])) > 1e-12:
        v = directions[1]
    else:                                      # every path runs along one line: any second direction will do
        v = torch.randn(len(u), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        v = v - (v @ u) * u
        v = v / v.norm()
    return Plane(start.float(), u.float().to(start.device), v.float().to(start.device), PATHS)


def project(plane: Plane, points: torch.Tensor) -> np.ndarray:
    """Where each of ``points`` (N x P weight vectors) lies on the plane (N x 2): the nearest
    point of the plane, by least squares (random directions need not be orthogonal)."""
    basis = torch.stack([plane.u, plane.v], dim=1).double()                  # P x 2
    offsets = (points.double().to(basis.device) - plane.centre.double()).T    # P x N
    coords = torch.linalg.lstsq(basis.cpu(), offsets.cpu()).solution          # 2 x N
    return coords.T.float().numpy()


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
VALUES_AT_ONCE = 32_000_000      # numbers a batch of grid points may hold at once (weights and activations)


def loss_surface(model: nn.Module, plane: Plane, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn,
                 alphas: Sequence[float] | np.ndarray, betas: Sequence[float] | np.ndarray) -> Landscape:
    """``loss_fn(model(x), y)`` with the model's weights at each point of the grid, in evaluation
    mode. Many points are evaluated at once (``torch.func.vmap`` over the weights); a model vmap
    cannot batch is evaluated point by point. The model's own weights are not touched."""
    check_size(model)
    a, b = torch.meshgrid(torch.as_tensor(np.asarray(betas, dtype=np.float64)),
                          torch.as_tensor(np.asarray(alphas, dtype=np.float64)), indexing="ij")
    coords = torch.cat([torch.zeros(1, 2, dtype=torch.float64), torch.stack([b.flatten(), a.flatten()], dim=1)])
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            values = _losses(model, plane, coords, x, y, loss_fn)
    finally:
        model.train(was_training)
    losses = values[1:].reshape(len(betas), len(alphas))
    return Landscape(np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64),
                     np.where(np.isfinite(losses), losses, np.nan), float(values[0]), plane.kind)


def _losses(model: nn.Module, plane: Plane, coords: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
            loss_fn: LossFn) -> np.ndarray:
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [s.numel() for s in shapes]
    dtype = next(model.parameters()).dtype
    u, v, centre = (t.to(x.device, dtype) for t in (plane.u, plane.v, plane.centre))

    def weights_at(point: torch.Tensor) -> dict[str, torch.Tensor]:
        flat = centre + point[1] * u + point[0] * v       # point: (beta, alpha)
        return {n: part.view(s) for n, part, s in zip(names, flat.split(sizes), shapes)}

    def loss_at(point: torch.Tensor) -> torch.Tensor:
        return loss_fn(_single(functional_call(model, weights_at(point), (x,))), y)

    points = coords.to(x.device, dtype)
    chunk = max(1, min(256, VALUES_AT_ONCE // max(1, 2 * len(x) * _values_per_sample(model, x[:1]) + sum(sizes))))
    try:
        found = [vmap(loss_at)(part) for part in points.split(chunk)]
    except Exception:       # an operation vmap cannot batch (recurrent layers, in-place steps): one point at a time
        found = [loss_at(point)[None] for point in points]
    return torch.cat(found).double().cpu().numpy()


def _single(out):
    return out[0] if isinstance(out, tuple) else out


def _values_per_sample(model: nn.Module, sample: torch.Tensor) -> int:
    """Numbers the modules make for one sample (functions between them are not counted: the
    caller doubles it), to size the batches of grid points."""
    counted = [0]

    def count(module, inputs, output) -> None:
        for t in output if isinstance(output, tuple) else (output,):
            if isinstance(t, torch.Tensor):
                counted[0] += t.numel()
    hooks = [m.register_forward_hook(count) for m in model.modules()]
    try:
        model(sample)
    finally:
        for hook in hooks:
            hook.remove()
    return max(counted[0], 1)


def grid_around(points: np.ndarray, resolution: int, least: float = 1.0, margin: float = 0.25
                ) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates for a grid of ``resolution`` (odd, so 0 is on it) per axis, symmetric about 0,
    reaching at least ``least`` and past every point by ``margin`` of its reach."""
    if resolution < 3 or resolution % 2 == 0:
        raise InsightError(f"a landscape grid needs an odd resolution of at least 3, not {resolution}")
    reach = np.abs(points).max(axis=0) if len(points) else np.zeros(2)
    reach = np.maximum(reach * (1 + margin), least)
    return tuple(np.linspace(-r, r, resolution) for r in reach)  # type: ignore[return-value]


def thinned(count: int, limit: int) -> np.ndarray:
    """Indices of at most ``limit`` of ``count`` points, evenly spread, first and last kept."""
    if count <= limit:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, limit)).astype(int))

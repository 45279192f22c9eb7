"""Where a layer puts the samples: its activations on validation samples projected to 2-D, PCA
by default (cheap enough for every epoch) and t-SNE on request, with a number for how well the
classes separate there."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import fx

from .layer_values import InsightError, truncated

MAX_POINTS = 500          # validation samples projected: enough to see clusters, quick to draw
KEPT_COMPONENTS = 50      # PCA components kept for t-SNE (its usual first step)


@dataclass(frozen=True)
class Projection:
    points: np.ndarray = field(repr=False)       # N x 2
    components: np.ndarray = field(repr=False)   # N x <= 50: the PCA-reduced features, for t-SNE
    explained: tuple[float, float] = (0.0, 0.0)  # share of the variance along each of the two axes


def layer_features(model: fx.GraphModule, layer: str, x: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """``layer``'s output for each sample of ``x``, one flat row per sample (evaluation mode)."""
    cut = truncated(model, layer)
    cut.eval()
    rows = []
    with torch.no_grad():
        for part in x.split(chunk):
            out = cut(part)
            out = out[0] if isinstance(out, tuple) else out
            if not isinstance(out, torch.Tensor) or not out.is_floating_point():
                raise InsightError(f"{layer} does not give numbers that can be projected")
            rows.append(out.float().flatten(1))
    return torch.cat(rows)


def pca(features: torch.Tensor) -> Projection:
    """The two directions of largest variance, and up to 50 components for t-SNE."""
    if len(features) < 3:
        raise InsightError("a projection needs at least 3 samples")
    centred = features.double() - features.double().mean(dim=0)
    _, singular, directions = torch.linalg.svd(centred, full_matrices=False)
    kept = min(KEPT_COMPONENTS, directions.shape[0])
    components = centred @ directions[:kept].T
    variance = singular ** 2
    total = float(variance.sum()) or 1.0
    points = components[:, :2]
    if points.shape[1] < 2:            # a layer with one feature: the second axis is flat
        points = torch.cat([points, torch.zeros_like(points)], dim=1)
    explained = tuple(float(v) / total for v in variance[:2]) + (0.0,) * max(0, 2 - len(variance))
    return Projection(points.float().cpu().numpy(), components.float().cpu().numpy(),
                      (explained[0], explained[1]))


def tsne(components: np.ndarray, seed: int = 0) -> np.ndarray:
    """A t-SNE map (N x 2) of PCA-reduced features: neighbours stay neighbours, distances between
    clusters mean little. Seconds for 500 points."""
    from sklearn.manifold import TSNE
    perplexity = float(min(30, max(2, (len(components) - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(
        components.astype(np.float64)).astype(np.float32)


def separation(points: np.ndarray, labels: np.ndarray) -> float | None:
    """The silhouette score of the classes in the 2-D map: 1 for tight, distant clusters, 0 for
    overlapping ones, below 0 when samples lie nearer another class. None with one class."""
    from sklearn.metrics import silhouette_score
    if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(labels):
        return None
    return float(silhouette_score(points, labels))

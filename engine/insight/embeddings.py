"""An Embedding layer's vectors: projected to 2-D with their tokens, and the nearest tokens of
a chosen one by cosine similarity (word2vec's "words used alike end up alike")."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import fx

from .feature_space import pca
from .layer_values import InsightError, module_of

MAX_TOKENS = 5000       # rows sent to the window: a 50,000-word vocabulary is shown by its first 5,000


@dataclass(frozen=True)
class EmbeddingVectors:
    layer: str
    vectors: np.ndarray = field(repr=False)    # tokens x dimensions (the first MAX_TOKENS rows)
    points: np.ndarray = field(repr=False)     # tokens x 2 (PCA)
    total_tokens: int = 0


def embedding_vectors(model: fx.GraphModule, layer: str) -> EmbeddingVectors:
    module = module_of(model, layer)
    if not isinstance(module, torch.nn.Embedding):
        raise InsightError(f"{layer} is not an Embedding layer")
    weight = module.weight.detach().float()
    shown = weight[:MAX_TOKENS]
    return EmbeddingVectors(layer, shown.cpu().numpy(), pca(shown).points, int(weight.shape[0]))


def nearest(vectors: np.ndarray, token: int, count: int = 8) -> list[tuple[int, float]]:
    """The ``count`` tokens whose vectors point most nearly the way ``token``'s does, with their
    cosine similarity, most similar first (the token itself left out)."""
    if not 0 <= token < len(vectors):
        raise InsightError(f"token {token} is not among the {len(vectors)} shown")
    norms = np.linalg.norm(vectors, axis=1)
    similarity = vectors @ vectors[token] / np.maximum(norms * norms[token], 1e-12)
    similarity[token] = -np.inf
    order = np.argsort(-similarity)[:count]
    return [(int(i), float(similarity[i])) for i in order]


def analogy(vectors: np.ndarray, a: int, b: int, c: int, count: int = 5) -> list[tuple[int, float]]:
    """Tokens for "a is to b as ? is to c", word2vec's king - man + woman = queen: the ``count``
    tokens whose vectors point most nearly the way of a - b + c (each of the three scaled to unit
    length first, so that no word counts more for being longer), by cosine similarity, most
    similar first, with a, b and c left out."""
    for token in (a, b, c):
        if not 0 <= token < len(vectors):
            raise InsightError(f"token {token} is not among the {len(vectors)} shown")
    norms = np.maximum(np.linalg.norm(vectors, axis=1), 1e-12)
    unit = vectors / norms[:, None]
    target = unit[a] - unit[b] + unit[c]
    similarity = unit @ target / max(float(np.linalg.norm(target)), 1e-12)
    similarity[[a, b, c]] = -np.inf
    order = np.argsort(-similarity)[:count]
    return [(int(i), float(similarity[i])) for i in order if np.isfinite(similarity[i])]
